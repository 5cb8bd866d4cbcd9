"""IHE ITI Scheduling: $find (ITI-115), $hold (ITI-116) and $book (ITI-117).

$find ranks potential appointments with slotoptim.find_appointments. $hold takes the same kind of
Redis hold a claim takes (slotoptim.listener.holds), for the organisation's claim hold time, ended early
by the application's clock. $book books in one database transaction (slotoptim.book_slot): the
exclusion constraint decides between concurrent bookings; a hold only makes the losers hear it
sooner. Redis unreachable: holds are skipped and the database alone decides."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
import psycopg
import redis

from slotoptim.api.db import Database
from slotoptim.api.fhir import queries
from slotoptim.api.fhir import resources as res
from slotoptim.api.fhir.outcome import FhirError, conflict, invalid, not_found
from slotoptim.api.fhir.params import MAX_COUNT, reference_id, token_code
from slotoptim.api.identity import DbContext
from slotoptim.listener import holds

T = TypeVar("T")
FIND_WINDOW = dt.timedelta(days=14)
MAX_FIND_WINDOW = dt.timedelta(days=31)


async def run_sync(fn: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(functools.partial(fn, *args))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _param(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = [p for p in body.get("parameter", []) if isinstance(p, dict) and p.get("name") == name]
    if len(found) > 1:
        raise invalid(name, "give it once")
    return found[0] if found else None


def _datetime(body: dict[str, Any], name: str) -> dt.datetime | None:
    p = _param(body, name)
    if p is None:
        return None
    value = p.get("valueDateTime", p.get("valueInstant", p.get("valueDate")))
    if not isinstance(value, str):
        raise invalid(name, "needs valueDateTime")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(name, f"{value!r} is not a dateTime") from None
    if parsed.tzinfo is None:
        if "T" in value:
            raise invalid(name, "needs a time zone (Z or an offset)")
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _string(body: dict[str, Any], name: str) -> str | None:
    p = _param(body, name)
    if p is None:
        return None
    for key in ("valueString", "valueCode", "valueUri"):
        if isinstance(p.get(key), str):
            return str(p[key])
    codings = _list(_dict(p.get("valueCodeableConcept")).get("coding"))
    coding = _dict(p.get("valueCoding") or (codings[0] if codings else None))
    if isinstance(coding.get("code"), str):
        if coding.get("system") not in (None, res.SERVICE_SYSTEM):
            raise invalid(name, f"unknown code system {coding.get('system')!r}; use {res.SERVICE_SYSTEM}")
        return str(coding["code"])
    raise invalid(name, "needs valueString, valueCode or valueCoding")


def _reference(body: dict[str, Any], name: str) -> str | None:
    p = _param(body, name)
    if p is None:
        return None
    ref = _dict(p.get("valueReference")).get("reference")
    if not isinstance(ref, str):
        raise invalid(name, "needs valueReference.reference")
    return ref


SUPPORTED_FIND = {"start", "end", "visit-type", "service-type", "practitioner", "patient-reference", "_count"}


@dataclass(frozen=True)
class FindQuery:
    service: str
    start: dt.datetime
    end: dt.datetime
    practitioner: int | None
    patient: int | None
    count: int

    @staticmethod
    def from_parameters(body: dict[str, Any], now: dt.datetime) -> FindQuery:
        for p in body.get("parameter", []):
            name = p.get("name") if isinstance(p, dict) else None
            if name not in SUPPORTED_FIND:
                raise FhirError(
                    400,
                    "not-supported",
                    f"{name}: $find parameter not supported; supported: " + ", ".join(sorted(SUPPORTED_FIND)),
                    str(name),
                )
        service = _string(body, "visit-type") or _string(body, "service-type")
        if not service:
            raise invalid("visit-type", "name the service (urn:slotoptim:service code)")
        start = _datetime(body, "start") or now
        end = _datetime(body, "end") or start + FIND_WINDOW
        if end <= start:
            raise invalid("end", "must be after start")
        if end - start > MAX_FIND_WINDOW:
            raise invalid("end", "the window may span at most 31 days")
        practitioner = _reference(body, "practitioner")
        patient = _reference(body, "patient-reference")
        count_param = _param(body, "_count")
        count = 20
        if count_param is not None:
            value = count_param.get("valueInteger")
            if not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
                raise invalid("_count", f"needs valueInteger between 1 and {MAX_COUNT}")
            count = value
        return FindQuery(
            service=token_code(service, res.SERVICE_SYSTEM, "visit-type"),
            start=start,
            end=end,
            practitioner=None if practitioner is None else reference_id(practitioner, "Practitioner", "practitioner"),
            patient=None if patient is None else reference_id(patient, "Patient", "patient-reference"),
            count=count,
        )


@dataclass
class Found:
    resources: list[dict[str, Any]]
    scores: list[float]


def find(db: Database, ctx: DbContext, cache: redis.Redis | None, query: FindQuery, now: dt.datetime) -> Found:
    """Ranked potential appointments; one someone holds right now is not proposed to others."""
    with db.transaction(ctx) as conn:
        if query.patient is not None and not queries.customer_exists(conn, query.patient):
            raise not_found(f"patient-reference: Patient/{query.patient}")
        provider_key = None
        if query.practitioner is not None:
            rows = queries.providers(conn, limit=1, id=query.practitioner)
            if not rows:
                raise not_found(f"practitioner: Practitioner/{query.practitioner}")
            provider_key = rows[0]["key"]
        if not queries.services(conn, limit=1, key=query.service, active=True):
            raise not_found(f"visit-type: service {query.service}")
        # A few extra, in case some are held.
        rows = queries.find(
            conn, query.service, query.start, query.end, provider_key, query.patient, query.count + 10, now
        )
    now_ms = _now_ms(now)
    rows = [
        r
        for r in rows
        if holds.holder(cache, holds.slot_key(int(r["provider_id"]), int(r["start"].timestamp())), now_ms) is None
    ][: query.count]
    found = Found([], [])
    for r in rows:
        ident = res.PotentialId(int(r["provider_id"]), int(r["service_id"]), r["start"])
        found.resources.append(
            res.potential_appointment(ident, r["end"], r["service_key"], r["provider_name"], query.patient)
        )
        found.scores.append(round(float(r["score"]) / 100, 4))
    return found


def _potential_of(body: dict[str, Any]) -> tuple[res.PotentialId, dict[str, Any] | None]:
    """The potential appointment an operation names: appointment-reference, or the resource itself
    (appointment-resource, or Medplum's `appointment`)."""
    resource = None
    for name in ("appointment-resource", "appointment"):
        p = _param(body, name)
        if p is not None:
            resource = p.get("resource")
            if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
                raise invalid(name, "needs an Appointment resource")
    reference = _reference(body, "appointment-reference")
    if resource is None and reference is None:
        raise invalid("appointment-reference", "name the potential appointment (from $find)")
    ident_text = str(resource.get("id", "")) if resource is not None else reference.rstrip("/").split("/")[-1]  # type: ignore[union-attr]
    ident = res.parse_potential(ident_text)
    if ident is None:
        raise not_found(f"potential appointment Appointment/{ident_text} (use an id returned by $find)")
    return ident, resource


def _patient_of(body: dict[str, Any], resource: dict[str, Any] | None) -> int | None:
    ref = _reference(body, "patient-reference")
    if ref is None and resource is not None:
        for participant in _list(resource.get("participant")):
            actor = _dict(_dict(participant).get("actor")).get("reference", "")
            if isinstance(actor, str) and "Patient/" in actor:
                ref = actor
    return None if ref is None else reference_id(ref, "Patient", "patient-reference")


def _hold_token(resource: dict[str, Any] | None) -> str | None:
    for identifier in _list((resource or {}).get("identifier")):
        if isinstance(identifier, dict) and identifier.get("system") == res.HOLD_SYSTEM:
            value = identifier.get("value")
            return value if isinstance(value, str) else None
    return None


def _now_ms(now: dt.datetime) -> int:
    return int(now.timestamp() * 1000)


def hold(
    db: Database, ctx: DbContext, cache: redis.Redis | None, body: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    ident, resource = _potential_of(body)
    patient = _patient_of(body, resource)
    with db.transaction(ctx) as conn:
        found = queries.provider_and_service(conn, ident.provider_id, ident.service_id)
        if found is None:
            raise not_found(f"Appointment/{ident}")
        if patient is not None and not queries.customer_exists(conn, patient):
            raise not_found(f"Patient/{patient}")
        if ident.start <= now:
            raise conflict(f"Appointment/{ident} starts in the past")
        end = queries.still_free(conn, ident.provider_id, ident.service_id, ident.start, patient)
        if end is None:
            raise conflict(f"Appointment/{ident} is no longer available")
        ttl_ms = queries.hold_seconds(conn) * 1000
    taken = holds.acquire_slot(
        cache, holds.slot_key(ident.provider_id, int(ident.start.timestamp())), ttl_ms, _now_ms(now)
    )
    if not taken.acquired:
        raise conflict(f"Appointment/{ident} is held by another client; try again when the hold ends")
    return res.potential_appointment(
        ident,
        end,
        found["service_key"],
        found["provider_name"],
        patient,
        status="pending",
        hold_token=None if taken.degraded else holds.token_of(taken),
    )


def book(
    db: Database, ctx: DbContext, cache: redis.Redis | None, body: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    resource = None
    p = _param(body, "appointment-resource") or _param(body, "appointment")
    if p is not None and isinstance(p.get("resource"), dict):
        resource = p["resource"]
    if resource is not None and resource.get("status") == "cancelled":
        return _cancel(db, ctx, resource, now)
    ident, resource = _potential_of(body)
    patient = _patient_of(body, resource)
    if patient is None:
        raise invalid("appointment-resource", "needs a Patient participant (Appointment.participant.actor)")
    key = holds.slot_key(ident.provider_id, int(ident.start.timestamp()))
    mine = _hold_token(resource)
    current = holds.holder(cache, key, _now_ms(now))
    taken = None
    if current is not None and current != mine:
        raise conflict(f"Appointment/{ident} is held by another client")
    if current is None:
        # No hold (or it ended): take one for the time of the booking, as a claim does.
        taken = holds.acquire_slot(cache, key, 30_000, _now_ms(now))
        if not taken.acquired:
            raise conflict(f"Appointment/{ident} is being booked by another client")
    try:
        with db.transaction(ctx) as conn:
            found = queries.provider_and_service(conn, ident.provider_id, ident.service_id)
            if found is None:
                raise not_found(f"Appointment/{ident}")
            if not queries.customer_exists(conn, patient):
                raise not_found(f"Patient/{patient}")
            try:
                row = conn.execute(
                    "select slotoptim.book_slot(%s, %s, %s, %s, 'portal', %s) as id",
                    (found["provider_key"], found["service_key"], ident.start, patient, now),
                ).fetchone()
            except psycopg.errors.ExclusionViolation:
                raise conflict(f"Appointment/{ident} was booked by someone else") from None
            except psycopg.errors.CheckViolation as exc:
                raise FhirError(409, "conflict", f"Appointment/{ident}: {exc.diag.message_primary}") from None
            assert row is not None
            booked = queries.appointments(conn, limit=1, id=int(row["id"]))
    finally:
        if taken is not None:
            holds.release(cache, taken)
    if mine is not None:
        holds.release_token(cache, key, mine)
    return res.appointment(booked[0])


def _cancel(db: Database, ctx: DbContext, resource: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    ident = str(resource.get("id", ""))
    if not ident.isdigit() or len(ident) > 18:
        raise not_found(f"Appointment/{ident}")
    with db.transaction(ctx) as conn:
        if not queries.appointments(conn, limit=1, id=int(ident)):
            raise not_found(f"Appointment/{ident}")
        try:
            conn.execute("select slotoptim.cancel_appointment(%s, %s)", (int(ident), now)).fetchall()
        except psycopg.errors.CheckViolation as exc:
            raise conflict(f"Appointment/{ident}: {exc.diag.message_primary}") from None
        rows = queries.appointments(conn, limit=1, id=int(ident))
    return res.appointment(rows[0])
