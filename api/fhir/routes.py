"""/fhir/R4: read and search of Practitioner, HealthcareService, Schedule, Slot and Appointment, and
the IHE ITI Scheduling operations Appointment/$find, $hold and $book.

Authenticated like /v1 (API keys or OIDC), checked against SMART scopes, one transaction per
request as the organisation's row-level-security role; every error is an OperationOutcome."""

from __future__ import annotations

import datetime as dt
import json
from importlib.metadata import version
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post, route
from litestar.params import PathParameter

from slotoptim.api.fhir import booking, params, queries
from slotoptim.api.fhir import resources as res
from slotoptim.api.fhir.capability import capability_statement
from slotoptim.api.fhir.outcome import FHIR_EXCEPTION_HANDLERS, FhirError, fhir_response, invalid, not_found
from slotoptim.api.fhir.scopes import Access, require
from slotoptim.api.identity import Identity
from slotoptim.api.routes.deps import Ctx, Db, Now, RedisClient

BASE_PATH = "/fhir/R4"
SLOT_WINDOW = dt.timedelta(days=14)
MAX_SLOT_WINDOW = dt.timedelta(days=31)
HORIZON = dt.timedelta(days=90)

Query = dict[str, list[str]]
Ident = Annotated[str, PathParameter(description="the resource's logical id")]


def _query(request: Request[Any, Any, Any]) -> Query:
    return {k: request.query_params.getall(k) for k in request.query_params}


def _base(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/") + BASE_PATH


def _identity(request: Request[Any, Any, Any], resource: str, access: Access) -> Identity:
    identity = request.scope.get("user")
    if not isinstance(identity, Identity):
        raise FhirError(401, "login", "credentials required")
    require(identity, resource, access)
    return identity


def _page(
    request: Request[Any, Any, Any], resource: str, query: Query, rows: list[Any], limit: int, offset: int
) -> tuple[list[Any], str, str | None]:
    """Rows of this page, the self link and the next link (rows holds limit + 1 when more follow)."""
    plain = [(k, v) for k, values in query.items() if k not in ("_count", "_offset") for v in values]
    url = f"{_base(request)}/{resource}"
    self_url = url + "?" + urlencode([*plain, ("_count", str(limit)), ("_offset", str(offset))])
    next_url = None
    if len(rows) > limit:
        next_url = url + "?" + urlencode([*plain, ("_count", str(limit)), ("_offset", str(offset + limit))])
    return rows[:limit], self_url, next_url


def _int_id(value: str, resource: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise not_found(f"{resource}/{value}")
    return int(value)


def _ids(query: Query, name: str = "_id") -> int | None:
    value = params.one(query, name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 18:
        return -1  # matches nothing: a FHIR search for an unknown id is an empty Bundle
    return int(value)


@get("/metadata", exclude_from_auth=True, sync_to_thread=False, include_in_schema=False)
def metadata(request: Request[Any, Any, Any]) -> Response[bytes]:
    published = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    return fhir_response(capability_statement(_base(request), version("slotoptim"), published))


# --- Practitioner -------------------------------------------------------------------------------


@get("/Practitioner/{ident:str}", sync_to_thread=True, include_in_schema=False)
def read_practitioner(request: Request[Any, Any, Any], db: Db, ctx: Ctx, ident: Ident) -> Response[bytes]:
    _identity(request, "Practitioner", "read")
    with db.transaction(ctx) as conn:
        rows = queries.providers(conn, limit=1, id=_int_id(ident, "Practitioner"))
    if not rows:
        raise not_found(f"Practitioner/{ident}")
    return fhir_response(res.practitioner(rows[0]))


@get("/Practitioner", sync_to_thread=True, include_in_schema=False)
def search_practitioner(request: Request[Any, Any, Any], db: Db, ctx: Ctx) -> Response[bytes]:
    _identity(request, "Practitioner", "read")
    query = _query(request)
    params.check_params("Practitioner", query)
    limit, offset = params.count(query), params.offset(query)
    identifier = params.one(query, "identifier")
    with db.transaction(ctx) as conn:
        rows = queries.providers(
            conn,
            limit=limit + 1,
            offset=offset,
            id=_ids(query),
            key=None if identifier is None else params.token_code(identifier, res.PROVIDER_SYSTEM, "identifier"),
            name=params.one(query, "name"),
            active=params.boolean(params.one(query, "active"), "active"),
        )
    page, self_url, next_url = _page(request, "Practitioner", query, rows, limit, offset)
    return fhir_response(res.bundle([res.practitioner(r) for r in page], _base(request), self_url, None, next_url))


# --- HealthcareService --------------------------------------------------------------------------


@get("/HealthcareService/{ident:str}", sync_to_thread=True, include_in_schema=False)
def read_service(request: Request[Any, Any, Any], db: Db, ctx: Ctx, ident: Ident) -> Response[bytes]:
    _identity(request, "HealthcareService", "read")
    with db.transaction(ctx) as conn:
        rows = queries.services(conn, limit=1, id=_int_id(ident, "HealthcareService"))
    if not rows:
        raise not_found(f"HealthcareService/{ident}")
    return fhir_response(res.healthcare_service(rows[0]))


@get("/HealthcareService", sync_to_thread=True, include_in_schema=False)
def search_service(request: Request[Any, Any, Any], db: Db, ctx: Ctx) -> Response[bytes]:
    _identity(request, "HealthcareService", "read")
    query = _query(request)
    params.check_params("HealthcareService", query)
    limit, offset = params.count(query), params.offset(query)
    identifier = params.one(query, "identifier") or params.one(query, "service-type")
    if params.one(query, "identifier") and params.one(query, "service-type"):
        raise invalid("service-type", "give identifier or service-type, not both")
    with db.transaction(ctx) as conn:
        rows = queries.services(
            conn,
            limit=limit + 1,
            offset=offset,
            id=_ids(query),
            key=None if identifier is None else params.token_code(identifier, res.SERVICE_SYSTEM, "identifier"),
            name=params.one(query, "name"),
            active=params.boolean(params.one(query, "active"), "active"),
        )
    page, self_url, next_url = _page(request, "HealthcareService", query, rows, limit, offset)
    return fhir_response(
        res.bundle([res.healthcare_service(r) for r in page], _base(request), self_url, None, next_url)
    )


# --- Schedule -----------------------------------------------------------------------------------


@get("/Schedule/{ident:str}", sync_to_thread=True, include_in_schema=False)
def read_schedule(request: Request[Any, Any, Any], db: Db, ctx: Ctx, now: Now, ident: Ident) -> Response[bytes]:
    _identity(request, "Schedule", "read")
    with db.transaction(ctx) as conn:
        rows = queries.providers(conn, limit=1, id=_int_id(ident, "Schedule"))
    if not rows:
        raise not_found(f"Schedule/{ident}")
    return fhir_response(res.schedule(rows[0], (now, now + HORIZON)))


@get("/Schedule", sync_to_thread=True, include_in_schema=False)
def search_schedule(request: Request[Any, Any, Any], db: Db, ctx: Ctx, now: Now) -> Response[bytes]:
    _identity(request, "Schedule", "read")
    query = _query(request)
    params.check_params("Schedule", query)
    limit, offset = params.count(query), params.offset(query)
    actor = params.one(query, "actor")
    service = params.one(query, "service-type")
    provider_id = _ids(query)
    if actor is not None:
        actor_id = params.reference_id(actor, "Practitioner", "actor")
        provider_id = actor_id if provider_id in (None, actor_id) else -1
    with db.transaction(ctx) as conn:
        rows = queries.providers(
            conn,
            limit=limit + 1,
            offset=offset,
            id=provider_id,
            service=None if service is None else params.token_code(service, res.SERVICE_SYSTEM, "service-type"),
            active=params.boolean(params.one(query, "active"), "active"),
        )
    page, self_url, next_url = _page(request, "Schedule", query, rows, limit, offset)
    return fhir_response(
        res.bundle([res.schedule(r, (now, now + HORIZON)) for r in page], _base(request), self_url, None, next_url)
    )


# --- Slot ---------------------------------------------------------------------------------------


@get("/Slot/{ident:str}", sync_to_thread=True, include_in_schema=False)
def read_slot(request: Request[Any, Any, Any], db: Db, ctx: Ctx, ident: Ident) -> Response[bytes]:
    """A free slot exists while its gap is still free with exactly these bounds; a busy one while its
    appointment blocks time."""
    _identity(request, "Slot", "read")
    parsed = res.parse_slot_id(ident)
    if parsed is None:
        raise not_found(f"Slot/{ident}")
    kind, number, start, end = parsed
    with db.transaction(ctx) as conn:
        if kind == "free":
            assert start is not None and end is not None
            rows = queries.free_slots(conn, start, end, number, None)
            found = [r for r in rows if r["start"] == start and r["end"] == end]
            # The gap must be maximal: free time right before or after would make it a bigger gap.
            around = queries.free_slots(
                conn, start - dt.timedelta(minutes=1), end + dt.timedelta(minutes=1), number, None
            )
            if not found or any(r["start"] < start or r["end"] > end for r in around):
                raise not_found(f"Slot/{ident}")
            return fhir_response(res.free_slot(number, start, end, list(found[0]["fits"])))
        far = dt.datetime(1900, 1, 1, tzinfo=dt.UTC), dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
        busy = queries.busy_slots(conn, far[0], far[1], None, number)
    if not busy:
        raise not_found(f"Slot/{ident}")
    return fhir_response(res.busy_slot(busy[0]))


@get("/Slot", sync_to_thread=True, include_in_schema=False)
def search_slot(request: Request[Any, Any, Any], db: Db, ctx: Ctx, now: Now) -> Response[bytes]:
    _identity(request, "Slot", "read")
    query = _query(request)
    params.check_params("Slot", query)
    limit, offset = params.count(query), params.offset(query)
    schedule = params.one(query, "schedule")
    service = params.one(query, "service-type")
    provider = None if schedule is None else params.reference_id(schedule, "Schedule", "schedule")
    if provider is None and service is None:
        raise invalid("schedule", "give a schedule (Schedule/<id>) or a service-type")
    lower, upper = params.date_bounds(query, "start")
    lower = lower or now
    upper = upper or lower + SLOT_WINDOW
    if upper <= lower:
        raise invalid("start", "the upper bound must be after the lower bound")
    if upper - lower > MAX_SLOT_WINDOW:
        raise invalid("start", "the window may span at most 31 days")
    statuses = set((params.one(query, "status") or "free").split(","))
    if not statuses <= {"free", "busy"}:
        raise invalid("status", "free, busy, or free,busy")
    code = None if service is None else params.token_code(service, res.SERVICE_SYSTEM, "service-type")
    found: list[tuple[dt.datetime, dict[str, Any]]] = []
    with db.transaction(ctx) as conn:
        if "free" in statuses:
            for r in queries.free_slots(conn, lower, upper, provider, code):
                found.append((r["start"], res.free_slot(r["provider_id"], r["start"], r["end"], list(r["fits"]))))
        if "busy" in statuses and code is None:
            for r in queries.busy_slots(conn, lower, upper, provider):
                found.append((r["start"], res.busy_slot(r)))
    found.sort(key=lambda item: (item[0], item[1]["id"]))
    window = found[offset : offset + limit + 1]
    page, self_url, next_url = _page(request, "Slot", query, window, limit, offset)
    return fhir_response(res.bundle([r for _, r in page], _base(request), self_url, len(found), next_url))


# --- Appointment (ITI-118) -----------------------------------------------------------------------


@get("/Appointment/{ident:str}", sync_to_thread=True, include_in_schema=False)
def read_appointment(request: Request[Any, Any, Any], db: Db, ctx: Ctx, ident: Ident) -> Response[bytes]:
    _identity(request, "Appointment", "read")
    with db.transaction(ctx) as conn:
        rows = queries.appointments(conn, limit=1, id=_int_id(ident, "Appointment"))
    if not rows:
        raise not_found(f"Appointment/{ident}")
    return fhir_response(res.appointment(rows[0]))


@get("/Appointment", sync_to_thread=True, include_in_schema=False)
def search_appointment(request: Request[Any, Any, Any], db: Db, ctx: Ctx) -> Response[bytes]:
    """ITI-118 Find Existing Appointments: by patient (or practitioner), date and status."""
    _identity(request, "Appointment", "read")
    query = _query(request)
    params.check_params("Appointment", query)
    limit, offset = params.count(query), params.offset(query)
    customer = provider = None
    if (patient := params.one(query, "patient")) is not None:
        customer = params.reference_id(patient, "Patient", "patient")
    if (practitioner := params.one(query, "practitioner")) is not None:
        provider = params.reference_id(practitioner, "Practitioner", "practitioner")
    if (actor := params.one(query, "actor")) is not None:
        if "Practitioner/" in actor:
            provider = params.reference_id(actor, "Practitioner", "actor")
        else:
            customer = params.reference_id(actor, "Patient", "actor")
    statuses = None
    if (status := params.one(query, "status")) is not None:
        statuses = []
        for code in status.split(","):
            if code not in res.FHIR_TO_OURS:
                raise invalid("status", f"{code!r} is not one of {', '.join(res.FHIR_TO_OURS)}")
            statuses += res.FHIR_TO_OURS[code]
    service = params.one(query, "service-type")
    lower, upper = params.date_bounds(query, "date")
    with db.transaction(ctx) as conn:
        rows = queries.appointments(
            conn,
            limit=limit + 1,
            offset=offset,
            id=_ids(query),
            customer=customer,
            provider=provider,
            service=None if service is None else params.token_code(service, res.SERVICE_SYSTEM, "service-type"),
            statuses=statuses,
            lower=lower,
            upper=upper,
        )
    page, self_url, next_url = _page(request, "Appointment", query, rows, limit, offset)
    return fhir_response(res.bundle([res.appointment(r) for r in page], _base(request), self_url, None, next_url))


# --- IHE operations ------------------------------------------------------------------------------


async def _parameters(request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FhirError(400, "structure", "the body is not JSON") from None
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise FhirError(400, "structure", "the body must be a FHIR Parameters resource")
    parameters = body.get("parameter", [])
    if not isinstance(parameters, list) or not all(
        isinstance(p, dict) and isinstance(p.get("name"), str) for p in parameters
    ):
        raise FhirError(400, "structure", "Parameters.parameter must be a list of parameters, each with a name")
    return body


@post("/Appointment/$find", include_in_schema=False, status_code=200)
async def find(
    request: Request[Any, Any, Any], db: Db, ctx: Ctx, now: Now, redis_client: RedisClient
) -> Response[bytes]:
    """ITI-115. Parameters: start, end (dateTime), visit-type or service-type (our service key),
    practitioner (reference), patient-reference, _count."""
    _identity(request, "Appointment", "read")
    body = await _parameters(request)
    query = booking.FindQuery.from_parameters(body, now)
    result = await booking.run_sync(booking.find, db, ctx, redis_client, query, now)
    self_url = f"{_base(request)}/Appointment/$find"
    return fhir_response(
        res.bundle(result.resources, _base(request), self_url, len(result.resources), scores=result.scores)
    )


@post("/Appointment/$hold", include_in_schema=False, status_code=200)
async def hold(
    request: Request[Any, Any, Any], db: Db, ctx: Ctx, now: Now, redis_client: RedisClient
) -> Response[bytes]:
    """ITI-116: appointment-reference (or appointment-resource) of a potential appointment."""
    _identity(request, "Appointment", "write")
    body = await _parameters(request)
    held = await booking.run_sync(booking.hold, db, ctx, redis_client, body, now)
    return fhir_response(held)


@post("/Appointment/$book", include_in_schema=False, status_code=200)
async def book(
    request: Request[Any, Any, Any], db: Db, ctx: Ctx, now: Now, redis_client: RedisClient
) -> Response[bytes]:
    """ITI-117: appointment-resource (a potential or held appointment with a Patient participant),
    or a booked appointment with status cancelled to cancel it."""
    _identity(request, "Appointment", "write")
    body = await _parameters(request)
    booked = await booking.run_sync(booking.book, db, ctx, redis_client, body, now)
    self_url = f"{_base(request)}/Appointment/{booked['id']}"
    return fhir_response(res.bundle([booked], _base(request), self_url, 1), status=200)


@route(
    "/{rest:path}", http_method=["GET", "POST", "PUT", "PATCH", "DELETE"], sync_to_thread=False, include_in_schema=False
)
def unknown(request: Request[Any, Any, Any], rest: Annotated[str, PathParameter()]) -> Response[bytes]:
    """Anything else under /fhir/R4: an OperationOutcome, not the /v1 error shape."""
    raise FhirError(404, "not-found", f"{request.method} {BASE_PATH}{rest}: no such resource or interaction here")


def _allow_repeats(_: Request[Any, Any, Any]) -> None:
    """FHIR repeats search parameters on purpose (date=ge...&date=lt...)."""


FHIR_ROUTER = Router(
    path=BASE_PATH,
    route_handlers=[
        metadata,
        read_practitioner,
        search_practitioner,
        read_service,
        search_service,
        read_schedule,
        search_schedule,
        read_slot,
        search_slot,
        find,
        hold,
        book,
        read_appointment,
        search_appointment,
        unknown,
    ],
    exception_handlers=FHIR_EXCEPTION_HANDLERS,
    before_request=_allow_repeats,
    include_in_schema=False,
    # Authorisation is by SMART scope (scopes.require); readonly keys may call $find, a search.
    opt={"role": "readonly"},
)
