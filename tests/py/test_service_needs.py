"""service_needs (set-based since issue 18) against buffer_after, the one definition of a buffer.

On random organisations (services of several categories and complexities, buffer rules on every
condition, learned buffers per service and per provider, learned buffers on or off, a cap): each
(provider, service) need equals the service's minutes plus buffer_after(service, provider).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import psycopg


def _build(conn: psycopg.Connection[Any], rng: random.Random, n: int) -> None:
    org = conn.execute(
        "insert into slotoptim_private.organisation (key, name, timezone) values (%s, 'N', 'UTC') returning id",
        (f"needs{n}",),
    ).fetchone()["id"]
    conn.execute(
        "update slotoptim_private.organisation_settings set max_buffer_minutes = %s where org_id = %s",
        (rng.choice([10, 30, 60, 480]), org),
    )
    conn.execute(
        "insert into slotoptim_private.learning_settings (org_id, use_learned_buffers) values (%s, %s)"
        " on conflict (org_id) do update set use_learned_buffers = excluded.use_learned_buffers",
        (org, rng.random() < 0.6),
    )
    providers = [
        conn.execute(
            "insert into slotoptim_private.provider (org_id, key, name, timezone) values (%s, %s, 'P', 'UTC')"
            " returning id",
            (org, f"p{i}"),
        ).fetchone()["id"]
        for i in range(3)
    ]
    services = []
    for i in range(4):
        sid = conn.execute(
            "insert into slotoptim_private.service (org_id, key, name, minutes, buffer_after_minutes, category,"
            " complexity, active) values (%s, %s, 'S', %s, %s, %s, %s, %s) returning id",
            (
                org,
                f"s{i}",
                rng.choice([15, 30]),
                rng.choice([0, 5, 20]),
                rng.choice(["a", "b"]),
                rng.randint(1, 5),
                rng.random() < 0.9,
            ),
        ).fetchone()["id"]
        services.append(sid)
        for p in providers:
            if rng.random() < 0.8:
                conn.execute(
                    "insert into slotoptim_private.provider_service (org_id, provider_id, service_id)"
                    " values (%s, %s, %s)",
                    (org, p, sid),
                )
        for p in [None, *providers]:
            if rng.random() < 0.4:
                conn.execute(
                    "insert into slotoptim_private.learned_buffer (org_id, service_id, provider_id, minutes, quantile,"
                    " overrun_minutes, n, computed_at) values (%s, %s, %s, %s, 0.8, 1, 10, %s)",
                    (org, sid, p, rng.randint(0, 40), dt.datetime.now(dt.UTC)),
                )
    for i in range(rng.randint(0, 6)):
        conn.execute(
            "insert into slotoptim_private.buffer_rule (org_id, name, when_new_customer, when_category,"
            " when_min_complexity, when_service_id, when_provider_id, extra_minutes, active)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                org,
                f"r{i}",
                rng.choice([None, None, True, False]),
                rng.choice([None, "a", "b"]),
                rng.choice([None, 2, 4]),
                rng.choice([None, *services]),
                rng.choice([None, *providers]),
                rng.randint(-30, 40),
                rng.random() < 0.8,
            ),
        )


def test_service_needs_equal_buffer_after(conn: psycopg.Connection[Any]) -> None:
    rng = random.Random(18)
    with conn.transaction(force_rollback=True):
        for n in range(40):
            _build(conn, rng, n)
        rows = conn.execute(
            "select n.provider_id, n.service_key, n.need_minutes,"
            "       s.minutes + slotoptim_private.buffer_after(s.id, n.provider_id) as want"
            "  from slotoptim_private.provider as p"
            "  cross join lateral slotoptim_private.service_needs(array[p.id]) as n"
            "  join slotoptim_private.service as s on s.org_id = p.org_id and s.key = n.service_key"
        ).fetchall()
        pairs = conn.execute(
            "select count(*) as n from slotoptim_private.provider_service ps"
            " join slotoptim_private.service s on s.id = ps.service_id where s.active"
        ).fetchone()["n"]
    assert len(rows) == pairs > 100
    assert [r for r in rows if r["need_minutes"] != r["want"]] == []
