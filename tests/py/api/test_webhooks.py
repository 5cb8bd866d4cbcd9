"""Twilio webhooks signed with the SDK's own RequestValidator: verified, idempotent on MessageSid."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import psycopg
from api.api_practice import NOW, SHARED_PHONE
from api.conftest import METRICS, PUBLIC_URL, TWILIO_TOKEN, Keys
from litestar.testing import TestClient
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

INBOUND = "/webhooks/twilio/inbound"
STATUS = "/webhooks/twilio/status"
_sids = itertools.count(1)


def _sid() -> str:
    return f"SM{next(_sids):032x}"


def inbound(body: str, phone: str, sid: str | None = None) -> dict[str, str]:
    return {
        "MessageSid": sid or _sid(),
        "AccountSid": "AC" + "1" * 32,
        "From": phone,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
        "FromCity": "",  # blank fields are signed too
    }


def post_signed(
    client: TestClient[Any], path: str, params: dict[str, str], base: str = PUBLIC_URL, query: str = ""
) -> Any:
    url = f"{base}{path}" + (f"?{query}" if query else "")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    return client.post(path + (f"?{query}" if query else ""), data=params, headers={"X-Twilio-Signature": signature})


def _opted_out(db: psycopg.Connection[dict[str, Any]], phone: str) -> list[bool]:
    rows = db.execute(
        "select opted_out_at is not null as out from slotoptim_private.customer where phone = %s order by org_id",
        (phone,),
    ).fetchall()
    return [r["out"] for r in rows]


def test_help_and_other_texts_get_a_short_reply(client: TestClient[Any]) -> None:
    for text in ("HELP", "what time is my appointment?"):
        answer = post_signed(client, INBOUND, inbound(text, "+16175550001"))
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/xml")
        assert answer.text.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Reply YES')


def test_unsigned_or_wrongly_signed_requests_are_403(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    params = inbound("STOP", SHARED_PHONE)
    good = RequestValidator(TWILIO_TOKEN).compute_signature(f"{PUBLIC_URL}{INBOUND}", params)
    attempts = [
        client.post(INBOUND, data=params),
        client.post(INBOUND, data=params, headers={"X-Twilio-Signature": "x" + good[1:]}),
        client.post(INBOUND, data={**params, "Body": "YES"}, headers={"X-Twilio-Signature": good}),
        client.post(INBOUND, data={**params, "Extra": "1"}, headers={"X-Twilio-Signature": good}),
        # Signed for the URL the app sees, not the public one Twilio calls: refused.
        post_signed(client, INBOUND, params, base="http://testserver.local"),
        # Forwarded headers a client sets do not change the URL checked: the configured public one is.
        client.post(
            INBOUND,
            data=params,
            headers={
                "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(
                    f"https://evil.example{INBOUND}", params
                ),
                "X-Forwarded-Host": "evil.example",
                "X-Forwarded-Proto": "https",
            },
        ),
        post_signed(client, STATUS, {"MessageSid": _sid(), "MessageStatus": "delivered"}, base="https://evil.example"),
    ]
    for answer in attempts:
        assert answer.status_code == 403, answer.text
    assert _opted_out(db, SHARED_PHONE) == [False, False]


def test_webhooks_are_refused_when_no_token_is_configured(make_client: Callable[..., TestClient[Any]]) -> None:
    client = make_client(twilio_auth_token=None)
    assert post_signed(client, INBOUND, inbound("HELP", "+16175550001")).status_code == 403


def test_stop_and_start_apply_everywhere_the_number_is_known_once_per_sid(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    start = inbound("START", SHARED_PHONE)
    stop = post_signed(client, INBOUND, inbound("please stop texting me", f"whatsapp:{SHARED_PHONE}"))
    assert stop.status_code == 200 and "unsubscribed" in stop.text
    assert _opted_out(db, SHARED_PHONE) == [True, True]
    first = post_signed(client, INBOUND, start)
    assert "subscribed again" in first.text and _opted_out(db, SHARED_PHONE) == [False, False]
    post_signed(client, INBOUND, inbound("STOP", SHARED_PHONE))
    replay = post_signed(client, INBOUND, start)  # Twilio retries the START: same answer, no effect
    assert replay.status_code == 200 and replay.text == first.text
    assert _opted_out(db, SHARED_PHONE) == [True, True]
    rows = db.execute(
        "select org_id, reply from slotoptim_private.webhook_event where provider_id = %s", (start["MessageSid"],)
    ).fetchall()
    assert len(rows) == 1 and rows[0]["org_id"] is not None and "subscribed" in rows[0]["reply"]


def _offer_gap(
    client: TestClient[Any],
    keys: Keys,
    db: psycopg.Connection[dict[str, Any]],
    org: str = "acme",
    admin: str = "admin",
    staff: str = "staff",
    appointment: str = "to-cancel",
) -> int:
    client.patch("/v1/settings", headers=keys.headers(admin), json={"score_threshold": 0})
    row = db.execute(
        "select a.id from slotoptim_private.appointment a join slotoptim_private.organisation o on o.id = a.org_id"
        " where a.key = %s and o.key = %s",
        (appointment, org),
    ).fetchone()
    assert row is not None
    gap = client.post(f"/v1/appointments/{row['id']}/cancel", headers=keys.headers(staff)).json()["gap_ids"][0]
    assert (
        client.post(
            "/v1/waitlist/offer", headers=keys.headers(staff), json={"gap_id": gap, "strategy": "broadcast"}
        ).status_code
        == 201
    )
    return int(gap)


def test_yes_claims_the_latest_offer_once(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    _offer_gap(client, keys, db)
    yes = inbound("Yes", "+16175550001")
    first = post_signed(client, INBOUND, yes)
    assert first.status_code == 200 and "booked" in first.text
    replay = post_signed(client, INBOUND, yes)
    assert replay.text == first.text
    booked = db.execute("select count(*) as n from slotoptim_private.appointment where source = 'waitlist'").fetchone()
    assert booked is not None and booked["n"] == 1
    late = post_signed(client, INBOUND, inbound("YES", "+16175550002"))
    assert "filled" in late.text
    nothing = post_signed(client, INBOUND, inbound("YES", "+19995550000"))
    assert "couldn't find an open offer" in nothing.text
    metrics = client.get("/metrics", headers=METRICS).text
    assert 'slotoptim_claims_total{outcome="booked",via="sms"} 1.0' in metrics
    assert 'slotoptim_claims_total{outcome="filled",via="sms"} 1.0' in metrics


def test_yes_skips_an_offer_whose_gap_a_claim_filled_before_the_engine_retracts_it(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    # c1 of both practices share a phone; bravo's offer to it is the newer one.
    phone = "+16175550001"
    db.execute(
        "update slotoptim_private.customer as c set phone = %s from slotoptim_private.organisation as o"
        " where o.id = c.org_id and o.key = 'bravo' and c.key = 'c1'",
        (phone,),
    )
    acme_gap = _offer_gap(client, keys, db)
    bravo_gap = _offer_gap(client, keys, db, "bravo", "other_admin", "other_admin")
    db.execute(
        "update slotoptim_private.offer set send_at = send_at - interval '5 minutes' where gap_id = %s", (acme_gap,)
    )
    # Someone else at bravo claims bravo's gap; the engine has not retracted c1's offer yet.
    winner = db.execute(
        "select o.id, o.customer_id from slotoptim_private.offer as o"
        " join slotoptim_private.customer as c on c.id = o.customer_id"
        " where o.gap_id = %s and c.phone <> %s order by o.id limit 1",
        (bravo_gap, phone),
    ).fetchone()
    assert winner is not None
    claimed = db.execute(
        "select outcome from slotoptim.claim_offer(%s, %s, %s)", (winner["id"], winner["customer_id"], NOW)
    ).fetchone()
    assert claimed is not None and claimed["outcome"] == "booked"
    loser = db.execute(
        "select o.status from slotoptim_private.offer as o join slotoptim_private.customer as c on c.id = o.customer_id"
        " where o.gap_id = %s and c.phone = %s",
        (bravo_gap, phone),
    ).fetchone()
    assert loser is not None and loser["status"] == "open"
    sid = _sid()
    yes = post_signed(client, INBOUND, inbound("YES", phone, sid))
    assert yes.status_code == 200 and "booked" in yes.text
    live = db.execute(
        "select o.status from slotoptim_private.offer as o join slotoptim_private.customer as c on c.id = o.customer_id"
        " where o.gap_id = %s and c.phone = %s",
        (acme_gap, phone),
    ).fetchone()
    assert live is not None and live["status"] == "claimed"
    routed = db.execute(
        "select o.key from slotoptim_private.webhook_event as e"
        " join slotoptim_private.organisation as o on o.id = e.org_id where e.provider_id = %s",
        (sid,),
    ).fetchone()
    assert routed is not None and routed["key"] == "acme"


def test_status_callbacks_update_the_outbox_once(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    _offer_gap(client, keys, db)
    sid = _sid()
    db.execute(
        "update slotoptim_private.message set status = 'sent', provider_id = %s, sent_at = now()"
        " where id = (select min(id) from slotoptim_private.message)",
        (sid,),
    )
    for status in ("sent", "delivered", "delivered"):
        answer = post_signed(client, STATUS, {"MessageSid": sid, "MessageStatus": status, "SmsStatus": status})
        assert answer.status_code == 204, answer.text
    row = db.execute(
        "select status, delivered_at from slotoptim_private.message where provider_id = %s", (sid,)
    ).fetchone()
    assert row is not None and row["status"] == "delivered" and row["delivered_at"] is not None
    kinds = db.execute(
        "select kind from slotoptim_private.webhook_event where provider_id = %s order by kind", (sid,)
    ).fetchall()
    assert [k["kind"] for k in kinds] == ["status:delivered", "status:sent"]
    assert post_signed(client, STATUS, {"MessageSid": _sid(), "MessageStatus": "delivered"}).status_code == 204
    assert post_signed(client, STATUS, {"MessageSid": sid, "MessageStatus": "Delivered!"}).status_code == 400


def test_the_public_url_may_carry_a_path_prefix_and_a_query(make_client: Callable[..., TestClient[Any]]) -> None:
    client = make_client(public_url="https://clinic.example.org/slotoptim/")
    answer = post_signed(
        client,
        INBOUND,
        inbound("HELP", "+16175550001"),
        base="https://clinic.example.org/slotoptim",
        query="practice=acme",
    )
    assert answer.status_code == 200, answer.text


def test_here_checks_the_customer_in_for_todays_visit(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    c0 = db.execute("select phone from slotoptim_private.customer where key = 'c0' order by org_id limit 1").fetchone()
    assert c0 is not None
    answer = post_signed(client, INBOUND, inbound("I'm here", c0["phone"]))
    assert answer.status_code == 200, answer.text
    assert "You're checked in" in answer.text
    rows = db.execute(
        "select e.source, a.key, a.status from slotoptim_private.queue_entry e"
        " join slotoptim_private.appointment a on a.id = e.appointment_id"
    ).fetchall()
    assert rows == [{"source": "sms", "key": "before", "status": "arrived"}]  # 13:30, the first of the day
    nobody = post_signed(client, INBOUND, inbound("HERE", "+16175550001"))
    assert "couldn't find a visit today" in nobody.text
