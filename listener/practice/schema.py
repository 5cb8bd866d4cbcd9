"""Loading a practice file and checking it against its JSON Schema."""

from __future__ import annotations

import codecs
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from slotoptim.listener.limits import MAX_PRACTICE_FILE_BYTES
from slotoptim.listener.practice.errors import PracticeError

# A practice file nests five levels; anything far deeper is not one.
MAX_DEPTH = 32


def practice_schema() -> dict[str, Any]:
    text = resources.files("slotoptim.listener.practice").joinpath("practice.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def read_practice_file(path: Path, max_bytes: int = MAX_PRACTICE_FILE_BYTES) -> dict[str, Any]:
    """Reads and checks a practice file: UTF-8 JSON of at most `max_bytes` (read no further, so
    /dev/zero or a runaway pipe is refused, not swallowed)."""
    where = str(path)
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except OSError as exc:
        raise PracticeError(where, f"cannot read the file ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise PracticeError(where, f"larger than {max_bytes // (1024 * 1024)} MB: not a practice file")
    text = _utf8_text(data, where)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PracticeError(where, f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise PracticeError(where, f"not a practice file: JSON nested deeper than {MAX_DEPTH} levels") from None
    check_practice(document)
    assert isinstance(document, dict)
    return document


def _utf8_text(data: bytes, where: str) -> str:
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise PracticeError(where, "the file is UTF-16 or UTF-32 text: save it as UTF-8")
    if b"\x00" in data:
        # JSON text never holds a raw NUL byte: a binary file, or UTF-16 without its byte-order mark.
        offset = data.index(b"\x00")
        raise PracticeError(where, f"not a text file (a NUL byte at offset {offset}); save it as UTF-8 JSON")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PracticeError(where, f"not UTF-8 text (byte {exc.start} cannot be decoded); save it as UTF-8") from None


def check_practice(document: object) -> None:
    """Raises PracticeError naming the first problem (the most specific one jsonschema finds)."""
    _check_values(document)
    validator = jsonschema.Draft202012Validator(practice_schema(), format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        raise PracticeError(json_path(error.absolute_path), _describe(error))


def _check_values(document: object) -> None:
    """What JSON Schema cannot say: no value nested deeper than MAX_DEPTH (checked without
    recursion), no NUL character in a text (PostgreSQL stores none), no NaN or infinity."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise PracticeError(json_path(path[:MAX_DEPTH]), f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, str):
            if "\x00" in value:
                raise PracticeError(json_path(path), "contains a NUL character")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise PracticeError(json_path(path), f"{value} is not a number a practice can store")
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise PracticeError(json_path(path), "a field name contains a NUL character")
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, i)) for i, item in enumerate(value))


def json_path(parts: Any) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(file)"


def _describe(error: jsonschema.exceptions.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return str(error.message).replace("Additional properties are not allowed", "unknown field(s)")
    if error.validator == "pattern":
        return f"{error.instance!r} is not in the expected form"
    return str(error.message)
