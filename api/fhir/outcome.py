"""Errors as FHIR OperationOutcome: every refusal of the FHIR API names the problem and never is a
500 for a caller's mistake. `FhirError` carries the HTTP status and the issue code
(http://hl7.org/fhir/issue-type); the handlers below turn Litestar's and the database's errors into
the same shape."""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap
from psycopg_pool import PoolTimeout

from slotoptim.api.db import AppRoleMissing
from slotoptim.api.errors import status_for
from slotoptim.api.logs import log_event
from slotoptim.listener.practice.dberrors import explain

FHIR_JSON = "application/fhir+json"

# HTTP status -> issue type, for errors raised by Litestar (authentication, routing, validation).
_ISSUE_FOR_STATUS = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    503: "transient",
}


class FhirError(Exception):
    """A refusal of the FHIR API: status, issue code, and a sentence naming the field."""

    def __init__(self, status: int, code: str, diagnostics: str, expression: str | None = None) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = expression


def invalid(field: str, message: str) -> FhirError:
    return FhirError(400, "invalid", f"{field}: {message}", field)


def not_found(what: str) -> FhirError:
    return FhirError(404, "not-found", f"{what} not found")


def conflict(message: str) -> FhirError:
    return FhirError(409, "conflict", message)


def operation_outcome(
    code: str, diagnostics: str, expression: str | None = None, severity: str = "error"
) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def fhir_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        json.dumps(body, separators=(",", ":")).encode(), status_code=status, media_type=FHIR_JSON, headers=headers
    )


def _outcome(
    status: int, code: str, diagnostics: str, expression: str | None = None, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return fhir_response(operation_outcome(code, diagnostics, expression), status, headers)


def _fhir_error(_: Request[Any, Any, Any], exc: FhirError) -> Response[bytes]:
    return _outcome(exc.status, exc.code, exc.diagnostics, exc.expression)


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    detail = exc.detail or "error"
    extra = exc.extra if isinstance(exc.extra, list) else []
    if extra and isinstance(extra[0], dict) and "message" in extra[0]:
        detail = f"{extra[0].get('key', '')}: {extra[0]['message']}".lstrip(": ")
    return _outcome(status, _ISSUE_FOR_STATUS.get(status, "processing"), detail, headers=exc.headers)


def _database_error(request: Request[Any, Any, Any], exc: psycopg.Error) -> Response[bytes]:
    status = status_for(exc)
    if status == 503:
        log_event("database_busy", logging.WARNING, route="fhir", sqlstate=exc.sqlstate)
        return _outcome(503, "transient", "the database is busy; retry shortly", headers={"Retry-After": "1"})
    if status == 500:
        log_event("database_error", logging.ERROR, route="fhir", sqlstate=exc.sqlstate, error=type(exc).__name__)
        return _outcome(500, "exception", "internal error")
    code = {409: "conflict", 404: "not-found"}.get(status, "processing")
    return _outcome(status, code, explain(exc))


def _unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    detail = "the database is not migrated (slotoptim migrate)" if isinstance(exc, AppRoleMissing) else "busy"
    return _outcome(503, "transient", detail, headers={"Retry-After": "1"})


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log_event("internal_error", logging.ERROR, route="fhir", error=type(exc).__name__)
    return _outcome(500, "exception", "internal error")


FHIR_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    FhirError: _fhir_error,
    HTTPException: _http_error,
    psycopg.Error: _database_error,
    PoolTimeout: _unavailable,
    AppRoleMissing: _unavailable,
    Exception: _internal,
}
