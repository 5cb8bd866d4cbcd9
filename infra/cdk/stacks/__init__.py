"""The AWS CDK constructs of SlotOptim's production stack (see app.py)."""
