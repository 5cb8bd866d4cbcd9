"""Our rows as FHIR R4 resources (plain dicts, checked against fhir.resources in the tests).

Ids: Practitioner, HealthcareService, Schedule (one per provider) and Appointment use our
database ids. A free Slot is a bookable gap, `free-<provider id>-<start epoch>-<end epoch>`; a busy
Slot is an appointment's blocked time, `busy-<appointment id>`. A potential appointment from $find
is `p<provider id>-s<service id>-<start epoch>`: everything $hold and $book need to act on it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

PROVIDER_SYSTEM = "urn:slotoptim:provider"
SERVICE_SYSTEM = "urn:slotoptim:service"
CUSTOMER_SYSTEM = "urn:slotoptim:customer"
APPOINTMENT_SYSTEM = "urn:slotoptim:appointment"
HOLD_SYSTEM = "urn:slotoptim:hold"
IHE_APPOINTMENT_PROFILE = "https://profiles.ihe.net/ITI/Scheduling/StructureDefinition/ihe-sched-appt"

# Our appointment statuses -> FHIR AppointmentStatus (http://hl7.org/fhir/appointmentstatus).
APPOINTMENT_STATUS = {
    "booked": "booked",
    "confirmed": "booked",
    "arrived": "arrived",
    "completed": "fulfilled",
    "no_show": "noshow",
    "cancelled": "cancelled",
}
FHIR_TO_OURS = {
    "booked": ["booked", "confirmed"],
    "arrived": ["arrived"],
    "fulfilled": ["completed"],
    "noshow": ["no_show"],
    "cancelled": ["cancelled"],
}

_POTENTIAL = re.compile(r"^p(\d{1,18})-s(\d{1,18})-(\d{9,11})$")
_FREE_SLOT = re.compile(r"^free-(\d{1,18})-(\d{9,11})-(\d{9,11})$")
_BUSY_SLOT = re.compile(r"^busy-(\d{1,18})$")


def instant(value: dt.datetime) -> str:
    """FHIR instant in UTC with seconds (fhir.resources and most servers round-trip it as-is)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(value: dt.datetime) -> int:
    return int(value.timestamp())


def _from_epoch(value: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(value), dt.UTC)


@dataclass(frozen=True)
class PotentialId:
    provider_id: int
    service_id: int
    start: dt.datetime

    def __str__(self) -> str:
        return f"p{self.provider_id}-s{self.service_id}-{_epoch(self.start)}"


def parse_potential(value: str) -> PotentialId | None:
    match = _POTENTIAL.match(value)
    if match is None:
        return None
    return PotentialId(int(match[1]), int(match[2]), _from_epoch(match[3]))


def free_slot_id(provider_id: int, start: dt.datetime, end: dt.datetime) -> str:
    return f"free-{provider_id}-{_epoch(start)}-{_epoch(end)}"


def parse_slot_id(value: str) -> tuple[str, int, dt.datetime | None, dt.datetime | None] | None:
    """("free", provider id, start, end) or ("busy", appointment id, None, None)."""
    free = _FREE_SLOT.match(value)
    if free is not None:
        return "free", int(free[1]), _from_epoch(free[2]), _from_epoch(free[3])
    busy = _BUSY_SLOT.match(value)
    if busy is not None:
        return "busy", int(busy[1]), None, None
    return None


def service_concept(key: str, name: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": SERVICE_SYSTEM, "code": key}
    if name:
        coding["display"] = name
    return {"coding": [coding], "text": name or key}


def practitioner(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": str(row["id"]),
        "identifier": [{"system": PROVIDER_SYSTEM, "value": row["key"]}],
        "active": bool(row["active"]),
        "name": [{"text": row["name"]}],
    }


def healthcare_service(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "HealthcareService",
        "id": str(row["id"]),
        "identifier": [{"system": SERVICE_SYSTEM, "value": row["key"]}],
        "active": bool(row["active"]),
        "name": row["name"],
        "type": [service_concept(row["key"], row["name"])],
        "comment": f"{row['minutes']} minutes",
    }


def schedule(row: dict[str, Any], horizon: tuple[dt.datetime, dt.datetime]) -> dict[str, Any]:
    return {
        "resourceType": "Schedule",
        "id": str(row["id"]),
        "identifier": [{"system": PROVIDER_SYSTEM, "value": row["key"]}],
        "active": bool(row["active"]),
        "serviceType": [service_concept(k, n) for k, n in zip(row["service_keys"], row["service_names"], strict=True)],
        "actor": [{"reference": f"Practitioner/{row['id']}", "display": row["name"]}],
        "planningHorizon": {"start": instant(horizon[0]), "end": instant(horizon[1])},
    }


def free_slot(provider_id: int, start: dt.datetime, end: dt.datetime, fits: list[str]) -> dict[str, Any]:
    return {
        "resourceType": "Slot",
        "id": free_slot_id(provider_id, start, end),
        "schedule": {"reference": f"Schedule/{provider_id}"},
        "status": "free",
        "serviceType": [service_concept(k) for k in fits],
        "start": instant(start),
        "end": instant(end),
    }


def busy_slot(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Slot",
        "id": f"busy-{row['id']}",
        "schedule": {"reference": f"Schedule/{row['provider_id']}"},
        "status": "busy",
        "start": instant(row["start"]),
        "end": instant(row["end"]),
    }


def _participants(provider_id: int, provider_name: str | None, customer_id: int | None) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    if customer_id is not None:
        people.append({"actor": {"reference": f"Patient/{customer_id}"}, "required": "required", "status": "accepted"})
    actor: dict[str, Any] = {"reference": f"Practitioner/{provider_id}"}
    if provider_name:
        actor["display"] = provider_name
    people.append({"actor": actor, "required": "required", "status": "accepted"})
    return people


def appointment(row: dict[str, Any]) -> dict[str, Any]:
    """A real appointment (ITI-118 and read)."""
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(row["id"]),
        "meta": {"profile": [IHE_APPOINTMENT_PROFILE]},
        "identifier": [{"system": APPOINTMENT_SYSTEM, "value": str(row["id"])}],
        "status": APPOINTMENT_STATUS[row["status"]],
        "serviceType": [service_concept(row["service_key"], row["service_name"])],
        "start": instant(row["start"]),
        "end": instant(row["end"]),
        "minutesDuration": int((row["end"] - row["start"]).total_seconds() // 60),
        "created": instant(row["booked_at"]),
        "participant": _participants(row["provider_id"], row["provider_name"], row["customer_id"]),
    }
    if row["status"] == "cancelled":
        resource["cancelationReason"] = {"text": "cancelled"}
    return resource


def potential_appointment(
    ident: PotentialId,
    end: dt.datetime,
    service_key: str,
    provider_name: str | None,
    customer_id: int | None,
    status: str = "proposed",
    hold_token: str | None = None,
) -> dict[str, Any]:
    """A potential appointment ($find: proposed) or a held one ($hold: pending)."""
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(ident),
        "meta": {"profile": [IHE_APPOINTMENT_PROFILE]},
        "status": status,
        "serviceType": [service_concept(service_key)],
        "start": instant(ident.start),
        "end": instant(end),
        "minutesDuration": int((end - ident.start).total_seconds() // 60),
        "participant": _participants(ident.provider_id, provider_name, customer_id),
    }
    if hold_token is not None:
        resource["identifier"] = [{"system": HOLD_SYSTEM, "value": hold_token}]
    return resource


def bundle(
    entries: list[dict[str, Any]],
    base: str,
    self_url: str,
    total: int | None = None,
    next_url: str | None = None,
    scores: list[float] | None = None,
) -> dict[str, Any]:
    items = []
    for i, resource in enumerate(entries):
        search: dict[str, Any] = {"mode": "match"}
        if scores is not None:
            search["score"] = scores[i]
        items.append(
            {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource, "search": search}
        )
    result: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "self", "url": self_url}],
        "entry": items,
    }
    if total is not None:
        result["total"] = total
    if next_url is not None:
        result["link"].append({"relation": "next", "url": next_url})
    if not items:
        del result["entry"]
    return result
