"""Offers of a gap, starting a campaign, and claims."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from slotoptim.api.schemas.common import Id, Strategy

OfferStatus = Literal["open", "claimed", "awaiting_approval", "declined", "expired", "retracted"]
ClaimOutcomeName = Literal[
    "booked", "awaiting_approval", "already_yours", "being_confirmed", "filled", "expired", "not_yours", "unknown"
]


class Offer(msgspec.Struct, kw_only=True):
    id: int
    customer: str
    customer_id: int
    service: str
    start: dt.datetime
    end: dt.datetime
    wave: int
    score: float
    channel: Literal["sms", "whatsapp", "email"]
    status: OfferStatus
    send_at: dt.datetime
    expires_at: dt.datetime


class OfferRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    gap_id: Id
    # Default: the organisation's strategy.
    strategy: Strategy | None = None


class Campaign(msgspec.Struct, kw_only=True):
    campaign_id: int
    gap_id: int
    strategy: Strategy
    status: Literal["running", "awaiting_approval", "filled", "released", "expired", "cancelled"]
    wave: int
    next_action_at: dt.datetime | None
    offers: list[Offer]


SlotToken = Annotated[
    str,
    msgspec.Meta(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="the claim link's token"),
]


class InstantClaim(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slot_token: SlotToken
    customer_id: Id


class Alternative(msgspec.Struct, kw_only=True):
    gap_id: int
    provider: str
    start: dt.datetime
    service: str


class ClaimOutcome(msgspec.Struct, kw_only=True):
    outcome: ClaimOutcomeName
    message: str
    appointment_id: int | None = None
    gap_id: int | None = None
    alternatives: list[Alternative] = []
