"""Consent done right: double opt-in for texts through the real (signed) Twilio webhook path, a
history row per change with time, source and wording version, and revocation by any means (STOP,
the claim page, staff) applying to every channel."""

from __future__ import annotations

from typing import Any

import psycopg
from api.api_practice import SHARED_PHONE
from api.claim_helpers import offered, token
from api.conftest import Keys
from api.test_webhooks import INBOUND, inbound, post_signed
from litestar.testing import TestClient

from slotoptim.listener.channels.sms_text import is_gsm7, sms_segments
from slotoptim.listener.selfservice.consent import CONFIRM_TEXT

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PHONE = "+16175550321"


def sign_up(client: TestClient[Any], phone: str = PHONE, **extra: str) -> None:
    data = {"service": "short", "name": "Dee Double", "phone": phone, "texts": "yes", **extra}
    answer = client.post("/book/acme/waitlist", data=data, headers=FORM)
    assert answer.status_code == 200, answer.text


def customer(db: psycopg.Connection[dict[str, Any]], phone: str = PHONE) -> dict[str, Any]:
    row = db.execute(
        "select c.id, c.key, c.consent_sms, c.consent_email, c.opted_out_at is not null as opted_out,"
        " (select array_agg(w.status order by w.id) from slotoptim_private.waitlist_entry as w"
        "   where w.customer_id = c.id) as entries"
        " from slotoptim_private.customer as c where c.phone = %s and c.org_id ="
        " (select id from slotoptim_private.organisation where key = 'acme')",
        (phone,),
    ).fetchone()
    assert row is not None
    return dict(row)


def history(db: psycopg.Connection[dict[str, Any]], key: str) -> list[tuple[str, str, str, str | None]]:
    rows = db.execute(
        "select e.channel, e.action, e.source, e.wording_version from slotoptim_private.consent_event as e"
        " join slotoptim_private.customer as c on c.id = e.customer_id"
        " where c.key = %s and c.org_id = (select id from slotoptim_private.organisation where key = 'acme')"
        " order by e.id",
        (key,),
    ).fetchall()
    return [(r["channel"], r["action"], r["source"], r["wording_version"]) for r in rows]


def test_the_confirmation_text_is_one_gsm7_segment_in_every_language() -> None:
    for language, text in CONFIRM_TEXT.items():
        body = text.format(practice="A" * 30)
        assert is_gsm7(body), language
        assert sms_segments(body) == 1, (language, len(body))


def test_yes_confirms_texts_and_nothing_is_claimed(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    sign_up(client)
    before = customer(db)
    assert before["consent_sms"] is False
    queued = db.execute(
        "select kind, channel, to_address, status from slotoptim_private.message where customer_id = %s",
        (before["id"],),
    ).fetchall()
    assert queued == [{"kind": "consent_request", "channel": "sms", "to_address": PHONE, "status": "queued"}]
    # The outbox sends the request although texts are not confirmed yet: it is the question.
    claimed = db.execute("select kind from slotoptim.claim_messages('test', 10, now() + interval '1 day')").fetchall()
    assert {"kind": "consent_request"} in claimed

    answer = post_signed(client, INBOUND, inbound("Yes", PHONE))
    assert answer.status_code == 200
    assert "signed up for texts" in answer.text
    after = customer(db)
    assert after["consent_sms"] is True and after["entries"] == ["active"]
    assert history(db, after["key"]) == [
        ("sms", "requested", "booking_page", "2026-12-v1"),
        ("sms", "granted", "sms_reply", "2026-12-v1"),
    ]
    assert db.execute("select count(*) as n from slotoptim_private.offer where status = 'claimed'").fetchone() == {
        "n": 0
    }
    # A second YES has nothing to confirm: it is an ordinary YES (no open offer for this number).
    again = post_signed(client, INBOUND, inbound("YES", PHONE))
    assert "couldn't find an open offer" in again.text


def test_stop_revokes_every_channel_and_the_pending_request(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    sign_up(client, email="dee@example.org", emails="yes")
    assert customer(db)["consent_email"] is True
    stop = post_signed(client, INBOUND, inbound("please stop texting me", PHONE))
    assert stop.status_code == 200
    after = customer(db)
    assert after["opted_out"] is True and after["entries"] == ["paused"]
    pending = db.execute(
        "select status from slotoptim_private.consent_request where customer_id = %s", (after["id"],)
    ).fetchall()
    assert pending == [{"status": "revoked"}]
    # A YES after STOP does not undo it: the request is gone.
    post_signed(client, INBOUND, inbound("YES", PHONE))
    assert customer(db)["opted_out"] is True
    assert ("all", "revoked", "sms_reply", None) in history(db, after["key"])
    # Nothing queued goes out, email included.
    db.execute(
        "insert into slotoptim_private.message (org_id, customer_id, kind, channel, to_address, not_before, created_at)"
        " select org_id, id, 'booked', 'email', email, now(), now() from slotoptim_private.customer where id = %s",
        (after["id"],),
    )
    sent = db.execute(
        "select kind, channel from slotoptim.claim_messages('test', 10, now() + interval '1 day')"
    ).fetchall()
    assert {"kind": "booked", "channel": "email"} not in sent


def test_a_new_request_after_stop_brings_back_texts_only(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    sign_up(client, email="dee@example.org", emails="yes")
    post_signed(client, INBOUND, inbound("STOP", PHONE))
    sign_up(client)  # they ask again on the page
    post_signed(client, INBOUND, inbound("yes", PHONE))
    after = customer(db)
    assert after["opted_out"] is False and after["consent_sms"] is True
    assert after["consent_email"] is False  # revoked with STOP; only texts were asked for again


def test_stop_all_messages_on_the_claim_page(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    offer = offered(client, keys, db)[0]
    tok = token(db, offer)
    page = client.get(f"/c/{tok}")
    assert "Stop all messages" in page.text
    answer = client.post(f"/c/{tok}/answer", data={"token": tok, "action": "stop"}, headers=FORM)
    assert answer.status_code == 200
    assert "get any more messages from us, by text or email." in answer.text
    row = db.execute(
        "select c.key, c.opted_out_at is not null as out, o.status from slotoptim_private.customer as c"
        " join slotoptim_private.offer as o on o.customer_id = c.id where o.id = %s",
        (offer["id"],),
    ).fetchone()
    assert row is not None and row["out"] is True and row["status"] == "retracted"
    assert history(db, row["key"])[-1] == ("all", "revoked", "claim_page", None)


def test_staff_changes_are_recorded_as_staff(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    answer = client.patch("/v1/customers/shared", headers=keys.headers("staff"), json={"consent": {"sms": False}})
    assert answer.status_code == 200, answer.text
    assert history(db, "shared")[-1] == ("sms", "revoked", "staff", None)
    assert SHARED_PHONE  # the shared customer of both practices: bravo's record is untouched
    other = db.execute(
        "select consent_sms from slotoptim_private.customer as c join slotoptim_private.organisation as o"
        " on o.id = c.org_id where o.key = 'bravo' and c.key = 'shared'"
    ).fetchone()
    assert other == {"consent_sms": True}


def test_an_email_about_an_offer_links_to_the_page_that_stops_everything(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], api_db: Any
) -> None:
    """Email has no STOP reply: its way out is the customer's page ("Stop all messages")."""
    import io
    import re

    from api.api_practice import NOW

    from slotoptim.listener.channels.console_channel import ConsoleChannel
    from slotoptim.listener.sender import Sender, SenderConfig

    offer = offered(client, keys, db)[0]
    db.execute(
        "insert into slotoptim_private.message (org_id, customer_id, offer_id, kind, channel, to_address, not_before,"
        " created_at) select o.org_id, o.customer_id, o.id, 'booked', 'email', c.email, %s, %s"
        " from slotoptim_private.offer as o join slotoptim_private.customer as c on c.id = o.customer_id"
        " where o.id = %s",
        (NOW, NOW, offer["id"]),
    )
    out = io.StringIO()
    sender = Sender(
        api_db.url,
        {"email": ConsoleChannel(out, "email"), "console": ConsoleChannel(out)},
        SenderConfig(public_url="https://x.example", threads=1),
        clock=lambda: NOW,
    )
    try:
        sender.drain()
    finally:
        sender.close()
    body = db.execute(
        "select body from slotoptim_private.message where channel = 'email' and offer_id = %s", (offer["id"],)
    ).fetchone()
    assert body is not None and "choose Stop all messages" in str(body["body"])
    found = re.search(r"https://x\.example(/c/[A-Za-z0-9_-]+)", str(body["body"]))
    assert found is not None
    assert "Stop all messages" in client.get(found.group(1)).text
