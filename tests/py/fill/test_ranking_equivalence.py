"""Property test: the bounded ranking (rank_candidates with k) against the ranking as it was.

tests/py/fill/reference_ranking.sql holds rank_candidates from before issue 18, verbatim but for its
name. On random practices (weights, tiers, preferred and excluded providers, travel, response
history, waits, windows, lead times, services of shared categories, customers with several
entries, earlier offers that set caps and the last-offered tie-break), and with pages as small as
one entry so that the bound decides when the walk stops:

- rank_candidates(gap, at) returns exactly the reference's rows;
- rank_candidates(gap, at, k) returns the first k of the reference's rows in rank order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

BASE = dt.datetime(2026, 6, 16, 14, 0, tzinfo=dt.UTC)  # the gap's start; `at` is hours before it
REFERENCE = Path(__file__).with_name("reference_ranking.sql")
COLUMNS = (
    "waitlist_entry_id, customer_id, service_id, slot, channel, channel_is_email_only, tier, score, time_points,"
    " provider_points, service_points, travel_points, lead_points, response_points, fairness_points, last_offered_at"
)
ORDER = (
    "r.score desc, slotoptim_private.tier_rank(r.tier), r.last_offered_at asc nulls first, w.added_at,"
    " r.waitlist_entry_id"
)


@dataclass(frozen=True)
class Entry:
    customer: int
    services: tuple[int, ...]
    tier: str
    provider: str  # 'any', 'this', 'other'
    excluded_other: bool
    travel: int | None
    received: int
    accepted: int
    waited_days: int
    window: bool
    lead: int


@dataclass(frozen=True)
class Practice:
    weights: tuple[int, ...]
    threshold: int
    cap_day: int
    customers: int
    earlier_offers: tuple[tuple[int, int], ...]  # (customer, hours ago)
    entries: tuple[Entry, ...]
    at_hours_before: int


@st.composite
def practices(draw: st.DrawFn) -> Practice:
    customers = draw(st.integers(1, 10))
    small = st.sampled_from  # few distinct values: many ties, so the tie-breaks are exercised
    entries = []
    for _ in range(draw(st.integers(1, 16))):
        received = draw(small([0, 0, 2, 4]))
        entries.append(
            Entry(
                customer=draw(st.integers(0, customers - 1)),
                services=tuple(sorted(draw(st.sets(st.integers(0, 3), min_size=1, max_size=2)))),
                tier=draw(small(["standard", "standard", "silver", "gold", "platinum"])),
                provider=draw(small(["any", "this", "other"])),
                excluded_other=draw(st.booleans()),
                travel=draw(small([None, 0, 10, 30])),
                received=received,
                accepted=draw(st.integers(0, received)),
                waited_days=draw(small([1, 1, 5, 20, 60])),
                window=draw(st.booleans()),
                lead=draw(small([0, 60, 240])),
            )
        )
    return Practice(
        weights=tuple(draw(small([0, 5, 10, 30])) for _ in range(7)),
        threshold=draw(small([0, 55])),
        cap_day=draw(small([1, 2])),
        customers=customers,
        earlier_offers=tuple(
            draw(st.lists(st.tuples(st.integers(0, customers - 1), st.sampled_from([2, 30, 100])), max_size=4))
        ),
        entries=tuple(entries),
        at_hours_before=draw(small([3, 30])),
    )


def _load(conn: psycopg.Connection[Any], p: Practice) -> tuple[int, dt.datetime]:
    at = BASE - dt.timedelta(hours=p.at_hours_before)
    one = conn.execute
    org = one(
        "insert into slotoptim_private.organisation (key, name, timezone) values ('rank', 'Rank', 'UTC') returning id"
    ).fetchone()["id"]
    one(
        "update slotoptim_private.organisation_settings set weight_time = %s, weight_provider = %s,"
        " weight_service = %s, weight_travel = %s, weight_lead = %s, weight_response = %s, weight_fairness = %s,"
        " score_threshold = %s, max_offers_per_day = %s, max_offers_per_week = 4 where org_id = %s",
        (*p.weights, p.threshold, p.cap_day, org),
    )
    this, other = (
        one(
            "insert into slotoptim_private.provider (org_id, key, name, timezone) values (%s, %s, %s, 'UTC')"
            " returning id",
            (org, key, key),
        ).fetchone()["id"]
        for key in ("this", "other")
    )
    services = []
    # Two services share a category (the "same category" points); one needs more than the gap has.
    for i, (minutes, category) in enumerate(((30, "a"), (45, "a"), (20, "b"), (200, "c"))):
        sid = one(
            "insert into slotoptim_private.service (org_id, key, name, minutes, price, category)"
            " values (%s, %s, %s, %s, %s, %s) returning id",
            (org, f"s{i}", f"S{i}", minutes, 10 * (4 - i), category),
        ).fetchone()["id"]
        one(
            "insert into slotoptim_private.provider_service (org_id, provider_id, service_id) values (%s, %s, %s)",
            (org, this, sid),
        )
        services.append(sid)
    customers = [
        one(
            "insert into slotoptim_private.customer (org_id, key, name, phone, email, consent_sms, consent_email)"
            " values (%s, %s, 'C', '+16175550100', 'c@example.com', %s, true) returning id",
            (org, f"c{i}", i % 3 != 0),
        ).fetchone()["id"]
        for i in range(p.customers)
    ]
    for i, e in enumerate(p.entries):
        one(
            "insert into slotoptim_private.waitlist_entry (org_id, customer_id, key, service_ids, tier, provider_ids,"
            " excluded_provider_ids, travel_minutes, max_travel_minutes, offers_received, offers_accepted,"
            " added_at, window_start, window_end, lead_time_minutes)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, 60, %s, %s, %s, %s, %s, %s)",
            (
                org,
                customers[e.customer],
                f"w{i}",
                [services[s] for s in e.services],
                e.tier,
                None if e.provider == "any" else [this if e.provider == "this" else other],
                [other] if e.excluded_other and e.provider != "other" else [],
                e.travel,
                e.received,
                e.accepted,
                at - dt.timedelta(days=e.waited_days),
                dt.time(14) if e.window else None,
                dt.time(15) if e.window else None,
                e.lead,
            ),
        )
    gap = one(
        "insert into slotoptim_private.gap (org_id, provider_id, during, kind, status, opened_at)"
        " values (%s, %s, tstzrange(%s, %s), 'bookable', 'open', %s) returning id",
        (org, this, BASE, BASE + dt.timedelta(hours=2), at),
    ).fetchone()["id"]
    for n, (customer, hours) in enumerate(p.earlier_offers):
        # Earlier offers of other gaps: they set the caps and the last-offered tie-break.
        entry = one(
            "select id from slotoptim_private.waitlist_entry where customer_id = %s limit 1", (customers[customer],)
        ).fetchone()
        if entry is None:
            continue
        old = one(
            "insert into slotoptim_private.gap (org_id, provider_id, during, kind, status, opened_at)"
            " values (%s, %s, tstzrange(%s, %s), 'bookable', 'filled', %s) returning id",
            (org, other, BASE - dt.timedelta(days=n + 3), BASE - dt.timedelta(days=n + 3, minutes=-30), at),
        ).fetchone()["id"]
        campaign = one(
            "insert into slotoptim_private.offer_campaign (org_id, gap_id, strategy, status, started_at)"
            " values (%s, %s, 'broadcast', 'filled', %s) returning id",
            (org, old, at - dt.timedelta(hours=hours)),
        ).fetchone()["id"]
        sent = at - dt.timedelta(hours=hours)
        one(
            "insert into slotoptim_private.offer (org_id, campaign_id, gap_id, waitlist_entry_id, customer_id,"
            " service_id, slot, wave, score, score_detail, channel, status, created_at, send_at, expires_at)"
            " values (%s, %s, %s, %s, %s, %s, tstzrange(%s, %s), 0, 50, '{}', 'sms', 'expired', %s, %s, %s)",
            (
                org,
                campaign,
                old,
                entry["id"],
                customers[customer],
                services[0],
                BASE - dt.timedelta(days=n + 3),
                BASE - dt.timedelta(days=n + 3, minutes=-30),
                sent,
                sent,
                sent + dt.timedelta(minutes=30),
            ),
        )
    return int(gap), at


@pytest.fixture
def reference(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    conn.execute(REFERENCE.read_text())
    return conn


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(practice=practices(), page=st.sampled_from([1, 2, 3, None]))
def test_bounded_ranking_equals_the_full_ranking(
    reference: psycopg.Connection[Any], practice: Practice, page: int | None
) -> None:
    conn = reference
    with conn.transaction(force_rollback=True):
        gap, at = _load(conn, practice)
        conn.execute("select set_config('slotoptim.rank_page_size', %s, true)", ("" if page is None else str(page),))
        full = conn.execute(
            f"select {COLUMNS} from slotoptim_private.rank_candidates(%s, %s) order by waitlist_entry_id", (gap, at)
        ).fetchall()
        old = conn.execute(
            f"select {COLUMNS} from slotoptim_private.rank_candidates_reference(%s, %s) order by waitlist_entry_id",
            (gap, at),
        ).fetchall()
        assert full == old
        ordered = conn.execute(
            f"select r.waitlist_entry_id, r.score from slotoptim_private.rank_candidates_reference(%s, %s) as r"
            f" join slotoptim_private.waitlist_entry as w on w.id = r.waitlist_entry_id order by {ORDER}",
            (gap, at),
        ).fetchall()
        event(f"candidates: {min(len(ordered), 6)}{'+' if len(ordered) > 6 else ''}")
        for k in sorted({1, 2, 3, 5, len(ordered), len(ordered) + 1}):
            bounded = conn.execute(
                "select waitlist_entry_id, score from slotoptim_private.rank_candidates(%s, %s, %s)", (gap, at, k)
            ).fetchall()
            assert bounded == ordered[:k], f"k={k}"
        top = conn.execute(
            f"select {COLUMNS} from slotoptim_private.rank_candidates(%s, %s, 3) order by waitlist_entry_id",
            (gap, at),
        ).fetchall()
        assert top == [row for row in old if row["waitlist_entry_id"] in {r["waitlist_entry_id"] for r in ordered[:3]}]


@dataclass(frozen=True)
class Extras:
    """Move-up enrolments, entries wanting services no gap of this provider fits, new weights."""

    # (customer, service, days after the gap, days waited, travel minutes, offers accepted of 4): poor
    # static parts and short waits put an enrolment late in both orders the walk reads.
    moveups: tuple[tuple[int, int, int, int, int | None, int], ...]
    spread: tuple[tuple[int, int], ...]  # (customer, extra service)
    extra_services: int
    reweigh: tuple[int, int] | None  # new (weight_travel, weight_response), set after the entries
    weight_earlier: int


@st.composite
def extras(draw: st.DrawFn) -> Extras:
    extra_services = draw(st.integers(0, 4))
    return Extras(
        moveups=tuple(
            draw(
                st.lists(
                    st.tuples(
                        st.integers(0, 9),
                        st.integers(0, 2),
                        st.sampled_from([1, 3, 10, 40]),
                        st.sampled_from([1, 5, 20, 60]),
                        st.sampled_from([None, 30, 60]),
                        st.sampled_from([0, 4]),
                    ),
                    max_size=5,
                )
            )
        ),
        spread=tuple(
            draw(st.lists(st.tuples(st.integers(0, 9), st.integers(0, max(extra_services - 1, 0))), max_size=8))
        )
        if extra_services
        else (),
        extra_services=extra_services,
        reweigh=draw(st.none() | st.tuples(st.sampled_from([0, 10, 30]), st.sampled_from([0, 5, 30]))),
        weight_earlier=draw(st.sampled_from([0, 20, 60])),
    )


def _add_extras(conn: psycopg.Connection[Any], gap: int, at: dt.datetime, x: Extras) -> None:
    one = conn.execute
    org, this = one("select org_id, provider_id from slotoptim_private.gap where id = %s", (gap,)).fetchone().values()
    customers = [
        r["id"] for r in one("select id from slotoptim_private.customer where org_id = %s order by key", (org,))
    ]
    services = [r["id"] for r in one("select id from slotoptim_private.service where org_id = %s order by key", (org,))]
    one(
        "update slotoptim_private.organisation_settings set weight_earlier = %s where org_id = %s",
        (x.weight_earlier, org),
    )
    for n, (customer, service, days_later, waited, travel, accepted) in enumerate(x.moveups):
        if customer >= len(customers):
            continue
        # A booked appointment later than the gap, enrolled in move-up (one enrolment per appointment).
        starts = BASE + dt.timedelta(days=days_later, hours=n)
        appointment = one(
            "insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period)"
            " values (%s, %s, %s, %s, tstzrange(%s, %s)) returning id",
            (org, this, services[service], customers[customer], starts, starts + dt.timedelta(minutes=20)),
        ).fetchone()["id"]
        one(
            "insert into slotoptim_private.waitlist_entry (org_id, customer_id, key, service_ids, provider_ids,"
            " lead_time_minutes, moveup_appointment_id, added_at, travel_minutes, max_travel_minutes,"
            " offers_received, offers_accepted)"
            " values (%s, %s, %s, %s, %s, 0, %s, %s, %s, 60, 4, %s)",
            (
                org,
                customers[customer],
                f"m{n}",
                [services[service]],
                [this],
                appointment,
                at - dt.timedelta(days=waited),
                travel,
                accepted,
            ),
        )
    extra = [
        one(
            "insert into slotoptim_private.service (org_id, key, name, minutes, price, category)"
            " values (%s, %s, %s, 30, 10, %s) returning id",
            (org, f"x{i}", f"X{i}", f"elsewhere{i}"),
        ).fetchone()["id"]
        for i in range(x.extra_services)
    ]
    for n, (customer, service) in enumerate(x.spread):
        if customer < len(customers):
            one(
                "insert into slotoptim_private.waitlist_entry (org_id, customer_id, key, service_ids, added_at)"
                " values (%s, %s, %s, %s, %s)",
                (org, customers[customer], f"x{n}", [extra[service]], at - dt.timedelta(days=90)),
            )
    if x.reweigh is not None:
        one(
            "update slotoptim_private.organisation_settings set weight_travel = %s, weight_response = %s"
            " where org_id = %s",
            (*x.reweigh, org),
        )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(practice=practices(), more=extras(), page=st.sampled_from([1, 2, 3, None]))
def test_bounded_ranking_with_moveup_and_spread_services_equals_the_full_ranking(
    conn: psycopg.Connection[Any], practice: Practice, more: Extras, page: int | None
) -> None:
    # The reference predates move-up (issue 12): today's full ranking (every candidate scored) is the
    # one to equal here. Entries wanting services of other categories are never walked; move-up
    # entries weigh "earlier" into their bound; new weights re-weigh the static parts the walk reads.
    with conn.transaction(force_rollback=True):
        gap, at = _load(conn, practice)
        _add_extras(conn, gap, at, more)
        conn.execute("select set_config('slotoptim.rank_page_size', %s, true)", ("" if page is None else str(page),))
        ordered = conn.execute(
            f"select r.* from slotoptim_private.rank_candidates(%s, %s) as r"
            f" join slotoptim_private.waitlist_entry as w on w.id = r.waitlist_entry_id order by {ORDER}",
            (gap, at),
        ).fetchall()
        event(f"move-up candidates: {sum(1 for r in ordered if r['waitlist_entry_id'] in _moveup_ids(conn, gap))}")
        for k in sorted({1, 2, 3, 5, len(ordered), len(ordered) + 1}):
            bounded = conn.execute(f"select {COLUMNS} from slotoptim_private.rank_candidates(%s, %s, %s)", (gap, at, k))
            assert bounded.fetchall() == ordered[:k], f"k={k}"


def _moveup_ids(conn: psycopg.Connection[Any], gap: int) -> set[int]:
    return {
        r["id"]
        for r in conn.execute(
            "select w.id from slotoptim_private.waitlist_entry as w"
            " join slotoptim_private.gap as g on g.org_id = w.org_id"
            " where g.id = %s and w.moveup_appointment_id is not null",
            (gap,),
        )
    }


def test_a_moveup_enrolment_late_in_both_orders_is_still_found(conn: psycopg.Connection[Any]) -> None:
    # Weights where "earlier" dominates: the enrolment has the worst static parts and nearly the
    # shortest wait, so it comes after the other entries in both orders the walk reads, yet it
    # scores highest. The walk may stop only once the bound of the unseen entries, with full marks
    # for "earlier", is below the best score found: a bound without it would stop after the
    # second round and miss the enrolment.
    one = conn.execute
    at = BASE - dt.timedelta(hours=3)
    with conn.transaction(force_rollback=True):
        org = one(
            "insert into slotoptim_private.organisation (key, name, timezone) values ('mu', 'M', 'UTC') returning id"
        )
        org_id = org.fetchone()["id"]
        one(
            "update slotoptim_private.organisation_settings set weight_time = 0, weight_provider = 0,"
            " weight_service = 0, weight_travel = 30, weight_lead = 0, weight_response = 30, weight_fairness = 30,"
            " weight_earlier = 60, score_threshold = 0 where org_id = %s",
            (org_id,),
        )
        this = one(
            "insert into slotoptim_private.provider (org_id, key, name, timezone) values (%s, 'this', 'T', 'UTC')"
            " returning id",
            (org_id,),
        ).fetchone()["id"]
        service = one(
            "insert into slotoptim_private.service (org_id, key, name, minutes, category)"
            " values (%s, 's', 'S', 30, 'a') returning id",
            (org_id,),
        ).fetchone()["id"]
        one(
            "insert into slotoptim_private.provider_service (org_id, provider_id, service_id) values (%s, %s, %s)",
            (org_id, this, service),
        )

        def entry(key: str, days: int, travel: int | None, accepted: int, **more: Any) -> int:
            customer = one(
                "insert into slotoptim_private.customer (org_id, key, name, phone, consent_sms)"
                " values (%s, %s, 'C', '+16175550100', true) returning id",
                (org_id, key),
            ).fetchone()["id"]
            one(
                "insert into slotoptim_private.waitlist_entry (org_id, customer_id, key, service_ids, travel_minutes,"
                " max_travel_minutes, offers_received, offers_accepted, lead_time_minutes, added_at,"
                " excluded_provider_ids)"
                " values (%s, %s, %s, %s, %s, 60, 4, %s, 0, %s, %s)",
                (
                    org_id,
                    customer,
                    key,
                    [service],
                    travel,
                    accepted,
                    at - dt.timedelta(days=days),
                    more.get("excluded", []),
                ),
            )
            return int(customer)

        # The longest wait (it sets the fairness scale) but this provider is excluded: no candidate.
        entry("old", 60, 60, 0, excluded=[this])
        entry("good", 3, 60, 4)  # static 3000, fairness 5: scores 35
        for n in range(4):
            entry(f"poor{n}", 2, 60, 0)  # static 0, fairness 3: scores 1
        starts = BASE + dt.timedelta(days=40)
        moving = entry("moving", 1, 60, 0)  # static 0, fairness 2, "earlier" 100: scores 40.4
        appointment = one(
            "insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period)"
            " values (%s, %s, %s, %s, tstzrange(%s, %s)) returning id",
            (org_id, this, service, moving, starts, starts + dt.timedelta(minutes=30)),
        ).fetchone()["id"]
        one(
            "update slotoptim_private.waitlist_entry set moveup_appointment_id = %s where key = 'moving'",
            (appointment,),
        )
        gap = one(
            "insert into slotoptim_private.gap (org_id, provider_id, during, kind, status, opened_at)"
            " values (%s, %s, tstzrange(%s, %s), 'bookable', 'open', %s) returning id",
            (org_id, this, BASE, BASE + dt.timedelta(hours=2), at),
        ).fetchone()["id"]
        one("select set_config('slotoptim.rank_page_size', '1', true)")
        full = one(
            "select w.key, r.score from slotoptim_private.rank_candidates(%s, %s) as r"
            f" join slotoptim_private.waitlist_entry as w on w.id = r.waitlist_entry_id order by {ORDER}",
            (gap, at),
        ).fetchall()
        assert full[0]["key"] == "moving", full
        bounded = one(
            "select w.key, r.score from slotoptim_private.rank_candidates(%s, %s, 1) as r"
            " join slotoptim_private.waitlist_entry as w on w.id = r.waitlist_entry_id",
            (gap, at),
        ).fetchall()
        assert bounded == full[:1]
