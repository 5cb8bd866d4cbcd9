"""The dashboard's message-experiment card: the running (or last) experiment's readout
(slotoptim.experiment_readout), winner or not, as staff should read it."""

from __future__ import annotations

from dataclasses import dataclass

from slotoptim.api.db import Conn


@dataclass(frozen=True)
class VariantRow:
    variant: str
    sent: int
    claimed: int
    claim_rate: str
    difference: str
    verdict: str


@dataclass(frozen=True)
class ExperimentCard:
    key: str
    variable: str
    running: bool
    variants: list[VariantRow]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def experiment_card(conn: Conn) -> ExperimentCard | None:
    experiment = conn.execute(
        "select id, key, variable, ended_at is null as running from slotoptim_private.message_experiment"
        " where org_id = slotoptim_private.current_org() order by ended_at is null desc, started_at desc limit 1"
    ).fetchone()
    if experiment is None:
        return None
    rows = conn.execute("select * from slotoptim.experiment_readout(%s)", (experiment["id"],)).fetchall()
    variants = [
        VariantRow(
            variant=str(r["variant_key"]),
            sent=int(r["sent"]),
            claimed=int(r["claimed"]),
            claim_rate=_pct(r["claim_rate"]),
            difference="–"
            if r["difference"] is None
            else f"{100 * r['difference']:+.1f} pts [{100 * r['ci95_low']:+.1f}, {100 * r['ci95_high']:+.1f}]",
            verdict=str(r["verdict"]),
        )
        for r in rows
    ]
    return ExperimentCard(str(experiment["key"]), str(experiment["variable"]), bool(experiment["running"]), variants)
