"""FHIR search parameters: one table declares what each resource accepts (the CapabilityStatement is
built from it, and every search refuses a parameter it does not list), and the parsers for dates,
references, tokens and counts, each naming the parameter it refuses."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from slotoptim.api.fhir.outcome import FhirError, invalid


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # FHIR search parameter type: token, reference, date, string
    documentation: str


# Parameters every search takes (FHIR's result parameters).
RESULT_PARAMS = {"_count", "_offset", "_format"}
MAX_COUNT = 200
DEFAULT_COUNT = 50

SEARCH_PARAMS: dict[str, list[SearchParam]] = {
    "Practitioner": [
        SearchParam("_id", "token", "the practitioner's id"),
        SearchParam("identifier", "token", "urn:slotoptim:provider|<provider key>"),
        SearchParam("name", "string", "part of the name, case-insensitive"),
        SearchParam("active", "token", "true or false"),
    ],
    "HealthcareService": [
        SearchParam("_id", "token", "the service's id"),
        SearchParam("identifier", "token", "urn:slotoptim:service|<service key>"),
        SearchParam("name", "string", "part of the name, case-insensitive"),
        SearchParam("service-type", "token", "urn:slotoptim:service|<service key>"),
        SearchParam("active", "token", "true or false"),
    ],
    "Schedule": [
        SearchParam("_id", "token", "the schedule's id (the provider's)"),
        SearchParam("actor", "reference", "Practitioner/<id>"),
        SearchParam("service-type", "token", "schedules offering this service"),
        SearchParam("active", "token", "true or false"),
    ],
    "Slot": [
        SearchParam("schedule", "reference", "Schedule/<id>; required unless service-type is given"),
        SearchParam("start", "date", "ge/gt/le/lt bounds of the window (default: the next 14 days; at most 31)"),
        SearchParam("status", "token", "free (default) or busy; both: free,busy"),
        SearchParam("service-type", "token", "free slots this service fits in"),
    ],
    "Appointment": [
        SearchParam("_id", "token", "the appointment's id"),
        SearchParam("patient", "reference", "Patient/<id> (ITI-118)"),
        SearchParam("practitioner", "reference", "Practitioner/<id>"),
        SearchParam("actor", "reference", "Patient/<id> or Practitioner/<id>"),
        SearchParam("date", "date", "ge/gt/le/lt bounds on the start"),
        SearchParam("status", "token", "booked, arrived, fulfilled, noshow, cancelled (comma-separated)"),
        SearchParam("service-type", "token", "urn:slotoptim:service|<service key>"),
    ],
}


def check_params(resource: str, query: Mapping[str, list[str]]) -> None:
    known = {p.name for p in SEARCH_PARAMS[resource]} | RESULT_PARAMS
    for value in query.get("_format", []):
        if value not in ("json", "application/json", "application/fhir+json"):
            raise FhirError(
                406, "not-supported", f"_format: {value!r} is not served; this server speaks JSON", "_format"
            )
    for name in query:
        if name not in known:
            raise FhirError(
                400,
                "not-supported",
                f"{name}: search parameter not supported on {resource}; supported: " + ", ".join(sorted(known)),
                name,
            )


def one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise invalid(name, "give it once (several values: comma-separated)")
    return values[0]


def count(query: Mapping[str, list[str]], default: int = DEFAULT_COUNT) -> int:
    value = one(query, "_count")
    if value is None:
        return default
    if not value.isdigit() or not 0 <= int(value) <= MAX_COUNT:
        raise invalid("_count", f"must be a whole number between 0 and {MAX_COUNT}")
    return int(value)


def offset(query: Mapping[str, list[str]]) -> int:
    value = one(query, "_offset")
    if value is None:
        return 0
    if not value.isdigit() or int(value) > 100_000:
        raise invalid("_offset", "must be a whole number of at most 100000")
    return int(value)


_DATE = re.compile(r"^(eq|ge|gt|le|lt|sa|eb)?(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)$")


def date_bounds(query: Mapping[str, list[str]], name: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[lower, upper) from values like ge2026-11-24T08:00:00Z, lt2026-11-25 (a date is a UTC day)."""
    lower: dt.datetime | None = None
    upper: dt.datetime | None = None
    for raw in query.get(name, []):
        for value in raw.split(","):
            match = _DATE.match(value)
            if match is None:
                raise invalid(
                    name, f"{value!r} is not a FHIR date or dateTime with a time zone (e.g. ge2026-11-24T08:00:00Z)"
                )
            prefix, text = match[1] or "eq", match[2]
            if "T" in text:
                start = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                end = start + dt.timedelta(seconds=1)
            else:
                start = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
                end = start + dt.timedelta(days=1)
            if prefix in ("ge", "sa", "eq"):
                lower = start if prefix != "sa" else end
            if prefix == "gt":
                lower = end
            if prefix in ("lt", "eb"):
                upper = start
            if prefix in ("le", "eq"):
                upper = end
    return lower, upper


def reference_id(value: str, resource: str, name: str) -> int:
    """Practitioner/12, a full URL ending in Practitioner/12, or 12."""
    tail = value.rstrip("/").split("/")
    if len(tail) >= 2 and tail[-2] != resource:
        raise invalid(name, f"must reference a {resource}, not {tail[-2]}")
    ident = tail[-1]
    if not ident.isdigit() or len(ident) > 18:
        raise FhirError(404, "not-found", f"{name}: {resource}/{ident} not found", name)
    return int(ident)


def token_code(value: str, system: str, name: str) -> str:
    """`system|code` (our system) or a bare `code`."""
    if "|" in value:
        given, _, code = value.partition("|")
        if given and given != system:
            raise invalid(name, f"unknown code system {given!r}; use {system}")
        return code
    return value


def boolean(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    if value not in ("true", "false"):
        raise invalid(name, "must be true or false")
    return value == "true"
