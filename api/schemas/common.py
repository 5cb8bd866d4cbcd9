"""Field types shared by the request and response bodies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta

# Keys are the practice's own strings, as in practice files and the CLI.
ProviderKey = Annotated[
    str,
    Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", description="provider key, e.g. dr-chen", examples=["dr-chen"]),
]
ServiceKey = Annotated[
    str,
    Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", description="service key, e.g. checkup", examples=["checkup"]),
]
CustomerKey = Annotated[
    str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$", description="customer key", examples=["c001"])
]
RecordKey = Annotated[
    str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", description="an optional key of your own for the record")
]
# Ids are bigints; 2**53 - 1 keeps them exact in JSON numbers (and in OpenAPI's float limits).
MAX_ID = 2**53 - 1
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]
# An instant with a UTC offset; a local time without one is refused.
Instant = Annotated[dt.datetime, Meta(tz=True, description="ISO 8601 date-time with a UTC offset")]
ClockTime = Annotated[
    str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="local wall-clock time HH:MM", examples=["09:00"])
]
# Printable text: no control characters (PostgreSQL refuses NUL in text anyway).
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
TimeZone = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$",
        max_length=64,
        description="IANA time zone",
        examples=["America/New_York"],
    ),
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Strategy = Literal["sequential", "broadcast", "burst", "cascade", "staff_approval", "adaptive"]


def weekday_number(day: Weekday) -> int:
    """ISO weekday (1 = Monday), as the database stores it."""
    return WEEKDAYS.index(day) + 1


def weekday_name(number: int) -> Weekday:
    return WEEKDAYS[number - 1]


def clock_text(value: dt.time) -> str:
    return value.strftime("%H:%M")
