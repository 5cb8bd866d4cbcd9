"""Rounds of the booking race of issue 9, item 8, over real HTTP against a uvicorn server: in each
round one opening is offered to everyone on the waitlist, and at the same moment three customers
claim it on the claim page, the front desk books the same slot (POST /v1/appointments) and
reschedules another appointment into it. Counted: PostgreSQL deadlocks (pg_stat_database), 5xx
answers, claim pages that were not HTML, and slots booked twice (never allowed).

Used by tests/py/api/test_claim_deadlock.py (20 rounds in the default suite) and `make faults`
(80 rounds, figures printed)."""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from api.api_practice import NOW, TZ, practice
from psycopg.rows import dict_row

from slotoptim.api.apikeys import create_key
from slotoptim.listener.practice.importer import import_practice
from slotoptim.listener.tokens import make_token, signing_key

CLAIMANTS = 3


@dataclass
class Figures:
    rounds: int = 0
    requests: int = 0
    deadlocks: int = 0
    server_errors: int = 0
    claim_pages_not_html: int = 0
    double_bookings: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    claim_outcomes: dict[str, int] = field(default_factory=dict)


def round_day(number: int) -> dt.date:
    """The weekday of round `number` (0-based): one round a working day after the test day."""
    day = NOW.date()
    left = number + 1
    while left:
        day += dt.timedelta(days=1)
        if day.isoweekday() <= 5:
            left -= 1
    return day


def race_practice(rounds: int) -> dict[str, Any]:
    """The API tests' practice with many waitlisted customers, and per round day an appointment to
    cancel (10:00) and one to move (16:00)."""
    document = practice("acme", 555, waitlisted=rounds + 2 * CLAIMANTS + 4)
    for number in range(rounds):
        day = round_day(number)
        for key, hour in ((f"gap-{number}", 10), (f"mover-{number}", 16)):
            start = dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)
            document["appointments"].append(
                {"key": key, "provider": "dr-a", "service": "short", "customer": "c0", "start": start.isoformat()}
            )
    return document


def load(url: str, rounds: int) -> str:
    """Imports the practice; returns a staff API key."""
    with psycopg.connect(url, row_factory=dict_row, autocommit=True) as conn:
        import_practice(conn, race_practice(rounds))
        org = conn.execute("select id from slotoptim_private.organisation where key = 'acme'").fetchone()
        assert org is not None
        conn.execute(
            "update slotoptim_private.organisation_settings set score_threshold = 0, max_offers_per_day = 1000,"
            " max_offers_per_week = 1000 where org_id = %s",
            (org["id"],),
        )
        return create_key(conn, org["id"], "front desk", "staff").token


def _deadlocks(conn: psycopg.Connection[Any]) -> int:
    conn.execute("select pg_stat_clear_snapshot()")
    row = conn.execute("select deadlocks from pg_stat_database where datname = current_database()").fetchone()
    return int(row["deadlocks"]) if row else 0


def _prepare(conn: psycopg.Connection[Any], number: int) -> dict[str, Any]:
    """Cancels the round's appointment and offers the gap to everyone; the offers, their slot and
    the appointment to move."""
    ids = {
        r["key"]: r["id"]
        for r in conn.execute(
            "select key, id from slotoptim_private.appointment where key in (%s, %s)",
            (f"gap-{number}", f"mover-{number}"),
        )
    }
    gap = conn.execute(
        "select gap_id from slotoptim.cancel_appointment(%s, %s) as gap_id", (ids[f"gap-{number}"], NOW)
    ).fetchone()
    assert gap is not None
    conn.execute("select slotoptim.start_offers(%s, 'broadcast', %s)", (gap["gap_id"], NOW))
    offers = conn.execute(
        "select id, customer_id, lower(slot) as starts, upper(slot) as ends,"
        " extract(epoch from expires_at)::bigint as expires"
        " from slotoptim_private.offer where gap_id = %s and status = 'open' order by id",
        (gap["gap_id"],),
    ).fetchall()
    assert len(offers) >= CLAIMANTS, f"round {number}: only {len(offers)} offers"
    return {"offers": offers[:CLAIMANTS], "mover": ids[f"mover-{number}"]}


def run_rounds(base_url: str, db_url: str, staff_key: str, rounds: int) -> Figures:
    figures = Figures()
    headers = {"Authorization": f"Bearer {staff_key}"}
    with psycopg.connect(db_url, row_factory=dict_row, autocommit=True) as conn:
        key = signing_key(conn)
        before = _deadlocks(conn)
        for number in range(rounds):
            plan = _prepare(conn, number)
            first = plan["offers"][0]
            slot_start, slot_end = first["starts"].isoformat(), first["ends"].isoformat()
            calls: list[tuple[str, str, dict[str, Any]]] = []
            for offer in plan["offers"]:
                token = make_token(key, offer["id"], offer["customer_id"], int(offer["expires"]))
                calls.append(("claim", f"/c/{token}", {"data": {"token": token}}))
            calls.append(
                (
                    "book",
                    "/v1/appointments",
                    {"json": {"provider": "dr-a", "service": "short", "start": slot_start, "end": slot_end}},
                )
            )
            calls.append(
                ("move", f"/v1/appointments/{plan['mover']}/reschedule", {"json": {"start": slot_start}}),
            )
            answers = _all_at_once(base_url, headers, calls)
            figures.rounds += 1
            for (kind, _, _), answer in zip(calls, answers, strict=True):
                figures.requests += 1
                figures.statuses[answer.status_code] = figures.statuses.get(answer.status_code, 0) + 1
                if answer.status_code >= 500:
                    figures.server_errors += 1
                if kind == "claim":
                    if not answer.headers.get("content-type", "").startswith("text/html"):
                        figures.claim_pages_not_html += 1
                    outcome = _claim_outcome(answer.text)
                    figures.claim_outcomes[outcome] = figures.claim_outcomes.get(outcome, 0) + 1
            booked = conn.execute(
                "select count(*) as n from slotoptim_private.appointment as a"
                " join slotoptim_private.provider as p on p.id = a.provider_id and p.key = 'dr-a'"
                " where a.status in ('booked', 'confirmed') and a.period && tstzrange(%s, %s)",
                (first["starts"], first["ends"]),
            ).fetchone()
            assert booked is not None
            if booked["n"] > 1:
                figures.double_bookings += 1
        # Backends report their counters when they go idle; the pool's are idle by now.
        figures.deadlocks = _deadlocks(conn) - before
    return figures


def _all_at_once(base_url: str, headers: dict[str, str], calls: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def call(i: int, kind: str, path: str, kwargs: dict[str, Any]) -> None:
        with httpx.Client(base_url=base_url, timeout=60.0) as client:
            barrier.wait()
            extra = {} if kind == "claim" else {"headers": headers}
            answers[i] = client.post(path, **kwargs, **extra)

    threads = [threading.Thread(target=call, args=(i, *c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a is not None for a in answers)
    return answers


def _claim_outcome(html: str) -> str:
    """The page's heading, which names its state."""
    match = re.search(r'<h1 id="heading">([^<]*)</h1>', html)
    return match.group(1).replace("&#39;", "'") if match else "(no heading)"
