"""Appointments: create, reschedule, change status, read."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from slotoptim.api.schemas.common import CustomerKey, Id, Instant, ProviderKey, RecordKey, ServiceKey

AppointmentStatus = Literal["booked", "confirmed", "arrived", "completed", "no_show", "cancelled"]
StatusChangeTo = Literal["confirmed", "arrived", "completed", "no_show"]


class AppointmentCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    provider: ProviderKey
    service: ServiceKey
    start: Instant
    # Default: start plus the service's minutes.
    end: Instant | None = None
    customer: CustomerKey | None = None
    key: RecordKey | None = None
    status: Literal["booked", "confirmed"] = "booked"


class Reschedule(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    start: Instant
    # Default: the same length as before.
    end: Instant | None = None


class StatusChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    status: StatusChangeTo


class Appointment(msgspec.Struct, kw_only=True):
    id: Id
    key: str | None
    provider: str
    service: str
    customer: str | None
    customer_id: int | None
    start: dt.datetime
    end: dt.datetime
    timezone: str
    status: AppointmentStatus
    source: str
    buffer_after_minutes: int
    price: float
    booked_at: dt.datetime
    cancelled_at: dt.datetime | None


class AppointmentPage(msgspec.Struct, kw_only=True):
    items: list[Appointment]
    next_cursor: str | None


class Cancellation(msgspec.Struct, kw_only=True):
    appointment: Appointment
    # The open gaps the cancellation created (none when the time has passed).
    gap_ids: list[int]
