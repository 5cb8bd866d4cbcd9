"""Keyset pagination: `limit` and an opaque `cursor` (the sort key of the last item served).

A cursor is base64url(JSON list); a list endpoint decodes it back to the values its ORDER BY
compares, so pages stay stable while rows are added.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

from litestar.params import QueryParameter

from slotoptim.api.errors import invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="items per page (1-200)")]
Cursor = Annotated[
    str | None,
    QueryParameter(max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="next_cursor of the previous page"),
]


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, types: tuple[type, ...]) -> list[Any] | None:
    """The values of a cursor, checked against the types the endpoint expects; 400 if it is not one of ours."""
    if cursor is None:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid("cursor", "not a cursor this API issued", "query") from None
    if (
        not isinstance(values, list)
        or len(values) != len(types)
        or not all(isinstance(v, t) and not isinstance(v, bool) for v, t in zip(values, types, strict=True))
    ):
        raise invalid("cursor", "not a cursor this API issued", "query")
    return values
