"""SlotOptim."""
