"""Property test: slotoptim.gaps agrees with an independent Python model on random practices,
DST transition weeks and closures included. The same run checks the exclusion constraint: the
database accepts an appointment exactly when the model says its blocked time is free."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from gap_model import Hours, Interval, Service, gaps, normalise
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import errors

# Weeks that contain a DST change in each zone (and UTC, which has none).
ZONE_WEEKS: list[tuple[str, dt.date]] = [
    ("America/New_York", dt.date(2026, 3, 5)),
    ("America/New_York", dt.date(2026, 10, 29)),
    ("Europe/London", dt.date(2026, 3, 26)),
    ("Europe/London", dt.date(2026, 10, 22)),
    ("Australia/Sydney", dt.date(2026, 4, 2)),
    ("Australia/Sydney", dt.date(2026, 10, 1)),
    ("UTC", dt.date(2026, 6, 1)),
]

half_hours = st.integers(min_value=0, max_value=47).map(lambda n: dt.time(n // 2, 30 * (n % 2)))


@st.composite
def practices(draw: st.DrawFn) -> dict[str, Any]:
    zone_name, week = draw(st.sampled_from(ZONE_WEEKS))
    hours: list[Hours] = []
    for weekday in range(1, 8):
        taken: list[tuple[dt.time, dt.time]] = []
        for _ in range(draw(st.integers(0, 2))):
            a, b = sorted((draw(half_hours), draw(half_hours)))
            if a == b or any(a < y and x < b for x, y in taken):
                continue
            taken.append((a, b))
            hours.append(Hours(weekday, a, b))
    services = [
        Service(f"s{i}", draw(st.integers(5, 120)), draw(st.integers(0, 30))) for i in range(draw(st.integers(1, 3)))
    ]
    base = dt.datetime.combine(week, dt.time(0), tzinfo=dt.UTC)
    minute = st.integers(0, 6 * 24 * 60 // 5).map(lambda m: base + dt.timedelta(minutes=5 * m))
    closures = [(t, t + dt.timedelta(minutes=draw(st.integers(30, 600)))) for t in draw(st.lists(minute, max_size=2))]
    appointments = [(t, draw(st.integers(0, len(services) - 1))) for t in draw(st.lists(minute, max_size=25))]
    w0 = draw(minute)
    window = (w0, w0 + dt.timedelta(hours=draw(st.integers(1, 96))))
    return {
        "zone": zone_name,
        "hours": hours,
        "services": services,
        "closures": closures,
        "appointments": appointments,
        "window": window,
    }


def _load(conn: psycopg.Connection[Any], p: dict[str, Any]) -> list[Interval]:
    org = conn.execute(
        "insert into slotoptim_private.organisation (key, name, timezone) values ('prop', 'Prop', %s) returning id",
        (p["zone"],),
    ).fetchone()["id"]
    provider = conn.execute(
        "insert into slotoptim_private.provider (org_id, key, name, timezone) values (%s, 'p', 'P', %s) returning id",
        (org, p["zone"]),
    ).fetchone()["id"]
    service_ids = []
    for s in p["services"]:
        sid = conn.execute(
            "insert into slotoptim_private.service (org_id, key, name, minutes, buffer_after_minutes)"
            " values (%s, %s, %s, %s, %s) returning id",
            (org, s.key, s.key, s.minutes, s.buffer),
        ).fetchone()["id"]
        conn.execute(
            "insert into slotoptim_private.provider_service (org_id, provider_id, service_id) values (%s, %s, %s)",
            (org, provider, sid),
        )
        service_ids.append(sid)
    for h in p["hours"]:
        conn.execute(
            "insert into slotoptim_private.working_hours (org_id, provider_id, weekday, starts_at, ends_at)"
            " values (%s, %s, %s, %s, %s)",
            (org, provider, h.weekday, h.start, h.end),
        )
    for a, b in p["closures"]:
        conn.execute(
            "insert into slotoptim_private.closure (org_id, provider_id, during) values (%s, %s, tstzrange(%s, %s))",
            (org, provider, a, b),
        )
    blocks: list[Interval] = []
    for start, index in p["appointments"]:
        s = p["services"][index]
        end = start + dt.timedelta(minutes=s.minutes)
        blocked = (start, end + dt.timedelta(minutes=s.buffer))
        free = all(blocked[1] <= a or blocked[0] >= b for a, b in blocks)
        try:
            with conn.transaction():
                conn.execute(
                    "insert into slotoptim_private.appointment (org_id, provider_id, service_id, period)"
                    " values (%s, %s, %s, tstzrange(%s, %s))",
                    (org, provider, service_ids[index], start, end),
                )
            accepted = True
        except errors.ExclusionViolation:
            accepted = False
        assert accepted == free, f"database {'accepted' if accepted else 'refused'} {blocked}"
        if accepted:
            blocks.append(blocked)
    return blocks


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=practices())
def test_gaps_match_the_model(conn: psycopg.Connection[Any], p: dict[str, Any]) -> None:
    with conn.transaction(force_rollback=True):
        blocks = _load(conn, p)
        rows = conn.execute(
            "select during, kind, fits, starts_at, ends_at from slotoptim.gaps('p', tstzrange(%s, %s))", p["window"]
        ).fetchall()
        want = gaps(p["hours"], ZoneInfo(p["zone"]), p["window"], p["closures"], blocks, p["services"])
        # The model against starts_at/ends_at (what clients read), and the range agrees with them.
        assert [((r["starts_at"], r["ends_at"]), r["kind"], list(r["fits"])) for r in rows] == want
        assert [(r["during"].lower, r["during"].upper) for r in rows] == [interval for interval, _, _ in want]
        assert all(r["during"].bounds == "[)" for r in rows)
        # The all-providers form gives the same gaps (the practice has one provider).
        every = conn.execute(
            "select provider_key, during, kind, fits, starts_at, ends_at from slotoptim.gaps(tstzrange(%s, %s))",
            p["window"],
        ).fetchall()
        assert [(r["starts_at"], r["ends_at"], r["kind"], list(r["fits"])) for r in every] == [
            (r["starts_at"], r["ends_at"], r["kind"], list(r["fits"])) for r in rows
        ]


def test_model_reads_dst_like_postgresql(conn: psycopg.Connection[Any]) -> None:
    from gap_model import to_instant

    tz = ZoneInfo("America/New_York")
    for local in (dt.datetime(2026, 11, 1, 1, 30), dt.datetime(2026, 3, 8, 2, 30)):
        db = conn.execute("select %s::timestamp at time zone 'America/New_York' as t", (local,)).fetchone()["t"]
        assert to_instant(local, tz) == db


def test_normalise_joins_touching_intervals() -> None:
    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    h = dt.timedelta(hours=1)
    assert normalise([(t + h, t + 2 * h), (t, t + h)]) == [(t, t + 2 * h)]
