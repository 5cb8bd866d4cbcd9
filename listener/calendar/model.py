"""What the calendar adapters exchange with the sync and the writer, whatever the service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

# Our appointment id travels in every event we write (Google extendedProperties.private, Graph
# singleValueExtendedProperties / transactionId, iCalendar X-property and UID), so our own echo
# in the next delta is recognised.
OUR_ID_PROPERTY = "slotoptimAppointmentId"


@dataclass(frozen=True)
class Item:
    """One external event, normalised: busy means it blocks the provider's time."""

    id: str
    etag: str | None
    start: dt.datetime | None
    end: dt.datetime | None
    busy: bool
    ours: int | None = None
    # An id prefix: the page lists every item of this group (the instances of one recurring
    # CalDAV resource), so the group's items it omits are released.
    group: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "etag": self.etag,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "busy": self.busy,
            "ours": self.ours,
            "group": self.group,
        }


@dataclass(frozen=True)
class Page:
    items: list[Item]
    # Set on the last page of a round only: the cursor for the next incremental sync.
    cursor: str | None


@dataclass(frozen=True)
class OutboundEvent:
    """A booking as the calendar gets it: no service, no customer, nothing clinical."""

    appointment_id: int
    idempotency_key: str
    start: dt.datetime
    end: dt.datetime
    timezone: str
    title: str


@dataclass(frozen=True)
class Written:
    external_id: str
    etag: str | None


class CalendarAdapter(Protocol):
    def pages(self, cursor: str | None, at: dt.datetime) -> Iterator[Page]: ...

    def upsert_event(self, event: OutboundEvent, known_id: str | None) -> Written: ...

    def delete_event(self, idempotency_key: str, known_id: str | None) -> None: ...

    def refreshed_secrets(self) -> dict[str, str] | None: ...
