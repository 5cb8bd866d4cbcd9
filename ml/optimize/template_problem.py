"""Inputs of the weekly slot-template problem, as plain frozen dataclasses.

Everything is per week: the template repeats every week, demand is the expected number of requests
per week that would like a given weekday and hour. Keys are plain tuples so that a caller (the
database wiring, a JSON file) can build them without knowing this module's internals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

ProviderHour = tuple[str, str, int]
"""(provider, weekday, hour of day)."""
DemandKey = tuple[str, int, str]
"""(weekday, hour of day, visit type)."""
SlotKey = tuple[str, str, int, str]
"""(provider, weekday, hour of day, visit type)."""


class TemplateInputError(ValueError):
    """The template inputs are inconsistent; the message names the offending field."""


@dataclass(frozen=True)
class VisitType:
    name: str
    mean_minutes: float
    std_minutes: float
    no_show_rate: float
    unmet_penalty: float = 120.0
    """Cost of one request per week left unserved, in patient-waiting-minute equivalents."""

    def __post_init__(self) -> None:
        _positive(f"visit type {self.name!r} mean_minutes", self.mean_minutes)
        _non_negative(f"visit type {self.name!r} std_minutes", self.std_minutes)
        _non_negative(f"visit type {self.name!r} unmet_penalty", self.unmet_penalty)
        if not 0 <= self.no_show_rate < 1:
            raise TemplateInputError(
                f"visit type {self.name!r} no_show_rate must be in [0, 1), got {self.no_show_rate}"
            )


@dataclass(frozen=True)
class TemplateSettings:
    """Weights and planning limits; the defaults are documented in docs/planning-guide.md."""

    waiting_weight: float = 1.0
    """Cost per expected patient-minute of waiting."""
    no_show_weight: float = 1.0
    """Cost per provider minute booked to a patient who does not come."""
    shift_penalty_per_hour: float = 5.0
    """Cost per patient per hour between the preferred hour and the slot they get."""
    max_shift_hours: int = 2
    """Patients are not offered slots further than this from their preferred hour."""
    max_utilisation: float = 0.9
    """Cap on expected attended minutes / available minutes in any provider-hour."""
    max_booking_ratio: float = 1.0
    """Cap on booked minutes (no-shows included) / available minutes; above 1 allows overbooking."""
    arrival_scv: float = 0.3
    """Squared coefficient of variation of inter-arrival times in the Kingman waiting curve."""

    def __post_init__(self) -> None:
        for name in ("waiting_weight", "no_show_weight", "shift_penalty_per_hour", "arrival_scv"):
            _non_negative(name, getattr(self, name))
        if self.max_shift_hours < 0:
            raise TemplateInputError(f"max_shift_hours must be >= 0, got {self.max_shift_hours}")
        if not 0 < self.max_utilisation < 1:
            raise TemplateInputError(f"max_utilisation must be in (0, 1), got {self.max_utilisation}")
        _positive("max_booking_ratio", self.max_booking_ratio)


@dataclass(frozen=True)
class TemplateProblem:
    providers: tuple[str, ...]
    weekdays: tuple[str, ...]
    hours: tuple[int, ...]
    available_minutes: Mapping[ProviderHour, float]
    """Minutes of the hour the provider sees patients (0-60); missing keys mean not working."""
    visit_types: tuple[VisitType, ...]
    demand: Mapping[DemandKey, float]
    """Expected requests per week preferring that weekday and hour."""
    hour_penalty: Mapping[tuple[str, int], float] = field(default_factory=dict)
    """Cost per slot placed in (weekday, hour), for hours patients dislike in general."""
    no_show_hour_factor: Mapping[tuple[str, int], float] = field(default_factory=dict)
    """Multiplier of every visit type's no-show rate in (weekday, hour); 1 when missing."""
    provider_visit_types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Visit types each provider offers; a provider not listed offers all."""
    settings: TemplateSettings = field(default_factory=TemplateSettings)

    def __post_init__(self) -> None:
        _unique("providers", self.providers)
        _unique("weekdays", self.weekdays)
        _unique("hours", self.hours)
        _unique("visit types", tuple(v.name for v in self.visit_types))
        names = {v.name for v in self.visit_types}
        for (provider, weekday, hour), minutes in self.available_minutes.items():
            self._check_cell("available_minutes", provider, weekday, hour)
            if not 0 <= minutes <= 60:
                raise TemplateInputError(f"available_minutes{(provider, weekday, hour)} must be 0-60, got {minutes}")
        for (weekday, hour, visit), requests in self.demand.items():
            self._check_cell("demand", None, weekday, hour)
            if visit not in names:
                raise TemplateInputError(f"demand names unknown visit type {visit!r}")
            _non_negative(f"demand{(weekday, hour, visit)}", requests)
        for key, penalty in self.hour_penalty.items():
            self._check_cell("hour_penalty", None, *key)
            _non_negative(f"hour_penalty{key}", penalty)
        for key, factor in self.no_show_hour_factor.items():
            self._check_cell("no_show_hour_factor", None, *key)
            _non_negative(f"no_show_hour_factor{key}", factor)
        for provider, offered in self.provider_visit_types.items():
            if provider not in self.providers or not set(offered) <= names:
                raise TemplateInputError(f"provider_visit_types names unknown provider or visit type: {provider!r}")

    def visit(self, name: str) -> VisitType:
        for visit in self.visit_types:
            if visit.name == name:
                return visit
        raise KeyError(name)

    def offers(self, provider: str, visit: str) -> bool:
        offered = self.provider_visit_types.get(provider)
        return offered is None or visit in offered

    def minutes(self, provider: str, weekday: str, hour: int) -> float:
        return float(self.available_minutes.get((provider, weekday, hour), 0.0))

    def window(self, provider: str, weekday: str, hour: int) -> tuple[float, float]:
        """The minutes of the day (start, end) a provider works in an hour.

        A part-time hour lies at the start of the hour, except one that leads into a working hour
        when the work before it does not reach it: a day or an afternoon starting at 08:30 or 13:30
        works the last 30 minutes of hour 8 or 13.
        """
        minutes = self.minutes(provider, weekday, hour)
        if 0 < minutes < 60 and self.minutes(provider, weekday, hour + 1) > 0:
            before = self.minutes(provider, weekday, hour - 1) > 0
            if not before or self.window(provider, weekday, hour - 1)[1] < hour * 60:
                return hour * 60.0 + 60.0 - minutes, hour * 60.0 + 60.0
        return hour * 60.0, hour * 60.0 + minutes

    def spread(self, provider: str, weekday: str, hour: int, minutes: float) -> list[tuple[int, float]] | None:
        """Where a visit of ``minutes`` booked in ``hour`` takes the provider's time: [(hour, minutes)].

        A visit that fits the hour's working minutes stays in it. A longer one starts as early as the
        hour allows (filling it) and runs on into the following hours while the working time is
        continuous; None when the working block ends first.
        """
        available = self.minutes(provider, weekday, hour)
        if available <= 0:
            return None
        if minutes <= available + 1e-9:
            return [(hour, minutes)]
        parts: list[tuple[int, float]] = []
        left, current = minutes, hour
        while left > 1e-9:
            taken = min(left, self.minutes(provider, weekday, current))
            parts.append((current, taken))
            left -= taken
            if left <= 1e-9:
                break
            _, ends = self.window(provider, weekday, current)
            following = current + 1
            starts, _ = self.window(provider, weekday, following)
            if ends < following * 60 or self.minutes(provider, weekday, following) <= 0 or starts > following * 60:
                return None
            current = following
        return parts

    def no_show_rate(self, visit: VisitType, weekday: str, hour: int) -> float:
        return min(1.0, visit.no_show_rate * self.no_show_hour_factor.get((weekday, hour), 1.0))

    def _check_cell(self, what: str, provider: str | None, weekday: str, hour: int) -> None:
        if provider is not None and provider not in self.providers:
            raise TemplateInputError(f"{what} names unknown provider {provider!r}")
        if weekday not in self.weekdays:
            raise TemplateInputError(f"{what} names unknown weekday {weekday!r}")
        if hour not in self.hours:
            raise TemplateInputError(f"{what} names hour {hour!r}, which is not among the hours")


def _unique(what: str, names: tuple[object, ...]) -> None:
    if not names:
        raise TemplateInputError(f"{what}: need at least one")
    if len(set(names)) != len(names):
        raise TemplateInputError(f"{what}: duplicates in {names}")


def _positive(what: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise TemplateInputError(f"{what} must be positive, got {value}")


def _non_negative(what: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise TemplateInputError(f"{what} must be non-negative, got {value}")
