"""Fill strategies side by side on the real engine: weeks of cancellations at the demo practice.

For each strategy a database of its own is cloned from one prepared database (migrated, the
practice of slotoptim.ml.simulate.fill_practice imported), so every strategy starts from the same
state with the same ids. The strategy is set in organisation_settings (manual: auto_offer off and a
staff member phoning, slotoptim.ml.simulate.fill_manual), the same cancellations are scheduled, and
listener.simulation.FillSimulation runs the engine minute by minute on a simulated clock (skipping
minutes in which nothing is due): slotoptim.tick, the real outbox sender with recording channels,
customers who answer as slotoptim.ml.simulate.fill_customers decides, claims through
slotoptim.listener.claims.claim. slotoptim.ml.simulate.fill_metrics measures each run. The databases are
dropped afterwards unless kept.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import redis
from psycopg import sql
from psycopg.rows import dict_row

from slotoptim.listener.dbclone import clone_database
from slotoptim.listener.practice.demo import TIMEZONE
from slotoptim.listener.simulation import FillSimulation
from slotoptim.ml.simulate.fill_customer_models import CUSTOMER_MODELS, customers_for
from slotoptim.ml.simulate.fill_learning import LearningFillSimulation
from slotoptim.ml.simulate.fill_manual import ManualDesk, OfficeHours
from slotoptim.ml.simulate.fill_metrics import StrategyResult, measure
from slotoptim.ml.simulate.fill_practice import ORG_KEY, FillScenario, fill_scenario

ENGINE_STRATEGIES = ("cascade", "sequential", "broadcast", "burst", "adaptive")
STRATEGIES = (*ENGINE_STRATEGIES, "manual")


@dataclass(frozen=True)
class FillConfig:
    monday: dt.date
    strategies: tuple[str, ...] = STRATEGIES
    weeks: int = 4
    seed: int = 1
    waitlist: int = 200
    cancel_rate: float = 0.10
    same_day_share: float = 0.3
    step_minutes: int = 1
    office: OfficeHours = field(default_factory=lambda: OfficeHours(TIMEZONE))
    customer_model: str = "seed002"

    def __post_init__(self) -> None:
        unknown = [s for s in self.strategies if s not in STRATEGIES]
        if unknown or not self.strategies:
            raise ValueError(f"strategies are {', '.join(STRATEGIES)}; got {', '.join(self.strategies) or 'none'}")
        if len(set(self.strategies)) != len(self.strategies):
            raise ValueError("each strategy once")
        if self.customer_model not in CUSTOMER_MODELS:
            raise ValueError(f"customer model is one of {', '.join(CUSTOMER_MODELS)}; got {self.customer_model!r}")
        if self.weeks < 1 or self.step_minutes < 1:
            raise ValueError("weeks and step minutes must be >= 1")


@dataclass(frozen=True)
class FillComparison:
    config: FillConfig
    scenario: FillScenario
    results: tuple[StrategyResult, ...]
    databases: tuple[str, ...] = ()
    """Databases kept for inspection (empty unless asked)."""

    def to_plain(self) -> dict[str, Any]:
        return {
            "scenario": {
                "practice": ORG_KEY,
                "synthetic": True,
                "start": self.scenario.start.isoformat(),
                "end": self.scenario.end.isoformat(),
                "weeks": self.config.weeks,
                "seed": self.config.seed,
                "customer_model": self.config.customer_model,
                "waitlist_entries": len(self.scenario.document["waitlist"]),
                "appointments": len(self.scenario.document["appointments"]),
                "cancellations": len(self.scenario.cancellations),
                "cancel_rate": self.config.cancel_rate,
                "same_day_share": self.config.same_day_share,
                "same_day_cancellations": sum(
                    1 for c in self.scenario.cancellations if c.lead < dt.timedelta(hours=24)
                ),
            },
            "results": [r.to_plain() for r in self.results],
            "databases": list(self.databases),
        }


Progress = Callable[[str], None]


def run_fill_comparison(
    server_url: str,
    config: FillConfig,
    *,
    redis_client: redis.Redis | None = None,
    keep: bool = False,
    migrated_template: str | None = None,
    progress: Progress | None = None,
) -> FillComparison:
    """Runs every strategy of ``config`` on databases created on the server of ``server_url``.

    ``migrated_template``: an already migrated database to clone instead of migrating a new one.
    """
    say = progress or (lambda _: None)
    scenario = fill_scenario(
        config.monday,
        weeks=config.weeks,
        waitlist=config.waitlist,
        cancel_rate=config.cancel_rate,
        same_day_share=config.same_day_share,
        seed=config.seed,
    )
    results: list[StrategyResult] = []
    with practice_databases(server_url, "slotoptim_fill", scenario, migrated_template, keep, say) as dbs:
        for strategy in config.strategies:
            url = dbs.clone(strategy)
            say(f"{strategy}: {len(scenario.cancellations)} cancellations over {config.weeks} weeks")
            results.append(_run_strategy(url, scenario, config, strategy, redis_client))
            say(
                f"{strategy}: filled {results[-1].filled} of {results[-1].cancellations}"
                f" in {results[-1].seconds:.0f} s ({results[-1].steps} steps)"
            )
    return FillComparison(config, scenario, tuple(results), tuple(dbs.created) if keep else ())


def _run_strategy(
    url: str, scenario: FillScenario, config: FillConfig, strategy: str, redis_client: redis.Redis | None
) -> StrategyResult:
    customers = customers_for(config.customer_model, config.seed)
    step = dt.timedelta(minutes=config.step_minutes)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        if strategy == "manual":
            conn.execute("update slotoptim_private.organisation_settings set auto_offer = false")
        else:
            conn.execute("update slotoptim_private.organisation_settings set offer_strategy = %s", (strategy,))
        ids = {
            str(r["key"]): int(r["id"])
            for r in conn.execute(
                "select key, id from slotoptim_private.appointment where key = any(%s)",
                ([c.appointment_key for c in scenario.cancellations],),
            ).fetchall()
        }
    simulation: FillSimulation
    learning: LearningFillSimulation | None = None
    if strategy == "manual":
        simulation = ManualDesk(url, redis_client, step, customers=customers, office=config.office, seed=config.seed)
    else:
        simulation = learning = LearningFillSimulation(
            url, random.Random(config.seed), redis_client, step, responder=customers, skip_idle=True
        )
    started = time.perf_counter()
    try:
        for cancellation in scenario.cancellations:
            simulation.schedule(cancellation.at, "cancel", appointment_id=ids[cancellation.appointment_key])
        if learning is not None:
            learning.schedule_training(scenario.start, scenario.end, TIMEZONE)
        simulation.run(scenario.start, scenario.end)
    finally:
        simulation.close()
    seconds = time.perf_counter() - started
    manual = simulation if isinstance(simulation, ManualDesk) else None
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        return measure(
            conn,
            scenario,
            simulation.log,
            strategy,
            calls=manual.calls if manual else None,
            phone_minutes=manual.phone_minutes if manual else None,
            steps=simulation.steps,
            seconds=seconds,
        )


class PracticeDatabases:
    """The prepared database of a scenario (migrated, its practice imported) and the clones made
    of it, one per run, so every run starts from the same state with the same ids."""

    def __init__(self, server_url: str, base: str) -> None:
        self.server_url = server_url
        self.base = base
        self.created: list[str] = []

    def clone(self, suffix: str) -> str:
        """A new database cloned from the prepared one; its URL."""
        name = f"{self.base}_{suffix}"
        _create(self.server_url, name, self.base)
        self.created.append(name)
        return _url(self.server_url, name)


@contextmanager
def practice_databases(
    server_url: str,
    prefix: str,
    scenario: FillScenario,
    migrated_template: str | None,
    keep: bool,
    say: Progress,
) -> Iterator[PracticeDatabases]:
    """Creates the prepared database (cloned from ``migrated_template`` or migrated here) with the
    scenario's practice; drops it and every clone on the way out unless ``keep``."""
    dbs = PracticeDatabases(server_url, f"{prefix}_{uuid.uuid4().hex[:10]}")
    try:
        _create(server_url, dbs.base, migrated_template)
        dbs.created.append(dbs.base)
        base_url = _url(server_url, dbs.base)
        if migrated_template is None:
            from slotoptim.migrations.migrate import migrate

            say(f"migrating {dbs.base}")
            migrate(base_url)
        from slotoptim.listener.practice.importer import import_practice

        say(
            f"importing {len(scenario.document['appointments'])} appointments,"
            f" {len(scenario.document['waitlist'])} waitlist entries"
        )
        with psycopg.connect(base_url, autocommit=True, row_factory=dict_row) as conn:
            import_practice(conn, scenario.document)
        yield dbs
    finally:
        if not keep:
            for name in reversed(dbs.created):
                _drop(server_url, name)


def _url(server_url: str, name: str) -> str:
    return psycopg.conninfo.make_conninfo(server_url, dbname=name)


def _create(server_url: str, name: str, template: str | None) -> None:
    if template is not None:
        # With the template's database settings (jit = off): CREATE DATABASE does not copy them.
        clone_database(server_url, name, template)
        return
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def _drop(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def strategy_names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def default_monday(today: dt.date) -> dt.date:
    """The Monday after ``today`` (today when it is a Monday)."""
    return today + dt.timedelta(days=(7 - today.weekday()) % 7)
