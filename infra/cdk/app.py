#!/usr/bin/env python3
"""The AWS CDK app of SlotOptim (`cdk synth`, `cdk deploy` from this folder; see README
"Deploy to AWS"). Everything the deployment chooses comes from the context: cdk.json, or -c."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import HIPAASecurityChecks
from stacks.config import config_from_context
from stacks.slotoptim_stack import SlotOptimStack


def build_app(context: dict[str, object] | None = None) -> tuple[cdk.App, SlotOptimStack]:
    app = cdk.App(context=context)
    stack = SlotOptimStack(
        app,
        "SlotOptim",
        config=config_from_context(app.node),
        env=cdk.Environment(account=app.node.try_get_context("account"), region=app.node.try_get_context("region")),
        description="SlotOptim: appointment gaps filled from the waitlist (issue 14)",
    )
    # HIPAA Security rule pack: a finding fails the synth unless acknowledged with a reason
    # (stacks/suppressions.py); the report is written to cdk.out/policy-validation-report.json.
    cdk.Validations.of(app).add_plugins(
        HIPAASecurityChecks(app, verbose=True, write_suppressions_to_cloud_formation=True)
    )
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
