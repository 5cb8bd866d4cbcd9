"""`simulate fill --moveup`: today's engine against move-up and reminders on the same weeks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from slotoptim.ml.simulate.fill import FillConfig
from slotoptim.ml.simulate.fill_moveup import MoveUpConfig, render_moveup_table, run_moveup_comparison

MONDAY = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def comparison(pg_admin_url: str, template_url: str) -> Any:
    config = FillConfig(monday=MONDAY, strategies=("cascade",), weeks=2, seed=1, waitlist=10)
    return run_moveup_comparison(
        pg_admin_url,
        config,
        MoveUpConfig(enrol_share=0.5, reminder_reply_rate=1.0),
        migrated_template="slotoptim_test_template",
    )


def test_move_up_and_reminders_change_only_what_they_should(comparison: Any, pg_admin_url: str) -> None:
    ((today, moveup),) = comparison.results
    assert today.fill.cancellations == moveup.fill.cancellations > 5
    # Today: no move-up, no reminder.
    assert today.moves == 0 and today.early_cancellations == 0 and today.enrolled == 0
    # Every customer about to cancel who gets an SMS reminder first answers C: earlier notice.
    assert moveup.early_cancellations > 0 and moveup.median_hours_earlier is not None
    assert moveup.median_hours_earlier > 0
    assert moveup.median_notice_hours is not None and today.median_notice_hours is not None
    assert moveup.median_notice_hours >= today.median_notice_hours
    # A thin waitlist: booked customers moving earlier fill what the waitlist cannot.
    assert moveup.moves > 0 and moveup.days_gained_per_move is not None and moveup.days_gained_per_move >= 1
    assert moveup.fill.filled >= today.fill.filled
    table = render_moveup_table(comparison)
    assert "move-up+reminders" in table and "days gained/move-up" in table and "SYNTHETIC" in table
    with psycopg.connect(pg_admin_url, autocommit=True, row_factory=dict_row) as conn:
        left = conn.execute("select count(*)::integer as n from pg_database where datname like 'slotoptim_moveup_%'")
        assert left.fetchone() == {"n": 0}
