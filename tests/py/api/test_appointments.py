"""/v1/appointments: booking, reading, listing, cancelling, rescheduling, status changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from api.api_practice import SLOT, local
from api.conftest import Keys
from litestar.testing import TestClient


def _id(db: psycopg.Connection[dict[str, Any]], key: str, org: str = "acme") -> int:
    row = db.execute(
        "select a.id from slotoptim_private.appointment a join slotoptim_private.organisation o on o.id = a.org_id"
        " where a.key = %s and o.key = %s",
        (key, org),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def test_book_read_and_list(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("staff")
    made = client.post(
        "/v1/appointments",
        headers=h,
        json={"provider": "dr-a", "service": "long", "customer": "c1", "start": local(9).isoformat(), "key": "new-1"},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["provider"] == "dr-a" and body["service"] == "long" and body["customer"] == "c1"
    assert body["status"] == "booked" and body["source"] == "staff"
    assert body["buffer_after_minutes"] == 10 and body["price"] == 250.0
    assert client.get(f"/v1/appointments/{body['id']}", headers=keys.headers("readonly")).json() == body

    page = client.get("/v1/appointments", params={"provider": "dr-a", "day": "2026-11-24", "limit": 2}, headers=h)
    assert page.status_code == 200
    first = page.json()
    assert [a["start"] for a in first["items"]] == sorted(a["start"] for a in first["items"])
    assert first["items"][0]["key"] == "new-1" and first["next_cursor"]
    rest = client.get(
        "/v1/appointments", params={"provider": "dr-a", "day": "2026-11-24", "cursor": first["next_cursor"]}, headers=h
    ).json()
    keys_seen = [a["key"] for a in first["items"] + rest["items"]]
    assert keys_seen == ["new-1", "before", "to-cancel", "after"]
    assert rest["next_cursor"] is None
    assert client.get("/v1/appointments", params={"day": "2026-11-25"}, headers=h).json()["items"] == []


def test_overlap_is_409_with_a_readable_message(client: TestClient[Any], keys: Keys) -> None:
    answer = client.post(
        "/v1/appointments",
        headers=keys.headers("staff"),
        json={"provider": "dr-a", "service": "short", "start": local(14, 10).isoformat()},
    )
    assert answer.status_code == 409
    assert answer.json()["detail"].startswith("overlaps appointment ")
    assert "(2026-11-24 14:00-14:30 EST plus 0 min buffer)" in answer.json()["detail"]


def test_validation_names_the_field(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("staff")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"provider": "dr-a", "service": "short"}, 400, "start"),
        ({"provider": "dr-a", "service": "short", "start": "2026-11-24T10:00:00"}, 400, "start"),
        ({"provider": "dr-a", "service": "short", "start": "tomorrow"}, 400, "start"),
        ({"provider": "dr a", "service": "short", "start": local(10).isoformat()}, 400, "provider"),
        ({"provider": "dr-a", "service": "short", "start": local(10).isoformat(), "colour": "red"}, 400, "colour"),
        (
            {"provider": "dr-a", "service": "short", "start": local(10).isoformat(), "end": local(9).isoformat()},
            422,
            "end",
        ),
        ({"provider": "dr-zz", "service": "short", "start": local(10).isoformat()}, 404, "provider"),
        ({"provider": "dr-a", "service": "nope", "start": local(10).isoformat()}, 404, "service"),
        (
            {"provider": "dr-a", "service": "short", "customer": "ghost", "start": local(10).isoformat()},
            404,
            "customer",
        ),
        ({"provider": "dr-b", "service": "long", "start": local(10).isoformat()}, 422, "service"),
    ]
    for body, status, field in cases:
        answer = client.post("/v1/appointments", headers=h, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert field in answer.text, (body, answer.text)


def test_cancel_opens_a_gap_and_only_once(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    appointment = _id(db, "to-cancel")
    answer = client.post(f"/v1/appointments/{appointment}/cancel", headers=keys.headers("staff"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["appointment"]["status"] == "cancelled" and len(body["gap_ids"]) == 1
    gap = client.get(f"/v1/gaps/{body['gap_ids'][0]}", headers=keys.headers("readonly")).json()["gap"]
    assert gap["start"] == SLOT.isoformat().replace("-05:00", "Z").replace("T14", "T19") and gap["minutes"] == 30
    again = client.post(f"/v1/appointments/{appointment}/cancel", headers=keys.headers("staff"))
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]


def test_reschedule_keeps_length_and_refuses_overlaps(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    appointment, h = _id(db, "after"), keys.headers("staff")
    moved = client.post(f"/v1/appointments/{appointment}/reschedule", headers=h, json={"start": local(16).isoformat()})
    assert moved.status_code == 200, moved.text
    assert moved.json()["start"] == "2026-11-24T21:00:00Z" and moved.json()["end"] == "2026-11-24T21:30:00Z"
    clash = client.post(
        f"/v1/appointments/{appointment}/reschedule", headers=h, json={"start": local(13, 45).isoformat()}
    )
    assert clash.status_code == 409
    assert client.get(f"/v1/appointments/{appointment}", headers=h).json()["start"] == "2026-11-24T21:00:00Z"


def test_status_transitions(
    make_client: Callable[..., TestClient[Any]], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    # The afternoon, after the 13:30 appointment: it can have happened (the input rules).
    client = make_client(clock=lambda: local(15))
    appointment, h = _id(db, "before"), keys.headers("staff")
    url = f"/v1/appointments/{appointment}/status"
    for status in ("confirmed", "arrived", "arrived", "completed"):
        answer = client.post(url, headers=h, json={"status": status})
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == status
    refused = client.post(url, headers=h, json={"status": "no_show"})
    assert refused.status_code == 409 and "completed" in refused.json()["detail"]
    assert client.post(url, headers=h, json={"status": "cancelled"}).status_code == 400
    row = db.execute(
        "select actual_start, actual_end from slotoptim_private.appointment where id = %s", (appointment,)
    ).fetchone()
    assert row is not None and row["actual_start"] is not None and row["actual_end"] is not None


def test_no_show_frees_the_time(
    make_client: Callable[..., TestClient[Any]], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    client = make_client(clock=lambda: local(15))
    appointment = _id(db, "after")
    answer = client.post(
        f"/v1/appointments/{appointment}/status", headers=keys.headers("staff"), json={"status": "no_show"}
    )
    assert answer.status_code == 200
    retake = client.post(
        "/v1/appointments",
        headers=keys.headers("staff"),
        json={"provider": "dr-a", "service": "short", "start": local(14, 30).isoformat()},
    )
    assert retake.status_code == 201, retake.text


def test_unknown_ids_and_bad_cursors(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("readonly")
    assert client.get("/v1/appointments/999999", headers=h).status_code == 404
    assert client.get("/v1/appointments/0", headers=h).status_code == 400
    bad = client.get("/v1/appointments", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=h)
    assert bad.status_code == 422 and "cursor" in bad.text
    assert client.get("/v1/appointments/%0B6", headers=h).status_code == 400
    assert client.get("/v1/appointments/1_0", headers=h).status_code == 400
    twice = client.get("/v1/appointments?limit=1&limit=2", headers=h)
    assert twice.status_code == 400 and "limit: given more than once" in twice.text
    assert client.get("/v1/appointments", params={"limit": 500}, headers=h).status_code == 400
    assert client.get("/v1/appointments", params={"provider": "dr-zz"}, headers=h).status_code == 404


def test_gap_analysis_and_booking_agree_on_a_customers_buffer(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    """A rule adds 15 minutes after a new customer's visit: the gap analysis for that customer says
    a half-hour gap no longer fits, and the refused booking names the rule and the minutes."""
    db.execute(
        "insert into slotoptim_private.buffer_rule (org_id, name, when_new_customer, extra_minutes)"
        " select id, 'new customers', true, 15 from slotoptim_private.organisation where key = 'acme'"
    )
    h = keys.headers("staff")
    earlier = client.post(
        "/v1/appointments", headers=h, json={"provider": "dr-a", "service": "short", "start": local(12, 30).isoformat()}
    )
    assert earlier.status_code == 201, earlier.text  # leaves 13:00-13:30 free before 'before'
    window = {"provider": "dr-a", "start": local(12, 30).isoformat(), "end": local(14).isoformat()}
    anyone = client.get("/v1/gaps/analyze", params=window, headers=h).json()["gaps"]
    assert [(g["minutes"], g["kind"], g["fits"]) for g in anyone] == [(30, "bookable", ["short"])]
    for_c1 = client.get("/v1/gaps/analyze", params={**window, "customer": "c1"}, headers=h).json()["gaps"]
    assert [(g["minutes"], g["kind"], g["fits"]) for g in for_c1] == [(30, "fragment", [])]
    unknown = client.get("/v1/gaps/analyze", params={**window, "customer": "nobody"}, headers=h)
    assert unknown.status_code == 404 and "customer" in unknown.text

    refused = client.post(
        "/v1/appointments",
        headers=h,
        json={"provider": "dr-a", "service": "short", "customer": "c1", "start": local(13).isoformat()},
    )
    assert refused.status_code == 409
    body = refused.json()
    assert "rule 'new customers' +15 min" in body["detail"] and "15 min do not fit" in body["detail"], body
    assert "plus 0 min buffer" not in body["detail"], "not blamed on the next appointment's buffer"
    assert body["extra"]["minutes_not_fitting"] == 15 and body["extra"]["buffer_minutes"] == 15
    accepted = client.post(
        "/v1/appointments", headers=h, json={"provider": "dr-a", "service": "short", "start": local(13).isoformat()}
    )
    assert accepted.status_code == 201, "without the customer's rule it fits, as the analysis said"
