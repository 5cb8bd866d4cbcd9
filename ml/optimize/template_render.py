"""Plain-text tables of templates, for the CLI's --format table."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slotoptim.ml.optimize.template_problem import TemplateProblem
from slotoptim.ml.optimize.template_result import Template


def render_comparison(problem: TemplateProblem, named: Sequence[tuple[str, Template]]) -> str:
    """Objective parts side by side, then each template's slot grid."""
    names = [name for name, _ in named]
    width = max(12, *(len(n) + 2 for n in names))
    lines = ["Objective per week" + "".join(f"{n:>{width}}" for n in names)]
    rows: list[tuple[str, Callable[[Template], float]]] = [
        ("  total", lambda t: t.parts.total),
        ("  waiting", lambda t: t.parts.waiting),
        ("  no-show", lambda t: t.parts.no_show),
        ("  unmet demand", lambda t: t.parts.unmet),
        ("  preference", lambda t: t.parts.preference),
        ("waiting minutes", lambda t: t.waiting_minutes),
    ]
    for label, value in rows:
        lines.append(f"{label:<18}" + "".join(f"{value(t):>{width}.1f}" for _, t in named))
    for visit in problem.visit_types:
        lines.append(f"{'unmet ' + visit.name:<18}" + "".join(f"{t.unmet[visit.name]:>{width}.1f}" for _, t in named))
    for name, template in named:
        lines.append("")
        lines.append(render_slots(problem, template, title=f"{name} template ({template.status})"))
    return "\n".join(lines)


def render_slots(problem: TemplateProblem, template: Template, *, title: str) -> str:
    """One grid per provider: hours down, weekdays across, cells are counts per visit type it offers."""
    lines = [f"{title}: slots per hour"]
    for provider in problem.providers:
        offered = [v for v in problem.visit_types if problem.offers(provider, v.name)]
        if not offered:
            continue
        cell = max(len(problem.weekdays[0]), 2 * len(offered) + 3)
        lines.append(f"{provider} ({'/'.join(v.name for v in offered)})")
        lines.append(" " * 6 + "".join(f"{w:>{cell}}" for w in problem.weekdays))
        for hour in problem.hours:
            if all(problem.minutes(provider, w, hour) <= 0 for w in problem.weekdays):
                continue
            cells = []
            for weekday in problem.weekdays:
                if problem.minutes(provider, weekday, hour) <= 0:
                    cells.append("-")
                else:
                    cells.append("/".join(str(template.count(provider, weekday, hour, v.name)) for v in offered))
            lines.append(f"{hour:02d}:00 " + "".join(f"{c:>{cell}}" for c in cells))
    return "\n".join(lines)
