"""The error answers each route documents in OpenAPI (so a client, and schemathesis, know them)."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec

from slotoptim.api.errors import Problem


def _spec(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=Problem, description=description, generate_examples=False)


BAD_REQUEST = {400: _spec("the request is malformed; the detail names the field")}
AUTH = {401: _spec("credentials missing or invalid"), 403: _spec("the credentials' role is too low")}
NOT_FOUND = {404: _spec("no such resource in your organisation")}
CONFLICT = {409: _spec("the change conflicts with the calendar or the record's state")}
UNPROCESSABLE = {422: _spec("well-formed, but the values cannot be accepted; the field or rule is named")}
UNAVAILABLE = {503: _spec("the database is busy or unreachable; retry")}


def errors(*, not_found: bool = True, conflict: bool = False, unprocessable: bool = True) -> dict[int, ResponseSpec]:
    specs = {**BAD_REQUEST, **AUTH, **UNAVAILABLE}
    if not_found:
        specs |= NOT_FOUND
    if conflict:
        specs |= CONFLICT
    if unprocessable:
        specs |= UNPROCESSABLE
    return specs
