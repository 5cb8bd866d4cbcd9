"""JSON request bodies are decoded strictly: a boolean is true or false, a number is a JSON number.

Litestar converts every handler argument, the body included, with msgspec's lax rules
(`strict=False`), which suit query and path parameters (always text) but let a JSON body say
`{"active": 1}`, `{"active": "true"}` or `{"minutes": "30"}`. Before the handler's arguments are
parsed, the JSON body is converted once more, strictly, to the handler's `data` type; a value of
the wrong JSON type is a 400 naming the field. A number without a fraction (`30.0`) is still an
integer, as JSON Schema (and so the OpenAPI description) says. Forms (the claim and booking pages)
stay lax: every form field is text.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import SerializationException
from litestar.params import BodyKwarg

from slotoptim.api.errors import malformed

# msgspec's "Expected `bool`, got `int` - at `$.consent.sms`": the message, then where.
_ERROR = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
# No body of this API nests deeper; a deeper one is refused by the conversion anyway.
MAX_DEPTH = 32


def _json_body_type(request: Request[Any, Any, Any]) -> Any | None:
    """The declared type of the handler's JSON body (with its constraints), or None."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return None
    kwarg = data.kwarg_definition
    if isinstance(kwarg, BodyKwarg) and kwarg.media_type != RequestEncodingType.JSON:
        return None
    return data.raw


def _integral_floats_as_ints(value: Any, depth: int = 0) -> Any:
    """A copy in which `30.0` is `30`: JSON Schema's integer is any number without a fraction."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if depth >= MAX_DEPTH:
        return value
    if isinstance(value, list):
        return [_integral_floats_as_ints(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item, depth + 1) for key, item in value.items()}
    return value


def _field(path: str | None) -> str:
    if not path:
        return "body"
    return path.removeprefix(".")


async def refuse_lax_json_bodies(request: Request[Any, Any, Any]) -> None:
    body_type = _json_body_type(request)
    if body_type is None or not await request.body():
        return
    try:
        # Read (and cached) the way Litestar reads it.
        value = await request.json()
    except SerializationException:
        return  # malformed JSON: Litestar answers its own 400 when it reads the body
    try:
        msgspec.convert(_integral_floats_as_ints(value), body_type, strict=True)
    except msgspec.ValidationError as exc:
        match = _ERROR.match(str(exc))
        message = match["message"] if match else str(exc)
        raise malformed(_field(match["path"] if match else None), message) from None
