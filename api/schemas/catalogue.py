"""The practice set-up: providers, services, weekly hours and the organisation's settings."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from slotoptim.api.schemas.common import ClockTime, Name, ServiceKey, Strategy, TimeZone, Weekday

Minutes = Annotated[int, Meta(ge=1, le=1440)]
# A setting stored as an interval, read and written in whole minutes: 0 to 365 days.
IntervalMinutes = Annotated[int, Meta(ge=0, le=525_600)]
BufferMinutes = Annotated[int, Meta(ge=0, le=480)]
Price = Annotated[float, Meta(ge=0, le=9_999_999_999.99)]
Category = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Complexity = Annotated[int, Meta(ge=1, le=5)]


class Provider(msgspec.Struct, kw_only=True):
    key: str
    name: str
    timezone: str
    location: str | None
    active: bool
    services: list[str]


class ProviderPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    timezone: TimeZone | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    # Replaces the services the provider offers.
    services: Annotated[list[ServiceKey], Meta(max_length=200)] | UnsetType = UNSET


class Service(msgspec.Struct, kw_only=True):
    key: str
    name: str
    minutes: int
    price: float
    currency: str
    buffer_after_minutes: int
    category: str
    complexity: int
    active: bool


class ServicePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    minutes: Minutes | UnsetType = UNSET
    price: Price | UnsetType = UNSET
    buffer_after_minutes: BufferMinutes | UnsetType = UNSET
    category: Category | UnsetType = UNSET
    complexity: Complexity | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class Hours(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Weekly hours in the provider's local wall-clock time; the same shape as in practice files."""

    days: Annotated[list[Weekday], Meta(min_length=1, max_length=7)]
    start: ClockTime
    end: ClockTime


class ProviderHours(msgspec.Struct, kw_only=True):
    provider: str
    timezone: str
    hours: list[Hours]


HoursList = Annotated[list[Hours], Meta(max_length=100)]

Weight = Annotated[int, Meta(ge=0, le=1000)]
MoveUpPrefer = Literal["furthest", "closest"]
# The divisors of a day up to four hours.
GridMinutes = Literal[
    1,
    2,
    3,
    4,
    5,
    6,
    8,
    9,
    10,
    12,
    15,
    16,
    18,
    20,
    24,
    30,
    32,
    36,
    40,
    45,
    48,
    60,
    72,
    80,
    90,
    96,
    120,
    144,
    160,
    180,
    240,
]


class Settings(msgspec.Struct, kw_only=True):
    auto_offer: bool
    offer_strategy: Strategy
    score_threshold: float
    max_offers_per_day: int
    max_offers_per_week: int
    fatigue_ignored_limit: int
    claim_hold_seconds: int
    max_buffer_minutes: int
    # Offered slots start on this grid of the provider's local clock (minutes from midnight).
    slot_grid_minutes: int
    send_window_start: str
    send_window_end: str
    weight_time: int
    weight_provider: int
    weight_service: int
    weight_travel: int
    weight_lead: int
    weight_response: int
    weight_fairness: int
    # Move-up and reminders (issue 12).
    weight_earlier: int
    moveup_auto_enrol: bool
    moveup_prefer: MoveUpPrefer
    moveup_max_chain: int
    # An earlier slot must start at least this much earlier; a moved customer is not offered
    # another move within the cooldown (organisation_settings.moveup_min_gain, moveup_cooldown).
    moveup_min_gain_minutes: int
    moveup_cooldown_minutes: int
    reminders_enabled: bool
    # The adaptive strategy's targets (issue 16): fill probability within its horizon, and expected
    # "yes, but it was gone" answers per fill a wave may cause.
    adaptive_fill_target: float
    adaptive_max_late_claims: float


class SettingsPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    auto_offer: bool | UnsetType = UNSET
    offer_strategy: Strategy | UnsetType = UNSET
    score_threshold: Annotated[float, Meta(ge=0, le=100)] | UnsetType = UNSET
    max_offers_per_day: Annotated[int, Meta(ge=0, le=100)] | UnsetType = UNSET
    max_offers_per_week: Annotated[int, Meta(ge=0, le=500)] | UnsetType = UNSET
    fatigue_ignored_limit: Annotated[int, Meta(ge=1, le=100)] | UnsetType = UNSET
    claim_hold_seconds: Annotated[int, Meta(ge=10, le=3600)] | UnsetType = UNSET
    max_buffer_minutes: Annotated[int, Meta(ge=0, le=480)] | UnsetType = UNSET
    # A divisor of a day, so the grid is the same every day (the database checks it too).
    slot_grid_minutes: GridMinutes | UnsetType = UNSET
    send_window_start: ClockTime | UnsetType = UNSET
    send_window_end: ClockTime | UnsetType = UNSET
    weight_time: Weight | UnsetType = UNSET
    weight_provider: Weight | UnsetType = UNSET
    weight_service: Weight | UnsetType = UNSET
    weight_travel: Weight | UnsetType = UNSET
    weight_lead: Weight | UnsetType = UNSET
    weight_response: Weight | UnsetType = UNSET
    weight_fairness: Weight | UnsetType = UNSET
    # Move-up and reminders (issue 12): the earlier-slot weight, auto-enrolment of new bookings,
    # whether the furthest or closest appointments are preferred, the longest chain, reminders on.
    weight_earlier: Weight | UnsetType = UNSET
    moveup_auto_enrol: bool | UnsetType = UNSET
    moveup_prefer: MoveUpPrefer | UnsetType = UNSET
    moveup_max_chain: Annotated[int, Meta(ge=1, le=100)] | UnsetType = UNSET
    moveup_min_gain_minutes: IntervalMinutes | UnsetType = UNSET
    moveup_cooldown_minutes: IntervalMinutes | UnsetType = UNSET
    reminders_enabled: bool | UnsetType = UNSET
    adaptive_fill_target: Annotated[float, Meta(gt=0, lt=1)] | UnsetType = UNSET
    adaptive_max_late_claims: Annotated[float, Meta(ge=0, le=100)] | UnsetType = UNSET
