"""The fill comparison's additions for issue 16: the Fast Pass customer model, nightly learning,
adaptive on the real engine, and the comparison over seeds with intervals."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

import pytest

from slotoptim.ml.simulate import cli
from slotoptim.ml.simulate.fill import FillConfig
from slotoptim.ml.simulate.fill_customer_models import FastPassCustomers, customers_for
from slotoptim.ml.simulate.fill_customers import Customers
from slotoptim.ml.simulate.fill_seeds import render_seeds_table, run_seeds

MONDAY = dt.date(2026, 11, 23)


def test_fastpass_customers_accept_8_to_11_percent_of_offers() -> None:
    customers = FastPassCustomers(7)
    answers = [customers.answer(f"c-{c:04d}", f"gap-{g}", "sms") for c in range(200) for g in range(60)]
    accepted = sum(1 for a in answers if a is not None and a.kind == "accept") / len(answers)
    assert 0.08 <= accepted <= 0.11
    again = FastPassCustomers(7).answer("c-0001", "gap-3", "sms")
    assert again == customers.answer("c-0001", "gap-3", "sms"), "the same customer answers the same opening alike"


def test_customer_models_by_name() -> None:
    assert type(customers_for("seed002", 1)) is Customers
    assert isinstance(customers_for("fastpass", 1), FastPassCustomers)
    with pytest.raises(ValueError, match="customer model"):
        customers_for("optimistic", 1)
    with pytest.raises(ValueError, match="customer model"):
        FillConfig(monday=MONDAY, customer_model="optimistic")


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="slotoptim")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--seeds", "0"], "--seeds"),
        (["--seeds", "3", "--strategies", "adaptive,manual"], "--strategies"),
    ],
)
def test_bad_seed_options_exit_2(extra: list[str], option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["simulate", "fill", *extra]) == 2
    assert capsys.readouterr().err.startswith(f"slotoptim: error: {option}: ")


def test_adaptive_and_burst_over_two_seeds(pg_admin_url: str, template_url: str) -> None:
    config = FillConfig(
        monday=MONDAY, strategies=("adaptive", "burst"), weeks=1, seed=1, waitlist=120, customer_model="fastpass"
    )
    summary = run_seeds(pg_admin_url, config, 2, migrated_template="slotoptim_test_template")
    assert summary.seeds == (1, 2)
    for strategy in ("adaptive", "burst"):
        fill = summary.estimates[strategy]["fill"]
        assert 0 < fill.mean <= 1 and fill.half_width >= 0
    adaptive_runs: list[Any] = [r for run in summary.runs for r in run.results if r.strategy == "adaptive"]
    assert all(r.offers_sent > 0 for r in adaptive_runs)
    assert [(p.metric, p.other) for p in summary.paired] == [("fill_60", "burst"), ("late_per_fill", "burst")]
    assert all(p.seeds == 2 for p in summary.paired)
    table = render_seeds_table(summary)
    assert "customer model fastpass" in table and "adaptive" in table and "late/fill vs burst" in table
    plain = summary.to_plain()
    assert plain["strategies"]["adaptive"]["fill_60"]["ci95_low"] <= plain["strategies"]["adaptive"]["fill_60"]["mean"]
