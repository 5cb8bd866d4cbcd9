"""End to end against Medplum's FHIR router: seed the EHR, sync it into acme's calendar, cancel an
appointment there, see our offer go out, claim it, and find the booked Appointment in the EHR
(written through the outbox with a conditional create, never twice)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from api.api_practice import NOW, local
from api.conftest import ApiDb
from ehr.medplum import Medplum
from integrations.practice import use_test_key
from psycopg.rows import dict_row

from slotoptim.listener import claims
from slotoptim.listener.ehr import sync
from slotoptim.listener.ehr.fhirclient import FhirClient
from slotoptim.listener.ehr.smart import TokenSource
from slotoptim.listener.ehr.writeback import KIND, make_handler
from slotoptim.listener.integrations.outbox import OutboxWorker


@pytest.fixture
def owner(api_db: ApiDb, monkeypatch: pytest.MonkeyPatch) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    use_test_key(monkeypatch)
    with psycopg.connect(api_db.url, row_factory=dict_row, autocommit=True) as conn:
        yield conn


@pytest.fixture
def ehr(medplum: Medplum) -> Iterator[FhirClient]:
    medplum.reset()
    with httpx.Client(timeout=30) as http:
        yield FhirClient(medplum.base_url, TokenSource(medplum.credentials(), http), http)


def instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(ehr: FhirClient) -> dict[str, Any]:
    doctor = ehr.create_if_none_exist(
        {
            "resourceType": "Practitioner",
            "identifier": [{"system": "urn:slotoptim:provider", "value": "dr-a"}],
            "name": [{"given": ["Ann"], "family": "A", "prefix": ["Dr."]}],
        },
        "identifier=urn:slotoptim:provider|dr-a",
    )
    patients = [
        ehr.create_if_none_exist(
            {
                "resourceType": "Patient",
                "identifier": [{"system": "urn:mrn", "value": f"mrn{i}"}],
                "name": [{"given": [f"Pat{i}"], "family": "Test"}],
                "telecom": [{"system": "phone", "value": f"+1617444000{i}"}],
                "birthDate": "1980-01-01",
                "extension": [{"url": "http://example.org/clinical-note", "valueString": "never copied"}],
            },
            f"identifier=urn:mrn|mrn{i}",
        )
        for i in range(3)
    ]
    appointments = []
    for i, hour in enumerate((9, 10, 11)):
        appointments.append(
            ehr.create_if_none_exist(
                {
                    "resourceType": "Appointment",
                    "status": "booked",
                    "identifier": [{"system": "urn:ehr", "value": f"a{i}"}],
                    "serviceType": [{"coding": [{"system": "urn:slotoptim:service", "code": "short"}]}],
                    "start": instant(local(hour)),
                    "end": instant(local(hour, 30)),
                    "participant": [
                        {"actor": {"reference": f"Practitioner/{doctor.id}"}, "status": "accepted"},
                        {"actor": {"reference": f"Patient/{patients[i].id}"}, "status": "accepted"},
                    ],
                },
                f"identifier=urn:ehr|a{i}",
            )
        )
    return {"doctor": doctor.id, "patients": [p.id for p in patients], "appointments": [a.id for a in appointments]}


def test_sync_cancel_offer_claim_and_write_back(
    owner: psycopg.Connection[dict[str, Any]], api_db: ApiDb, medplum: Medplum, ehr: FhirClient
) -> None:
    seeded = seed(ehr)
    credentials = medplum.credentials()
    connection_id = sync.connect(
        owner,
        org_id=api_db.orgs["acme"],
        base_url=medplum.base_url,
        token_url=medplum.token_url,
        client_id=credentials.client_id,
        private_jwk=credentials.private_jwk,
        at=NOW,
        page_size=2,
    )
    # The private key is stored sealed, never in clear.
    stored = owner.execute(
        "select config, secret from slotoptim_private.external_connection where id = %s", (connection_id,)
    ).fetchone()
    assert stored is not None and b"private" not in bytes(stored["secret"]) and "d" not in stored["config"]

    first = sync.sync(owner, connection_id, NOW)
    assert first.error is None and first.full and first.imported == 3, first
    rows = owner.execute(
        "select a.status, a.source, p.key as provider, s.key as service, c.name, c.phone, c.consent_sms,"
        " lower(a.period) as start from slotoptim_private.appointment as a"
        " join slotoptim_private.provider as p on p.id = a.provider_id"
        " join slotoptim_private.service as s on s.id = a.service_id"
        " join slotoptim_private.customer as c on c.id = a.customer_id"
        " where a.source = 'external' order by lower(a.period)"
    ).fetchall()
    assert [(r["provider"], r["service"], r["start"]) for r in rows] == [
        ("dr-a", "short", local(9)),
        ("dr-a", "short", local(10)),
        ("dr-a", "short", local(11)),
    ]
    assert rows[0]["name"] == "Pat0 Test" and rows[0]["phone"] == "+16174440000"
    assert not rows[0]["consent_sms"]  # an EHR phone number is no consent to be texted

    # The practice cancels the 10:00 visit in the EHR.
    cancelled = ehr.read("Appointment", seeded["appointments"][1])
    assert cancelled is not None
    ehr.update({**cancelled, "status": "cancelled"}, None)
    second = sync.sync(owner, connection_id, NOW)
    assert second.error is None and not second.full and second.released == 1, second
    gap = owner.execute(
        "select g.id, lower(g.during) as start from slotoptim_private.gap as g"
        " where g.status = 'open' and g.during @> %s::timestamptz",
        (local(10),),
    ).fetchone()
    assert gap is not None

    # Our offer goes out to the waitlist, and the first customer to answer gets it.
    owner.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap["id"], NOW))
    offer = owner.execute(
        "select id, customer_id, lower(slot) as start from slotoptim_private.offer"
        " where gap_id = %s and status = 'open' order by score desc, id limit 1",
        (gap["id"],),
    ).fetchone()
    assert offer is not None
    queued = owner.execute(
        "select count(*) as n from slotoptim_private.message where offer_id = %s", (offer["id"],)
    ).fetchone()
    assert queued is not None and queued["n"] >= 1
    result = claims.claim(owner, None, offer["id"], offer["customer_id"], NOW + dt.timedelta(minutes=5))
    assert result.outcome == "booked"

    # Written back through the outbox.
    clock = {"at": NOW + dt.timedelta(minutes=6)}
    worker = OutboxWorker(api_db.url, handlers={KIND: make_handler()}, clock=lambda: clock["at"])
    assert worker.drain() >= 1
    done = owner.execute(
        "select status, external_id from slotoptim_private.external_write where kind = %s", (KIND,)
    ).fetchall()
    assert [d["status"] for d in done] == ["done"], done
    found = list(ehr.search_pages("Appointment", {"identifier": f"urn:slotoptim:appointment|{result.appointment_id}"}))
    booked = [r for page in found for r in page]
    assert len(booked) == 1
    assert booked[0]["status"] == "booked" and booked[0]["start"].startswith(instant(offer["start"])[:16])
    actors = {p["actor"]["reference"] for p in booked[0]["participant"]}
    assert f"Practitioner/{seeded['doctor']}" in actors and any(a.startswith("Patient/") for a in actors)

    # A resend after a crash (the lease ran out before "done" was recorded) books nothing twice.
    owner.execute(
        "update slotoptim_private.external_write set status = 'sending', locked_until = %s",
        (NOW - dt.timedelta(hours=1),),
    )
    worker.drain()
    again = [
        r
        for page in ehr.search_pages(
            "Appointment", {"identifier": f"urn:slotoptim:appointment|{result.appointment_id}"}
        )
        for r in page
    ]
    assert len(again) == 1

    # The next sync sees our own booking come back: recognised, not imported as busy time.
    third = sync.sync(owner, connection_id, NOW + dt.timedelta(minutes=7))
    assert third.error is None and third.imported == 0 and third.conflicts == 0, third
    ours = owner.execute(
        "select status, source from slotoptim_private.appointment where id = %s", (result.appointment_id,)
    ).fetchone()
    assert ours == {"status": "booked", "source": "waitlist"}

    # Cancelling ours here updates the EHR's Appointment (If-Match on the version we wrote).
    owner.execute("select slotoptim.cancel_appointment(%s, %s)", (result.appointment_id, NOW + dt.timedelta(minutes=8)))
    clock["at"] = NOW + dt.timedelta(minutes=9)
    assert worker.drain() == 1
    final = ehr.read("Appointment", booked[0]["id"])
    assert final is not None and final["status"] == "cancelled"


def test_refused_credentials_mark_the_connection_broken(
    owner: psycopg.Connection[dict[str, Any]], api_db: ApiDb, medplum: Medplum
) -> None:
    from slotoptim.listener.ehr.smart import generate_key

    connection_id = sync.connect(
        owner,
        org_id=api_db.orgs["acme"],
        base_url=medplum.base_url,
        token_url=medplum.token_url,
        client_id="slotoptim-rs384",
        private_jwk=generate_key("RS384"),
        at=NOW,
    )
    report = sync.sync(owner, connection_id, NOW)
    assert report.error is not None and "invalid_client" in report.error
    state = owner.execute(
        "select state, last_error from slotoptim_private.external_connection where id = %s", (connection_id,)
    ).fetchone()
    assert state is not None and state["state"] == "broken" and "invalid_client" in state["last_error"]


def test_the_service_pass_pulls_due_ehrs_and_writes_back(
    owner: psycopg.Connection[dict[str, Any]], api_db: ApiDb, medplum: Medplum, ehr: FhirClient
) -> None:
    from slotoptim.listener.ehr.service import EhrService, SidePasses

    seeded = seed(ehr)
    credentials = medplum.credentials()
    connection_id = sync.connect(
        owner,
        org_id=api_db.orgs["acme"],
        base_url=medplum.base_url,
        token_url=medplum.token_url,
        client_id=credentials.client_id,
        private_jwk=credentials.private_jwk,
        at=NOW,
    )
    clock = {"at": NOW}

    class Failing:
        def run_pass(self) -> dict[str, int]:
            raise RuntimeError("a calendar pass that fails")

    service = EhrService(api_db.url, clock=lambda: clock["at"])
    sides = SidePasses([Failing(), service])
    assert sides.run_pass()["synced"] == 1  # the failing side does not stop the EHR's
    assert owner.execute(
        "select count(*) as n from slotoptim_private.appointment where source = 'external'"
    ).fetchone() == {"n": 3}
    # Not due again within poll_every; due after it (incrementally: the full pull was just done).
    assert service.run_pass()["synced"] == 0
    clock["at"] = NOW + dt.timedelta(minutes=6)
    # A staff booking here is written back by the same pass (the database's clock is the test's).
    owner.execute("select set_config('slotoptim.clock', %s, false)", (clock["at"].isoformat(),))
    owner.execute(
        "insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period, source)"
        " select p.org_id, p.id, s.id, c.id, tstzrange(%s, %s), 'staff'"
        "   from slotoptim_private.provider as p join slotoptim_private.service as s on s.org_id = p.org_id"
        "   join slotoptim_private.customer as c on c.org_id = p.org_id"
        "  where p.org_id = %s and p.key = 'dr-a' and s.key = 'short' and c.key = 'c3'",
        (local(12), local(12, 30), api_db.orgs["acme"]),
    )
    assert service.run_pass() == {"synced": 1, "writes": 1}
    written = [r for page in ehr.search_pages("Appointment", {"_count": "50"}) for r in page]
    assert len(written) == 4 and any(
        r.get("identifier", [{}])[0].get("system") == "urn:slotoptim:appointment" for r in written
    )
    assert seeded["doctor"] and connection_id
