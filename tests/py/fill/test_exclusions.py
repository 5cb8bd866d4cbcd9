"""slotoptim.candidate_exclusions: every active entry, with the first hard filter that kept it from
the gap, and exactly the candidates of slotoptim.candidates without one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from fill.test_same_day import CANCELLED_AT, local, practice

from slotoptim.listener.practice.importer import import_practice

# Entry key -> the reason it is not a candidate of the 16:00 gap cancelled at 12:31.
EXPECTED = {
    "w1": None,
    "w2": None,
    "w3": None,
    "x-service": "service",
    "x-provider": "provider",
    "x-day": "day",
    "x-dates": "dates",
    "x-window": "window",
    "x-lead": "lead time",
    "x-consent": "consent",
    "x-optout": "opt-out",
    "x-booked": "booked then",
    "x-fatigue": "fatigue",
    "x-same": "same customer",
}


def excluding_practice() -> dict[str, Any]:
    p = practice()
    p["services"].append({"key": "surgery", "name": "Surgery", "minutes": 300, "price": 900, "category": "surgery"})
    p["providers"].append(
        {
            "key": "dr-two",
            "name": "Dr. Two",
            "timezone": "America/New_York",
            "services": ["visit"],
            "hours": [{"days": ["tue"], "start": "08:00", "end": "18:00"}],
        }
    )
    names = ["service", "provider", "day", "dates", "window", "lead", "consent", "optout", "booked", "fatigue"]
    for name in names:
        consent = {} if name == "consent" else {"sms": True}
        p["customers"].append({"key": f"k-{name}", "name": name.title(), "phone": "+16175550142", "consent": consent})
    base = {"services": ["visit"]}
    entries: dict[str, dict[str, Any]] = {
        "service": {"services": ["surgery"]},
        "provider": {**base, "excluded_providers": ["dr-day"]},
        "day": {**base, "days": ["mon"]},
        "dates": {**base, "dates": {"from": "2026-12-01"}},
        "window": {**base, "window": {"start": "08:00", "end": "10:00"}, "lead_time_minutes": 0},
        "lead": {**base, "lead_time_minutes": 600},
        "consent": base,
        "optout": base,
        "booked": base,
        "fatigue": {**base, "history": {"received": 5, "ignored": 5, "consecutive_ignored": 5}},
    }
    p["waitlist"] += [{"key": f"x-{n}", "customer": f"k-{n}", **e} for n, e in entries.items()]
    # A second entry of customer c1, worse than w1 (it is not in its window): w1 is the candidate.
    p["waitlist"].append(
        {"key": "x-same", "customer": "c1", "services": ["visit"], "window": {"start": "08:00", "end": "15:00"}}
    )
    # k-booked sees Dr. Two at the time the gap would give it.
    p["appointments"].append(
        {
            "key": "elsewhere",
            "provider": "dr-two",
            "service": "visit",
            "customer": "k-booked",
            "start": local(14, 35).isoformat(),
        }
    )
    return p


def test_every_entry_has_its_reason(conn: psycopg.Connection[Any]) -> None:
    import_practice(conn, excluding_practice())
    conn.execute("update slotoptim_private.customer set opted_out_at = %s where key = 'k-optout'", (CANCELLED_AT,))
    row = conn.execute(
        "select * from slotoptim.cancel_appointment("
        "(select id from slotoptim_private.appointment where key = 'at-four'), %s)",
        (CANCELLED_AT,),
    ).fetchone()
    assert row is not None
    gap_id = int(row["cancel_appointment"])

    rows = conn.execute("select * from slotoptim.candidate_exclusions(%s, %s)", (gap_id, CANCELLED_AT)).fetchall()
    assert {r["entry_key"]: r["excluded_by"] for r in rows} == EXPECTED
    assert all(r["detail"] for r in rows if r["excluded_by"])
    lead = next(r for r in rows if r["entry_key"] == "x-lead")
    assert lead["detail"] == "needs 600 min notice"
    candidates = conn.execute("select entry_key, slot from slotoptim.candidates(%s, %s)", (gap_id, CANCELLED_AT))
    chosen = {r["entry_key"]: r["slot"] for r in candidates.fetchall()}
    assert chosen == {r["entry_key"]: r["slot"] for r in rows if r["excluded_by"] is None}

    # Once offered, the candidates are excluded as such, and the next day's caps apply.
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap_id, CANCELLED_AT))
    later = CANCELLED_AT + dt.timedelta(minutes=1)
    after = {
        r["entry_key"]: r["excluded_by"]
        for r in conn.execute("select * from slotoptim.candidate_exclusions(%s, %s)", (gap_id, later)).fetchall()
    }
    # w3's slot (12:35) starts before a broadcast offer's 30 minutes would run out: not offered yet.
    assert (after["w1"], after["w2"], after["w3"]) == ("already offered", "already offered", None)
    conn.execute("update slotoptim_private.organisation_settings set max_offers_per_day = 1")
    capped = conn.execute("select * from slotoptim.candidate_exclusions(%s, %s)", (gap_id, later)).fetchall()
    assert {r["entry_key"]: r["excluded_by"] for r in capped}["w1"] == "daily cap"
