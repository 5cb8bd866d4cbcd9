"""The "manual" baseline: a receptionist phones the waitlist, on the same database and clock.

No offers are sent (the organisation's auto_offer is off, so slotoptim.tick starts no campaign).
One staff member works during office hours (default Monday-Friday 09:00-17:00, practice time):

- a cancellation is noticed 15-60 minutes after it happens (uniform); one made outside office
  hours is noticed 0-30 minutes after the next opening;
- noticed gaps are worked one at a time, first noticed first: the staff member reads the ranked
  list (slotoptim.candidates at that moment, so the engine's hard filters apply) and phones the
  best candidate not yet called for that gap;
- a call takes the customer's pickup delay (log-normal, median 1.4 minutes) plus 2 minutes when
  answered, 2 minutes when not; the customer answers as slotoptim.ml.simulate.fill_customers
  decides for the "phone" channel (41 % yes), so the same people say yes as under the automated
  strategies;
- a yes is booked at the end of the call the way the front desk books (an appointment insert, from
  the waitlist: the exclusion constraint is the arbiter, the gap trigger fills the gap and opens
  what is left of it, which the staff member then works on at once);
- after ``max_calls`` calls, or when nobody qualifies, the gap is left; at closing time the work
  stops and resumes at the next opening.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import redis

from slotoptim.listener.simulation import FillSimulation, SimulationEvent
from slotoptim.ml.simulate.fill_customers import Customers


@dataclass(frozen=True)
class OfficeHours:
    timezone: str
    opens: dt.time = dt.time(9)
    closes: dt.time = dt.time(17)
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Python weekdays (Monday = 0) the desk is staffed."""
    notice_minutes: tuple[float, float] = (15.0, 60.0)
    call_minutes: float = 2.0
    max_calls: int = 10

    def is_open(self, at: dt.datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        return local.weekday() in self.weekdays and self.opens <= local.time() < self.closes

    def next_opening(self, at: dt.datetime) -> dt.datetime:
        """``at`` when the desk is open then, else the start of the next office period."""
        if self.is_open(at):
            return at
        tz = ZoneInfo(self.timezone)
        local = at.astimezone(tz)
        day = local.date()
        for offset in range(8):
            date = day + dt.timedelta(days=offset)
            opening = dt.datetime.combine(date, self.opens, tzinfo=tz)
            if date.weekday() in self.weekdays and opening >= local:
                return opening.astimezone(dt.UTC)
        raise ValueError("the office never opens")


@dataclass
class _Task:
    gap_id: int
    noticed_at: dt.datetime
    origin: str
    called: set[int] = field(default_factory=set)


class ManualDesk(FillSimulation):
    def __init__(
        self,
        url: str,
        redis_client: redis.Redis | None,
        step: dt.timedelta,
        *,
        customers: Customers,
        office: OfficeHours,
        seed: int,
    ) -> None:
        super().__init__(url, random.Random(seed), redis_client, step, skip_idle=True)
        self.customers = customers
        self.office = office
        self.seed = seed
        self.tasks: list[_Task] = []
        self.busy = False
        self.calls = 0
        self.phone_minutes = 0.0

    # ---- noticing ---------------------------------------------------------------------------

    def cancelled(self, conn: psycopg.Connection[Any], appointment_id: int, gap_ids: list[int]) -> None:
        row = conn.execute("select key from slotoptim_private.appointment where id = %s", (appointment_id,)).fetchone()
        origin = str(row["key"]) if row and row["key"] else f"appointment-{appointment_id}"
        rng = random.Random(f"{self.seed}/notice/{origin}")
        low, high = self.office.notice_minutes
        noticed = self.now + dt.timedelta(minutes=rng.uniform(low, high))
        if not self.office.is_open(noticed):
            noticed = self.office.next_opening(noticed) + dt.timedelta(minutes=rng.uniform(0, 30))
        for gap_id in gap_ids:
            self.schedule(noticed, "staff_notice", gap_id=gap_id, origin=origin)

    def handle_event(self, conn: psycopg.Connection[Any], event: SimulationEvent) -> None:
        if event.kind == "staff_notice":
            self.tasks.append(_Task(int(event.payload["gap_id"]), self.now, str(event.payload["origin"])))
            self.log.add(self.now, "staff_noticed", gap_id=event.payload["gap_id"])
            if not self.busy:
                self.busy = True
                self.schedule(self.now, "staff_next")
        elif event.kind == "staff_next":
            self._next_call(conn)
        elif event.kind == "call_end":
            self._call_ended(conn, event.payload)
        else:
            super().handle_event(conn, event)

    # ---- calling ----------------------------------------------------------------------------

    def _next_call(self, conn: psycopg.Connection[Any]) -> None:
        if not self.office.is_open(self.now):
            self.schedule(self.office.next_opening(self.now), "staff_next")
            return
        while self.tasks:
            task = self.tasks[0]
            gap = self._live_gap(conn, task.gap_id)
            if gap is None or len(task.called) >= self.office.max_calls:
                self.log.add(self.now, "staff_gave_up" if gap is not None else "staff_gap_gone", gap_id=task.gap_id)
                self.tasks.pop(0)
                continue
            task.gap_id = gap
            candidate = self._best_uncalled(conn, task)
            if candidate is None:
                self.log.add(self.now, "staff_list_exhausted", gap_id=task.gap_id)
                self.tasks.pop(0)
                continue
            task.called.add(int(candidate["customer_id"]))
            self.calls += 1
            opening = candidate["cancelled_key"] or task.origin
            response = self.customers.answer(str(candidate["customer_key"]), str(opening), "phone")
            ends = self.now + dt.timedelta(minutes=self.office.call_minutes)
            if response is not None:
                ends += response.delay
            self.phone_minutes += (ends - self.now).total_seconds() / 60.0
            self.log.add(
                self.now,
                "staff_call",
                gap_id=task.gap_id,
                customer_id=int(candidate["customer_id"]),
                response=response.kind if response else "no answer",
            )
            self.schedule(
                ends,
                "call_end",
                accepted=response is not None and response.kind == "accept",
                candidate={k: candidate[k] for k in ("customer_id", "entry_id", "service_id", "starts", "ends")},
            )
            return
        self.busy = False

    def _call_ended(self, conn: psycopg.Connection[Any], payload: dict[str, Any]) -> None:
        if payload["accepted"]:
            task = self.tasks[0]
            outcome = self._book(conn, task.gap_id, payload["candidate"])
            self.log.add(self.now, "staff_booking", gap_id=task.gap_id, outcome=outcome)
            if outcome == "booked":
                self.tasks.pop(0)
                # What is left of the gap reopens as new gaps: the staff member is on it already.
                for gap_id in self._reopened(conn, task.gap_id):
                    self.tasks.insert(0, _Task(gap_id, self.now, task.origin, set(task.called)))
        self.schedule(self.now, "staff_next")

    def _live_gap(self, conn: psycopg.Connection[Any], gap_id: int) -> int | None:
        """The live gap a noticed gap became (merges move it); None when it was filled or has passed."""
        for _ in range(20):
            row = conn.execute(
                "select id, status, merged_into, upper(during) > %s as ahead from slotoptim_private.gap where id = %s",
                (self.now, gap_id),
            ).fetchone()
            if row is None:
                return None
            if row["status"] == "merged" and row["merged_into"] is not None:
                gap_id = int(row["merged_into"])
                continue
            return gap_id if row["status"] in ("open", "offering") and row["ahead"] else None
        return None

    def _best_uncalled(self, conn: psycopg.Connection[Any], task: _Task) -> dict[str, Any] | None:
        rows = conn.execute(
            "select c.rank, cu.id as customer_id, cu.key as customer_key, w.id as entry_id, s.id as service_id,"
            "       lower(c.slot) as starts, upper(c.slot) as ends,"
            "       (select a.key from slotoptim_private.appointment as a"
            "         where a.provider_id = g.provider_id and a.status = 'cancelled' and a.period && c.slot"
            "         order by lower(a.period), a.id limit 1) as cancelled_key"
            "  from slotoptim.candidates(%(gap)s, %(at)s) as c"
            "  join slotoptim_private.gap as g on g.id = %(gap)s"
            "  join slotoptim_private.customer as cu on cu.org_id = g.org_id and cu.key = c.customer_key"
            "  join slotoptim_private.waitlist_entry as w on w.org_id = g.org_id and w.key = c.entry_key"
            "  join slotoptim_private.service as s on s.org_id = g.org_id and s.key = c.service_key"
            " order by c.rank",
            {"gap": task.gap_id, "at": self.now},
        ).fetchall()
        for row in rows:
            if int(row["customer_id"]) not in task.called:
                return dict(row)
        return None

    def _book(self, conn: psycopg.Connection[Any], gap_id: int, candidate: dict[str, Any]) -> str:
        if self._live_gap(conn, gap_id) is None or candidate["starts"] <= self.now:
            return "gone"
        try:
            with conn.transaction():
                conn.execute("select slotoptim_private.set_clock(%s)", (self.now,))
                conn.execute(
                    "insert into slotoptim_private.appointment"
                    " (org_id, provider_id, service_id, customer_id, period, status, source, booked_at)"
                    " select g.org_id, g.provider_id, %s, %s, tstzrange(%s, %s, '[)'), 'booked', 'waitlist', %s"
                    "   from slotoptim_private.gap as g where g.id = %s",
                    (
                        candidate["service_id"],
                        candidate["customer_id"],
                        candidate["starts"],
                        candidate["ends"],
                        self.now,
                        gap_id,
                    ),
                )
                conn.execute(
                    "update slotoptim_private.waitlist_entry set status = 'fulfilled', consecutive_ignored = 0,"
                    " offers_received = offers_received + 1, offers_accepted = offers_accepted + 1 where id = %s",
                    (candidate["entry_id"],),
                )
        except psycopg.errors.ExclusionViolation:
            return "conflict"
        return "booked"

    def _reopened(self, conn: psycopg.Connection[Any], gap_id: int) -> list[int]:
        rows = conn.execute(
            "select n.id from slotoptim_private.gap as g"
            "  join slotoptim_private.gap as n on n.provider_id = g.provider_id and n.id > g.id"
            "   and n.status = 'open' and n.kind = 'bookable' and n.during && g.during"
            " where g.id = %s order by lower(n.during)",
            (gap_id,),
        ).fetchall()
        return [int(r["id"]) for r in rows]
