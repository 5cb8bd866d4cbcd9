"""The single-provider session scheduling problem (Kaandorp & Koole 2007) as plain data."""

from __future__ import annotations

import math
from dataclasses import dataclass

from slotoptim.ml.optimize.service import ServiceDistribution


class SessionInputError(ValueError):
    """An input of the session problem is out of range; ``option`` names the CLI option it came from."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


@dataclass(frozen=True)
class Weights:
    """Weights of E[waiting per patient], E[idle time] and E[lateness] in the objective (all minutes)."""

    waiting: float
    idle: float
    lateness: float

    def __post_init__(self) -> None:
        parts = (self.waiting, self.idle, self.lateness)
        if any(not math.isfinite(w) or w < 0 for w in parts):
            raise SessionInputError("--weights", f"weights must be finite and non-negative, got {parts}")
        if not any(parts):
            raise SessionInputError("--weights", "at least one weight must be positive")


@dataclass(frozen=True)
class SessionProblem:
    """N customers over T intervals of d minutes; one server, FCFS, empty at the start.

    ``count_no_show_waiting`` selects the published variant of the objective, in which a no-show
    "waits" as if present (the waiting part is then divided by N over all N customers); by default
    only customers who show contribute waiting, still divided by N.
    """

    patients: int
    intervals: int
    interval_minutes: float
    service: ServiceDistribution
    no_show: float
    weights: Weights
    count_no_show_waiting: bool = False

    def __post_init__(self) -> None:
        if self.patients < 1:
            raise SessionInputError("--patients", f"need at least 1 patient, got {self.patients}")
        if self.intervals < 1:
            raise SessionInputError("--intervals", f"need at least 1 interval, got {self.intervals}")
        if not (math.isfinite(self.interval_minutes) and self.interval_minutes > 0):
            raise SessionInputError("--interval-minutes", f"must be positive, got {self.interval_minutes}")
        if not (math.isfinite(self.no_show) and 0 <= self.no_show < 1):
            raise SessionInputError("--no-show", f"must be a probability in [0, 1), got {self.no_show}")

    @property
    def session_minutes(self) -> float:
        return self.intervals * self.interval_minutes

    def check_schedule(self, schedule: tuple[int, ...]) -> None:
        if len(schedule) != self.intervals:
            raise ValueError(f"schedule has {len(schedule)} intervals, the problem {self.intervals}")
        if any(x < 0 for x in schedule) or sum(schedule) != self.patients:
            raise ValueError(f"schedule {schedule} must be non-negative and book exactly {self.patients} patients")
