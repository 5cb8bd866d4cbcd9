"""The FHIR R4 server: reads and searches, the CapabilityStatement against the routes, scopes,
tenant isolation and OperationOutcome errors. Every resource is validated with fhir.resources."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from api.api_practice import DAY, local
from api.conftest import Keys
from ehr.conformance import valid
from litestar.testing import TestClient

FHIR = "/fhir/R4"


def ids(db: psycopg.Connection[dict[str, Any]], org: str = "acme") -> dict[str, int]:
    rows = db.execute(
        "select p.key, p.id from slotoptim_private.provider as p join slotoptim_private.organisation as o"
        " on o.id = p.org_id where o.key = %s",
        (org,),
    ).fetchall()
    return {r["key"]: r["id"] for r in rows}


def outcome(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = valid(response.json())
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == code, body
    return str(body["issue"][0]["diagnostics"])


def test_capability_statement_lists_what_the_routes_serve(client: TestClient[Any], keys: Keys) -> None:
    cap = valid(client.get(f"{FHIR}/metadata").json())
    assert cap["fhirVersion"] == "4.0.1"
    rest = cap["rest"][0]
    for resource in rest["resource"]:
        kind = resource["type"]
        # Each declared search parameter is accepted; an undeclared one is refused by name.
        for param in resource["searchParam"]:
            value = {"token": "1", "reference": f"{kind}/1", "date": "ge2026-11-24", "string": "a"}[param["type"]]
            if param["name"] == "active":
                value = "true"
            if param["name"] == "status" and kind == "Appointment":
                value = "booked"
            if param["type"] == "reference":
                target = {"actor": "Practitioner", "schedule": "Schedule", "patient": "Patient"}
                value = f"{target.get(param['name'], 'Practitioner')}/1"
            if kind == "Slot" and param["name"] != "schedule":
                value += "&schedule=Schedule/1" if param["type"] != "token" else ""
                if param["name"] == "status":
                    value = "free&schedule=Schedule/1"
                if param["name"] == "service-type":
                    value = "short"
            response = client.get(f"{FHIR}/{kind}?{param['name']}={value}", headers=keys.headers("readonly"))
            assert response.status_code == 200, (kind, param, response.text)
            valid(response.json())
        refused = client.get(f"{FHIR}/{kind}?bogus=1", headers=keys.headers("readonly"))
        assert "bogus" in outcome(refused, 400, "not-supported")
    operations = {op["name"] for r in rest["resource"] for op in r.get("operation", [])}
    assert operations == {"find", "hold", "book"}


def test_practitioners_services_and_schedules(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    providers = ids(db)
    bundle = valid(client.get(f"{FHIR}/Practitioner", headers=keys.headers("readonly")).json())
    assert sorted(e["resource"]["identifier"][0]["value"] for e in bundle["entry"]) == ["dr-a", "dr-b"]
    one = valid(client.get(f"{FHIR}/Practitioner/{providers['dr-a']}", headers=keys.headers()).json())
    assert one["name"][0]["text"] == "Dr. A"
    by_identifier = client.get(f"{FHIR}/Practitioner?identifier=urn:slotoptim:provider|dr-b", headers=keys.headers())
    assert [e["resource"]["id"] for e in by_identifier.json()["entry"]] == [str(providers["dr-b"])]

    services = valid(client.get(f"{FHIR}/HealthcareService?service-type=long", headers=keys.headers()).json())
    assert [e["resource"]["name"] for e in services["entry"]] == ["Long visit"]

    schedules = valid(client.get(f"{FHIR}/Schedule?service-type=long", headers=keys.headers()).json())
    assert [e["resource"]["actor"][0]["reference"] for e in schedules["entry"]] == [f"Practitioner/{providers['dr-a']}"]
    schedule = valid(client.get(f"{FHIR}/Schedule/{providers['dr-b']}", headers=keys.headers()).json())
    assert [c["coding"][0]["code"] for c in schedule["serviceType"]] == ["short"]


def test_paging_follows_next_links(client: TestClient[Any], keys: Keys) -> None:
    first = valid(client.get(f"{FHIR}/Practitioner?_count=1", headers=keys.headers()).json())
    assert len(first["entry"]) == 1
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = valid(client.get(next_url.replace("http://testserver.local", ""), headers=keys.headers()).json())
    assert len(second["entry"]) == 1
    assert not any(link["relation"] == "next" for link in second["link"])
    assert first["entry"][0]["resource"]["id"] != second["entry"][0]["resource"]["id"]


def test_free_slots_are_our_bookable_gaps(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    dr_a = ids(db)["dr-a"]
    window = f"start=ge{local(8).isoformat()}&start=lt{local(18).isoformat()}".replace("+", "%2B")
    bundle = valid(client.get(f"{FHIR}/Slot?schedule=Schedule/{dr_a}&{window}", headers=keys.headers()).json())
    slots = [e["resource"] for e in bundle["entry"]]
    # dr-a works 08:00-18:00 with three short visits 13:30-15:00: free before and after.
    assert [(s["start"], s["end"], s["status"]) for s in slots] == [
        ("2026-11-24T13:00:00Z", "2026-11-24T18:30:00Z", "free"),
        ("2026-11-24T20:00:00Z", "2026-11-24T23:00:00Z", "free"),
    ]
    assert {c["coding"][0]["code"] for c in slots[0]["serviceType"]} == {"long", "short"}
    read = valid(client.get(f"{FHIR}/Slot/{slots[1]['id']}", headers=keys.headers()).json())
    assert read == slots[1]

    both = client.get(f"{FHIR}/Slot?schedule=Schedule/{dr_a}&{window}&status=free,busy", headers=keys.headers())
    statuses = [e["resource"]["status"] for e in valid(both.json())["entry"]]
    assert statuses == ["free", "busy", "busy", "busy", "free"]
    busy = next(e["resource"] for e in both.json()["entry"] if e["resource"]["status"] == "busy")
    assert valid(client.get(f"{FHIR}/Slot/{busy['id']}", headers=keys.headers()).json())["status"] == "busy"

    # Only the services that fit: a 3-hour gap fits both, a service filter keeps the slots it fits.
    long_only = client.get(f"{FHIR}/Slot?service-type=long&{window}", headers=keys.headers()).json()
    assert all("long" in {c["coding"][0]["code"] for c in e["resource"]["serviceType"]} for e in long_only["entry"])


def test_slot_of_a_changed_gap_is_gone(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    dr_a = ids(db)["dr-a"]
    start, end = local(15), local(18)
    slot_id = f"free-{dr_a}-{int(start.timestamp())}-{int(end.timestamp())}"
    assert client.get(f"{FHIR}/Slot/{slot_id}", headers=keys.headers()).status_code == 200
    shorter = f"free-{dr_a}-{int(start.timestamp())}-{int(local(17).timestamp())}"
    outcome(client.get(f"{FHIR}/Slot/{shorter}", headers=keys.headers()), 404, "not-found")
    outcome(client.get(f"{FHIR}/Slot/nonsense", headers=keys.headers()), 404, "not-found")


def test_errors_are_operation_outcomes(client: TestClient[Any], keys: Keys) -> None:
    outcome(client.get(f"{FHIR}/Practitioner"), 401, "login")
    outcome(client.get(f"{FHIR}/Practitioner", headers={"Authorization": "Bearer so_nope"}), 401, "login")
    outcome(client.get(f"{FHIR}/Practitioner/999999", headers=keys.headers()), 404, "not-found")
    outcome(client.get(f"{FHIR}/Practitioner/abc", headers=keys.headers()), 404, "not-found")
    assert "_count" in outcome(client.get(f"{FHIR}/Practitioner?_count=x", headers=keys.headers()), 400, "invalid")
    assert "start" in outcome(
        client.get(f"{FHIR}/Slot?schedule=Schedule/1&start=tomorrow", headers=keys.headers()), 400, "invalid"
    )
    assert "schedule" in outcome(client.get(f"{FHIR}/Slot", headers=keys.headers()), 400, "invalid")
    outcome(client.get(f"{FHIR}/Nothing", headers=keys.headers()), 404, "not-found")
    body = client.post(f"{FHIR}/Appointment/$find", content=b"{not json", headers=keys.headers())
    outcome(body, 400, "structure")
    not_params = client.post(f"{FHIR}/Appointment/$find", json={"resourceType": "Patient"}, headers=keys.headers())
    outcome(not_params, 400, "structure")


def test_scopes_bound_what_a_key_may_do(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    dr_a = ids(db)["dr-a"]
    found = client.post(
        f"{FHIR}/Appointment/$find",
        json={"resourceType": "Parameters", "parameter": [{"name": "visit-type", "valueString": "short"}]},
        headers=keys.headers("readonly"),
    )
    assert found.status_code == 200
    potential = found.json()["entry"][0]["resource"]["id"]
    # A readonly key has system/*.read only: no hold, no booking.
    held = client.post(
        f"{FHIR}/Appointment/$hold",
        json={
            "resourceType": "Parameters",
            "parameter": [
                {"name": "appointment-reference", "valueReference": {"reference": f"Appointment/{potential}"}}
            ],
        },
        headers=keys.headers("readonly"),
    )
    assert "Appointment.write" in outcome(held, 403, "forbidden")
    assert potential.startswith(f"p{dr_a}-") or potential.startswith("p")


def test_tenants_see_only_their_own(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    acme = ids(db, "acme")
    outcome(client.get(f"{FHIR}/Practitioner/{acme['dr-a']}", headers=keys.headers("other_admin")), 404, "not-found")
    outcome(client.get(f"{FHIR}/Schedule/{acme['dr-a']}", headers=keys.headers("other_admin")), 404, "not-found")
    theirs = client.get(
        f"{FHIR}/Appointment?practitioner=Practitioner/{acme['dr-a']}", headers=keys.headers("other_admin")
    )
    assert "entry" not in valid(theirs.json())
    bravo_slots = client.get(
        f"{FHIR}/Slot?schedule=Schedule/{acme['dr-a']}&start=ge{DAY.isoformat()}", headers=keys.headers("other_admin")
    )
    assert "entry" not in valid(bravo_slots.json())


def test_existing_appointments_of_a_patient_iti_118(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    c0 = db.execute(
        "select c.id from slotoptim_private.customer as c join slotoptim_private.organisation as o on o.id = c.org_id"
        " where o.key = 'acme' and c.key = 'c0'"
    ).fetchone()
    assert c0 is not None
    bundle = valid(
        client.get(f"{FHIR}/Appointment?patient=Patient/{c0['id']}&status=booked", headers=keys.headers()).json()
    )
    starts = [e["resource"]["start"] for e in bundle["entry"]]
    assert starts == ["2026-11-24T18:30:00Z", "2026-11-24T19:00:00Z", "2026-11-24T19:30:00Z"]
    dated = client.get(
        f"{FHIR}/Appointment?patient=Patient/{c0['id']}&date=ge2026-11-24T19:00:00Z&date=lt2026-11-24T19:30:00Z",
        headers=keys.headers(),
    ).json()
    assert [e["resource"]["start"] for e in dated["entry"]] == ["2026-11-24T19:00:00Z"]
    one = bundle["entry"][0]["resource"]
    assert valid(client.get(f"{FHIR}/Appointment/{one['id']}", headers=keys.headers()).json()) == one
    assert "status" in outcome(client.get(f"{FHIR}/Appointment?status=maybe", headers=keys.headers()), 400, "invalid")
    assert dt.date(2026, 11, 24) == DAY


MALFORMED_BODIES: list[Any] = [
    {"resourceType": "Parameters", "parameter": 5},
    {"resourceType": "Parameters", "parameter": "x"},
    {"resourceType": "Parameters", "parameter": [5, None, "x"]},
    {"resourceType": "Parameters", "parameter": [{"name": "visit-type", "valueString": 7}]},
    {"resourceType": "Parameters", "parameter": [{"name": "visit-type", "valueCoding": "short"}]},
    {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "visit-type", "valueString": "short"},
            {"name": "practitioner", "valueReference": "Practitioner/1"},
        ],
    },
    {
        "resourceType": "Parameters",
        "parameter": [{"name": "visit-type", "valueString": "short"}, {"name": "start", "valueDateTime": None}],
    },
    {
        "resourceType": "Parameters",
        "parameter": [{"name": "visit-type", "valueString": "short"}, {"name": "_count", "valueInteger": "9"}],
    },
    {
        "resourceType": "Parameters",
        "parameter": [{"name": "appointment-reference", "valueReference": {"reference": 5}}],
    },
    {"resourceType": "Parameters", "parameter": [{"name": "appointment-resource", "resource": "x"}]},
    {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "appointment-resource",
                "resource": {"resourceType": "Appointment", "id": 5, "participant": "x", "identifier": 3},
            }
        ],
    },
    {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "appointment-resource",
                "resource": {
                    "resourceType": "Appointment",
                    "id": "p1-s1-1900000000",
                    "participant": [5, {"actor": 3}],
                    "identifier": [3],
                },
            }
        ],
    },
    [],
    "Parameters",
]


def test_malformed_operation_bodies_are_refused_never_a_500(client: TestClient[Any], keys: Keys) -> None:
    for operation in ("$find", "$hold", "$book"):
        for body in MALFORMED_BODIES:
            response = client.post(f"{FHIR}/Appointment/{operation}", json=body, headers=keys.headers())
            assert 400 <= response.status_code < 500, (operation, body, response.status_code, response.text)
            assert valid(response.json())["resourceType"] == "OperationOutcome"


def test_unsupported_interactions_and_formats(client: TestClient[Any], keys: Keys) -> None:
    outcome(client.put(f"{FHIR}/Practitioner/1", json={}, headers=keys.headers()), 405, "not-supported")
    outcome(client.delete(f"{FHIR}/Appointment/1", headers=keys.headers()), 405, "not-supported")
    # Elsewhere a 405 keeps the /v1 shape.
    assert client.delete("/v1/kpis", headers=keys.headers()).json()["status_code"] == 405
    assert "_format" in outcome(
        client.get(f"{FHIR}/Practitioner?_format=xml", headers=keys.headers()), 406, "not-supported"
    )
