"""Errors as HTTP answers: the database's refusals become readable 4xx, never a 500.

| database says | HTTP |
| --- | --- |
| 23P01 exclusion (an overlap), 23505 unique | 409 Conflict |
| 23503 foreign key, 23514 check, 23502 not null, class 22, a NUL in a text | 422 Unprocessable Content |
| P0002 no data found (an unknown key or id) | 404 Not Found |
| 40001/40P01 serialization or deadlock, 57014 statement timeout, connection trouble | 503, retry |

The message is `slotoptim.listener.practice.dberrors.explain()`'s sentence, the same the importer prints.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import psycopg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap
from psycopg_pool import PoolTimeout

from slotoptim.api.db import AppRoleMissing, DatabaseUnavailable
from slotoptim.api.logs import log_event
from slotoptim.api.request_id import current_request_id
from slotoptim.listener.practice.dberrors import explain, field_of


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The body of every error answer (Litestar's own shape)."""

    status_code: int
    detail: str
    extra: list[dict[str, Any]] | dict[str, Any] | None = None


def not_found(what: str) -> NotFoundException:
    return NotFoundException(detail=f"{what} not found")


class Conflict(HTTPException):
    status_code = HTTP_409_CONFLICT


class Unprocessable(HTTPException):
    status_code = HTTP_422_UNPROCESSABLE_ENTITY


def malformed(field: str, message: str, source: str = "body") -> ValidationException:
    """400: the request does not match the API's description. Shaped like Litestar's own
    validation errors, naming the field."""
    return ValidationException(
        detail=f"{field}: {message}", extra=[{"key": field, "message": message, "source": source}]
    )


def invalid(field: str, message: str, source: str = "body") -> Unprocessable:
    """422: well-formed, but the values cannot be accepted together (end before start, an
    overlap within the request, a cursor this API never issued...). Names the field."""
    return Unprocessable(detail=f"{field}: {message}", extra=[{"key": field, "message": message, "source": source}])


def status_for(exc: psycopg.Error) -> int:
    state = exc.sqlstate or ""
    if state in ("23P01", "23505"):
        return HTTP_409_CONFLICT
    if state == "P0002":
        return HTTP_404_NOT_FOUND
    # DataError without a state: refused by the driver before it was sent (a NUL in a text).
    if state.startswith(("22", "23")) or (not state and isinstance(exc, psycopg.DataError)):
        return HTTP_422_UNPROCESSABLE_ENTITY
    if state in ("40001", "40P01", "57014") or isinstance(exc, psycopg.OperationalError):
        return HTTP_503_SERVICE_UNAVAILABLE
    return HTTP_500_INTERNAL_SERVER_ERROR


def http_status_of(exc: BaseException) -> int:
    """The status the exception handlers below answer for ``exc``: what the request metrics and
    log must count when an exception passes through them (a database that is down is a 503 for
    the client, so it is a 503 in the metrics too, not a 500)."""
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, PoolTimeout | AppRoleMissing):
        return HTTP_503_SERVICE_UNAVAILABLE
    if isinstance(exc, psycopg.Error):
        return status_for(exc)
    return HTTP_500_INTERNAL_SERVER_ERROR


def _problem(
    status: int, detail: str, headers: dict[str, str] | None = None, extra: list[dict[str, Any]] | None = None
) -> Response[Problem]:
    return Response(
        Problem(status_code=status, detail=detail, extra=extra),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _internal() -> Response[Problem]:
    """A 500 names only the request id: the log line with the same id names the exception."""
    request_id = current_request_id.get()
    return _problem(HTTP_500_INTERNAL_SERVER_ERROR, f"internal error (request {request_id})")


def database_error(request: Request[Any, Any, Any], exc: psycopg.Error) -> Response[Problem]:
    status = status_for(exc)
    if status == HTTP_503_SERVICE_UNAVAILABLE:
        log_event("database_busy", logging.WARNING, route=_route(request), sqlstate=exc.sqlstate)
        return _problem(status, "the database is busy; retry shortly", {"Retry-After": "1"})
    if status == HTTP_500_INTERNAL_SERVER_ERROR:
        # The message may quote data; log the class and state only.
        log_event(
            "database_error", logging.ERROR, route=_route(request), sqlstate=exc.sqlstate, error=type(exc).__name__
        )
        return _internal()
    message, field = explain(exc), field_of(exc)
    if status == HTTP_422_UNPROCESSABLE_ENTITY and field is not None:
        return _problem(status, f"{field}: {message}", extra=[{"key": field, "message": message, "source": "body"}])
    return _problem(status, message)


def unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log_event("unavailable", logging.WARNING, route=_route(request), error=type(exc).__name__)
    if isinstance(exc, AppRoleMissing):
        detail = "the database is not migrated (slotoptim migrate)"
    elif isinstance(exc, DatabaseUnavailable):
        detail = "the database is unavailable; retry shortly"
    else:
        detail = "busy"
    return _problem(HTTP_503_SERVICE_UNAVAILABLE, detail, {"Retry-After": "1"})


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """Any exception no other handler answers: a bug. Logs its class (never its message, which may
    quote data) and where it was raised."""
    frame = _last_frame(exc)
    log_event("internal_error", logging.ERROR, route=_route(request), error=type(exc).__name__, at=frame)
    return _internal()


def too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Problem]:
    """JSON nested deeper than the decoder recurses (about 1,000 levels) is a malformed body, not a
    bug; a RecursionError anywhere else still is one."""
    if _raised_while_decoding(exc):
        message = "nested too deeply"
        return _problem(
            HTTP_400_BAD_REQUEST, f"body: {message}", extra=[{"key": "body", "message": message, "source": "body"}]
        )
    return internal_error(request, exc)


def _raised_while_decoding(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name in ("decode_json", "decode_msgpack", "json") and "litestar" in code.co_filename:
            return True
        tb = tb.tb_next
    return False


def _last_frame(exc: BaseException) -> str:
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return "?"
    code = last.tb_frame.f_code
    return f"{code.co_filename.rsplit('/', 1)[-1]}:{last.tb_lineno}:{code.co_name}"


def method_not_allowed(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """405 is decided while routing, before a router's own handlers apply: the FHIR API answers
    it as an OperationOutcome too."""
    if request.url.path.startswith("/fhir/"):
        from slotoptim.api.fhir.outcome import fhir_response, operation_outcome

        return fhir_response(
            operation_outcome("not-supported", f"{request.method} is not supported on {request.url.path}"), 405
        )
    return _problem(exc.status_code, exc.detail, exc.headers)


def _route(request: Request[Any, Any, Any]) -> str:
    return str(request.scope.get("path_template") or "?")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    # Keyed by status: every exception that is not an HTTPException counts as a 500.
    HTTP_500_INTERNAL_SERVER_ERROR: internal_error,
    RecursionError: too_deep,
    MethodNotAllowedException: method_not_allowed,
    psycopg.Error: database_error,
    PoolTimeout: unavailable,
    AppRoleMissing: unavailable,
}
