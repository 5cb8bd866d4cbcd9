"""Move-up chains under contention: claiming books the earlier slot and cancels the held one in one
transaction, the freed slot opens the next gap, and whoever races for it, no customer ever holds
two appointments or none."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from moveup.moveup_practice import (
    AT,
    active_counts,
    appointment_id,
    broadcast,
    cancel_first,
    enrol,
    freed_gap,
    load,
)
from psycopg.rows import dict_row

from slotoptim.listener.claims import ClaimResult, claim


def _race(url: str, claims: list[tuple[int, int]]) -> list[ClaimResult]:
    """Every (offer, customer) claims at the same moment, each on a connection of its own."""
    barrier = threading.Barrier(len(claims))
    results: list[ClaimResult | BaseException] = [RuntimeError("not run")] * len(claims)

    def attempt(i: int, offer_id: int, customer_id: int) -> None:
        try:
            with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
                barrier.wait()
                results[i] = claim(conn, None, offer_id, customer_id, AT)
        except BaseException as exc:  # re-raised below
            results[i] = exc

    threads = [threading.Thread(target=attempt, args=(i, o, c)) for i, (o, c) in enumerate(claims)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return [r for r in results if isinstance(r, ClaimResult)]


def _assert_invariant(conn: psycopg.Connection[Any], holders: list[str]) -> None:
    counts = active_counts(conn)
    assert all(counts[h] == 1 for h in holders), counts
    assert all(n <= 1 for n in counts.values()), counts


def test_a_chain_of_three_moves_each_customer_exactly_once(conn: psycopg.Connection[Any], fresh_db: str) -> None:
    load(conn, holders=3)
    # Each holder wants exactly the day before their own: the chain's order is fixed.
    for holder, day in (("h1", 2), ("h2", 3), ("h3", 4)):
        enrol(conn, holder, preferred_days=[day])
    gap = cancel_first(conn)
    movers = []
    for link in range(3):
        offers = broadcast(conn, gap)
        assert len(offers) == 1, offers
        offer = offers[0]
        assert offer["customer_key"] == f"h{link + 1}"
        # The same customer answers three times at once (link, SMS, a retry).
        results = _race(fresh_db, [(offer["id"], offer["customer_id"])] * 3)
        assert sorted(r.outcome for r in results) == ["already_yours", "already_yours", "booked"]
        _assert_invariant(conn, ["h1", "h2", "h3"])
        movers.append(offer["customer_key"])
        next_gap = freed_gap(conn, gap)
        assert next_gap is not None
        gap = next_gap
    assert movers == ["h1", "h2", "h3"]
    # The last freed slot (h3's Friday) is nobody's move: nobody holds a later one.
    assert broadcast(conn, gap) == []
    chain = conn.execute("select * from slotoptim.moveup_chains").fetchall()
    assert len(chain) == 1
    assert chain[0]["chain_length"] == 3
    assert chain[0]["days_gained"] == 3
    kpis = conn.execute("select * from slotoptim.moveup_kpis").fetchone()
    assert kpis is not None and kpis["moves"] == 3 and kpis["longest_chain"] == 3


def test_concurrent_claimants_never_leave_two_appointments_or_none(
    conn: psycopg.Connection[Any], fresh_db: str
) -> None:
    holders = [f"h{i}" for i in range(1, 7)]
    load(conn, holders=6, waitlisted=3)
    for h in holders:
        enrol(conn, h)
    gap: int | None = cancel_first(conn)
    links = 0
    while gap is not None and links < 8:
        offers = broadcast(conn, gap)
        if not offers:
            break
        # Everyone offered the gap says yes at the same instant, twice.
        results = _race(fresh_db, [(o["id"], o["customer_id"]) for o in offers] * 2)
        assert [r.outcome for r in results].count("booked") == 1, [r.outcome for r in results]
        _assert_invariant(conn, holders)
        links += 1
        gap = freed_gap(conn, gap)
    assert links >= 1
    moves = conn.execute("select * from slotoptim_private.moveup_move order by chain_position").fetchall()
    assert [m["chain_position"] for m in moves] == list(range(1, len(moves) + 1))
    assert all(m["to_start"] < m["from_start"] for m in moves)
    # Nobody moved twice (cool-down), and every move left a cancelled appointment behind.
    assert len({m["customer_id"] for m in moves}) == len(moves)
    left = conn.execute(
        "select count(*) as n from slotoptim_private.appointment where id = any(%s) and status = 'cancelled'",
        ([m["from_appointment_id"] for m in moves],),
    ).fetchone()
    assert left is not None and left["n"] == len(moves)


def test_never_offered_a_later_slot_nor_twice_within_the_cool_down(conn: psycopg.Connection[Any]) -> None:
    load(conn, holders=2)
    enrol(conn, "h1")
    enrol(conn, "h2")
    # h1 (Wednesday) cancels outright: the Wednesday gap is later than nothing h1 holds now, and
    # h2 (Thursday) may take it.
    conn.execute("select slotoptim.cancel_appointment(%s, %s)", (appointment_id(conn, "a-h1"), AT))
    wednesday = conn.execute(
        "select id from slotoptim_private.gap where source_appointment_id = %s", (appointment_id(conn, "a-h1"),)
    ).fetchone()
    assert wednesday is not None
    offers = broadcast(conn, int(wednesday["id"]))
    assert [o["customer_key"] for o in offers] == ["h2"]
    assert claim(conn, None, offers[0]["id"], offers[0]["customer_id"], AT).outcome == "booked"
    # h2 now holds Wednesday and enrols that appointment too: the Tuesday gap would gain a day,
    # but h2 moved moments ago (cool-down).
    moved = conn.execute("select to_appointment_id from slotoptim_private.moveup_move").fetchone()
    assert moved is not None
    conn.execute("select slotoptim.enrol_moveup(%s, %s)", (moved["to_appointment_id"], AT))
    tuesday = cancel_first(conn)
    candidates = "select customer_key from slotoptim.candidates(%s, %s)"
    assert conn.execute(candidates, (tuesday, AT)).fetchall() == []
    why = conn.execute(
        "select excluded_by, detail from slotoptim.candidate_exclusions(%s, %s) where customer_key = 'h2'",
        (tuesday, AT),
    ).fetchall()
    assert [(w["excluded_by"], w["detail"]) for w in why] == [("move-up", "moved within the last 7 days")]
    conn.execute("update slotoptim_private.organisation_settings set moveup_cooldown = interval '0'")
    assert [r["customer_key"] for r in conn.execute(candidates, (tuesday, AT)).fetchall()] == ["h2"]


def test_enrolment_refuses_what_cannot_move(conn: psycopg.Connection[Any]) -> None:
    load(conn, holders=1)
    with pytest.raises(psycopg.errors.NoDataFound, match="unknown appointment 999999"):
        conn.execute("select slotoptim.enrol_moveup(999999, %s)", (AT,))
    conn.execute("select slotoptim.cancel_appointment(%s, %s)", (appointment_id(conn, "a-h1"), AT))
    with pytest.raises(psycopg.errors.CheckViolation, match="is cancelled and cannot move earlier"):
        conn.execute("select slotoptim.enrol_moveup(%s, %s)", (appointment_id(conn, "a-h1"), AT))


def test_cancelling_the_held_appointment_withdraws_its_move_up_offers(conn: psycopg.Connection[Any]) -> None:
    load(conn, holders=1)
    enrol(conn, "h1")
    gap = cancel_first(conn)
    offers = broadcast(conn, gap)
    assert [o["customer_key"] for o in offers] == ["h1"]
    conn.execute("select slotoptim.cancel_appointment(%s, %s)", (appointment_id(conn, "a-h1"), AT))
    result = claim(conn, None, offers[0]["id"], offers[0]["customer_id"], AT)
    assert result.outcome == "filled"
    assert active_counts(conn)["h1"] == 0  # they cancelled; the move did not resurrect anything


def test_the_move_up_offer_text_names_the_appointment_it_replaces(conn: psycopg.Connection[Any], fresh_db: str) -> None:
    from slotoptim.listener.sender import Sender, SenderConfig
    from slotoptim.listener.simulation import RecordingChannel

    load(conn, holders=1)
    enrol(conn, "h1")
    broadcast(conn, cancel_first(conn))
    channels = {name: RecordingChannel(name) for name in ("sms", "whatsapp", "email", "console")}
    sender = Sender(fresh_db, channels, SenderConfig(threads=1), clock=lambda: AT, worker="moveup-test")
    try:
        sender.drain()
    finally:
        sender.close()
    (text,) = [m.body for m in channels["sms"].sent]
    assert "earlier" in text.lower() and "11/25" in text, text


def test_auto_enrolment_enrols_new_bookings_and_the_moved_appointment(conn: psycopg.Connection[Any]) -> None:
    load(conn, holders=1)
    conn.execute("update slotoptim_private.organisation_settings set moveup_auto_enrol = true")
    active = (
        "select moveup_appointment_id as id from slotoptim_private.waitlist_entry where status = 'active'"
        " and moveup_appointment_id is not null order by id"
    )
    assert conn.execute(active).fetchall() == []  # imported before the setting: not enrolled
    # A booking made now (the test's clock) for the Friday after next is enrolled at once.
    with conn.transaction():
        conn.execute("select slotoptim_private.set_clock(%s)", (AT,))
        booked = conn.execute(
            "insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period,"
            " booked_at)"
            " select a.org_id, a.provider_id, a.service_id,"
            "        (select id from slotoptim_private.customer where key = 'z'),"
            "        tstzrange(lower(a.period) + interval '9 days', upper(a.period) + interval '9 days'), %s"
            "   from slotoptim_private.appointment as a where a.key = 'a-h1'"
            " returning id",
            (AT,),
        ).fetchone()
    assert booked is not None
    assert [r["id"] for r in conn.execute(active).fetchall()] == [booked["id"]]
    # h1 enrols, moves to Tuesday: the new appointment is enrolled too (the cool-down guards it).
    enrol(conn, "h1")
    offers = broadcast(conn, cancel_first(conn))
    (mine,) = [o for o in offers if o["customer_key"] == "h1"]
    assert claim(conn, None, mine["id"], mine["customer_id"], AT).outcome == "booked"
    moved = conn.execute("select to_appointment_id from slotoptim_private.moveup_move").fetchone()
    assert moved is not None
    assert [r["id"] for r in conn.execute(active).fetchall()] == sorted([booked["id"], moved["to_appointment_id"]])
