"""Build a TemplateProblem from plain Python structures (rows as dicts), e.g. query results or JSON.

The shape, with every list a list of row dicts as a SQL query would return them:

    {
      "providers": ["dr_a"], "weekdays": ["mon"], "hours": [8, 9, 10],
      "availability": [{"provider": "dr_a", "weekday": "mon", "start": "08:00", "end": "10:30"},
                       {"provider": "dr_a", "weekday": "mon", "hour": 10, "minutes": 30}],
      "visit_types": [{"name": "new", "mean_minutes": 20, "std_minutes": 9, "no_show_rate": 0.15,
                       "unmet_penalty": 120}],
      "demand": [{"weekday": "mon", "hour": 8, "visit_type": "new", "requests": 2.5}],
      "hour_penalty": [{"weekday": "mon", "hour": 8, "penalty": 3}],
      "no_show_hour_factor": [{"weekday": "mon", "hour": 8, "factor": 1.2}],
      "provider_visit_types": {"dr_a": ["new"]},
      "settings": {"max_utilisation": 0.9}
    }

Availability rows give either a working range (start/end as "HH:MM", split over the hours) or the
minutes of one hour; rows for the same provider-hour add up.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from slotoptim.ml.optimize.template_problem import (
    ProviderHour,
    SlotKey,
    TemplateInputError,
    TemplateProblem,
    TemplateSettings,
    VisitType,
)


def template_problem_from_plain(data: Mapping[str, Any]) -> TemplateProblem:
    providers = tuple(str(p) for p in _field(data, "providers", "the document"))
    weekdays = tuple(str(w) for w in _field(data, "weekdays", "the document"))
    hours = tuple(int(h) for h in _field(data, "hours", "the document"))
    settings_fields = {f.name for f in dataclasses.fields(TemplateSettings)}
    settings_data = dict(data.get("settings") or {})
    unknown = set(settings_data) - settings_fields
    if unknown:
        raise TemplateInputError(f"settings: unknown fields {sorted(unknown)}")
    return TemplateProblem(
        providers=providers,
        weekdays=weekdays,
        hours=hours,
        available_minutes=availability_minutes(_field(data, "availability", "the document"), hours),
        visit_types=tuple(_visit_type(row) for row in _field(data, "visit_types", "the document")),
        demand={
            (
                str(_field(r, "weekday", "demand")),
                int(_field(r, "hour", "demand")),
                str(_field(r, "visit_type", "demand")),
            ): float(_field(r, "requests", "demand"))
            for r in _field(data, "demand", "the document")
        },
        hour_penalty={
            (str(_field(r, "weekday", "hour_penalty")), int(_field(r, "hour", "hour_penalty"))): float(
                _field(r, "penalty", "hour_penalty")
            )
            for r in data.get("hour_penalty") or ()
        },
        no_show_hour_factor={
            (str(_field(r, "weekday", "no_show_hour_factor")), int(_field(r, "hour", "no_show_hour_factor"))): float(
                _field(r, "factor", "no_show_hour_factor")
            )
            for r in data.get("no_show_hour_factor") or ()
        },
        provider_visit_types={
            str(p): tuple(str(v) for v in offered) for p, offered in (data.get("provider_visit_types") or {}).items()
        },
        settings=TemplateSettings(**settings_data),
    )


def template_problem_to_plain(problem: TemplateProblem) -> dict[str, Any]:
    """The inverse of ``template_problem_from_plain`` (availability as per-hour rows)."""
    return {
        "providers": list(problem.providers),
        "weekdays": list(problem.weekdays),
        "hours": list(problem.hours),
        "availability": [
            {"provider": p, "weekday": w, "hour": h, "minutes": m} for (p, w, h), m in problem.available_minutes.items()
        ],
        "visit_types": [dataclasses.asdict(v) for v in problem.visit_types],
        "demand": [
            {"weekday": w, "hour": h, "visit_type": v, "requests": r} for (w, h, v), r in problem.demand.items()
        ],
        "hour_penalty": [{"weekday": w, "hour": h, "penalty": x} for (w, h), x in problem.hour_penalty.items()],
        "no_show_hour_factor": [
            {"weekday": w, "hour": h, "factor": x} for (w, h), x in problem.no_show_hour_factor.items()
        ],
        "provider_visit_types": {p: list(v) for p, v in problem.provider_visit_types.items()},
        "settings": dataclasses.asdict(problem.settings),
    }


def availability_minutes(rows: Iterable[Mapping[str, Any]], hours: Iterable[int]) -> dict[ProviderHour, float]:
    """Minutes available per provider-hour from range rows (start/end) and per-hour rows (hour/minutes)."""
    hour_set = set(hours)
    minutes: dict[ProviderHour, float] = defaultdict(float)
    for row in rows:
        provider = str(_field(row, "provider", "availability"))
        weekday = str(_field(row, "weekday", "availability"))
        if "hour" in row:
            minutes[(provider, weekday, int(row["hour"]))] += float(_field(row, "minutes", "availability"))
            continue
        start = _clock_minutes(_field(row, "start", "availability"))
        end = _clock_minutes(_field(row, "end", "availability"))
        if end <= start:
            raise TemplateInputError(f"availability: end {row['end']} is not after start {row['start']}")
        for hour in range(start // 60, -(-end // 60)):
            overlap = min(end, (hour + 1) * 60) - max(start, hour * 60)
            if overlap > 0:
                if hour not in hour_set:
                    raise TemplateInputError(
                        f"availability: {row['start']}-{row['end']} covers hour {hour}, not listed"
                    )
                minutes[(provider, weekday, hour)] += overlap
    return dict(minutes)


def _visit_type(row: Mapping[str, Any]) -> VisitType:
    return VisitType(
        name=str(_field(row, "name", "visit_types")),
        mean_minutes=float(_field(row, "mean_minutes", "visit_types")),
        std_minutes=float(_field(row, "std_minutes", "visit_types")),
        no_show_rate=float(_field(row, "no_show_rate", "visit_types")),
        unmet_penalty=float(row.get("unmet_penalty", VisitType.unmet_penalty)),
    )


def _clock_minutes(text: object) -> int:
    hours, separator, minutes = str(text).partition(":")
    try:
        value = int(hours) * 60 + int(minutes or 0)
    except ValueError:
        raise TemplateInputError(f"availability: times are HH:MM, got {text!r}") from None
    if not separator or not 0 <= value <= 24 * 60:
        raise TemplateInputError(f"availability: times are HH:MM, got {text!r}")
    return value


def _field(row: Mapping[str, Any], name: str, where: str) -> Any:
    try:
        return row[name]
    except KeyError:
        raise TemplateInputError(f"{where}: missing field {name!r}") from None
    except TypeError:
        raise TemplateInputError(f"{where}: expected a mapping with {name!r}, got {type(row).__name__}") from None


def slots_from_plain(rows: Iterable[Mapping[str, Any]]) -> dict[SlotKey, int]:
    """A template's slots from rows shaped like ``Template.to_plain()["slots"]``."""
    slots: dict[SlotKey, int] = {}
    for row in rows:
        key = (
            str(_field(row, "provider", "slots")),
            str(_field(row, "weekday", "slots")),
            int(_field(row, "hour", "slots")),
            str(_field(row, "visit_type", "slots")),
        )
        count = int(_field(row, "slots", "slots"))
        if count < 0:
            raise TemplateInputError(f"slots{key} must be non-negative, got {count}")
        slots[key] = slots.get(key, 0) + count
    return slots
