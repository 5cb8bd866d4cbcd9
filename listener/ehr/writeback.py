"""Outbound: the 'fhir_appointment' handler of the external-write outbox.

It reads the appointment as it is now and makes the EHR match: the first write is a conditional
create (`If-None-Exist: identifier=urn:slotoptim:appointment|<id>`), so a write resent after a
crash finds the Appointment it made instead of booking twice; later writes (a move, a
cancellation) are updates with `If-Match` on the version we last saw. If the EHR changed it
meanwhile (412) we read its current version and write once more: our booking's time and status
win, the rest of the EHR's resource is kept. The patient is the customer's linked Patient, or a
Patient created (conditionally, on our customer identifier) with a name only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import psycopg

from slotoptim.listener.db import fetch_dict
from slotoptim.listener.ehr import mapping
from slotoptim.listener.ehr.fhirclient import FhirClient, FhirRefused, PreconditionFailed, Written
from slotoptim.listener.ehr.links import Linker
from slotoptim.listener.ehr.smart import EhrAuthError, EhrUnavailable
from slotoptim.listener.ehr.sync import client_for
from slotoptim.listener.integrations.connections import Connection
from slotoptim.listener.integrations.errors import ConnectionBroken, PermanentError, Throttled, TransientError
from slotoptim.listener.integrations.outbox import ClaimedWrite, WriteHandler, WriteResult

KIND = "fhir_appointment"

APPOINTMENT = """
select a.id, a.provider_id, a.customer_id, a.status, lower(a.period) as start, upper(a.period) as "end",
       s.key as service_key, s.name as service_name, c.key as customer_key, c.name as customer_name,
       (select l.external_id from slotoptim_private.ehr_link as l
         where l.connection_id = %(connection)s and l.resource_type = 'ServiceType' and l.service_id = a.service_id
         order by l.updated_at desc limit 1) as service_coding
  from slotoptim_private.appointment as a
  left join slotoptim_private.service as s on s.id = a.service_id
  left join slotoptim_private.customer as c on c.id = a.customer_id
 where a.id = %(appointment)s"""

KNOWN = """
select external_id, etag from slotoptim_private.external_item
 where connection_id = %s and appointment_id = %s and origin = 'slotoptim'
 order by updated_at desc limit 1"""


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _service_type(row: dict[str, Any]) -> list[dict[str, Any]]:
    if row["service_coding"]:
        system, _, code = str(row["service_coding"]).partition("|")
        coding: dict[str, Any] = {"code": code}
        if system:
            coding["system"] = system
    elif row["service_key"]:
        coding = {"system": mapping.SERVICE_SYSTEM, "code": row["service_key"]}
    else:
        return []
    return [{"coding": [coding], "text": row["service_name"] or coding["code"]}]


def appointment_resource(row: dict[str, Any], practitioner: str, patient: str | None) -> dict[str, Any]:
    people: list[dict[str, Any]] = [
        {"actor": {"reference": f"Practitioner/{practitioner}"}, "required": "required", "status": "accepted"}
    ]
    if patient is not None:
        people.append({"actor": {"reference": f"Patient/{patient}"}, "required": "required", "status": "accepted"})
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "identifier": [{"system": mapping.APPOINTMENT_SYSTEM, "value": str(row["id"])}],
        "status": mapping.FHIR_STATUS[row["status"]],
        "start": _instant(row["start"]),
        "end": _instant(row["end"]),
        "participant": people,
    }
    if service := _service_type(row):
        resource["serviceType"] = service
    return resource


def _patient(linker: Linker, fhir: FhirClient, row: dict[str, Any]) -> str | None:
    if row["customer_id"] is None:
        return None
    known = linker.external_id_of("Patient", int(row["customer_id"]))
    if known is not None:
        return known
    created = fhir.create_if_none_exist(
        {
            "resourceType": "Patient",
            "identifier": [{"system": mapping.CUSTOMER_SYSTEM, "value": row["customer_key"]}],
            "name": [{"text": row["customer_name"]}],
        },
        f"identifier={mapping.CUSTOMER_SYSTEM}|{row['customer_key']}",
    )
    linker.link("Patient", created.id, int(row["customer_id"]), created.version)
    return created.id


def _write(fhir: FhirClient, resource: dict[str, Any], known: dict[str, Any] | None, appointment_id: int) -> Written:
    if known is None:
        return fhir.create_if_none_exist(resource, f"identifier={mapping.APPOINTMENT_SYSTEM}|{appointment_id}")
    external_id = str(known["external_id"]).split("/")[-1]
    version = str(known["etag"]).split("|")[-1] if known["etag"] else None
    try:
        return fhir.update({**resource, "id": external_id}, version)
    except PreconditionFailed:
        current = fhir.read("Appointment", external_id)
        if current is None:
            raise PermanentError(f"Appointment/{external_id} is gone from the EHR") from None
        merged = {**current, **{k: v for k, v in resource.items() if k != "identifier"}, "id": external_id}
        return fhir.update(merged, mapping.version(current))


def make_handler(http_factory: Callable[[], httpx.Client] = lambda: httpx.Client(timeout=30)) -> WriteHandler:
    def handle(
        conn: psycopg.Connection[Any], write: ClaimedWrite, connection: Connection, at: dt.datetime
    ) -> WriteResult:
        appointment_id = int(write.subject.split(":", 1)[1])
        row = fetch_dict(conn, APPOINTMENT, {"connection": connection.id, "appointment": appointment_id})
        if row is None:
            raise PermanentError(f"appointment {appointment_id} no longer exists")
        with http_factory() as http:
            fhir = client_for(connection, http)
            linker = Linker(conn, connection, fhir, at)
            try:
                practitioner = linker.external_id_of("Practitioner", int(row["provider_id"]))
                if practitioner is None:
                    raise PermanentError(f"provider {row['provider_id']} is not linked to an EHR Practitioner")
                patient = _patient(linker, fhir, row)
                known = fetch_dict(conn, KNOWN, (connection.id, appointment_id))
                written = _write(fhir, appointment_resource(row, practitioner, patient), known, appointment_id)
            except EhrAuthError as exc:
                raise ConnectionBroken(str(exc)) from None
            except EhrUnavailable as exc:
                if "429" in str(exc):
                    raise Throttled(str(exc), exc.retry_after) from None
                raise TransientError(str(exc), exc.retry_after) from None
            except FhirRefused as exc:
                raise PermanentError(str(exc)) from None
        external_id = f"Appointment/{written.id}"
        conn.execute(
            "select slotoptim.external_item_written(%s, %s, %s, %s, %s, %s)",
            (connection.id, external_id, written.version, appointment_id, row["status"] == "cancelled", at),
        )
        return WriteResult(external_id=external_id)

    return handle
