"""Property test: where rank_candidates places each candidate's slot, against a brute-force model
that tries every start on the grid.

On random gaps (off-grid edges, a clock anywhere before or inside the gap), services, grids and
entries (lead times, windows, customers in other zones, zones with :30 and :45 offsets): every
candidate slot lies inside its gap with the service's buffer, starts at or after now + the lead
time, on the grid of the provider's local clock, inside the window (or within an hour of it only
when nothing inside fits), and leaves the rest of the gap either empty or at least as long as the
shortest service, whenever any start allows that; among those it is the earliest. Every entry the
model can place is a candidate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Weeks without a DST change in any of these zones.
ZONES = ["America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Sydney", "UTC"]
BASE = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Entry:
    key: str
    service: int  # index into the services
    lead: int
    window: tuple[dt.time, dt.time] | None
    zone: str | None  # the customer's zone; None: the organisation's


@dataclass(frozen=True)
class Case:
    zone: str  # organisation and provider
    grid: int
    services: list[tuple[int, int]]  # (minutes, buffer)
    gap: tuple[dt.datetime, dt.datetime]
    at: dt.datetime
    entries: list[Entry]


def grid_ceil(t: dt.datetime, grid: int, zone: ZoneInfo) -> dt.datetime:
    local = t.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    step = dt.timedelta(minutes=grid)
    steps = -(-(local - midnight) // step)
    return (midnight + steps * step).astimezone(dt.UTC)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from(ZONES))
    grid = draw(st.sampled_from([1, 5, 10, 15, 30]))
    services = [(draw(st.integers(5, 90)), draw(st.integers(0, 20))) for _ in range(draw(st.integers(1, 3)))]
    start = BASE + dt.timedelta(seconds=draw(st.integers(0, 48 * 3600)), microseconds=draw(st.integers(0, 999_999)))
    end = start + dt.timedelta(minutes=draw(st.integers(10, 600)), seconds=draw(st.integers(0, 59)))
    at = start + dt.timedelta(seconds=draw(st.integers(-3 * 3600, int((end - start).total_seconds()) - 1)))
    at += dt.timedelta(microseconds=draw(st.integers(0, 999_999)))
    half_hours = st.integers(0, 48)
    entries = []
    for i in range(draw(st.integers(1, 6))):
        window = None
        if draw(st.booleans()):
            a, b = sorted(draw(st.lists(half_hours, min_size=2, max_size=2, unique=True)))
            window = (dt.time(a // 2, 30 * (a % 2)), dt.time(23, 59) if b == 48 else dt.time(b // 2, 30 * (b % 2)))
        entries.append(
            Entry(
                key=f"w{i}",
                service=draw(st.integers(0, len(services) - 1)),
                lead=draw(st.sampled_from([0, 15, 60, 120, 240])),
                window=window,
                zone=draw(st.sampled_from([None, *ZONES])),
            )
        )
    return Case(zone, grid, services, (start, end), at, entries)


def _load(conn: psycopg.Connection[Any], case: Case) -> int:
    org = conn.execute(
        "insert into slotoptim_private.organisation (key, name, timezone) values ('place', 'Place', %s) returning id",
        (case.zone,),
    ).fetchone()["id"]
    conn.execute(
        "update slotoptim_private.organisation_settings set slot_grid_minutes = %s, max_buffer_minutes = 480"
        " where org_id = %s",
        (case.grid, org),
    )
    provider = conn.execute(
        "insert into slotoptim_private.provider (org_id, key, name, timezone) values (%s, 'p', 'P', %s) returning id",
        (org, case.zone),
    ).fetchone()["id"]
    service_ids = []
    for i, (minutes, buffer) in enumerate(case.services):
        sid = conn.execute(
            "insert into slotoptim_private.service (org_id, key, name, minutes, buffer_after_minutes, category)"
            " values (%s, %s, %s, %s, %s, %s) returning id",
            (org, f"s{i}", f"S{i}", minutes, buffer, f"c{i}"),
        ).fetchone()["id"]
        conn.execute(
            "insert into slotoptim_private.provider_service (org_id, provider_id, service_id) values (%s, %s, %s)",
            (org, provider, sid),
        )
        service_ids.append(sid)
    for e in case.entries:
        customer = conn.execute(
            "insert into slotoptim_private.customer (org_id, key, name, phone, consent_sms, timezone)"
            " values (%s, %s, 'C', '+16175550100', true, %s) returning id",
            (org, e.key, e.zone),
        ).fetchone()["id"]
        conn.execute(
            "insert into slotoptim_private.waitlist_entry (org_id, customer_id, key, service_ids, lead_time_minutes,"
            " window_start, window_end, added_at) values (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                org,
                customer,
                e.key,
                [service_ids[e.service]],
                e.lead,
                e.window[0] if e.window else None,
                e.window[1] if e.window else None,
                case.at - HOUR,
            ),
        )
    return int(
        conn.execute(
            "insert into slotoptim_private.gap (org_id, provider_id, during, kind, status, opened_at)"
            " values (%s, %s, tstzrange(%s, %s), 'bookable', 'open', %s) returning id",
            (org, provider, case.gap[0], case.gap[1], case.at),
        ).fetchone()["id"]
    )


def model(case: Case, e: Entry) -> dt.datetime | None:
    """The best start for an entry, trying every start on the grid; None when none fits."""
    zone = ZoneInfo(case.zone)
    customer_zone = ZoneInfo(e.zone or case.zone)
    gap_start, gap_end = case.gap
    minutes, buffer = case.services[e.service]
    need = dt.timedelta(minutes=minutes + buffer)
    shortest = dt.timedelta(minutes=min(m + b for m, b in case.services))
    first_usable = grid_ceil(max(gap_start, case.at), case.grid, zone)
    best: tuple[int, int, dt.datetime] | None = None
    s = first_usable
    while s + need <= gap_end:
        if s >= case.at + dt.timedelta(minutes=e.lead):
            for slack_class, slack in ((0, dt.timedelta(0)), (1, HOUR)):
                if e.window is not None:
                    local = s.astimezone(customer_zone)
                    day = dt.datetime.combine(local.date(), dt.time(0), customer_zone)
                    opens = day + (dt.datetime.combine(day, e.window[0]) - day.replace(tzinfo=None)) - slack
                    closes = day + (dt.datetime.combine(day, e.window[1]) - day.replace(tzinfo=None)) + slack
                    if not (local >= opens and local + dt.timedelta(minutes=minutes) <= closes):
                        continue
                elif slack_class == 1:
                    continue
                after = grid_ceil(s + need, case.grid, zone)
                fragments = int(dt.timedelta(0) < s - first_usable < shortest) + int(
                    dt.timedelta(0) < gap_end - after < shortest
                )
                key = (slack_class, fragments, s)
                if best is None or key < best:
                    best = key
        s += dt.timedelta(minutes=case.grid)
    return None if best is None else best[2]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_candidate_slots_match_the_model(conn: psycopg.Connection[Any], case: Case) -> None:
    with conn.transaction(force_rollback=True):
        gap_id = _load(conn, case)
        rows = conn.execute("select entry_key, slot from slotoptim.candidates(%s, %s)", (gap_id, case.at)).fetchall()
        got = {r["entry_key"]: r["slot"] for r in rows}
    zone = ZoneInfo(case.zone)
    for e in case.entries:
        want = model(case, e)
        if want is None:
            assert e.key not in got, f"{e} has no place in the gap, yet got {got.get(e.key)}"
            continue
        assert e.key in got, f"{e} fits at {want} but is not a candidate"
        slot = got[e.key]
        minutes, buffer = case.services[e.service]
        assert slot.lower == want, f"{e}: placed at {slot.lower}, the model says {want}"
        # The properties, stated on their own (the model could share a mistake with the SQL).
        assert case.gap[0] <= slot.lower and slot.upper + dt.timedelta(minutes=buffer) <= case.gap[1]
        assert slot.upper - slot.lower == dt.timedelta(minutes=minutes)
        assert slot.lower >= case.at + dt.timedelta(minutes=e.lead)
        local = slot.lower.astimezone(zone)
        assert local.second == 0 and local.microsecond == 0 and (local.hour * 60 + local.minute) % case.grid == 0
