"""Message experiments (template variants per organisation) and the last-minute pricing policy (issue 16)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

ExperimentKey = Annotated[
    str, msgspec.Meta(pattern="^[a-z0-9][a-z0-9_-]{0,62}$", description="lowercase letters, digits, - and _")
]
VariantKey = Annotated[str, msgspec.Meta(pattern="^[A-Za-z0-9][A-Za-z0-9_-]{0,30}$")]
Variable = Literal["wording", "provider_name", "deadline", "personalisation", "one_tap", "other"]
Tier = Literal["platinum", "gold", "silver", "standard"]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]


class VariantIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    key: VariantKey
    template: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=640,
            description="the offer SMS; {org} {provider} {when} {first_name} {minutes} {link} ({link} required)",
        ),
    ]


class ExperimentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    key: ExperimentKey
    variable: Variable
    # The first variant by key is the control.
    variants: Annotated[list[VariantIn], msgspec.Meta(min_length=2, max_length=6)]


class VariantOut(msgspec.Struct, kw_only=True):
    key: str
    template: str
    segments: int  # SMS segments at its longest (always 1: longer ones are refused)


class ReadoutRow(msgspec.Struct, kw_only=True):
    variant: str
    is_control: bool
    sent: int
    clicked: int
    claimed: int
    declined: int
    ignored: int
    claim_rate: float | None
    difference: float | None  # claim rate minus the control's
    ci95_low: float | None
    ci95_high: float | None
    verdict: str


class ExperimentOut(msgspec.Struct, kw_only=True):
    key: str
    variable: str
    running: bool
    started_at: dt.datetime
    ended_at: dt.datetime | None
    variants: list[VariantOut]
    # The funnel per variant and the readout (no winner below min_sends sends per variant); only on
    # GET /v1/experiments/{key}.
    min_sends: int | None = None
    readout: list[ReadoutRow] | None = None


class PricingPolicy(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    enabled: bool = True
    # Slots starting within this many hours of the offer get the last-minute discount (null: none).
    last_minute_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] | None = None
    last_minute_discount_pct: Annotated[float, msgspec.Meta(ge=0, le=90)] = 0
    tier_discount_pct: dict[Tier, Percent] = msgspec.field(default_factory=dict)
    # On the organisation's holidays (local dates): the price rises by this much, the offer window
    # shortens and the wave widens (sql/55n_fn_adaptive.sql, sql/56n_fn_pricing.sql).
    holiday_surge_pct: Annotated[float, msgspec.Meta(ge=0, le=200)] = 20
    holidays: Annotated[list[dt.date], msgspec.Meta(max_length=366)] = msgspec.field(default_factory=list)


class PricingPolicyOut(PricingPolicy, kw_only=True):
    configured: bool  # False: the organisation has no policy (offers carry no price)
