"""The vendors' credentials in Secrets Manager, one secret per vendor, read by ECS at task start
(never written into a task definition). The stack creates them with placeholder fields; an operator
puts the real values (`aws secretsmanager put-secret-value`, see README "Deploy to AWS")."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct


@dataclass(frozen=True)
class VendorSecret:
    name: str
    description: str
    # Environment variable of the container -> field of the secret's JSON.
    fields: dict[str, str]


VENDORS = (
    VendorSecret(
        "twilio",
        "Twilio account SID and auth token",
        {"TWILIO_ACCOUNT_SID": "account_sid", "TWILIO_AUTH_TOKEN": "auth_token"},
    ),
    VendorSecret(
        "stripe",
        "Stripe secret key and webhook signing secret",
        {"STRIPE_SECRET_KEY": "secret_key", "STRIPE_WEBHOOK_SECRET": "webhook_secret"},
    ),
    VendorSecret(
        "calendar",
        "Google and Microsoft OAuth clients for calendar sync",
        {
            "GOOGLE_CLIENT_ID": "google_client_id",
            "GOOGLE_CLIENT_SECRET": "google_client_secret",
            "MICROSOFT_CLIENT_ID": "microsoft_client_id",
            "MICROSOFT_CLIENT_SECRET": "microsoft_client_secret",
        },
    ),
)


class VendorSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.secrets: dict[str, secretsmanager.Secret] = {}
        self.env: dict[str, ecs.Secret] = {}
        for vendor in VENDORS:
            fields = list(vendor.fields.values())
            # Every field exists from the start (ECS refuses to start a task whose secret lacks a
            # field it names); the last one is generated, so no placeholder is a usable credential.
            secret = secretsmanager.Secret(
                self,
                vendor.name.title(),
                description=f"SlotOptim: {vendor.description}",
                encryption_key=key,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    secret_string_template=json.dumps({f: "unset" for f in fields[:-1]}),
                    generate_string_key=fields[-1],
                    exclude_punctuation=True,
                ),
            )
            self.secrets[vendor.name] = secret
            for variable, field in vendor.fields.items():
                self.env[variable] = ecs.Secret.from_secrets_manager(secret, field)
