"""The check-in queue: check-ins, walk-ins, calls and moves, and what a queue looks like now."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from slotoptim.api.schemas.common import Id, Name, ProviderKey, ServiceKey

EntryStatus = Literal["waiting", "called", "in_service", "done", "left"]
MoveAction = Literal["start", "done", "no_show", "left", "recall"]
FlagKey = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$", description="a priority flag's key")]
LocationKey = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", description="location key")]
Flags = Annotated[list[FlagKey], msgspec.Meta(max_length=10)]


class CheckIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    appointment_id: Id
    source: Literal["staff", "kiosk"] = "staff"
    flags: Flags = msgspec.field(default_factory=list)


class WalkIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A provider's queue, or (without provider) the pool of a location."""

    name: Name
    provider: ProviderKey | None = None
    location: LocationKey | None = None
    service: ServiceKey | None = None
    flags: Flags = msgspec.field(default_factory=list)


class Move(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action: MoveAction


class QueueEntry(msgspec.Struct, kw_only=True):
    id: int
    ticket: str
    first_name: str | None
    status: EntryStatus
    provider: str | None
    location: str | None
    appointment_id: int | None
    flags: list[str]
    source: str
    arrived_at: dt.datetime
    called_at: dt.datetime | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    left_at: dt.datetime | None
    left_reason: str | None
    # Where the customer follows their place in the queue (a signed link; no sign-in).
    status_url: str


class Called(msgspec.Struct, kw_only=True):
    entry: QueueEntry | None


class ForecastRow(msgspec.Struct, kw_only=True):
    """One person in a provider's queue: in service, called, waiting, or booked and expected."""

    kind: Literal["in_service", "called", "waiting", "expected"]
    entry_id: int | None
    appointment_id: int | None
    position: int | None
    expected_minutes: float
    low_minutes: float
    high_minutes: float
    delay_minutes: float | None


class ProviderQueue(msgspec.Struct, kw_only=True):
    provider: str
    at: dt.datetime
    running_late_minutes: float
    rows: list[ForecastRow]


class MetricsRow(msgspec.Struct, kw_only=True):
    provider: str | None
    day: dt.date
    hour: int
    arrivals: int
    served: int
    no_shows: int
    mean_wait_minutes: float | None
    max_wait_minutes: float | None
    mean_service_minutes: float | None
    peak_queue_length: int
    mean_queue_length: float


class CheckInLink(msgspec.Struct, kw_only=True):
    """The customer's own check-in link for an appointment (for a reminder text or email)."""

    appointment_id: int
    url: str
    expires_at: dt.datetime
