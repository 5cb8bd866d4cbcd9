"""What we read from FHIR resources: only what SlotOptim needs (who, when, what service, which
status, how to reach the patient), never clinical data. Pure functions over resource dicts."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

APPOINTMENT_SYSTEM = "urn:slotoptim:appointment"
PROVIDER_SYSTEM = "urn:slotoptim:provider"
SERVICE_SYSTEM = "urn:slotoptim:service"
CUSTOMER_SYSTEM = "urn:slotoptim:customer"

# FHIR AppointmentStatus -> what it means for our calendar ("free": holds no time).
STATUS = {
    "booked": "booked",
    "arrived": "arrived",
    "checked-in": "arrived",
    "fulfilled": "completed",
    "noshow": "no_show",
    "cancelled": "cancelled",
    "proposed": "free",
    "pending": "free",
    "waitlist": "free",
    "entered-in-error": "free",
}
# Ours -> FHIR, for the bookings we write back.
FHIR_STATUS = {
    "booked": "booked",
    "confirmed": "booked",
    "arrived": "arrived",
    "completed": "fulfilled",
    "no_show": "noshow",
    "cancelled": "cancelled",
}

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def instant(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def last_updated(resource: dict[str, Any]) -> dt.datetime | None:
    return instant((resource.get("meta") or {}).get("lastUpdated"))


def version(resource: dict[str, Any]) -> str | None:
    value = (resource.get("meta") or {}).get("versionId")
    return None if value is None else str(value)


def identifier(resource: dict[str, Any], system: str) -> str | None:
    for ident in resource.get("identifier", []) or []:
        if isinstance(ident, dict) and ident.get("system") == system and isinstance(ident.get("value"), str):
            return str(ident["value"])
    return None


def local_key(external_id: str) -> str:
    """A key for a provider, service or customer made from an EHR id (hashed when it does not fit)."""
    candidate = f"ehr-{external_id}"
    if _KEY.match(candidate):
        return candidate
    return "ehr-" + hashlib.sha256(external_id.encode()).hexdigest()[:24]


def display_name(resource: dict[str, Any], fallback: str) -> str:
    names = resource.get("name")
    if isinstance(names, str):
        return names[:200] or fallback
    for name in names or []:
        if not isinstance(name, dict):
            continue
        if name.get("text"):
            return str(name["text"])[:200]
        parts = [*name.get("prefix", []), *name.get("given", []), name.get("family", "")]
        text = " ".join(str(p) for p in parts if p).strip()
        if text:
            return text[:200]
    return fallback


def telecom(resource: dict[str, Any], system: str) -> str | None:
    pattern = _E164 if system == "phone" else _EMAIL
    for point in resource.get("telecom", []) or []:
        value = str(point.get("value", "")).strip() if isinstance(point, dict) else ""
        if point.get("system") == system and pattern.match(value) and len(value) <= 254:
            return value
    return None


def reference_id(reference: str | None, resource_type: str) -> str | None:
    """The id of `Practitioner/abc` or `https://ehr/fhir/Practitioner/abc/_history/2`."""
    if not reference:
        return None
    parts = reference.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == resource_type:
        return parts[-1]
    return None


def participants(resource: dict[str, Any]) -> tuple[str | None, str | None]:
    """(Practitioner id, Patient id) of an appointment; PractitionerRole is not followed."""
    practitioner = patient = None
    for participant in resource.get("participant", []) or []:
        ref = ((participant or {}).get("actor") or {}).get("reference")
        practitioner = practitioner or reference_id(ref, "Practitioner")
        patient = patient or reference_id(ref, "Patient")
    return practitioner, patient


def service_coding(resource: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(system, code, display) of the first coded Appointment.serviceType."""
    for concept in resource.get("serviceType", []) or []:
        for coding in (concept or {}).get("coding", []) or []:
            if isinstance(coding, dict) and coding.get("code"):
                return (
                    str(coding.get("system") or ""),
                    str(coding["code"]),
                    coding.get("display") or concept.get("text"),
                )
    return None


def appointment_minutes(resource: dict[str, Any]) -> int | None:
    start, end = instant(resource.get("start")), instant(resource.get("end"))
    if start is not None and end is not None and end > start:
        return max(1, min(1440, int((end - start).total_seconds() // 60)))
    value = resource.get("minutesDuration")
    return value if isinstance(value, int) and 1 <= value <= 1440 else None


def our_appointment(resource: dict[str, Any]) -> int | None:
    value = identifier(resource, APPOINTMENT_SYSTEM)
    return int(value) if value is not None and value.isdigit() else None
