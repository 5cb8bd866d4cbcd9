"""Writes a recommended template where the booking side reads it: slotoptim_private.slot_template.

One transaction: the organisation's previous active run is deactivated (kept for history), the new
run and its slots are inserted and made active. ``slotoptim.recommended_template`` shows the active
run; ``slotoptim.template_slots(during)`` lays it over real dates with what is already booked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from slotoptim.ml.optimize.template_db import WEEKDAY_NAMES, PracticeTemplate
from slotoptim.ml.optimize.template_plan import TemplatePlan


def store_template(
    conn: psycopg.Connection[Any], practice: PracticeTemplate, plan: TemplatePlan, at: dt.datetime
) -> int:
    """Stores the optimised template of ``plan`` as the organisation's active one; returns the run id."""
    optimised = plan.optimised
    objective = {
        "optimised": optimised.to_plain()["objective"],
        "current": plan.current.to_plain()["objective"],
        "current_source": plan.current_source,
        "relative_gap": optimised.relative_gap,
        "lower_bound": optimised.lower_bound,
        "served_per_week": dict(optimised.served),
        "unmet_per_week": dict(optimised.unmet),
    }
    status = "optimal" if optimised.status == "optimal" else "feasible"
    org_id = practice.organisation.id
    with conn.transaction():
        conn.execute(
            "update slotoptim_private.slot_template_run set active = false where org_id = %s and active", (org_id,)
        )
        row = conn.execute(
            "insert into slotoptim_private.slot_template_run (org_id, generated_at, status, objective, inputs)"
            " values (%s, %s, %s, %s, %s) returning id",
            (org_id, at, status, Jsonb(objective), Jsonb(dict(practice.sources))),
        ).fetchone()
        assert row is not None
        run_id = int(row["id"] if isinstance(row, dict) else row[0])
        with conn.cursor() as cur:
            cur.executemany(
                "insert into slotoptim_private.slot_template"
                " (org_id, run_id, provider_id, weekday, hour, service_id, slots) values (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        org_id,
                        run_id,
                        practice.provider_ids[provider],
                        WEEKDAY_NAMES.index(weekday) + 1,
                        hour,
                        practice.service_ids[service],
                        count,
                    )
                    for (provider, weekday, hour, service), count in sorted(optimised.slots.items())
                    if count > 0
                ],
            )
    return run_id
