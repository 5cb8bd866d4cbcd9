"""Pulling an EHR's schedule into ours (FHIR R4, per organisation).

Incremental: for Practitioner, HealthcareService, Patient, Slot (busy) and Appointment, everything
changed since the cursor (`_lastUpdated=gt<last seen - overlap>`, `_sort=_lastUpdated`), page after
page through Bundle.link[next]. The overlap re-reads the last seconds so a change stamped in the
same millisecond as the cursor is never missed; re-read items are skipped by version. Full: the
same without `_lastUpdated`, in a new generation, and what the EHR no longer lists (a deleted
appointment leaves no trace in `_lastUpdated` searches) is released, its time opened as a gap.

Errors: refused credentials mark the connection broken (staff see it; nothing is pulled or
written until someone reconnects); 429/5xx/network back the connection off.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from slotoptim.listener.db import fetch_dict, fetch_dicts
from slotoptim.listener.ehr import mapping
from slotoptim.listener.ehr.fhirclient import FhirClient, FhirRefused
from slotoptim.listener.ehr.links import Linker
from slotoptim.listener.ehr.smart import BackendCredentials, EhrAuthError, EhrUnavailable, TokenSource
from slotoptim.listener.integrations import connections
from slotoptim.listener.integrations.connections import Connection

PURPOSE = "fhir"
KIND = "fhir"
OVERLAP = dt.timedelta(seconds=1)
RESOURCES = ("Practitioner", "HealthcareService", "Patient", "Slot", "Appointment")


@dataclass
class SyncReport:
    full: bool = False
    pages: int = 0
    resources: int = 0
    imported: int = 0
    updated: int = 0
    released: int = 0
    conflicts: int = 0
    skipped: int = 0
    error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


def client_for(connection: Connection, http: httpx.Client) -> FhirClient:
    config = connection.config
    secret = connection.secrets()
    credentials = BackendCredentials(
        token_url=str(config["token_url"]),
        client_id=str(config["client_id"]),
        private_jwk=json.loads(secret["private_jwk"]),
        scope=str(config.get("scope", "system/*.read system/Appointment.write")),
    )
    return FhirClient(str(config["base_url"]), TokenSource(credentials, http), http)


def _search_params(resource_type: str, since: str | None, page_size: int) -> dict[str, str]:
    params = {"_count": str(page_size), "_sort": "_lastUpdated"}
    if since is not None:
        params["_lastUpdated"] = "gt" + since
    if resource_type == "Slot":
        params["status"] = "busy,busy-unavailable"
    return params


def _since(cursor: dict[str, str], resource_type: str) -> str | None:
    value = cursor.get(resource_type)
    if value is None:
        return None
    moved = mapping.instant(value)
    assert moved is not None
    return (moved - OVERLAP).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def appointment_item(resource: dict[str, Any], linker: Linker) -> dict[str, Any] | None:
    """One FHIR Appointment as apply_ehr_appointments reads it (None: not ours to schedule)."""
    updated = mapping.last_updated(resource)
    if updated is None:
        return None
    status = mapping.STATUS.get(str(resource.get("status")), "free")
    practitioner_id, patient_id = mapping.participants(resource)
    provider = None if practitioner_id is None else linker.provider(practitioner_id)
    if provider is None and status in ("booked", "arrived", "completed"):
        # Without a practitioner we know, this appointment blocks nobody's time here.
        status = "free"
    service = None
    coding = mapping.service_coding(resource)
    if coding is not None:
        service = linker.service_type(coding[0], coding[1], coding[2], mapping.appointment_minutes(resource))
        if provider is not None:
            linker.offers(provider, service)
    customer = None if patient_id is None else linker.customer(patient_id)
    return {
        "id": f"Appointment/{resource['id']}",
        "version": mapping.version(resource),
        "updated": updated.isoformat(),
        "status": status,
        "start": resource.get("start"),
        "end": resource.get("end"),
        "provider_id": provider,
        "service_id": service,
        "customer_id": customer,
        "ours": mapping.our_appointment(resource),
    }


def _block(resource: dict[str, Any], linker: Linker) -> None:
    """A busy Slot of a practitioner's Schedule blocks that time (a closure of the provider)."""
    start, end = mapping.instant(resource.get("start")), mapping.instant(resource.get("end"))
    schedule_id = mapping.reference_id((resource.get("schedule") or {}).get("reference"), "Schedule")
    if start is None or end is None or end <= start or schedule_id is None:
        return
    schedule = linker.fhir.read("Schedule", schedule_id)
    practitioner_id = None
    for actor in (schedule or {}).get("actor", []):
        practitioner_id = practitioner_id or mapping.reference_id(actor.get("reference"), "Practitioner")
    provider = None if practitioner_id is None else linker.provider(practitioner_id)
    if provider is None:
        return
    conn, connection = linker.conn, linker.connection
    known = fetch_dict(
        conn,
        "select closure_id from slotoptim_private.ehr_link where connection_id = %s"
        " and resource_type = 'Slot' and external_id = %s",
        (connection.id, str(resource["id"])),
    )
    busy = resource.get("status") in ("busy", "busy-unavailable")
    if known is not None and known["closure_id"] is not None:
        if busy:
            conn.execute(
                "update slotoptim_private.closure set during = tstzrange(%s, %s, '[)') where id = %s",
                (start, end, known["closure_id"]),
            )
        else:
            conn.execute("delete from slotoptim_private.closure where id = %s", (known["closure_id"],))
        return
    if not busy:
        return
    row = fetch_dict(
        conn,
        "insert into slotoptim_private.closure (org_id, provider_id, during, reason)"
        " values (%s, %s, tstzrange(%s, %s, '[)'), 'EHR busy slot') returning id",
        (connection.org_id, provider, start, end),
    )
    assert row is not None
    conn.execute(
        "insert into slotoptim_private.ehr_link (org_id, connection_id, resource_type, external_id, provider_id,"
        " closure_id, version, updated_at) values (%s, %s, 'Slot', %s, %s, %s, %s, %s)",
        (
            connection.org_id,
            connection.id,
            str(resource["id"]),
            provider,
            row["id"],
            mapping.version(resource),
            linker.at,
        ),
    )


def sync(
    conn: psycopg.Connection[Any],
    connection_id: int,
    at: dt.datetime,
    *,
    full: bool = False,
    http: httpx.Client | None = None,
    page_size: int | None = None,
    on_page: Callable[[str, list[dict[str, Any]]], None] | None = None,
) -> SyncReport:
    """Pulls one FHIR connection. `conn` is an owner connection in autocommit mode: each page
    commits on its own, so a crash resumes from the cursor without losing or doubling anything."""
    connection = connections.load(conn, connection_id)
    report = SyncReport()
    if connection.state != "ok":
        report.error = f"connection is {connection.state}"
        return report
    cursor: dict[str, str] = json.loads(connection.cursor) if connection.cursor else {}
    report.full = full = full or not cursor
    size = page_size or int(connection.config.get("page_size", 100))
    own_http = http is None
    client = http or httpx.Client(timeout=30)
    try:
        fhir = client_for(connection, client)
        linker = Linker(conn, connection, fhir, at)
        generation_row = fetch_dict(conn, "select slotoptim.external_sync_started(%s, %s) as g", (connection.id, full))
        assert generation_row is not None
        generation = int(generation_row["g"])
        new_cursor = dict(cursor)
        for resource_type in RESOURCES:
            since = None if full else _since(cursor, resource_type)
            for page in fhir.search_pages(resource_type, _search_params(resource_type, since, size)):
                report.pages += 1
                report.resources += len(page)
                report.counts[resource_type] = report.counts.get(resource_type, 0) + len(page)
                if on_page is not None:
                    on_page(resource_type, page)
                with conn.transaction():
                    _apply_page(linker, resource_type, page, generation, report)
                for resource in page:
                    seen = (resource.get("meta") or {}).get("lastUpdated")
                    if seen and (resource_type not in new_cursor or seen > new_cursor[resource_type]):
                        new_cursor[resource_type] = str(seen)
        # What waits in conflict is read again first; then, in one transaction, the full pull's
        # release of what the EHR no longer lists and the retry, so time a deleted appointment
        # held and a new one takes never shows as a gap in between.
        waiting = _conflicted(linker)
        with conn.transaction():
            conn.execute(
                "select slotoptim.external_sync_finished(%s, %s, %s, %s)",
                (connection.id, json.dumps(new_cursor, sort_keys=True), full, at),
            )
            _retry_conflicts(linker, waiting, generation, report)
    except EhrAuthError as exc:
        connections.mark_broken(conn, connection.id, str(exc), at)
        report.error = f"broken: {exc}"
    except EhrUnavailable as exc:
        retry = at + dt.timedelta(seconds=exc.retry_after or 60)
        connections.mark_throttled(conn, connection.id, str(exc), retry, at)
        report.error = f"unavailable: {exc}"
    except FhirRefused as exc:
        connections.mark_throttled(conn, connection.id, str(exc), at + dt.timedelta(minutes=15), at)
        report.error = f"refused: {exc}"
    finally:
        if own_http:
            client.close()
    return report


def _conflicted(linker: Linker) -> list[dict[str, Any]]:
    """The EHR's current version of every appointment waiting in conflict."""
    rows = fetch_dicts(
        linker.conn,
        "select external_id from slotoptim_private.external_item where connection_id = %s and state = 'conflict'"
        " order by updated_at, external_id",
        (linker.connection.id,),
    )
    page = []
    for row in rows:
        resource = linker.fhir.read("Appointment", str(row["external_id"]).split("/", 1)[1])
        if resource is not None:
            page.append(resource)
    return page


def _retry_conflicts(linker: Linker, page: list[dict[str, Any]], generation: int, report: SyncReport) -> None:
    """Appointments that could not take their time (a booking of ours, or an EHR appointment
    deleted or moved meanwhile, was in the way) are tried again once the sync has released what it
    releases: within one sync the order of changes is the EHR's, not the order they happened in.
    Runs in the caller's transaction."""
    conn, connection = linker.conn, linker.connection
    if page:
        _apply_page(linker, "Appointment", page, generation, report)
    # What is still in conflict after the retry is what the report counts.
    left = fetch_dict(
        conn,
        "select count(*) as n from slotoptim_private.external_item where connection_id = %s and state = 'conflict'",
        (connection.id,),
    )
    report.conflicts = 0 if left is None else int(left["n"])


def _apply_page(
    linker: Linker, resource_type: str, page: list[dict[str, Any]], generation: int, report: SyncReport
) -> None:
    conn, connection, at = linker.conn, linker.connection, linker.at
    if resource_type == "Practitioner":
        for resource in page:
            linker.practitioner(resource)
    elif resource_type == "HealthcareService":
        for resource in page:
            linker.healthcare_service(resource)
    elif resource_type == "Patient":
        for resource in page:
            linker.patient(resource)
    elif resource_type == "Slot":
        for resource in page:
            _block(resource, linker)
    else:
        items = [item for resource in page if (item := appointment_item(resource, linker)) is not None]
        row = fetch_dict(
            conn,
            "select * from slotoptim.apply_ehr_appointments(%s, %s::jsonb, %s, %s)",
            (connection.id, json.dumps(items), generation, at),
        )
        assert row is not None
        report.imported += int(row["imported"])
        report.updated += int(row["updated"])
        report.released += int(row["released"])
        report.conflicts += int(row["conflicts"])
        report.skipped += int(row["skipped"])


def connect(
    conn: psycopg.Connection[Any],
    *,
    org_id: int,
    base_url: str,
    token_url: str,
    client_id: str,
    private_jwk: dict[str, Any],
    at: dt.datetime,
    scope: str | None = None,
    default_hours: list[dict[str, Any]] | None = None,
    page_size: int = 100,
) -> int:
    """Links an organisation to its EHR. The private key is sealed (AES-GCM) before it is stored."""
    config: dict[str, Any] = {
        "base_url": base_url,
        "token_url": token_url,
        "client_id": client_id,
        "page_size": page_size,
    }
    if scope is not None:
        config["scope"] = scope
    if default_hours is not None:
        config["default_hours"] = default_hours
    return connections.link(
        conn,
        org_id=org_id,
        provider_id=None,
        purpose=PURPOSE,
        kind=KIND,
        config=config,
        secret_values={"private_jwk": json.dumps(private_jwk)},
        at=at,
    )
