"""The result of the template programme: slots, objective parts and where demand is expected to book."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slotoptim.ml.optimize.template_problem import SlotKey, TemplateProblem


@dataclass(frozen=True)
class ObjectiveParts:
    waiting: float
    no_show: float
    unmet: float
    preference: float

    @property
    def total(self) -> float:
        return self.waiting + self.no_show + self.unmet + self.preference


@dataclass(frozen=True)
class Template:
    slots: Mapping[SlotKey, int]
    """Slots per (provider, weekday, hour, visit type); zero entries are left out."""
    parts: ObjectiveParts
    waiting_minutes: float
    """Expected patient-minutes of waiting per week, by the MIP's waiting curve."""
    served: Mapping[str, float]
    unmet: Mapping[str, float]
    bookings: Mapping[tuple[str, int, str], float]
    """Expected requests per week booked into (weekday, hour, visit type), all providers together."""
    status: str
    """"optimal", "feasible" (stopped at a time limit) or "evaluated" (a given template)."""
    lower_bound: float
    """The solver's proven bound: no template has a lower objective than this."""

    @property
    def relative_gap(self) -> float:
        total = self.parts.total
        return 0.0 if total <= 0 else max(0.0, (total - self.lower_bound) / total)

    def count(self, provider: str, weekday: str, hour: int, visit: str) -> int:
        return self.slots.get((provider, weekday, hour, visit), 0)

    def fill_rate(self, weekday: str, hour: int, visit: str) -> float:
        """Expected share of the cell's slots that get booked (demand routed there / slots there)."""
        slots = sum(n for (_, w, h, v), n in self.slots.items() if (w, h, v) == (weekday, hour, visit))
        return 0.0 if slots == 0 else min(1.0, self.bookings.get((weekday, hour, visit), 0.0) / slots)

    def booked_minutes(self, problem: TemplateProblem, provider: str, weekday: str, hour: int) -> float:
        return sum(self.count(provider, weekday, hour, v.name) * v.mean_minutes for v in problem.visit_types)

    def to_plain(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "lower_bound": self.lower_bound,
            "relative_gap": self.relative_gap,
            "objective": {
                "total": self.parts.total,
                "waiting": self.parts.waiting,
                "no_show": self.parts.no_show,
                "unmet": self.parts.unmet,
                "preference": self.parts.preference,
            },
            "expected_waiting_minutes_per_week": self.waiting_minutes,
            "served_per_week": dict(self.served),
            "expected_bookings": [
                {"weekday": w, "hour": h, "visit_type": v, "requests": r} for (w, h, v), r in self.bookings.items()
            ],
            "unmet_per_week": dict(self.unmet),
            "slots": [
                {"provider": p, "weekday": w, "hour": h, "visit_type": v, "slots": n}
                for (p, w, h, v), n in self.slots.items()
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_plain(), indent=2)
