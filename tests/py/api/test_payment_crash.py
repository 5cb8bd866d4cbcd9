"""A crash between "charge sent" and "charge recorded" never charges twice.

The worker runs in its own process. The stand-in executes the off-session charge (and saves its
answer under the idempotency key) but holds the response back; the test kills the worker with
SIGKILL in that window. The outbox row is left `sending`; once its lease ends a new worker sends
the same request with the same key, gets Stripe's first answer replayed, and records it.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from api.api_practice import NOW
from api.claim_helpers import offered, token
from api.conftest import ApiDb, Keys
from litestar.testing import TestClient
from payments.flow import charges, pay, running_standin, set_status
from payments.helpers import SECRET_KEY, link_standin, org_id, set_policy
from payments.stripe_standin import StandIn

WORKER = Path(__file__).resolve().parents[1] / "payments" / "worker_process.py"
AFTER = NOW + dt.timedelta(hours=7)


@pytest.fixture
def standin(api_db: ApiDb, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    monkeypatch.setenv("SLOTOPTIM_SECRET_KEY", SECRET_KEY)
    with running_standin() as s, psycopg.connect(api_db.url, autocommit=True) as conn:
        link_standin(conn, api_db.orgs["acme"], s, NOW)  # type: ignore[arg-type]
        yield s


def worker(url: str, at: dt.datetime) -> subprocess.Popen[str]:
    env = {**os.environ, "SLOTOPTIM_SECRET_KEY": SECRET_KEY}
    return subprocess.Popen(
        [sys.executable, str(WORKER), url, at.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killed_after_sending_the_charge_is_charged_once(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], standin: StandIn, api_db: ApiDb
) -> None:
    set_policy(db, org_id(db), {"card_min_price": 0})
    offer = offered(client, keys, db)[0]
    booked = pay(client, standin, db, offer, token(db, offer))
    set_status(db, booked.appointment_id, "no_show", AFTER)

    standin.block_path = "/v1/payment_intents"
    first = worker(api_db.url, AFTER)
    assert standin.blocked.wait(timeout=120), "the worker never sent the charge"
    first.send_signal(signal.SIGKILL)  # charge executed at Stripe, not recorded by us
    first.wait(timeout=30)
    standin.block_path = None
    standin.release.set()
    [fee] = charges(db, booked.appointment_id)
    assert fee["status"] == "queued" and fee["payment_intent"] is None
    write = db.execute(
        "select status, attempts from slotoptim_private.external_write where subject = %s",
        (f"payment_charge:{fee['id']}",),
    ).fetchone()
    assert write == {"status": "sending", "attempts": 1}

    # Within the lease nobody resends; after it, the retry replays Stripe's first answer.
    assert worker(api_db.url, AFTER + dt.timedelta(seconds=30)).wait(timeout=120) == 0
    assert charges(db, booked.appointment_id)[0]["status"] == "queued"
    retry = worker(api_db.url, AFTER + dt.timedelta(minutes=2))
    assert retry.wait(timeout=120) == 0, retry.stderr.read() if retry.stderr else ""
    [fee] = charges(db, booked.appointment_id)
    intents = [o for o in standin.objects.values() if o["object"] == "payment_intent"]
    assert len(intents) == 1, "charged twice"
    assert (fee["status"], fee["payment_intent"]) == ("succeeded", intents[0]["id"])
    sent = [r for r in standin.requests if r["path"] == "/v1/payment_intents"]
    assert [r["idempotency_key"] for r in sent] == [f"slotoptim-charge-{fee['id']}"] * 2
