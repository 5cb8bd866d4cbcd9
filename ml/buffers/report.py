"""What a learned buffer absorbs compared with a fixed one, on the Hangu service times.

Set-up (all choices made on the fitting half only):
- time split by clinic session: the earlier half of the sessions fits, the later half is scored;
- scheduled minutes: one slot length for every visit, the fitting half's mean service time rounded
  to the nearest 5 minutes (`scheduled_by="clinic"`), or one per service (`scheduled_by="service"`);
- services: first visit vs follow-up; the data has one physician, so the provider level is the service level;
- learned buffer: the estimator's per-service p80 overrun; fixed buffer: the same minutes for every
  visit, equal to the learned buffers' mean over the scored visits (same total buffer time).
Per visit: overrun = max(0, actual - scheduled), absorbed = min(overrun, buffer), idle = buffer - absorbed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from slotoptim.ml.buffers.estimator import BufferSettings, DurationRecord, estimate_buffers
from slotoptim.ml.buffers.hangu import HanguVisits

ScheduledBy = Literal["clinic", "service"]
PROVIDER = "physician"
SLOT_ROUNDING_MINUTES = 5


@dataclass(frozen=True)
class PolicyOutcome:
    policy: str
    mean_buffer_minutes: float
    overrun_visits: int
    total_overrun_minutes: float
    total_absorbed_minutes: float
    mean_absorbed_minutes: float
    share_of_overrun_minutes_absorbed: float
    share_of_overruns_fully_absorbed: float
    total_idle_buffer_minutes: float
    mean_idle_buffer_minutes: float
    # Share of all visits that finished within slot + buffer.
    coverage: float


@dataclass(frozen=True)
class ServiceRow:
    service: str
    fit_rows: int
    scheduled_minutes: int
    p_quantile_overrun_minutes: float
    learned_buffer_minutes: int
    scored_rows: int
    scored_coverage: float


@dataclass(frozen=True)
class HanguBufferReport:
    source: str
    quantile: float
    max_buffer_minutes: int
    scheduled_by: str
    fit_sessions: tuple[int, int]
    scored_sessions: tuple[int, int]
    fit_rows: int
    scored_rows: int
    services: list[ServiceRow]
    learned: PolicyOutcome
    fixed: PolicyOutcome

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def outcome(policy: str, overrun: npt.NDArray[np.float64], buffers: npt.NDArray[np.float64]) -> PolicyOutcome:
    late = np.maximum(overrun, 0.0)
    absorbed = np.minimum(late, buffers)
    idle = buffers - absorbed
    overran = late > 0
    total_late = float(late.sum())
    return PolicyOutcome(
        policy=policy,
        mean_buffer_minutes=float(buffers.mean()),
        overrun_visits=int(overran.sum()),
        total_overrun_minutes=total_late,
        total_absorbed_minutes=float(absorbed.sum()),
        mean_absorbed_minutes=float(absorbed.mean()),
        share_of_overrun_minutes_absorbed=float(absorbed.sum() / total_late) if total_late > 0 else 1.0,
        share_of_overruns_fully_absorbed=float((late[overran] <= buffers[overran]).mean()) if overran.any() else 1.0,
        total_idle_buffer_minutes=float(idle.sum()),
        mean_idle_buffer_minutes=float(idle.mean()),
        coverage=float((late <= buffers).mean()),
    )


def hangu_buffer_report(
    visits: HanguVisits,
    *,
    source: str,
    settings: BufferSettings | None = None,
    scheduled_by: ScheduledBy = "clinic",
) -> HanguBufferReport:
    chosen = settings or BufferSettings()
    sessions = np.unique(visits.session)
    if len(sessions) < 2:
        raise ValueError(f"{source}: need at least two sessions to fit on one half and score the other")
    last_fit_session = sessions[(len(sessions) - 1) // 2]
    fit = visits.select(visits.session <= last_fit_session)
    scored = visits.select(visits.session > last_fit_session)

    slot = _slot_lengths(fit, scheduled_by)
    fit_services, scored_services = fit.service, scored.service
    unseen = set(scored_services.tolist()) - set(slot)
    if unseen:
        raise ValueError(f"{source}: services {sorted(unseen)} appear only in the later half")
    estimate = estimate_buffers(
        (
            DurationRecord(str(service), PROVIDER, slot[str(service)], float(minutes))
            for service, minutes in zip(fit_services, fit.service_minutes, strict=True)
        ),
        chosen,
    )
    scheduled = np.array([slot[str(s)] for s in scored_services], dtype=np.float64)
    overrun = scored.service_minutes - scheduled
    learned = np.array([estimate.buffer_for(str(s), PROVIDER) for s in scored_services], dtype=np.float64)
    fixed = np.full(len(scored), learned.mean())

    rows = []
    for name, service in sorted(estimate.services.items()):
        in_service = scored_services == name
        rows.append(
            ServiceRow(
                service=name,
                fit_rows=service.rows,
                scheduled_minutes=int(slot[name]),
                p_quantile_overrun_minutes=service.overrun_quantile,
                learned_buffer_minutes=service.buffer_minutes,
                scored_rows=int(in_service.sum()),
                scored_coverage=float((overrun[in_service] <= learned[in_service]).mean()) if in_service.any() else 0.0,
            )
        )
    return HanguBufferReport(
        source=source,
        quantile=chosen.quantile,
        max_buffer_minutes=chosen.max_buffer_minutes,
        scheduled_by=scheduled_by,
        fit_sessions=(int(sessions[0]), int(last_fit_session)),
        scored_sessions=(int(scored.session.min()), int(scored.session.max())),
        fit_rows=len(fit),
        scored_rows=len(scored),
        services=rows,
        learned=outcome("learned", overrun, learned),
        fixed=outcome("fixed", overrun, fixed),
    )


def _slot_lengths(fit: HanguVisits, scheduled_by: ScheduledBy) -> dict[str, float]:
    services = fit.service
    names = sorted(set(services.tolist()))
    if scheduled_by == "clinic":
        slot = _round_to_slot(float(fit.service_minutes.mean()))
        return {name: slot for name in names}
    return {name: _round_to_slot(float(fit.service_minutes[services == name].mean())) for name in names}


def _round_to_slot(minutes: float) -> float:
    return float(max(SLOT_ROUNDING_MINUTES, SLOT_ROUNDING_MINUTES * round(minutes / SLOT_ROUNDING_MINUTES)))


def format_hangu_report(report: HanguBufferReport) -> str:
    lines = [
        f"{report.source}: fit on sessions {report.fit_sessions[0]}-{report.fit_sessions[1]}"
        f" ({report.fit_rows} visits), scored on sessions {report.scored_sessions[0]}-{report.scored_sessions[1]}"
        f" ({report.scored_rows} visits)",
        f"buffer = p{round(report.quantile * 100)} overrun, capped at {report.max_buffer_minutes} min;"
        f" slot length by {report.scheduled_by}",
        "",
        f"{'service':<14}{'fit rows':>9}{'slot min':>9}{'q overrun':>10}{'buffer':>8}{'scored':>8}{'coverage':>10}",
    ]
    lines += [
        f"{s.service:<14}{s.fit_rows:>9}{s.scheduled_minutes:>9}{s.p_quantile_overrun_minutes:>10.2f}"
        f"{s.learned_buffer_minutes:>8}{s.scored_rows:>8}{s.scored_coverage:>10.3f}"
        for s in report.services
    ]
    lines += ["", f"{'scored half':<36}{'learned':>12}{'fixed':>12}"]
    rows: list[tuple[str, str]] = [
        ("mean buffer (min)", "mean_buffer_minutes"),
        ("visits that overran", "overrun_visits"),
        ("total overrun (min)", "total_overrun_minutes"),
        ("total absorbed (min)", "total_absorbed_minutes"),
        ("mean absorbed per visit (min)", "mean_absorbed_minutes"),
        ("share of overrun minutes absorbed", "share_of_overrun_minutes_absorbed"),
        ("share of overruns fully absorbed", "share_of_overruns_fully_absorbed"),
        ("total idle buffer (min)", "total_idle_buffer_minutes"),
        ("mean idle buffer per visit (min)", "mean_idle_buffer_minutes"),
        ("visits within slot + buffer", "coverage"),
    ]
    learned, fixed = asdict(report.learned), asdict(report.fixed)
    for label, key in rows:
        lines.append(f"{label:<36}{_number(learned[key]):>12}{_number(fixed[key]):>12}")
    return "\n".join(lines)


def _number(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)
