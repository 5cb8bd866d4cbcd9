"""The organisation's fill-engine and learning settings in a practice file (`settings`), so that
`slotoptim export` then `slotoptim import` gives back the same practice, knobs included.

Intervals are whole minutes (`*_minutes`), clock times local `HH:MM`, like the rest of the file.
A field the file leaves out keeps the database default (on a new or replaced organisation).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import psycopg
from psycopg import sql

from slotoptim.listener.db import fetch_dict, fetch_dicts
from slotoptim.listener.practice.errors import PracticeError

Kind = Literal["plain", "number", "minutes", "hours", "clock"]

# file field -> (column of organisation_settings, how it is written in the file)
FILL_FIELDS: dict[str, tuple[str, Kind]] = {
    "max_buffer_minutes": ("max_buffer_minutes", "plain"),
    "gap_merge_hours": ("gap_merge_window", "hours"),
    "auto_offer": ("auto_offer", "plain"),
    "offer_strategy": ("offer_strategy", "plain"),
    "score_threshold": ("score_threshold", "number"),
    "weight_time": ("weight_time", "plain"),
    "weight_provider": ("weight_provider", "plain"),
    "weight_service": ("weight_service", "plain"),
    "weight_travel": ("weight_travel", "plain"),
    "weight_lead": ("weight_lead", "plain"),
    "weight_response": ("weight_response", "plain"),
    "weight_fairness": ("weight_fairness", "plain"),
    "sequential_window_minutes": ("sequential_window", "minutes"),
    "burst_size": ("burst_size", "plain"),
    "burst_window_minutes": ("burst_window", "minutes"),
    "broadcast_window_minutes": ("broadcast_window", "minutes"),
    "approval_window_minutes": ("approval_window", "minutes"),
    "send_window_start": ("send_window_start", "clock"),
    "send_window_end": ("send_window_end", "clock"),
    "max_offers_per_day": ("max_offers_per_day", "plain"),
    "max_offers_per_week": ("max_offers_per_week", "plain"),
    "fatigue_ignored_limit": ("fatigue_ignored_limit", "plain"),
    "claim_hold_seconds": ("claim_hold_seconds", "plain"),
    "message_max_attempts": ("message_max_attempts", "plain"),
}
LEARNING_FIELDS = (
    "high_risk_threshold",
    "overbooking_safety",
    "overtime_cost_ratio",
    "waiting_cost_ratio",
    "buffer_quantile",
    "buffer_max_minutes",
    "use_learned_buffers",
    "min_practice_rows",
)


def _to_file(value: Any, kind: Kind) -> Any:
    if kind == "minutes":
        return int(value.total_seconds() // 60)
    if kind == "hours":
        return int(value.total_seconds() // 3600)
    if kind == "clock":
        return value.strftime("%H:%M")
    if kind == "number":
        return float(value)
    return value


def _to_db(value: Any, kind: Kind) -> Any:
    if kind == "minutes":
        return dt.timedelta(minutes=value)
    if kind == "hours":
        return dt.timedelta(hours=value)
    if kind == "clock":
        return dt.time.fromisoformat(value)
    return value


def export_settings(conn: psycopg.Connection[Any], org_id: int) -> dict[str, Any]:
    row = fetch_dict(conn, "select * from slotoptim_private.organisation_settings where org_id = %s", (org_id,))
    assert row is not None
    out: dict[str, Any] = {name: _to_file(row[column], kind) for name, (column, kind) in FILL_FIELDS.items()}
    waves = fetch_dicts(
        conn,
        "select wave, max_candidates, min_score, response_window, allow_email"
        " from slotoptim_private.cascade_wave where org_id = %s order by wave",
        (org_id,),
    )
    if waves:
        out["cascade_waves"] = [
            {
                "max_candidates": w["max_candidates"],
                "min_score": float(w["min_score"]),
                "response_window_minutes": _to_file(w["response_window"], "minutes"),
                "allow_email": w["allow_email"],
            }
            for w in waves
        ]
    learning = fetch_dict(conn, "select * from slotoptim_private.learning_settings where org_id = %s", (org_id,))
    if learning is not None:
        out["learning"] = {name: learning[name] for name in LEARNING_FIELDS}
    return out


def _upsert(conn: psycopg.Connection[Any], where: str, table: str, org_id: int, values: dict[str, Any]) -> None:
    columns = ["org_id", *values]
    conflict = (
        sql.SQL("do update set {}").format(
            sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in values)
        )
        if values
        else sql.SQL("do nothing")
    )
    _write(
        conn,
        where,
        sql.SQL("insert into {} ({}) values ({}) on conflict (org_id) {}").format(
            sql.Identifier("slotoptim_private", table),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            conflict,
        ),
        (org_id, *values.values()),
    )


def import_settings(conn: psycopg.Connection[Any], org_id: int, settings: dict[str, Any], *, reset: bool) -> None:
    """Writes what the file gives; ``reset`` first puts every setting back to its default (a new or
    replaced practice), else the fields the file leaves out stay as they are (a merge)."""
    if reset:
        conn.execute("delete from slotoptim_private.organisation_settings where org_id = %s", (org_id,))
        conn.execute("delete from slotoptim_private.learning_settings where org_id = %s", (org_id,))
    if reset or "cascade_waves" in settings:
        conn.execute("delete from slotoptim_private.cascade_wave where org_id = %s", (org_id,))
    fill = {column: _to_db(settings[name], kind) for name, (column, kind) in FILL_FIELDS.items() if name in settings}
    _upsert(conn, "settings", "organisation_settings", org_id, fill)
    for i, wave in enumerate(settings.get("cascade_waves", [])):
        _write(
            conn,
            f"settings.cascade_waves[{i}]",
            sql.SQL(
                "insert into slotoptim_private.cascade_wave"
                " (org_id, wave, max_candidates, min_score, response_window, allow_email)"
                " values (%s, %s, %s, %s, %s, %s)"
            ),
            (
                org_id,
                i + 1,
                wave.get("max_candidates"),
                wave["min_score"],
                dt.timedelta(minutes=wave["response_window_minutes"]),
                wave.get("allow_email", False),
            ),
        )
    learning = {k: v for k, v in settings.get("learning", {}).items() if k in LEARNING_FIELDS}
    _upsert(conn, "settings.learning", "learning_settings", org_id, learning)


def _write(conn: psycopg.Connection[Any], where: str, query: sql.Composed | sql.SQL, params: tuple[Any, ...]) -> None:
    from slotoptim.listener.practice.dberrors import explain, is_user_error

    try:
        with conn.transaction():
            conn.execute(query, params)
    except psycopg.Error as exc:
        if is_user_error(exc):
            raise PracticeError(where, explain(exc)) from None
        raise
