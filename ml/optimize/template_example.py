"""A small built-in clinic to run the template optimiser and simulator on before the database is wired.

Two providers, Monday to Friday, 08:00-12:00 and 13:00-17:00; dr_b keeps Wednesday and Friday
afternoons free and does not do procedures. Patients prefer mornings, Mondays are busiest, and the
first hour has more no-shows. Durations have a coefficient of variation near 0.45, about what the
consultation times in shared/data/hangu show (mean 13.4 min, standard deviation 6.2 min).
"""

from __future__ import annotations

from slotoptim.ml.optimize.template_problem import TemplateProblem, TemplateSettings, VisitType

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
HOURS = (8, 9, 10, 11, 13, 14, 15, 16)
# Relative wish for each hour: a morning peak, a dip after lunch, little at the end of the day.
HOUR_PREFERENCE = {8: 1.3, 9: 1.6, 10: 1.5, 11: 1.1, 13: 0.6, 14: 0.8, 15: 0.7, 16: 0.4}
WEEKDAY_VOLUME = {"mon": 1.2, "tue": 1.0, "wed": 0.95, "thu": 1.0, "fri": 0.85}
REQUESTS_PER_DAY = {"new": 11.0, "follow_up": 24.0, "procedure": 4.0}


def example_clinic_problem(
    *, settings: TemplateSettings | None = None, weekdays: tuple[str, ...] = WEEKDAYS
) -> TemplateProblem:
    visit_types = (
        VisitType("new", mean_minutes=20.0, std_minutes=9.0, no_show_rate=0.15, unmet_penalty=120.0),
        VisitType("follow_up", mean_minutes=10.0, std_minutes=4.5, no_show_rate=0.10, unmet_penalty=90.0),
        VisitType("procedure", mean_minutes=30.0, std_minutes=13.5, no_show_rate=0.05, unmet_penalty=150.0),
    )
    available: dict[tuple[str, str, int], float] = {}
    for weekday in weekdays:
        for hour in HOURS:
            available[("dr_a", weekday, hour)] = 60.0
            if not (weekday in ("wed", "fri") and hour >= 13):
                available[("dr_b", weekday, hour)] = 60.0
    preference_total = sum(HOUR_PREFERENCE.values())
    demand = {
        (weekday, hour, visit): per_day * WEEKDAY_VOLUME[weekday] * HOUR_PREFERENCE[hour] / preference_total
        for weekday in weekdays
        for hour in HOURS
        for visit, per_day in REQUESTS_PER_DAY.items()
    }
    return TemplateProblem(
        providers=("dr_a", "dr_b"),
        weekdays=weekdays,
        hours=HOURS,
        available_minutes=available,
        visit_types=visit_types,
        demand=demand,
        hour_penalty={(weekday, 16): 2.0 for weekday in weekdays},
        no_show_hour_factor={(weekday, 8): 1.3 for weekday in weekdays},
        provider_visit_types={"dr_b": ("new", "follow_up")},
        settings=settings or TemplateSettings(),
    )
