"""Gaps: the analysis of a window, and the live gaps the fill engine works on."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from slotoptim.api.schemas.offers import Offer

GapKind = Literal["bookable", "fragment"]
GapStatus = Literal["open", "offering", "filled", "expired", "merged", "withdrawn"]


class AnalysedGap(msgspec.Struct, kw_only=True):
    start: dt.datetime
    end: dt.datetime
    minutes: int
    kind: GapKind
    # Keys of the services that fit (minutes plus buffer).
    fits: list[str]


class GapAnalysis(msgspec.Struct, kw_only=True):
    provider: str
    timezone: str
    start: dt.datetime
    end: dt.datetime
    gaps: list[AnalysedGap]


class Gap(msgspec.Struct, kw_only=True):
    id: int
    provider: str
    start: dt.datetime
    end: dt.datetime
    minutes: int
    kind: GapKind
    fits: list[str]
    status: GapStatus
    opened_at: dt.datetime
    closed_at: dt.datetime | None


class GapPage(msgspec.Struct, kw_only=True):
    items: list[Gap]
    next_cursor: str | None


class GapDetail(msgspec.Struct, kw_only=True):
    gap: Gap
    offers: list[Offer]
