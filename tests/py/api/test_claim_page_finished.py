"""The finished claim page: service, duration, provider, address, the time in the customer's zone
with the practice's own time when they differ, "No thanks", money per currency and locale, and the
question about the customer's other waitlist entries after a booking (seed 003, edge case 8)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from api.api_practice import NOW
from api.claim_helpers import offered, token
from api.conftest import Keys
from litestar.testing import TestClient

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def first_offer(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> tuple[dict[str, Any], str]:
    offer = offered(client, keys, db)[0]
    return offer, token(db, offer)


def answer(client: TestClient[Any], tok: str, action: str) -> Any:
    return client.post(f"/c/{tok}/answer", data={"token": tok, "action": action}, headers=FORM)


def test_details_zone_note_and_address(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    db.execute(
        "insert into slotoptim_private.location (org_id, key, name, timezone, address)"
        " select id, 'main', 'Main', 'America/New_York', '12 Harbor St, Boston MA' from slotoptim_private.organisation"
        " where key = 'acme'"
    )
    db.execute(
        "update slotoptim_private.provider"
        " set location_id = (select id from slotoptim_private.location where key = 'main')"
        " where key = 'dr-a' and org_id = (select id from slotoptim_private.organisation where key = 'acme')"
    )
    offer, tok = first_offer(client, keys, db)
    db.execute(
        "update slotoptim_private.customer set timezone = 'America/Los_Angeles' where id = %s", (offer["customer_id"],)
    )
    html = client.get(f"/c/{tok}").text
    assert "<dd>Short visit</dd>" in html and "<dd>30 minutes</dd>" in html
    assert "Tuesday, November 24, 11:00 AM PST" in html
    assert "2:00 PM EST at the practice." in html
    assert "12 Harbor St, Boston MA" in html
    assert "No thanks" in html


def test_money_follows_the_currency_and_the_customers_language(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    offer, tok = first_offer(client, keys, db)
    db.execute("update slotoptim_private.organisation set currency = 'JPY' where key = 'acme'")
    db.execute(
        "update slotoptim_private.service set price = 4500 where key = 'short'"
        " and org_id = (select id from slotoptim_private.organisation where key = 'acme')"
    )
    assert "<dd>¥4,500</dd>" in client.get(f"/c/{tok}").text  # no decimals for yen
    db.execute("update slotoptim_private.organisation set currency = 'EUR' where key = 'acme'")
    db.execute("update slotoptim_private.customer set language = 'es' where id = %s", (offer["customer_id"],))
    html = client.get(f"/c/{tok}").text
    assert "<dd>4500,00\xa0€</dd>" in html or "<dd>4.500,00\xa0€</dd>" in html
    assert '<html lang="es">' in html


def test_no_thanks_declines(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    offer, tok = first_offer(client, keys, db)
    page = answer(client, tok, "decline")
    assert page.status_code == 200
    assert "You said no thanks" in page.text and "Confirm" not in page.text
    row = db.execute(
        "select o.status, w.offers_declined from slotoptim_private.offer as o"
        " join slotoptim_private.waitlist_entry as w on w.id = o.waitlist_entry_id where o.id = %s",
        (offer["id"],),
    ).fetchone()
    assert row == {"status": "declined", "offers_declined": 1}
    assert client.get(f"/c/{tok}").status_code == 200
    # A form that names no known action changes nothing and says which field is wrong.
    bad = answer(client, tok, "dance")
    assert bad.status_code == 422 and "Action: choose one of the buttons" in bad.text


def _second_entry(db: psycopg.Connection[dict[str, Any]], customer_id: int) -> int:
    row = db.execute(
        "insert into slotoptim_private.waitlist_entry (org_id, customer_id, service_ids, added_at, updated_at)"
        " select c.org_id, c.id, array[s.id], %s, %s from slotoptim_private.customer as c"
        " join slotoptim_private.service as s on s.org_id = c.org_id and s.key = 'short' where c.id = %s returning id",
        (NOW, NOW, customer_id),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def test_after_booking_the_other_entries_close_in_24_hours_unless_kept(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    offer, tok = first_offer(client, keys, db)
    other = _second_entry(db, offer["customer_id"])
    booked = client.post(f"/c/{tok}", data={"token": tok}, headers=FORM)
    assert "You're booked" in booked.text
    assert "Your other waiting-list requests" in booked.text
    assert "Wednesday, November 25, 8:00 AM EST" in booked.text  # 24 hours after the booking
    closes = db.execute("select closes_at from slotoptim_private.waitlist_entry where id = %s", (other,)).fetchone()
    assert closes == {"closes_at": NOW + dt.timedelta(hours=24)}

    kept = answer(client, tok, "keep")
    assert "You stay on the waiting list" in kept.text and "Your other waiting-list requests" not in kept.text
    swept = db.execute("select slotoptim.close_superseded_entries(%s) as n", (NOW + dt.timedelta(days=2),)).fetchone()
    assert swept == {"n": 0}
    assert db.execute("select status from slotoptim_private.waitlist_entry where id = %s", (other,)).fetchone() == {
        "status": "active"
    }


def test_by_default_the_engine_closes_them(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    offer, tok = first_offer(client, keys, db)
    other = _second_entry(db, offer["customer_id"])
    client.post(f"/c/{tok}", data={"token": tok}, headers=FORM)
    early = db.execute("select slotoptim.close_superseded_entries(%s) as n", (NOW + dt.timedelta(hours=23),)).fetchone()
    late = db.execute("select slotoptim.close_superseded_entries(%s) as n", (NOW + dt.timedelta(hours=24),)).fetchone()
    assert (early, late) == ({"n": 0}, {"n": 1})
    assert db.execute("select status from slotoptim_private.waitlist_entry where id = %s", (other,)).fetchone() == {
        "status": "cancelled"
    }


def test_close_them_now(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    offer, tok = first_offer(client, keys, db)
    other = _second_entry(db, offer["customer_id"])
    client.post(f"/c/{tok}", data={"token": tok}, headers=FORM)
    closed = answer(client, tok, "close")
    assert "Your other waiting-list requests are closed." in closed.text
    assert db.execute("select status from slotoptim_private.waitlist_entry where id = %s", (other,)).fetchone() == {
        "status": "cancelled"
    }


def test_a_booking_the_practice_cancels_again_gets_three_alternatives_at_once(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    """Seed 003, edge case 7."""
    offer, tok = first_offer(client, keys, db)
    client.post(f"/c/{tok}", data={"token": tok}, headers=FORM)
    booked = db.execute("select appointment_id from slotoptim_private.offer where id = %s", (offer["id"],)).fetchone()
    assert booked is not None and booked["appointment_id"] is not None
    cancelled = client.post(f"/v1/appointments/{booked['appointment_id']}/cancel", headers=keys.headers("staff"))
    assert cancelled.status_code == 200, cancelled.text
    message = db.execute(
        "select channel, body from slotoptim_private.message where kind = 'rebook_alternatives' and customer_id = %s",
        (offer["customer_id"],),
    ).fetchone()
    assert message is not None and message["channel"] == "sms"
    body = str(message["body"])
    assert body.startswith("Acme Clinic: sorry, your Tue 11/24 2:00PM visit is cancelled. Open: ")
    assert body.count("Tue 11/24") + body.count("Wed 11/25") == 4  # the cancelled time and three others
    assert "Open: Tue 11/24 2:00PM" not in body  # never the time just cancelled
    assert len(body) <= 160 and body.endswith("Reply STOP to opt out")
    entry = db.execute(
        "select w.status from slotoptim_private.waitlist_entry as w join slotoptim_private.offer as o"
        " on o.waitlist_entry_id = w.id where o.id = %s",
        (offer["id"],),
    ).fetchone()
    assert entry == {"status": "active"}
