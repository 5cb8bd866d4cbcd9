"""Bodies of the payments routes (no-show protection, issue 13)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Tier = Literal["platinum", "gold", "silver", "standard"]


class PolicyPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    grace_minutes: Annotated[int, msgspec.Meta(ge=0, le=1440)] | msgspec.UnsetType = msgspec.UNSET
    late_cancel_hours: Annotated[int, msgspec.Meta(ge=0, le=720)] | msgspec.UnsetType = msgspec.UNSET
    late_cancel_far_percent: Annotated[int, msgspec.Meta(ge=0, le=100)] | msgspec.UnsetType = msgspec.UNSET
    late_cancel_near_percent: Annotated[int, msgspec.Meta(ge=0, le=100)] | msgspec.UnsetType = msgspec.UNSET
    no_show_percent: Annotated[int, msgspec.Meta(ge=0, le=100)] | msgspec.UnsetType = msgspec.UNSET
    window_days: Annotated[int, msgspec.Meta(ge=1, le=3660)] | msgspec.UnsetType = msgspec.UNSET
    card_after_no_shows: Annotated[int, msgspec.Meta(ge=1, le=100)] | msgspec.UnsetType | None = msgspec.UNSET
    deposit_after_no_shows: Annotated[int, msgspec.Meta(ge=1, le=100)] | msgspec.UnsetType | None = msgspec.UNSET
    prepay_after_no_shows: Annotated[int, msgspec.Meta(ge=1, le=100)] | msgspec.UnsetType | None = msgspec.UNSET
    deposit_percent: Annotated[int, msgspec.Meta(ge=1, le=100)] | msgspec.UnsetType = msgspec.UNSET
    card_tiers: list[Tier] | msgspec.UnsetType = msgspec.UNSET
    deposit_tiers: list[Tier] | msgspec.UnsetType = msgspec.UNSET
    card_min_price: Annotated[float, msgspec.Meta(ge=0, le=9999999999.99)] | msgspec.UnsetType | None = msgspec.UNSET
    deposit_min_price: Annotated[float, msgspec.Meta(ge=0, le=9999999999.99)] | msgspec.UnsetType | None = msgspec.UNSET
    risk_threshold: Annotated[float, msgspec.Meta(ge=0, le=1)] | msgspec.UnsetType | None = msgspec.UNSET
    risk_requirement: Annotated[str, msgspec.Meta(pattern="^(card|deposit)$")] | msgspec.UnsetType = msgspec.UNSET


class Waiver(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=500)]
