"""Replies to reminders through the real Twilio webhook (signed with the SDK's RequestValidator):
C cancels and the engine offers the opened gap, Y confirms, R asks staff for another time,
EARLIER enrols in move-up, CANCEL cancels and opts out, STOP opts out of reminders too."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from api.api_practice import NOW
from api.conftest import Keys
from api.test_webhooks import INBOUND, _offer_gap, inbound, post_signed
from litestar.testing import TestClient

Db = psycopg.Connection[dict[str, Any]]


def _remind(db: Db, key: str = "to-cancel") -> dict[str, Any]:
    """Turns reminders on at acme, makes `key` a high-risk appointment booked days ago, runs the
    reminder pass at the API's clock and marks the reminder sent; returns the appointment."""
    db.execute(
        "update slotoptim_private.organisation_settings set reminders_enabled = true"
        " where org_id = (select id from slotoptim_private.organisation where key = 'acme')"
    )
    row = db.execute(
        "update slotoptim_private.appointment as a set booked_at = %s, no_show_risk = 0.9"
        "  from slotoptim_private.organisation as o"
        " where o.id = a.org_id and o.key = 'acme' and a.key = %s"
        " returning a.id, a.customer_id",
        (NOW - dt.timedelta(days=3), key),
    ).fetchone()
    assert row is not None
    made = db.execute("select slotoptim.send_due_reminders(%s) as n", (NOW,)).fetchone()
    assert made is not None and made["n"] == 1  # the high-risk SMS 6 hours before
    again = db.execute("select slotoptim.send_due_reminders(%s) as n", (NOW,)).fetchone()
    assert again is not None and again["n"] == 0  # decided once
    db.execute(
        "update slotoptim_private.message set status = 'sent', sent_at = %s where kind = 'reminder'",
        (NOW,),
    )
    phone = db.execute("select phone from slotoptim_private.customer where id = %s", (row["customer_id"],)).fetchone()
    assert phone is not None
    return {"id": int(row["id"]), "phone": str(phone["phone"])}


def _status(db: Db, appointment_id: int) -> str:
    row = db.execute("select status from slotoptim_private.appointment where id = %s", (appointment_id,)).fetchone()
    assert row is not None
    return str(row["status"])


def test_c_cancels_at_once_and_the_engine_offers_the_gap(client: TestClient[Any], db: Db) -> None:
    reminded = _remind(db)
    answer = post_signed(client, INBOUND, inbound("C", reminded["phone"]))
    assert answer.status_code == 200, answer.text
    assert "Your appointment is cancelled" in answer.text
    assert _status(db, reminded["id"]) == "cancelled"
    gap = db.execute(
        "select id, status from slotoptim_private.gap where source_appointment_id = %s", (reminded["id"],)
    ).fetchone()
    assert gap is not None and gap["status"] == "open"
    db.execute("update slotoptim_private.organisation_settings set score_threshold = 0")
    db.execute("select * from slotoptim.tick(%s)", (NOW,))
    offered = db.execute(
        "select count(*) as n from slotoptim_private.offer where gap_id = %s and status = 'open'", (gap["id"],)
    ).fetchone()
    assert offered is not None and offered["n"] >= 1
    # A second C has nothing left to cancel.
    late = post_signed(client, INBOUND, inbound("c", reminded["phone"]))
    assert "couldn't find an upcoming appointment" in late.text


def test_y_confirms_r_asks_staff_earlier_enrols(client: TestClient[Any], db: Db) -> None:
    reminded = _remind(db)
    assert "confirmed" in post_signed(client, INBOUND, inbound("Y", reminded["phone"])).text
    assert _status(db, reminded["id"]) == "confirmed"
    assert "contact you" in post_signed(client, INBOUND, inbound("R", reminded["phone"])).text
    tasks = db.execute("select kind, appointment_id from slotoptim.staff_tasks").fetchall()
    assert tasks == [{"kind": "reschedule", "appointment_id": reminded["id"]}]
    assert "earlier time" in post_signed(client, INBOUND, inbound("EARLIER", reminded["phone"])).text
    entry = db.execute(
        "select status from slotoptim_private.waitlist_entry where moveup_appointment_id = %s", (reminded["id"],)
    ).fetchone()
    assert entry == {"status": "active"}
    assert _status(db, reminded["id"]) == "confirmed"


def test_cancel_cancels_and_opts_out_and_stop_ends_reminders(client: TestClient[Any], db: Db) -> None:
    reminded = _remind(db)
    answer = post_signed(client, INBOUND, inbound("CANCEL", reminded["phone"]))
    assert "Your appointment is cancelled" in answer.text and "no more texts" in answer.text
    assert _status(db, reminded["id"]) == "cancelled"
    out = db.execute(
        "select bool_and(opted_out_at is not null) as out from slotoptim_private.customer where phone = %s",
        (reminded["phone"],),
    ).fetchone()
    assert out == {"out": True}
    # Opted out: the next reminder of their other appointment is not even queued.
    db.execute(
        "update slotoptim_private.appointment set booked_at = %s, no_show_risk = 0.9 where key = 'after'"
        " and customer_id = (select id from slotoptim_private.customer where phone = %s order by id limit 1)",
        (NOW - dt.timedelta(days=3), reminded["phone"]),
    )
    db.execute("select slotoptim.send_due_reminders(%s)", (NOW + dt.timedelta(minutes=30),))
    queued = db.execute(
        "select count(*) as n from slotoptim_private.message as m join slotoptim_private.customer as c"
        " on c.id = m.customer_id where c.phone = %s and m.kind = 'reminder' and m.status = 'queued'",
        (reminded["phone"],),
    ).fetchone()
    assert queued == {"n": 0}


def test_staff_tasks_list_and_done(client: TestClient[Any], keys: Any, db: Db) -> None:
    reminded = _remind(db)
    post_signed(client, INBOUND, inbound("R", reminded["phone"]))
    staff = keys.headers("staff")
    listed = client.get("/v1/staff-tasks", headers=staff)
    assert listed.status_code == 200, listed.text
    (task,) = listed.json()["items"]
    assert task["kind"] == "reschedule" and task["appointment_id"] == reminded["id"] and task["done_at"] is None
    done = client.post(f"/v1/staff-tasks/{task['id']}/done", headers=staff)
    assert done.status_code == 200 and done.json()["done_at"] is not None
    assert client.get("/v1/staff-tasks", headers=staff).json()["items"] == []
    assert len(client.get("/v1/staff-tasks?done=true", headers=staff).json()["items"]) == 1
    assert client.post("/v1/staff-tasks/999999/done", headers=staff).status_code == 404
    other = keys.headers("other_admin")
    assert client.post(f"/v1/staff-tasks/{task['id']}/done", headers=other).status_code == 404
    assert client.get("/v1/staff-tasks", headers=other).json()["items"] == []


def test_y_confirms_when_the_newer_offer_is_of_a_filled_gap(client: TestClient[Any], keys: Keys, db: Db) -> None:
    """The reminder came after the phone's live offer; a newer offer of a gap someone else just
    claimed (not yet retracted by the engine) does not count: Y confirms, as once retracted."""
    reminded = _remind(db)
    acme_gap = _offer_gap(client, keys, db, appointment="before")
    bravo_gap = _offer_gap(client, keys, db, "bravo", "other_admin", "other_admin")
    # acme's c1 and bravo's c1 share the reminded phone; acme's offer went out before the reminder.
    db.execute("update slotoptim_private.customer set phone = %s where key = 'c1'", (reminded["phone"],))
    db.execute(
        "update slotoptim_private.offer set send_at = %s where gap_id = %s", (NOW - dt.timedelta(minutes=5), acme_gap)
    )
    winner = db.execute(
        "select o.id, o.customer_id from slotoptim_private.offer as o"
        " join slotoptim_private.customer as c on c.id = o.customer_id"
        " where o.gap_id = %s and c.key <> 'c1' order by o.id limit 1",
        (bravo_gap,),
    ).fetchone()
    assert winner is not None
    claimed = db.execute(
        "select outcome from slotoptim.claim_offer(%s, %s, %s)", (winner["id"], winner["customer_id"], NOW)
    ).fetchone()
    assert claimed == {"outcome": "booked"}
    loser = db.execute(
        "select o.status, o.send_at from slotoptim_private.offer as o"
        " join slotoptim_private.customer as c on c.id = o.customer_id where o.gap_id = %s and c.key = 'c1'",
        (bravo_gap,),
    ).fetchone()
    assert loser is not None and loser["status"] == "open" and loser["send_at"] >= NOW
    answer = post_signed(client, INBOUND, inbound("Y", reminded["phone"]))
    assert "confirmed" in answer.text, answer.text
    assert _status(db, reminded["id"]) == "confirmed"
