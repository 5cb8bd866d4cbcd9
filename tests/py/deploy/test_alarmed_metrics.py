"""The metrics the AWS alarms watch (infra/cdk/stacks/services.py ALARMED_METRICS) are published by
/metrics with the values the alarms assume: the outbox age of the oldest due message, the count of
failed messages, the fill rate and the request counter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import psycopg

from slotoptim.api.db import Database
from slotoptim.api.metrics import Metrics

CDK_DIR = Path(__file__).resolve().parents[3] / "infra" / "cdk"


def _alarmed_metric_names() -> tuple[str, ...]:
    # Read the names without importing aws_cdk (the tuple is a literal in services.py).
    import ast

    tree = ast.parse((CDK_DIR / "stacks" / "services.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ALARMED_METRICS":
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("ALARMED_METRICS not found")


def test_every_alarmed_metric_is_published_with_its_value(
    conn: psycopg.Connection[dict[str, Any]], fresh_db: str
) -> None:
    conn.execute("select tests.make_practice('acme')")
    row = conn.execute(
        "select o.id as org, c.id as customer"
        "  from slotoptim_private.organisation o join slotoptim_private.customer c on c.org_id = o.id"
    ).fetchone()
    assert row is not None
    org, customer = row["org"], row["customer"]
    clock = conn.execute("select now() as t").fetchone()
    assert clock is not None
    now = clock["t"]
    rows = [
        ("queued", now - dt.timedelta(minutes=10)),  # due 10 minutes ago: the oldest due message
        ("queued", now + dt.timedelta(hours=1)),  # not due yet: not late
        ("failed", now - dt.timedelta(hours=2)),
        ("undelivered", now - dt.timedelta(hours=3)),
        ("sent", now - dt.timedelta(days=1)),
    ]
    for status, not_before in rows:
        conn.execute(
            "insert into slotoptim_private.message (org_id, customer_id, kind, channel, to_address, status,"
            " not_before, created_at) values (%s, %s, 'offer', 'sms', '+16175550101', %s, %s, %s)",
            (org, customer, status, not_before, not_before),
        )
    db = Database(fresh_db, require_app_role=False)
    db.open()
    try:
        metrics = Metrics(db, per_org=True)  # the alarms read per-organisation series
        metrics.observe("GET", "/v1/gaps", 200, 0.01)
        text = metrics.render().decode()
    finally:
        db.close()
    # Declared always (the fill rate has a sample only once an organisation had a gap this week).
    for name in _alarmed_metric_names():
        assert f"# TYPE {name} " in text, name
    age = next(line for line in text.splitlines() if line.startswith('slotoptim_outbox_oldest_age_seconds{org="acme"}'))
    assert 595 <= float(age.split()[-1]) <= 900  # ten minutes, measured by the database's clock
    assert 'slotoptim_messages_failed_total{org="acme"} 2.0' in text
