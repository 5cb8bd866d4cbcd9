"""`slotoptim simulate fill --moveup`: today's engine against the same engine with move-up offers
and reminders that catch cancellations early (issue 12), on the same weeks of the demo practice.

For each strategy two databases are cloned from one prepared database:

- **today**: exactly ``slotoptim simulate fill`` (slotoptim.ml.simulate.fill._run_strategy);
- **move-up + reminders**: a share ``enrol_share`` of the booked appointments that are not going to
  be cancelled and start at least two days into the run enrol in move-up at the start (own
  provider, any day, drawn per appointment key, so every strategy enrols the same ones); the
  organisation's reminders are on (default plan: email 48 h, SMS 24 h and 2 h before, in quiet
  hours earlier); a customer who is going to cancel and gets an SMS or WhatsApp reminder before
  that answers C with probability ``reminder_reply_rate`` (drawn per appointment and reminder step)
  after a delay like an SMS answer (log-normal around 3.2 minutes, awake hours only), which cancels
  then instead of at the planned time. Customers answer move-up offers as they answer waitlist
  offers (slotoptim.ml.simulate.fill_customers).

The reply rate is an assumption of the run (a parameter), not a measured figure.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
import redis
from psycopg.rows import dict_row

from slotoptim.listener.simulation import CHANNEL_BEHAVIOUR, FillSimulation, SimulationEvent
from slotoptim.ml.simulate.fill import FillConfig, _run_strategy, practice_databases
from slotoptim.ml.simulate.fill_customers import Customers, awake_delay
from slotoptim.ml.simulate.fill_metrics import StrategyResult, measure, quantile
from slotoptim.ml.simulate.fill_practice import ORG_KEY, FillScenario, fill_scenario

# The earliest instant of an undecided reminder step still to come (the engine's own expression:
# slotoptim.send_due_reminders), so skipping idle minutes never skips a reminder.
NEXT_REMINDER = """
select min(slotoptim_private.previous_send_time(lower(a.period) - p.before, coalesce(c.timezone, o.timezone),
                                                st.send_window_start, st.send_window_end)) as due
  from slotoptim_private.appointment as a
  join slotoptim_private.organisation_settings as st on st.org_id = a.org_id and st.reminders_enabled
  join slotoptim_private.organisation as o on o.id = a.org_id
  join slotoptim_private.customer as c on c.id = a.customer_id
  cross join lateral slotoptim_private.reminder_plan(a.org_id) as p
 where a.status in ('booked', 'confirmed') and lower(a.period) > %(now)s
   and not p.high_risk_only
   and slotoptim_private.previous_send_time(lower(a.period) - p.before, coalesce(c.timezone, o.timezone),
                                            st.send_window_start, st.send_window_end) > %(now)s
"""


@dataclass(frozen=True)
class MoveUpConfig:
    enrol_share: float = 0.3
    reminder_reply_rate: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.enrol_share <= 1 or not 0 <= self.reminder_reply_rate <= 1:
            raise ValueError("enrol_share and reminder_reply_rate are shares in [0, 1]")


@dataclass(frozen=True)
class VariantResult:
    """One strategy under one variant: the fill figures plus move-up and notice figures."""

    variant: str
    fill: StrategyResult
    moves: int
    days_gained_per_move: float | None
    median_days_gained: float | None
    longest_chain: int
    enrolled: int
    early_cancellations: int
    """Cancellations a reminder reply brought forward."""
    median_hours_earlier: float | None
    """Over those: median hours between the reply and the time the customer would have cancelled."""
    median_notice_hours: float | None
    """Median hours between a planned cancellation and its appointment's start, as it happened."""
    late_claims_per_fill: float | None

    def to_plain(self) -> dict[str, Any]:
        plain = asdict(self)
        plain["fill"] = self.fill.to_plain()
        return plain


@dataclass(frozen=True)
class MoveUpComparison:
    config: FillConfig
    moveup: MoveUpConfig
    scenario: FillScenario
    results: tuple[tuple[VariantResult, VariantResult], ...]
    databases: tuple[str, ...] = ()

    def to_plain(self) -> dict[str, Any]:
        return {
            "scenario": {
                "practice": ORG_KEY,
                "synthetic": True,
                "start": self.scenario.start.isoformat(),
                "weeks": self.config.weeks,
                "seed": self.config.seed,
                "waitlist_entries": len(self.scenario.document["waitlist"]),
                "appointments": len(self.scenario.document["appointments"]),
                "cancellations": len(self.scenario.cancellations),
                "enrol_share": self.moveup.enrol_share,
                "reminder_reply_rate": self.moveup.reminder_reply_rate,
            },
            "results": [{"today": a.to_plain(), "moveup_reminders": b.to_plain()} for a, b in self.results],
            "databases": list(self.databases),
        }


class MoveUpReminderSimulation(FillSimulation):
    """The fill simulation with planned cancellations that a reminder reply may bring forward."""

    def __init__(
        self,
        url: str,
        redis_client: redis.Redis | None,
        step: dt.timedelta,
        *,
        customers: Customers,
        seed: int,
        reply_rate: float,
        planned: dict[int, str],
    ) -> None:
        super().__init__(url, random.Random(seed), redis_client, step, responder=customers, skip_idle=True)
        self.seed = seed
        self.reply_rate = reply_rate
        self.planned = planned  # appointment id -> key
        self.early: set[int] = set()

    def handle_event(self, conn: psycopg.Connection[Any], event: SimulationEvent) -> None:
        if event.kind not in ("planned_cancel", "reminder_reply"):
            super().handle_event(conn, event)
            return
        appointment_id = int(event.payload["appointment_id"])
        row = conn.execute(
            "select status from slotoptim_private.appointment where id = %s", (appointment_id,)
        ).fetchone()
        if row is None or row["status"] not in ("booked", "confirmed"):
            return  # a reminder reply cancelled it already
        gaps = conn.execute("select * from slotoptim.cancel_appointment(%s, %s)", (appointment_id, self.now)).fetchall()
        gap_ids = [int(g["cancel_appointment"]) for g in gaps]
        if event.kind == "reminder_reply":
            self.early.add(appointment_id)
        self.log.add(self.now, "cancellation", appointment_id=appointment_id, gaps=gap_ids, via=event.kind)
        self.cancelled(conn, appointment_id, gap_ids)

    def _answer_new_offers(self, conn: psycopg.Connection[Any]) -> None:
        fresh = [m.message_id for name, ch in self.channels.items() for m in ch.sent[self.seen_messages.get(name, 0) :]]
        if fresh:
            self._answer_reminders(conn, fresh)
        super()._answer_new_offers(conn)

    def _answer_reminders(self, conn: psycopg.Connection[Any], message_ids: list[int]) -> None:
        rows = conn.execute(
            "select m.id, m.appointment_id, m.channel, r.before, coalesce(c.timezone, o.timezone) as tz"
            "  from slotoptim_private.message as m"
            "  join slotoptim_private.reminder as r on r.message_id = m.id"
            "  join slotoptim_private.customer as c on c.id = m.customer_id"
            "  join slotoptim_private.organisation as o on o.id = m.org_id"
            " where m.id = any(%s) and m.kind = 'reminder' and m.channel in ('sms', 'whatsapp')"
            "   and m.appointment_id = any(%s)",
            (message_ids, list(self.planned)),
        ).fetchall()
        for row in rows:
            key = self.planned[int(row["appointment_id"])]
            rng = random.Random(f"{self.seed}/reminder/{key}/{row['before']}")
            if rng.random() >= self.reply_rate:
                continue
            median, _ = CHANNEL_BEHAVIOUR[str(row["channel"])]
            delay = dt.timedelta(minutes=median * math.exp(rng.gauss(0.0, 1.0)))
            self.schedule(
                self.now + awake_delay(self.now, delay, str(row["tz"])),
                "reminder_reply",
                appointment_id=int(row["appointment_id"]),
            )

    def _next_step(self, conn: psycopg.Connection[Any], start: dt.datetime, end: dt.datetime) -> dt.datetime:
        following = super()._next_step(conn, start, end)
        row = conn.execute(NEXT_REMINDER, {"now": self.now}).fetchone()
        due: dt.datetime | None = row["due"] if row else None
        if due is None or due >= following:
            return following
        if due <= self.now + self.step:
            return self.now + self.step
        return start + self.step * math.ceil((due - start) / self.step)


Progress = Callable[[str], None]


def run_moveup_comparison(
    server_url: str,
    config: FillConfig,
    moveup: MoveUpConfig,
    *,
    redis_client: redis.Redis | None = None,
    keep: bool = False,
    migrated_template: str | None = None,
    progress: Progress | None = None,
) -> MoveUpComparison:
    """Today's engine and the engine with move-up and reminders, for each strategy of ``config``."""
    say = progress or (lambda _: None)
    if "manual" in config.strategies:
        raise ValueError("move-up and reminders are the engine's: choose engine strategies only")
    scenario = fill_scenario(
        config.monday,
        weeks=config.weeks,
        waitlist=config.waitlist,
        cancel_rate=config.cancel_rate,
        same_day_share=config.same_day_share,
        seed=config.seed,
    )
    results: list[tuple[VariantResult, VariantResult]] = []
    with practice_databases(server_url, "slotoptim_moveup", scenario, migrated_template, keep, say) as dbs:
        for strategy in config.strategies:
            pair: list[VariantResult] = []
            for variant in ("today", "moveup_reminders"):
                url = dbs.clone(f"{strategy}_{variant}")
                say(f"{strategy} / {variant}: {len(scenario.cancellations)} cancellations over {config.weeks} weeks")
                if variant == "today":
                    fill = _run_strategy(url, scenario, config, strategy, redis_client)
                else:
                    fill = _run_with_moveup(url, scenario, config, moveup, strategy, redis_client)
                pair.append(_variant(url, scenario, variant, fill))
                say(f"{strategy} / {variant}: filled {fill.filled} of {fill.cancellations} in {fill.seconds:.0f} s")
            results.append((pair[0], pair[1]))
    return MoveUpComparison(config, moveup, scenario, tuple(results), tuple(dbs.created) if keep else ())


def _run_with_moveup(
    url: str,
    scenario: FillScenario,
    config: FillConfig,
    moveup: MoveUpConfig,
    strategy: str,
    redis_client: redis.Redis | None,
) -> StrategyResult:
    planned_keys = [c.appointment_key for c in scenario.cancellations]
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute(
            "update slotoptim_private.organisation_settings set offer_strategy = %s, reminders_enabled = true",
            (strategy,),
        )
        ids = {
            str(r["key"]): int(r["id"])
            for r in conn.execute(
                "select key, id from slotoptim_private.appointment where key = any(%s)", (planned_keys,)
            ).fetchall()
        }
        _enrol(conn, scenario, moveup, set(planned_keys), config.seed)
    simulation = MoveUpReminderSimulation(
        url,
        redis_client,
        dt.timedelta(minutes=config.step_minutes),
        customers=Customers(config.seed),
        seed=config.seed,
        reply_rate=moveup.reminder_reply_rate,
        planned={ids[k]: k for k in planned_keys},
    )
    started = time.perf_counter()
    try:
        for cancellation in scenario.cancellations:
            simulation.schedule(cancellation.at, "planned_cancel", appointment_id=ids[cancellation.appointment_key])
        simulation.run(scenario.start, scenario.end)
    finally:
        simulation.close()
    seconds = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        return measure(conn, scenario, simulation.log, strategy, calls=None, steps=simulation.steps, seconds=seconds)


def _enrol(
    conn: psycopg.Connection[Any], scenario: FillScenario, moveup: MoveUpConfig, planned: set[str], seed: int
) -> None:
    rows = conn.execute(
        "select id, key from slotoptim_private.appointment"
        " where customer_id is not null and status in ('booked', 'confirmed') and lower(period) >= %s",
        (scenario.start + dt.timedelta(days=2),),
    ).fetchall()
    for row in rows:
        key = str(row["key"])
        if key in planned or random.Random(f"{seed}/enrol/{key}").random() >= moveup.enrol_share:
            continue
        conn.execute("select slotoptim.enrol_moveup(%s, %s)", (row["id"], scenario.start))


def _variant(url: str, scenario: FillScenario, variant: str, fill: StrategyResult) -> VariantResult:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        kpis = conn.execute(
            "select moves, days_gained, median_days_gained, longest_chain, enrolled from slotoptim.moveup_kpis"
            " where org_key = %s",
            (ORG_KEY,),
        ).fetchone()
        notice = conn.execute(
            "select key, cancelled_at, extract(epoch from lower(period) - cancelled_at) / 3600 as hours"
            "  from slotoptim_private.appointment where key = any(%s) and status = 'cancelled'",
            ([c.appointment_key for c in scenario.cancellations],),
        ).fetchall()
    planned = {c.appointment_key: c.at for c in scenario.cancellations}
    earlier = [
        (planned[str(r["key"])] - r["cancelled_at"]).total_seconds() / 3600
        for r in notice
        if r["cancelled_at"] < planned[str(r["key"])] - dt.timedelta(minutes=1)
    ]
    moves = int(kpis["moves"]) if kpis else 0
    return VariantResult(
        variant=variant,
        fill=fill,
        moves=moves,
        days_gained_per_move=float(kpis["days_gained"]) / moves if kpis and moves else None,
        median_days_gained=float(kpis["median_days_gained"])
        if kpis and kpis["median_days_gained"] is not None
        else None,
        longest_chain=int(kpis["longest_chain"]) if kpis else 0,
        enrolled=int(kpis["enrolled"]) if kpis else 0,
        early_cancellations=len(earlier),
        median_hours_earlier=quantile(earlier, 0.5),
        median_notice_hours=quantile([float(r["hours"]) for r in notice], 0.5),
        late_claims_per_fill=fill.late_claims / fill.filled if fill.filled else None,
    )


COLUMNS = (
    "strategy",
    "variant",
    "fill",
    "fill<=60m",
    "median notice h",
    "offers/fill",
    "late yes/fill",
    "move-ups",
    "days gained/move-up",
    "longest chain",
    "early cancels",
    "h earlier",
)


def render_moveup_table(comparison: MoveUpComparison) -> str:
    plain = comparison.to_plain()["scenario"]
    lines = [
        f"Today vs move-up + reminders on the real engine: {plain['practice']} (SYNTHETIC demo practice),"
        f" {plain['weeks']} weeks from {plain['start'][:10]}, seed {plain['seed']}",
        f"{plain['appointments']} appointments, {plain['cancellations']} planned cancellations,"
        f" {plain['waitlist_entries']} waitlist entries; move-up enrolment {plain['enrol_share']:.0%} of the"
        f" appointments not cancelled; a reminder answered C by {plain['reminder_reply_rate']:.0%} of those"
        " about to cancel (assumptions, not measurements)",
        "",
    ]
    table = [list(COLUMNS)]
    for pair in comparison.results:
        for result in pair:
            f = result.fill
            table.append(
                [
                    f.strategy,
                    "today" if result.variant == "today" else "move-up+reminders",
                    f"{f.fill_rate:.1%}",
                    f"{f.fill_rate_60:.1%}",
                    _num(result.median_notice_hours, "{:.1f}"),
                    _num(f.offers_per_fill, "{:.1f}"),
                    _num(result.late_claims_per_fill, "{:.2f}"),
                    str(result.moves),
                    _num(result.days_gained_per_move, "{:.1f}"),
                    str(result.longest_chain),
                    str(result.early_cancellations),
                    _num(result.median_hours_earlier, "{:.1f}"),
                ]
            )
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    for n, row in enumerate(table):
        lines.append(
            "  ".join(
                cell.rjust(w) if i > 1 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += [
        "",
        "fill: planned cancellations refilled from the waitlist or by a move-up (slotoptim.ml.simulate.fill_metrics);"
        " median notice: hours between a cancellation and its appointment; late yes/fill: claims answered"
        " 'filled' per filled cancellation; days gained/move-up: slotoptim.moveup_kpis; early cancels: cancellations"
        " a reminder reply brought forward, h earlier: their median hours ahead of the planned cancellation.",
    ]
    return "\n".join(lines)


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)
