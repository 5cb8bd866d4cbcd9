"""What `slotoptim optimize session` prints: the optimum next to the rules of thumb."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slotoptim.ml.optimize.session_eval import SessionCost, SessionEvaluator
from slotoptim.ml.optimize.session_problem import SessionProblem
from slotoptim.ml.optimize.session_rules import bailey_welch, even_spread
from slotoptim.ml.optimize.session_search import OptimisedSession


@dataclass(frozen=True)
class SessionReport:
    problem: SessionProblem
    optimum: OptimisedSession
    seconds: float
    rows: tuple[tuple[str, tuple[int, ...], SessionCost], ...]

    def to_plain(self) -> dict[str, Any]:
        p = self.problem
        return {
            "problem": {
                "patients": p.patients,
                "intervals": p.intervals,
                "interval_minutes": p.interval_minutes,
                "service": p.service.describe(),
                "no_show": p.no_show,
                "weights": {"waiting": p.weights.waiting, "idle": p.weights.idle, "lateness": p.weights.lateness},
                "waiting_counts_no_shows": p.count_no_show_waiting,
            },
            "schedules": {
                name: {
                    "schedule": list(schedule),
                    "objective": cost.objective,
                    "wait_per_patient": cost.wait_per_patient,
                    "idle": cost.idle,
                    "lateness": cost.lateness,
                }
                for name, schedule, cost in self.rows
            },
            "search": {
                "start": list(self.optimum.start),
                "moves": self.optimum.moves,
                "evaluations": self.optimum.evaluations,
                "neighbourhood": self.optimum.neighbourhood,
                "certified_gap": self.optimum.certified_gap,
                "seconds": self.seconds,
            },
        }

    def to_table(self) -> str:
        p = self.problem
        waiting = "all booked, no-shows too" if p.count_no_show_waiting else "those who show"
        lines = [
            f"Session: {p.patients} patients, {p.intervals} intervals of {p.interval_minutes:g} min, "
            f"service {p.service.describe()}, no-show {p.no_show:g}",
            f"Objective = {p.weights.waiting:g} x wait/patient + {p.weights.idle:g} x idle + "
            f"{p.weights.lateness:g} x lateness (minutes; waiting of {waiting}, divided by N)",
            "",
            f"{'schedule':<14}{'objective':>11}{'wait/pat':>10}{'idle':>9}{'lateness':>10}  bookings per interval",
        ]
        for name, schedule, cost in self.rows:
            lines.append(
                f"{name:<14}{cost.objective:>11.4f}{cost.wait_per_patient:>10.4f}{cost.idle:>9.4f}"
                f"{cost.lateness:>10.4f}  {' '.join(str(x) for x in schedule)}"
            )
        o = self.optimum
        proof = (
            "proved optimal"
            if o.certified_gap >= -1e-9 * max(1.0, o.cost.objective)
            else (f"neighbourhood bound {o.certified_gap:.2e}")
        )
        lines.append("")
        lines.append(
            f"search: {o.moves} moves from {' '.join(str(x) for x in o.start)}, {o.evaluations} evaluations, "
            f"{o.neighbourhood} neighbourhood, {proof}, {self.seconds:.2f} s"
        )
        return "\n".join(lines)


def build_session_report(problem: SessionProblem, optimum: OptimisedSession, seconds: float) -> SessionReport:
    evaluator = SessionEvaluator(problem)
    rules = (
        ("bailey-welch", bailey_welch(problem.patients, problem.intervals)),
        ("even spread", even_spread(problem.patients, problem.intervals)),
    )
    rows = (
        ("optimal", optimum.schedule, optimum.cost),
        *((name, schedule, evaluator.evaluate(schedule)) for name, schedule in rules),
    )
    return SessionReport(problem, optimum, seconds, rows)
