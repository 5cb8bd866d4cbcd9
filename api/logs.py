"""Structured JSON logs, one object a line on standard error.

Never personal data: ids, routes, statuses, durations and error classes only; no phone numbers,
names, message bodies, query strings or client addresses (the audit trail in the database keeps
the address, under access control).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

from slotoptim.api.request_id import current_request_id

LOGGER_NAME = "slotoptim.api"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        return json.dumps(entry, default=str)


def logger() -> logging.Logger:
    """The API's logger; gets a JSON handler on standard error the first time, unless the host
    application configured one."""
    log = logging.getLogger(LOGGER_NAME)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    request_id = current_request_id.get()
    if request_id is not None and "request_id" not in fields:
        fields["request_id"] = request_id
    logger().log(level, event, extra={"fields": fields})
