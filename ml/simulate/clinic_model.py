"""Plain inputs and outputs of the clinic simulation, independent of where a schedule comes from.

Times are minutes after midnight. The database wiring (later) only has to produce ``ProviderDay``
values from its appointments; templates are turned into them by ``template_days``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


class SimulationInputError(ValueError):
    """A simulation setting is out of range; ``option`` names the CLI option it comes from."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


@dataclass(frozen=True)
class Appointment:
    minute: float
    visit_type: str
    no_show_risk: float
    booking_probability: float = 1.0
    """Chance the slot is booked at all; a template's slots in hours patients avoid may stay empty."""


@dataclass(frozen=True)
class ProviderDay:
    provider: str
    weekday: str
    appointments: tuple[Appointment, ...]
    working: tuple[tuple[float, float], ...]
    """Working periods (start, end) in minutes; overtime is work after the last end."""

    @property
    def available_minutes(self) -> float:
        return sum(end - start for start, end in self.working)

    @property
    def closes_at(self) -> float:
        return max(end for _, end in self.working)


@dataclass(frozen=True)
class Punctuality:
    """Arrival minus appointment time, minutes: normal(mean, sd) truncated to [earliest, latest]."""

    mean: float = -5.0
    sd: float = 8.0
    earliest: float = -30.0
    latest: float = 30.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.sd) and self.sd >= 0) or not self.earliest <= self.mean <= self.latest:
            raise SimulationInputError(
                "--punctuality", f"need sd >= 0 and earliest <= mean <= latest, got {self.describe()}"
            )

    def describe(self) -> str:
        return f"normal:{self.mean:g},{self.sd:g},{self.earliest:g},{self.latest:g}"


@dataclass(frozen=True)
class SimulationSettings:
    punctuality: Punctuality = field(default_factory=Punctuality)
    no_show_rate: float | None = None
    """Replaces every appointment's own risk when set."""
    cancellation_rate: float = 0.0
    """Share of appointments cancelled ahead (slot left empty: refilling is the `fill` simulation's job)."""
    walk_ins_per_hour: float = 0.0
    walk_in_visit_type: str | None = None
    """Visit type whose durations walk-ins take; the first visit type when None."""
    cv_multiplier: float = 1.0
    """Multiplies every visit type's duration spread (sensitivity analysis)."""
    see_early: bool = False
    """Whether an early patient may be seen before the appointment time."""

    def __post_init__(self) -> None:
        if self.no_show_rate is not None and not 0 <= self.no_show_rate < 1:
            raise SimulationInputError("--no-show", f"must be in [0, 1), got {self.no_show_rate}")
        if not 0 <= self.cancellation_rate < 1:
            raise SimulationInputError("--cancellation-rate", f"must be in [0, 1), got {self.cancellation_rate}")
        if not (math.isfinite(self.walk_ins_per_hour) and self.walk_ins_per_hour >= 0):
            raise SimulationInputError("--walk-ins-per-hour", f"must be >= 0, got {self.walk_ins_per_hour}")
        if not (math.isfinite(self.cv_multiplier) and self.cv_multiplier >= 0):
            raise SimulationInputError("--cv-multiplier", f"must be >= 0, got {self.cv_multiplier}")


@dataclass(frozen=True)
class DayOutcome:
    waits: tuple[float, ...]
    """Minutes each scheduled patient who came waited beyond max(arrival, appointment time)."""
    walk_in_waits: tuple[float, ...]
    attended_minutes: float
    available_minutes: float
    overtime_minutes: float
    no_shows: int
    cancellations: int
    empty_slots: int
