"""An organisation's Stripe account: linked as an external connection (purpose `payments`, kind
`stripe`) whose sealed secrets hold the secret API key and the webhook signing secrets (several
while one rotates). `api_base` in the config points the SDK at another host (tests' stand-in);
it can only be set here, by the service's owner, never through the API.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg
import stripe

from slotoptim.listener.db import fetch_dict
from slotoptim.listener.integrations import connections

PURPOSE = "payments"
KIND = "stripe"


@dataclass(frozen=True)
class StripeAccount:
    connection_id: int
    org_id: int
    api_key: str
    webhook_secrets: tuple[str, ...]
    api_base: str | None

    def client(self) -> stripe.StripeClient:
        # No SDK retries: the outbox retries, with the same idempotency key, on its own schedule.
        if self.api_base:
            return stripe.StripeClient(self.api_key, base_addresses={"api": self.api_base}, max_network_retries=0)
        return stripe.StripeClient(self.api_key, max_network_retries=0)


def link(
    conn: psycopg.Connection[Any],
    org_id: int,
    secret_key: str,
    webhook_secrets: list[str],
    at: dt.datetime,
    api_base: str | None = None,
) -> int:
    """Links (or relinks, e.g. to rotate the webhook secret) an organisation's Stripe account."""
    if not secret_key.startswith(("sk_", "rk_")):
        raise ValueError("secret_key: a Stripe secret or restricted key starts with sk_ or rk_")
    if not webhook_secrets or not all(s.startswith("whsec_") for s in webhook_secrets):
        raise ValueError("webhook_secrets: one or more Stripe signing secrets, each starting with whsec_")
    config: dict[str, Any] = {"mode": "test" if "_test_" in secret_key else "live"}
    if api_base:
        config["api_base"] = api_base
    return connections.link(
        conn,
        org_id=org_id,
        provider_id=None,
        purpose=PURPOSE,
        kind=KIND,
        config=config,
        secret_values={"secret_key": secret_key, "webhook_secrets": ",".join(webhook_secrets)},
        at=at,
    )


def from_connection(connection: connections.Connection) -> StripeAccount:
    values = connection.secrets()
    secrets_ = tuple(s for s in values.get("webhook_secrets", "").split(",") if s)
    return StripeAccount(
        connection_id=connection.id,
        org_id=connection.org_id,
        api_key=values.get("secret_key", ""),
        webhook_secrets=secrets_,
        api_base=connection.config.get("api_base"),
    )


def for_org(conn: psycopg.Connection[Any], org_id: int) -> StripeAccount | None:
    row = fetch_dict(conn, "select slotoptim_private.stripe_connection_id(%s) as id", (org_id,))
    if row is None or row["id"] is None:
        return None
    return from_connection(connections.load(conn, int(row["id"])))


def all_accounts(conn: psycopg.Connection[Any]) -> list[StripeAccount]:
    """Every linked Stripe account (the webhook finds the one whose secret signed an event)."""
    rows = conn.execute(
        "select id from slotoptim_private.external_connection"
        " where purpose = %s and kind = %s and provider_id is null and state <> 'disabled' order by id",
        (PURPOSE, KIND),
    ).fetchall()
    return [from_connection(connections.load(conn, int(_first(r)))) for r in rows]


def _first(row: Any) -> Any:
    return row["id"] if isinstance(row, dict) else row[0]
