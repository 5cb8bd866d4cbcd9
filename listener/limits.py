"""The input rules the database enforces, mirrored in Python so that a bad value is named before it
reaches a constraint (docs/architecture.md, "Input rules"). The database stays the judge: these
constants match sql/20_fn_validators.sql and the check constraints that use them."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

# slotoptim_private.is_supported_instant: both ends included.
EARLIEST_INSTANT = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST_INSTANT = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
# appointment_length_max
LONGEST_APPOINTMENT = dt.timedelta(hours=24)
# A practice file larger than this is refused before it is parsed (the demo practice is ~0.3 MB).
MAX_PRACTICE_FILE_BYTES = 64 * 1024 * 1024

# slotoptim_private.is_timezone: an IANA Area/Location name, or UTC.
_PLACE_ZONE = re.compile(r"^[A-Z][A-Za-z_-]*(/[A-Za-z0-9_+-]+)+$")
_NOT_PLACES = re.compile(r"^(Etc|posix|right|SystemV)/")


def instant_problem(value: dt.datetime) -> str | None:
    """Why an instant cannot be stored, or None."""
    if not EARLIEST_INSTANT <= value <= LATEST_INSTANT:
        return "must lie between 1900-01-01 and 2200-01-01 (UTC)"
    return None


def zone_problem(name: str) -> str | None:
    """Why a time zone name is refused (its spelling; whether it exists is ZoneInfo's business)."""
    if name == "UTC":
        return None
    if not _PLACE_ZONE.match(name) or _NOT_PLACES.match(name):
        return (
            f"{name!r} is not a place's time zone (use an IANA Area/Location name such as "
            "America/New_York, or UTC; Factory, EST5EDT and Etc/GMT+5 are refused)"
        )
    return None


def price_problem(value: object) -> str | None:
    """Why a price cannot be stored exactly (numeric(12, 2) would round it silently), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return "must be a number"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return "must be a number"
    if not amount.is_finite():
        return "must be a finite number"
    if amount < 0:
        return "must not be negative"
    if amount != amount.quantize(Decimal("0.01")):
        return f"{value} has more than two decimals (prices are stored in cents)"
    if amount >= Decimal("10000000000"):
        return "must be below 10,000,000,000"
    return None
