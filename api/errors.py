"""Errors as HTTP answers: the database's refusals become readable 4xx, never a 500.

| database says | HTTP |
| --- | --- |
| 23P01 exclusion (an overlap), 23505 unique | 409 Conflict |
| 23503 foreign key, 23514 check, 23502 not null, class 22, a NUL in a text | 422 Unprocessable Content |
| P0002 no data found (an unknown key or id) | 404 Not Found |
| 40001/40P01 serialization or deadlock, 57014 statement timeout, connection trouble | 503, retry |

The message is `slotoptim.practice.dberrors.explain()`'s sentence, the same the importer prints.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import psycopg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException, ValidationException
from litestar.status_codes import (
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap
from psycopg_pool import PoolTimeout

from slotoptim.api.db import AppRoleMissing
from slotoptim.api.logs import log_event
from slotoptim.practice.dberrors import explain


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


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response[Problem]:
    return Response(
        Problem(status_code=status, detail=detail), status_code=status, media_type=MediaType.JSON, headers=headers
    )


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
        return _problem(status, "internal error")
    return _problem(status, explain(exc))


def unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log_event("unavailable", logging.WARNING, route=_route(request), error=type(exc).__name__)
    detail = "the database is not migrated (slotoptim migrate)" if isinstance(exc, AppRoleMissing) else "busy"
    return _problem(HTTP_503_SERVICE_UNAVAILABLE, detail, {"Retry-After": "1"})


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log_event("internal_error", logging.ERROR, route=_route(request), error=type(exc).__name__)
    return _problem(HTTP_500_INTERNAL_SERVER_ERROR, "internal error")


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
    MethodNotAllowedException: method_not_allowed,
    psycopg.Error: database_error,
    PoolTimeout: unavailable,
    AppRoleMissing: unavailable,
}
