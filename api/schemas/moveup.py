"""Move-up ("earlier if possible") for a booked appointment: the preferences of a waitlist entry."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from slotoptim.api.schemas.common import Id, Weekday
from slotoptim.api.schemas.waitlist import LeadTime, Window

Days = Annotated[list[Weekday], Meta(min_length=1, max_length=7)]


class MoveUpRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # Null: any day. Days and window are in the customer's time zone.
    days: Days | None = None
    window: Window | None = None
    lead_time_minutes: LeadTime = 120
    # False: only the appointment's own provider; true: any provider of the same service.
    any_provider: bool = False


class MoveUp(msgspec.Struct, kw_only=True):
    appointment_id: Id
    # The waitlist entry that carries the enrolment (it shows in /v1/waitlist like any entry).
    waitlist_entry_id: Id
    enrolled: bool
