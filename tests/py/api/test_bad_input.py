"""Bad input gets a clear 4xx naming the field, never a 500; a 500 that does happen names its
exception class and a request id in the log, and the answer carries the request id."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import psycopg
import pytest
from api.api_practice import SLOT, local
from api.conftest import Keys
from litestar.testing import TestClient

from slotoptim.api.logs import LOGGER_NAME


def _id(db: psycopg.Connection[dict[str, Any]], key: str) -> int:
    row = db.execute(
        "select a.id from slotoptim_private.appointment a join slotoptim_private.organisation o on o.id = a.org_id"
        " where a.key = %s and o.key = 'acme'",
        (key,),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def _field(answer: Any) -> str:
    body = answer.json()
    extra = body.get("extra") or [{}]
    return str(extra[0].get("key", body["detail"]))


@pytest.mark.parametrize("depth", [900, 1000, 5000])
def test_deeply_nested_json_is_400(client: TestClient[Any], keys: Keys, depth: int) -> None:
    body = "[" * depth + "]" * depth
    answer = client.post(
        "/v1/appointments", headers={**keys.headers("staff"), "Content-Type": "application/json"}, content=body
    )
    assert answer.status_code == 400, answer.text


def test_start_near_the_end_of_time_is_422_naming_start(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    answer = client.post(
        "/v1/appointments",
        headers=keys.headers("staff"),
        json={"provider": "dr-a", "service": "short", "start": "9999-12-31T23:50:00+00:00"},
    )
    assert answer.status_code == 422, answer.text
    assert _field(answer) == "start"
    moved = client.post(
        f"/v1/appointments/{_id(db, 'to-cancel')}/reschedule",
        headers=keys.headers("staff"),
        json={"start": "9999-12-31T23:50:00+00:00"},
    )
    assert moved.status_code == 422, moved.text
    assert _field(moved) == "start"


def test_reschedule_to_the_same_start_changes_nothing(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    appointment_id = _id(db, "to-cancel")
    answer = client.post(
        f"/v1/appointments/{appointment_id}/reschedule", headers=keys.headers("staff"), json={"start": SLOT.isoformat()}
    )
    assert answer.status_code == 200, answer.text
    assert dt.datetime.fromisoformat(answer.json()["start"]) == SLOT


def test_every_answer_carries_a_request_id(client: TestClient[Any], keys: Keys) -> None:
    first = client.get("/v1/appointments", headers=keys.headers("readonly"))
    second = client.get("/v1/appointments", headers=keys.headers("readonly"))
    assert first.headers["x-request-id"] and second.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    # A caller's own well-formed id is kept; anything else is replaced.
    echoed = client.get("/v1/appointments", headers={**keys.headers("readonly"), "X-Request-Id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    odd = client.get("/v1/appointments", headers={**keys.headers("readonly"), "X-Request-Id": "a b\tc" + "x" * 200})
    assert odd.headers["x-request-id"] != "a b\tc" + "x" * 200


def test_a_500_logs_the_exception_class_and_the_request_id(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    # A bug, simulated inside the database: a trigger that fails with an error no rule maps.
    db.execute(
        "create function slotoptim_private.test_fail() returns trigger language plpgsql as"
        " $$ begin raise exception using errcode = 'XX000', message = 'c0@acme.example boom'; end $$"
    )
    db.execute(
        "create trigger test_fail before update on slotoptim_private.appointment"
        " for each row execute function slotoptim_private.test_fail()"
    )
    logger = logging.getLogger(LOGGER_NAME)
    logger.propagate = True
    try:
        with caplog.at_level(logging.ERROR, logger=LOGGER_NAME):
            answer = client.post(f"/v1/appointments/{_id(db, 'to-cancel')}/cancel", headers=keys.headers("staff"))
    finally:
        logger.propagate = False
    assert answer.status_code == 500
    request_id = answer.headers["x-request-id"]
    assert answer.json()["detail"] == f"internal error (request {request_id})"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    fields = [getattr(r, "fields", {}) for r in errors]
    assert any(f.get("request_id") == request_id and f.get("error") == "InternalError_" for f in fields), fields
    # Never personal data: the database's message quoted an e-mail address.
    assert "c0@acme.example" not in json.dumps(fields, default=str)


# Item 11: accepted but wrong.


def test_a_ten_year_appointment_is_422(client: TestClient[Any], keys: Keys) -> None:
    answer = client.post(
        "/v1/appointments",
        headers=keys.headers("staff"),
        json={
            "provider": "dr-a",
            "service": "short",
            "start": local(9).isoformat(),
            "end": local(9).replace(year=2036).isoformat(),
        },
    )
    assert answer.status_code == 422, answer.text
    assert _field(answer) == "end"


@pytest.mark.parametrize("status", ["arrived", "no_show", "completed"])
def test_a_future_appointment_cannot_have_happened(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], status: str
) -> None:
    # The clock stands at 08:00; the appointment is at 14:00. A no-show cannot be declared before
    # it starts; arrived and completed may come the same day (check-in, a visit seen early), but
    # never for a later day.
    appointment_id = _id(db, "to-cancel")
    if status != "no_show":
        db.execute(
            "update slotoptim_private.appointment set period = tstzrange(lower(period) + interval '2 days',"
            " upper(period) + interval '2 days') where id = %s",
            (appointment_id,),
        )
    answer = client.post(
        f"/v1/appointments/{appointment_id}/status", headers=keys.headers("staff"), json={"status": status}
    )
    assert answer.status_code == 422, answer.text
    assert _field(answer) == "status"
    row = db.execute("select status from slotoptim_private.appointment where id = %s", (appointment_id,)).fetchone()
    assert row == {"status": "booked"}


@pytest.mark.parametrize("zone", ["Factory", "EST5EDT", "Etc/GMT+5", "CST6CDT"])
def test_zones_that_are_not_places_are_422(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], zone: str
) -> None:
    answer = client.patch("/v1/providers/dr-a", headers=keys.headers("admin"), json={"timezone": zone})
    assert answer.status_code == 422, answer.text
    assert _field(answer) == "timezone"
    row = db.execute("select slotoptim_private.is_timezone(%s) as ok", (zone,)).fetchone()
    assert row == {"ok": False}, "the database's own rule refuses it too"


def test_a_place_zone_is_still_accepted(client: TestClient[Any], keys: Keys) -> None:
    for zone in ("America/Argentina/Buenos_Aires", "UTC", "Europe/London", "America/New_York"):
        answer = client.patch("/v1/providers/dr-a", headers=keys.headers("admin"), json={"timezone": zone})
        assert answer.status_code == 200, (zone, answer.text)


def test_waitlist_entry_cannot_prefer_and_exclude_a_provider(client: TestClient[Any], keys: Keys) -> None:
    answer = client.post(
        "/v1/waitlist/entries",
        headers=keys.headers("staff"),
        json={"customer": "c0", "services": ["short"], "providers": ["dr-a", "dr-b"], "excluded_providers": ["dr-a"]},
    )
    assert answer.status_code == 422, answer.text
    assert _field(answer) == "excluded_providers"


def test_travel_time_above_its_own_maximum_is_422(client: TestClient[Any], keys: Keys) -> None:
    answer = client.post(
        "/v1/waitlist/entries",
        headers=keys.headers("staff"),
        json={"customer": "c0", "services": ["short"], "travel_minutes": 50, "max_travel_minutes": 30},
    )
    assert answer.status_code == 422, answer.text
    assert _field(answer) == "travel_minutes"


def test_a_price_finer_than_a_cent_is_422(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    answer = client.patch("/v1/services/short", headers=keys.headers("admin"), json={"price": 0.001})
    assert answer.status_code in (400, 422), answer.text
    assert "price" in answer.json()["detail"]
    ok = client.patch("/v1/services/short", headers=keys.headers("admin"), json={"price": 19.99})
    assert ok.status_code == 200 and ok.json()["price"] == 19.99


def test_json_sent_as_text_plain_is_415(client: TestClient[Any], keys: Keys) -> None:
    body = json.dumps({"provider": "dr-a", "service": "short", "start": local(9).isoformat()})
    answer = client.post(
        "/v1/appointments", headers={**keys.headers("staff"), "Content-Type": "text/plain"}, content=body
    )
    assert answer.status_code == 415, answer.text
    listed = client.get("/v1/appointments", params={"day": "2026-11-24"}, headers=keys.headers("staff")).json()
    assert len(listed["items"]) == 3, "nothing was booked"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/services/short", {"active": 1}, "active"),
        ("/v1/services/short", {"active": "true"}, "active"),
        ("/v1/providers/dr-a", {"active": 0}, "active"),
        ("/v1/settings", {"auto_offer": "yes"}, "auto_offer"),
        ("/v1/settings", {"reminders_enabled": 1}, "reminders_enabled"),
        # Integers given as a float or a string, and a number given as a string.
        ("/v1/services/short", {"minutes": 30.5}, "minutes"),
        ("/v1/services/short", {"minutes": "30"}, "minutes"),
        ("/v1/settings", {"max_offers_per_day": "3"}, "max_offers_per_day"),
        ("/v1/services/short", {"price": "19.99"}, "price"),
    ],
)
def test_json_bodies_are_decoded_strictly(
    client: TestClient[Any], keys: Keys, path: str, body: dict[str, Any], field: str
) -> None:
    """A JSON body is JSON: true/false for a boolean, a number for a number. Only query parameters
    (always text) are parsed from strings."""
    before = client.get(path, headers=keys.headers("admin")).json()
    answer = client.patch(path, headers=keys.headers("admin"), json=body)
    assert answer.status_code == 400, answer.text
    assert _field(answer) == field
    assert client.get(path, headers=keys.headers("admin")).json() == before, "nothing changed"


def test_a_nested_body_field_is_decoded_strictly(client: TestClient[Any], keys: Keys) -> None:
    answer = client.patch("/v1/customers/c1", headers=keys.headers("staff"), json={"consent": {"sms": 0}})
    assert answer.status_code == 400, answer.text
    assert _field(answer) == "consent.sms"
    consent = client.get("/v1/customers/c1", headers=keys.headers("staff")).json()["consent"]
    assert consent["sms"] is True, "nothing changed"


def test_json_numbers_still_fit_number_fields(client: TestClient[Any], keys: Keys) -> None:
    """An integer is a fine float (JSON has one kind of number), a number without a fraction a fine
    integer (as JSON Schema says), and query parameters stay text."""
    answer = client.patch(
        "/v1/services/short", headers=keys.headers("admin"), json={"price": 20, "minutes": 45.0, "active": True}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["price"] == 20 and answer.json()["minutes"] == 45
    listed = client.get("/v1/services", params={"active": "true"}, headers=keys.headers("readonly"))
    assert listed.status_code == 200 and any(s["key"] == "short" for s in listed.json())
