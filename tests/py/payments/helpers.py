"""Shared steps of the payment tests: policy, history, a linked Stripe account on the stand-in."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import psycopg

from payments.stripe_standin import StandIn
from slotoptim.listener.payments import stripe_account

# A 32-byte AES key (base64) sealing the Stripe secrets in the test database.
SECRET_KEY = "c2xvdG9wdGltLXBheW1lbnRzLXRlc3Qta2V5LTMyYiE="


def org_id(db: psycopg.Connection[dict[str, Any]], key: str = "acme") -> int:
    row = db.execute("select id from slotoptim_private.organisation where key = %s", (key,)).fetchone()
    assert row is not None
    return int(row["id"])


def customer_id(db: psycopg.Connection[dict[str, Any]], key: str, org: str = "acme") -> int:
    row = db.execute(
        "select c.id from slotoptim_private.customer as c join slotoptim_private.organisation as o on o.id = c.org_id"
        " where c.key = %s and o.key = %s",
        (key, org),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def service_id(db: psycopg.Connection[dict[str, Any]], key: str, org: str = "acme") -> int:
    row = db.execute(
        "select s.id from slotoptim_private.service as s join slotoptim_private.organisation as o on o.id = s.org_id"
        " where s.key = %s and o.key = %s",
        (key, org),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def set_policy(
    db: psycopg.Connection[dict[str, Any]], org: int, changes: dict[str, Any], service: str | None = None
) -> None:
    with db.transaction():
        db.execute("select set_config('slotoptim.org_id', %s, true)", (str(org),))
        db.execute("select slotoptim.set_payment_policy(%s, %s::jsonb)", (service, json.dumps(changes)))


def add_no_shows(db: psycopg.Connection[dict[str, Any]], customer: int, starts: list[dt.datetime]) -> None:
    """Past appointments of the customer, missed (each 30 minutes with dr-a, service short)."""
    for start in starts:
        db.execute(
            "insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period, status,"
            " source, booked_at)"
            " select c.org_id, p.id, s.id, c.id, tstzrange(%s, %s + interval '30 minutes'), 'no_show', 'staff', %s"
            " from slotoptim_private.customer as c"
            " join slotoptim_private.provider as p on p.org_id = c.org_id and p.key = 'dr-a'"
            " join slotoptim_private.service as s on s.org_id = c.org_id and s.key = 'short'"
            " where c.id = %s",
            (start, start, start - dt.timedelta(days=7), customer),
        )


def link_standin(db: psycopg.Connection[dict[str, Any]], org: int, standin: StandIn, at: dt.datetime) -> int:
    return stripe_account.link(db, org, standin.api_key, list(standin.webhook_secrets), at, api_base=standin.base)
