"""The template problem read from a practice's database, stored back, and the CLI's database mode."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from slotoptim.ml.optimize import cli
from slotoptim.ml.optimize.template_db import (
    DEFAULT_CV,
    PracticeDataError,
    PracticeTemplate,
    load_practice_template,
    resolve_organisation,
)
from slotoptim.ml.optimize.template_plan import plan_templates
from slotoptim.ml.optimize.template_store import store_template

TZ = ZoneInfo("America/New_York")
TODAY = dt.date(2026, 11, 30)  # a Monday
AT = dt.datetime(2026, 11, 30, 0, 0, tzinfo=TZ)

Conn = psycopg.Connection[dict[str, Any]]


def _import_history(conn: Conn, *, weeks: int = 3) -> None:
    from slotoptim.listener.practice.importer import import_practice
    from slotoptim.ml.forecast.synthetic_history import build_demo_history

    import_practice(conn, build_demo_history(TODAY, weeks=weeks, future_days=7, providers=["dr-chen"]))


def _practice(conn: Conn, **kwargs: Any) -> PracticeTemplate:
    return load_practice_template(conn, resolve_organisation(conn, None), AT, **kwargs)


def test_organisation_rule_one_named_or_the_only_one(conn: Conn) -> None:
    with pytest.raises(PracticeDataError, match="no organisation"):
        resolve_organisation(conn, None)
    _import_history(conn, weeks=1)
    assert resolve_organisation(conn, None).key == "harbourview"
    assert resolve_organisation(conn, "harbourview").key == "harbourview"
    with pytest.raises(PracticeDataError, match="no organisation with key 'nope'"):
        resolve_organisation(conn, "nope")
    conn.execute("insert into slotoptim_private.organisation (key, name, timezone) values ('other', 'O', 'UTC')")
    with pytest.raises(PracticeDataError, match=r"2 organisations .*--org"):
        resolve_organisation(conn, None)


def test_problem_from_history(conn: Conn) -> None:
    _import_history(conn)
    practice = _practice(conn)
    problem = practice.problem
    assert problem.providers == ("dr-chen",)
    assert problem.weekdays == ("mon", "tue", "wed", "thu", "fri")
    # 08:30-12:30 and 13:30-17:00, local time: part-time hours at 8, 12 and 13.
    assert problem.minutes("dr-chen", "mon", 8) == 30
    assert problem.minutes("dr-chen", "mon", 9) == 60
    assert problem.minutes("dr-chen", "mon", 12) == 30
    assert problem.minutes("dr-chen", "mon", 13) == 30
    assert problem.window("dr-chen", "mon", 8) == (510.0, 540.0)
    assert problem.window("dr-chen", "mon", 13) == (810.0, 840.0)
    assert {v.name for v in problem.visit_types} == {"checkup", "consult", "new-patient"}
    assert problem.provider_visit_types == {"dr-chen": ("checkup", "consult", "new-patient")}
    sources = practice.sources
    assert sources["demand"]["source"] == "booked appointments (history)"
    assert sources["window"]["kind"] == "history"
    for name, visit in sources["visit_types"].items():
        assert visit["duration_source"].startswith(("actual durations", "scheduled minutes"))
        # The turnover (buffer after) is part of the provider's time.
        assert problem.visit(name).mean_minutes > visit["turnover_minutes"]
        assert 0 < problem.visit(name).no_show_rate < 0.9
    checkup = problem.visit("checkup")
    if sources["visit_types"]["checkup"]["duration_source"].startswith("actual"):
        assert 20 + 5 < checkup.mean_minutes < 20 + 5 + 15  # scheduled 20, synthetic overruns of a few minutes
    assert 0 < sources["arrival_scv"]["value"] < 0.3
    # The current template is what was booked, per working hour only.
    assert practice.current_slots
    for provider, weekday, hour, _ in practice.current_slots:
        assert problem.minutes(provider, weekday, hour) > 0
    assert sum(problem.demand.values()) > 0


def test_scheduled_minutes_and_defaults_without_history(conn: Conn) -> None:
    from slotoptim.listener.practice.demo import build_demo_practice
    from slotoptim.listener.practice.importer import import_practice

    # The plain demo practice imported at its start has no past: bookings stand in, durations are scheduled.
    import_practice(conn, build_demo_practice(TODAY))
    practice = _practice(conn)
    assert practice.sources["window"]["kind"] == "upcoming bookings"
    checkup = practice.problem.visit("checkup")
    assert checkup.mean_minutes == 20 + 5
    assert checkup.std_minutes == pytest.approx(DEFAULT_CV * 20)
    assert practice.sources["visit_types"]["checkup"]["no_show_source"] == "default"
    assert set(practice.problem.providers) == {"dr-chen", "dr-patel", "okafor-pt", "rivera-hyg"}


def test_no_show_rate_falls_back_to_stored_risks(conn: Conn) -> None:
    from slotoptim.listener.practice.demo import build_demo_practice
    from slotoptim.listener.practice.importer import import_practice

    import_practice(conn, build_demo_practice(TODAY))
    conn.execute(
        "update slotoptim_private.appointment set no_show_risk = 0.25"
        " where service_id = (select id from slotoptim_private.service where key = 'cleaning')"
    )
    practice = _practice(conn)
    assert practice.problem.visit("cleaning").no_show_rate == pytest.approx(0.25)
    assert practice.sources["visit_types"]["cleaning"]["no_show_source"].startswith("mean no_show_risk")


def test_demand_from_the_stored_forecast(conn: Conn) -> None:
    _import_history(conn, weeks=1)
    ids = conn.execute(
        "select p.id as provider, s.key, s.id as service from slotoptim_private.provider as p"
        " join slotoptim_private.service as s on s.org_id = p.org_id where p.key = 'dr-chen'"
    ).fetchall()
    provider = ids[0]["provider"]
    service = {r["key"]: r["service"] for r in ids}
    rows = [
        (provider, None, dt.date(2026, 11, 30), 9, 2.0),
        (provider, service["checkup"], dt.date(2026, 11, 30), None, 3.0),
        (provider, service["consult"], dt.date(2026, 11, 30), None, 1.0),
        (provider, None, dt.date(2026, 12, 7), 9, 4.0),
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "insert into slotoptim_private.demand_forecast"
            " (org_id, provider_id, service_id, day, hour, expected, method, generated_at, model_version)"
            " select org_id, %s, %s, %s, %s, %s, 'prophet', %s, 'test' from slotoptim_private.provider where id = %s",
            [(p, s, d, h, x, AT, provider) for p, s, d, h, x in rows],
        )
    practice = _practice(conn)
    demand = practice.problem.demand
    assert practice.sources["demand"]["source"] == "forecast"
    # Two Mondays: 2 requests split 3:1 over checkup and consult, 4 split as the booked mix; averaged.
    assert demand[("mon", 9, "checkup")] + demand[("mon", 9, "consult")] + demand.get(
        ("mon", 9, "new-patient"), 0.0
    ) == pytest.approx(3.0)
    assert demand[("mon", 9, "checkup")] > demand[("mon", 9, "consult")]
    assert not [k for k in demand if k[0] != "mon"]


def test_stored_template_is_what_the_view_and_template_slots_show(conn: Conn) -> None:
    _import_history(conn, weeks=2)
    practice = _practice(conn)
    plan = plan_templates(practice.problem, current_slots=practice.current_slots, node_limit=50)
    first = store_template(conn, practice, plan, AT)
    second = store_template(conn, practice, plan, AT + dt.timedelta(hours=1))
    assert second != first
    runs = conn.execute("select id, active from slotoptim_private.slot_template_run order by id").fetchall()
    assert [(r["id"], r["active"]) for r in runs] == [(first, False), (second, True)]
    view = conn.execute("select * from slotoptim.recommended_template order by weekday, hour, service_key").fetchall()
    assert {r["run_id"] for r in view} == {second}
    assert sum(r["slots"] for r in view) == sum(plan.optimised.slots.values())
    monday_nine = [r for r in view if (r["weekday_name"], r["hour"]) == ("mon", 9)]
    expected = {v: n for (_, w, h, v), n in plan.optimised.slots.items() if (w, h) == ("mon", 9)}
    assert {r["service_key"]: r["slots"] for r in monday_nine} == expected
    assert all(r["hour_starts"] == dt.time(r["hour"]) for r in view)
    # Laid over next week's dates, with the bookings made so far (future_days of the history).
    week = conn.execute(
        "select * from slotoptim.template_slots(tstzrange(%s, %s))", (AT, AT + dt.timedelta(days=7))
    ).fetchall()
    assert sum(r["recommended"] for r in week) == sum(plan.optimised.slots.values())
    assert all(r["open"] == max(r["recommended"] - r["booked"], 0) for r in week)
    assert any(r["booked"] > 0 for r in week)
    stored = conn.execute("select objective, inputs from slotoptim_private.slot_template_run where id = %s", (second,))
    row = stored.fetchone()
    assert row is not None
    assert row["objective"]["optimised"]["total"] == pytest.approx(plan.optimised.parts.total)
    assert row["inputs"]["demand"]["source"] == "booked appointments (history)"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="slotoptim")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


def test_cli_database_mode(
    conn: Conn, fresh_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_db)
    assert run(["optimize", "template"]) == 2
    assert "slotoptim: error: --org: the database has no organisation" in capsys.readouterr().err
    _import_history(conn, weeks=2)
    at = AT.isoformat()
    assert run(["optimize", "template", "--at", at, "--node-limit", "30", "--no-store", "--format", "json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["organisation"] == "harbourview" and plain["run_id"] is None
    assert plain["current_source"] == "given"  # the practice's booked template
    assert plain["sources"]["demand"]["source"].startswith("booked appointments")
    assert conn.execute("select count(*) as n from slotoptim_private.slot_template_run").fetchone() == {"n": 0}
    assert run(["optimize", "template", "--org", "harbourview", "--at", at, "--node-limit", "30"]) == 0
    out = capsys.readouterr().out
    assert "Practice harbourview" in out and "current (booked)" in out and "stored as run" in out
    assert conn.execute("select count(*) as n from slotoptim.recommended_template").fetchone() != {"n": 0}
    assert run(["optimize", "template", "--org", "nope"]) == 2
    assert "--org: no organisation with key 'nope'" in capsys.readouterr().err
    assert run(["optimize", "template", "--arrival-scv", "-1", "--at", at]) == 2
    assert "--arrival-scv: " in capsys.readouterr().err


def test_cli_sources_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(["optimize", "template", "--example", "--org", "x"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
