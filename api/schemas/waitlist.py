"""Waitlist entries: what a customer wants and when they can come (seed 002's shape).

Days and the time window are in the customer's own time zone; keys name the customer, the
services they would accept and the providers they prefer or refuse.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from slotoptim.api.schemas.common import ClockTime, CustomerKey, Id, ProviderKey, RecordKey, ServiceKey, Weekday

Tier = Literal["platinum", "gold", "silver", "standard"]
EntryStatus = Literal["active", "paused", "fulfilled", "cancelled", "expired"]
SettableStatus = Literal["active", "paused", "cancelled"]
Services = Annotated[list[ServiceKey], Meta(min_length=1, max_length=50)]
Providers = Annotated[list[ProviderKey], Meta(min_length=1, max_length=50)]
Excluded = Annotated[list[ProviderKey], Meta(max_length=50)]
Days = Annotated[list[Weekday], Meta(min_length=1, max_length=7)]
LeadTime = Annotated[int, Meta(ge=0, le=43200, description="least notice in minutes before a slot starts")]
Travel = Annotated[int, Meta(ge=0, le=1440)]


class Window(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    start: ClockTime
    end: ClockTime


class DateRange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename={"from_": "from"}):
    from_: dt.date | None = None
    to: dt.date | None = None


class WaitlistEntryCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    customer: CustomerKey
    services: Services
    # Null: any provider who offers one of the services.
    providers: Providers | None = None
    excluded_providers: Excluded = []
    # Null: any day.
    days: Days | None = None
    window: Window | None = None
    dates: DateRange | None = None
    lead_time_minutes: LeadTime = 120
    tier: Tier = "standard"
    travel_minutes: Travel | None = None
    max_travel_minutes: Travel | None = None
    key: RecordKey | None = None
    status: Literal["active", "paused"] = "active"


class WaitlistEntryPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Only the fields sent change; null clears an optional one."""

    services: Services | UnsetType = UNSET
    providers: Providers | UnsetType | None = UNSET
    excluded_providers: Excluded | UnsetType = UNSET
    days: Days | UnsetType | None = UNSET
    window: Window | UnsetType | None = UNSET
    dates: DateRange | UnsetType | None = UNSET
    lead_time_minutes: LeadTime | UnsetType = UNSET
    tier: Tier | UnsetType = UNSET
    travel_minutes: Travel | UnsetType | None = UNSET
    max_travel_minutes: Travel | UnsetType | None = UNSET
    status: SettableStatus | UnsetType = UNSET


class WaitlistEntry(msgspec.Struct, kw_only=True):
    id: Id
    key: str | None
    customer: str
    customer_id: int
    status: EntryStatus
    tier: Tier
    services: list[str]
    providers: list[str] | None
    excluded_providers: list[str]
    days: list[Weekday] | None
    window: Window | None
    dates: DateRange | None
    lead_time_minutes: int
    travel_minutes: int | None
    max_travel_minutes: int | None
    offers_received: int
    offers_accepted: int
    offers_declined: int
    offers_ignored: int
    added_at: dt.datetime
    updated_at: dt.datetime


class WaitlistPage(msgspec.Struct, kw_only=True):
    items: list[WaitlistEntry]
    next_cursor: str | None
