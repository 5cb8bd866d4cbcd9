"""Fill strategies on the real engine: the scenario, the customers, the staff desk and a small comparison."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.rows import dict_row

from slotoptim.listener.simulation import FillSimulation
from slotoptim.ml.simulate import cli
from slotoptim.ml.simulate.fill import FillConfig, run_fill_comparison
from slotoptim.ml.simulate.fill_customers import Customers, awake_delay
from slotoptim.ml.simulate.fill_manual import OfficeHours
from slotoptim.ml.simulate.fill_practice import fill_scenario
from slotoptim.ml.simulate.fill_report import plot_fill, render_table

TZ = ZoneInfo("America/New_York")
MONDAY = dt.date(2026, 11, 30)


def test_scenario_covers_the_weeks_and_replays_the_same_cancellations() -> None:
    scenario = fill_scenario(MONDAY, weeks=3, waitlist=250, cancel_rate=0.1, same_day_share=0.3, seed=4)
    document = scenario.document
    keys = [a["key"] for a in document["appointments"]]
    assert len(keys) == len(set(keys))
    days = {dt.datetime.fromisoformat(a["start"]).date() for a in document["appointments"]}
    assert min(days) >= MONDAY and max(days) < MONDAY + dt.timedelta(weeks=3)
    assert max(days) >= MONDAY + dt.timedelta(weeks=2)
    assert len(document["waitlist"]) == 250
    assert len({w["key"] for w in document["waitlist"]}) == 250
    assert all(w["dates"]["to"] == "2026-12-20" for w in document["waitlist"])
    assert 0.05 < len(scenario.cancellations) / len(keys) < 0.16
    for c in scenario.cancellations:
        assert scenario.start <= c.at < c.starts
    same_day = sum(1 for c in scenario.cancellations if c.lead < dt.timedelta(hours=24))
    assert 0 < same_day < len(scenario.cancellations)
    again = fill_scenario(MONDAY, weeks=3, waitlist=250, cancel_rate=0.1, same_day_share=0.3, seed=4)
    assert again.cancellations == scenario.cancellations


def test_customers_answer_the_same_opening_the_same_way() -> None:
    customers = Customers(seed=3)
    first = [customers.answer(f"c-{i:04d}", "f0-a-0001", "sms") for i in range(2000)]
    assert first == [customers.answer(f"c-{i:04d}", "f0-a-0001", "sms") for i in range(2000)]
    kinds = Counter(r.kind if r else "silent" for r in first)
    assert kinds["accept"] / 2000 == pytest.approx(0.34, abs=0.03)
    assert kinds["decline"] / 2000 == pytest.approx(0.66 * 0.4, abs=0.03)
    # A lower acceptance rate: whoever accepts by email accepts by SMS too.
    for i in range(300):
        email = customers.answer(f"c-{i:04d}", "f0-a-0001", "email")
        if email is not None and email.kind == "accept":
            sms = customers.answer(f"c-{i:04d}", "f0-a-0001", "sms")
            assert sms is not None and sms.kind == "accept"


def test_nobody_answers_at_night() -> None:
    sent = dt.datetime(2026, 12, 1, 20, 50, tzinfo=TZ)
    assert awake_delay(sent, dt.timedelta(minutes=5), "America/New_York") == dt.timedelta(minutes=5)
    late = awake_delay(sent, dt.timedelta(minutes=75), "America/New_York")
    assert sent + late == dt.datetime(2026, 12, 2, 7, 15, tzinfo=TZ)


def test_office_hours() -> None:
    office = OfficeHours("America/New_York")
    assert office.is_open(dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ))
    assert not office.is_open(dt.datetime(2026, 12, 1, 17, 0, tzinfo=TZ))
    friday_evening = dt.datetime(2026, 12, 4, 18, 0, tzinfo=TZ)
    assert office.next_opening(friday_evening) == dt.datetime(2026, 12, 7, 9, 0, tzinfo=TZ)


def test_each_offer_message_is_answered_once(conn: psycopg.Connection[dict[str, Any]], fresh_db: str) -> None:
    """Regression: new messages were read from one flat list of all channels, so an SMS sent after an
    email shifted the window and some offers were answered twice and others never."""
    from slotoptim.listener.practice.importer import import_practice

    scenario = fill_scenario(MONDAY, weeks=1, waitlist=80, cancel_rate=0.1, same_day_share=0.5, seed=2)
    import_practice(conn, scenario.document)
    ids = {
        r["key"]: r["id"]
        for r in conn.execute("select key, id from slotoptim_private.appointment where key is not null").fetchall()
    }
    seen: list[int] = []

    def responder(offer: Any) -> Any:
        seen.append(offer.offer_id)
        return Customers(2)(offer)

    simulation = FillSimulation(
        fresh_db, random.Random(1), None, dt.timedelta(minutes=1), responder=responder, skip_idle=True
    )
    try:
        for c in scenario.cancellations[:6]:
            simulation.schedule(c.at, "cancel", appointment_id=ids[c.appointment_key])
        simulation.run(scenario.start, scenario.start + dt.timedelta(days=3))
    finally:
        simulation.close()
    sent = conn.execute(
        "select count(*)::integer as n, count(distinct channel)::integer as channels from slotoptim_private.message"
        " where kind = 'offer' and status = 'sent'"
    ).fetchone()
    assert sent is not None and sent["n"] > 0
    assert len(seen) == len(set(seen)) == sent["n"]


@pytest.fixture(scope="module")
def clone_settings() -> dict[str, list[str]]:
    """The database settings of each database the comparison created, read while it ran."""
    return {}


@pytest.fixture(scope="module")
def small_comparison(pg_admin_url: str, template_url: str, clone_settings: dict[str, list[str]]) -> Any:
    config = FillConfig(monday=MONDAY, strategies=("cascade", "manual"), weeks=1, seed=1, waitlist=120)

    def look(_: str) -> None:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            rows = conn.execute(
                "select d.datname, coalesce(s.setconfig, '{}') from pg_catalog.pg_database as d"
                " left join pg_catalog.pg_db_role_setting as s on s.setdatabase = d.oid and s.setrole = 0"
                " where d.datname like 'slotoptim_fill_%'"
            ).fetchall()
        clone_settings.update({str(name): list(settings) for name, settings in rows})

    return run_fill_comparison(pg_admin_url, config, migrated_template="slotoptim_test_template", progress=look)


def test_clones_carry_the_template_database_settings(
    small_comparison: Any, clone_settings: dict[str, list[str]]
) -> None:
    # The base database and one per strategy, each with the migration's jit = off (sql/39i_settings_jit.sql).
    assert len(clone_settings) == 3
    assert all("jit=off" in settings for settings in clone_settings.values()), clone_settings


def test_small_comparison(small_comparison: Any, pg_admin_url: str) -> None:
    cascade, manual = small_comparison.results
    assert (cascade.strategy, manual.strategy) == ("cascade", "manual")
    assert cascade.cancellations == manual.cancellations == len(small_comparison.scenario.cancellations) > 5
    for result in (cascade, manual):
        assert 0 <= result.fill_rate_60 <= result.fill_rate <= 1
        assert result.filled == len(result.minutes_to_fill)
        assert result.booked_minutes > 0
        assert result.utilisation_gain_pct == pytest.approx(100 * result.recovered_minutes / result.booked_minutes)
    assert cascade.filled > 0 and manual.filled > 0
    assert cascade.offers_sent > 0 and cascade.customers_contacted > 0
    # Staff phone one person at a time: nobody hears the slot went to someone else.
    assert manual.offers_sent > 0 and manual.late_claims == 0 and manual.filled_notices == 0
    # The engine answers faster than a person who notices a cancellation 15-60 minutes later.
    assert min(cascade.minutes_to_fill) < 15 <= min(manual.minutes_to_fill)
    with psycopg.connect(pg_admin_url, autocommit=True, row_factory=dict_row) as conn:
        left = conn.execute("select count(*)::integer as n from pg_database where datname like 'slotoptim_fill_%'")
        assert left.fetchone() == {"n": 0}


def test_report_and_chart(small_comparison: Any, tmp_path: Path) -> None:
    table = render_table(small_comparison)
    assert "cascade" in table and "manual" in table and "util gain" in table and "SYNTHETIC" in table
    assert "hours on the phone" in table
    files = plot_fill(small_comparison, tmp_path / "fill.png")
    assert [f.name for f in files] == ["fill.png", "fill.svg"]
    assert all(f.stat().st_size > 0 for f in files)
    plain = small_comparison.to_plain()
    assert json.loads(json.dumps(plain, default=str))["scenario"]["synthetic"] is True


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="slotoptim")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--strategies", "cascade,fax"], "--strategies"),
        (["--strategies", "manual,manual"], "--strategies"),
        (["--weeks", "0"], "--weeks"),
        (["--cancel-rate", "1.5"], "--cancel-rate"),
        (["--start", "soon"], "--start"),
    ],
)
def test_fill_cli_bad_options_exit_2(extra: list[str], option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["simulate", "fill", *extra]) == 2
    assert capsys.readouterr().err.startswith(f"slotoptim: error: {option}: ")
