"""Message experiments and the pricing policy through the API: rows of slotoptim_private.message_experiment,
message_variant and pricing_policy (sql/39n_tables_offer_policy.sql), read through RLS, audited by
their triggers (sql/81_audit.sql); the readout is slotoptim.experiment_readout."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from slotoptim.api.db import Conn
from slotoptim.api.errors import Conflict, invalid, not_found
from slotoptim.api.schemas.experiments import (
    ExperimentIn,
    ExperimentOut,
    PricingPolicy,
    PricingPolicyOut,
    ReadoutRow,
    VariantOut,
)
from slotoptim.listener import message_catalogue as catalogue
from slotoptim.listener.experiment_text import check_variant

MIN_SENDS = 200  # seed 002: no winner before 200 sends per variant


def _variants(conn: Conn, experiment_id: int) -> list[VariantOut]:
    practice, provider = catalogue.names(conn, _org(conn))
    rows = conn.execute(
        "select key, template from slotoptim_private.message_variant where experiment_id = %s order by key",
        (experiment_id,),
    ).fetchall()
    return [
        VariantOut(key=str(r["key"]), template=str(r["template"]), segments=_segments(r, practice, provider))
        for r in rows
    ]


def _segments(row: dict[str, Any], practice: str, provider: str) -> int:
    try:
        return check_variant(str(row["template"]), practice, provider).segments
    except catalogue.TemplateError:
        return 2  # stored before the check (SQL): would not go out as one segment


def _org(conn: Conn) -> int:
    row = conn.execute("select slotoptim_private.current_org() as org").fetchone()
    assert row is not None and row["org"] is not None
    return int(row["org"])


def _out(conn: Conn, row: dict[str, Any]) -> ExperimentOut:
    return ExperimentOut(
        key=str(row["key"]),
        variable=str(row["variable"]),
        running=row["ended_at"] is None,
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        variants=_variants(conn, int(row["id"])),
    )


def _find(conn: Conn, key: str) -> dict[str, Any]:
    row = conn.execute(
        "select id, key, variable, started_at, ended_at from slotoptim_private.message_experiment where key = %s",
        (key,),
    ).fetchone()
    if row is None:
        raise not_found(f"experiment {key!r}")
    return dict(row)


def experiments(conn: Conn) -> list[ExperimentOut]:
    rows = conn.execute(
        "select id, key, variable, started_at, ended_at from slotoptim_private.message_experiment"
        " order by started_at desc, id desc"
    ).fetchall()
    return [_out(conn, dict(r)) for r in rows]


def create(conn: Conn, data: ExperimentIn, now: dt.datetime) -> ExperimentOut:
    """Checks every variant's SMS (one GSM-7 segment at its longest) before anything is written."""
    org = _org(conn)
    keys = [v.key for v in data.variants]
    if len(set(keys)) != len(keys):
        raise invalid("variants", "variant keys must differ")
    practice, provider = catalogue.names(conn, org)
    first = conn.execute(
        "select split_part(name, ' ', 1) as name from slotoptim_private.customer"
        " where name is not null order by length(split_part(name, ' ', 1)) desc limit 1"
    ).fetchone()
    first_name = str(first["name"]) if first and first["name"] else ""
    for i, variant in enumerate(data.variants):
        try:
            check_variant(variant.template, practice, provider, first_name)
        except catalogue.TemplateError as exc:
            message = str(exc).partition(": ")[2] if str(exc).startswith("body: ") else str(exc)
            raise invalid(f"variants[{i}].template", message) from None
    if conn.execute("select 1 from slotoptim_private.message_experiment where key = %s", (data.key,)).fetchone():
        raise Conflict(detail=f"key: an experiment {data.key!r} exists already (keys are never reused)")
    running = conn.execute("select key from slotoptim_private.message_experiment where ended_at is null").fetchone()
    if running is not None:
        raise Conflict(detail=f"experiment {running['key']!r} is running; stop it first (one at a time)")
    row = conn.execute(
        "insert into slotoptim_private.message_experiment (org_id, key, variable, started_at)"
        " values (%s, %s, %s, %s) returning id, key, variable, started_at, ended_at",
        (org, data.key, data.variable, now),
    ).fetchone()
    assert row is not None
    for variant in data.variants:
        conn.execute(
            "insert into slotoptim_private.message_variant (org_id, experiment_id, key, template)"
            " values (%s, %s, %s, %s)",
            (org, row["id"], variant.key, variant.template),
        )
    return _out(conn, dict(row))


def stop(conn: Conn, key: str, now: dt.datetime) -> ExperimentOut:
    found = _find(conn, key)
    if found["ended_at"] is not None:
        raise Conflict(detail=f"experiment {key!r} stopped already at {found['ended_at'].isoformat()}")
    row = conn.execute(
        "update slotoptim_private.message_experiment set ended_at = greatest(%s, started_at) where id = %s"
        " returning id, key, variable, started_at, ended_at",
        (now, found["id"]),
    ).fetchone()
    assert row is not None
    return _out(conn, dict(row))


def detail(conn: Conn, key: str) -> ExperimentOut:
    """The experiment with its funnel and readout (slotoptim.experiment_readout)."""
    found = _find(conn, key)
    funnel = {
        str(r["variant_key"]): r
        for r in conn.execute(
            "select variant_key, clicked, declined, ignored from slotoptim.message_experiment_funnel"
            " where experiment_key = %s",
            (key,),
        ).fetchall()
    }
    rows = conn.execute("select * from slotoptim.experiment_readout(%s, %s)", (found["id"], MIN_SENDS)).fetchall()
    readout = [
        ReadoutRow(
            variant=str(r["variant_key"]),
            is_control=bool(r["is_control"]),
            sent=int(r["sent"]),
            clicked=int(funnel[str(r["variant_key"])]["clicked"]),
            claimed=int(r["claimed"]),
            declined=int(funnel[str(r["variant_key"])]["declined"]),
            ignored=int(funnel[str(r["variant_key"])]["ignored"]),
            claim_rate=_num(r["claim_rate"]),
            difference=_num(r["difference"]),
            ci95_low=_num(r["ci95_low"]),
            ci95_high=_num(r["ci95_high"]),
            verdict=str(r["verdict"]),
        )
        for r in rows
    ]
    out = _out(conn, found)
    out.min_sends = MIN_SENDS
    out.readout = readout
    return out


def _num(value: object) -> float | None:
    return None if value is None else round(float(value), 6)  # type: ignore[arg-type]


POLICY_COLUMNS = "enabled, last_minute_hours, last_minute_discount_pct, tier_discount_pct, holiday_surge_pct, holidays"


def _policy(row: dict[str, Any] | None) -> PricingPolicyOut:
    if row is None:
        return PricingPolicyOut(enabled=False, configured=False)
    return PricingPolicyOut(
        configured=True,
        enabled=bool(row["enabled"]),
        last_minute_hours=row["last_minute_hours"],
        last_minute_discount_pct=float(row["last_minute_discount_pct"]),
        tier_discount_pct={k: float(v) for k, v in dict(row["tier_discount_pct"]).items()},
        holiday_surge_pct=float(row["holiday_surge_pct"]),
        holidays=sorted(row["holidays"]),
    )


def pricing_policy(conn: Conn) -> PricingPolicyOut:
    row = conn.execute(f"select {POLICY_COLUMNS} from slotoptim_private.pricing_policy").fetchone()
    return _policy(None if row is None else dict(row))


def put_pricing_policy(conn: Conn, data: PricingPolicy) -> PricingPolicyOut:
    """Replaces the policy (slotoptim.set_pricing_policy checks it again); offers made before keep their price."""
    row = conn.execute(
        f"select {POLICY_COLUMNS} from slotoptim.set_pricing_policy(slotoptim_private.current_org(),"
        " %s::integer, %s::numeric, %s::jsonb, %s::numeric, %s::date[], %s::boolean)",
        (
            data.last_minute_hours,
            data.last_minute_discount_pct,
            json.dumps(data.tier_discount_pct),
            data.holiday_surge_pct,
            sorted(set(data.holidays)),
            data.enabled,
        ),
    ).fetchone()
    assert row is not None
    return _policy(dict(row))
