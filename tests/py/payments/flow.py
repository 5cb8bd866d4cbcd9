"""Steps of the claim-with-payment flow against the Stripe stand-in, shared by the tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from api.api_practice import NOW
from litestar.testing import TestClient

from payments.stripe_standin import StandIn, start
from slotoptim.listener.payments.service import PaymentsService


@contextmanager
def running_standin(**kwargs: Any) -> Iterator[StandIn]:
    standin = StandIn(clock=lambda: NOW.timestamp(), **kwargs)
    server, thread = start(standin)
    try:
        yield standin
    finally:
        standin.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def post_event(client: TestClient[Any], standin: StandIn, event: dict[str, Any]) -> dict[str, Any]:
    payload, headers = standin.signed(event)
    response = client.post("/webhooks/stripe", content=payload, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def events(standin: StandIn, type_: str) -> list[dict[str, Any]]:
    return [e for e in standin.events if e["type"] == type_]


@dataclass(frozen=True)
class Checkout:
    id: int
    session: str
    status: str
    mode: str
    amount_minor: int
    appointment_id: int | None
    hold_status: str


def checkout_of(db: psycopg.Connection[dict[str, Any]], offer_id: int) -> Checkout:
    row = db.execute(
        "select id, stripe_session, status, mode, amount_minor, appointment_id, hold_status"
        " from slotoptim_private.payment_checkout where offer_id = %s order by id desc limit 1",
        (offer_id,),
    ).fetchone()
    assert row is not None
    return Checkout(
        int(row["id"]),
        str(row["stripe_session"]),
        str(row["status"]),
        str(row["mode"]),
        int(row["amount_minor"]),
        row["appointment_id"],
        str(row["hold_status"]),
    )


def pay(
    client: TestClient[Any],
    standin: StandIn,
    db: psycopg.Connection[dict[str, Any]],
    offer: dict[str, Any],
    token: str,
    card: str = "visa",
) -> Checkout:
    """Claim page -> Checkout (stand-in) -> webhooks -> booked."""
    answer = client.post(f"/c/{token}", data={"token": token}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(standin.base + "/pay/cs_test_")
    checkout = checkout_of(db, offer["id"])
    standin.complete_session(checkout.session, card)
    post_event(client, standin, events(standin, "checkout.session.completed")[-1])
    return checkout_of(db, offer["id"])


def run_payments(url: str, at: dt.datetime = NOW) -> dict[str, int]:
    return PaymentsService(url, clock=lambda: at).run_pass()


def charges(db: psycopg.Connection[dict[str, Any]], appointment_id: int | None = None) -> list[dict[str, Any]]:
    rows = db.execute(
        "select * from slotoptim_private.payment_charge where %s::bigint is null or appointment_id = %s order by id",
        (appointment_id, appointment_id),
    ).fetchall()
    return [dict(r) for r in rows]


def set_status(
    db: psycopg.Connection[dict[str, Any]], appointment_id: int | None, status: str, at: dt.datetime = NOW
) -> None:
    """Staff mark the appointment (as the owner), on the test's clock (time is a parameter)."""
    with db.transaction():
        db.execute("select set_config('slotoptim.clock', %s, true)", (at.isoformat(),))
        db.execute("update slotoptim_private.appointment set status = %s where id = %s", (status, appointment_id))
