"""Loading a practice file and checking it against its JSON Schema."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from slotoptim.practice.errors import PracticeError


def practice_schema() -> dict[str, Any]:
    text = resources.files("slotoptim.practice").joinpath("practice.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def read_practice_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PracticeError(str(path), f"cannot read the file ({exc.strerror})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PracticeError(str(path), f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    check_practice(document)
    assert isinstance(document, dict)
    return document


def check_practice(document: object) -> None:
    """Raises PracticeError naming the first problem (the most specific one jsonschema finds)."""
    validator = jsonschema.Draft202012Validator(practice_schema(), format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        raise PracticeError(json_path(error.absolute_path), _describe(error))


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
