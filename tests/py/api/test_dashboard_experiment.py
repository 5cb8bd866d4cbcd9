"""The dashboard's message-experiment card (api/queries/dashboard_experiments.py)."""

from __future__ import annotations

from typing import Any

import psycopg
from api.claim_helpers import offered
from api.conftest import Keys
from litestar.testing import TestClient


def test_experiment_card(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    assert "Message experiment" not in client.get("/dashboard", headers=keys.headers("readonly")).text
    db.execute(
        "insert into slotoptim_private.message_experiment (org_id, key, variable, started_at)"
        " select id, 'deadline', 'deadline', now() - interval '30 days' from slotoptim_private.organisation"
        "  where key = 'acme'"
    )
    db.execute(
        "insert into slotoptim_private.message_variant (org_id, experiment_id, key, template)"
        " select org_id, id, v.key, v.template from slotoptim_private.message_experiment,"
        " (values ('A', '{org}: opening {when}. {link}'), ('B', '{org}: opening {when}, reply within {minutes} min."
        " {link}')) as v(key, template)"
    )
    offered(client, keys, db)
    page = client.get("/dashboard", headers=keys.headers("readonly"))
    assert page.status_code == 200, page.text
    html = page.text
    assert "Message experiment: deadline" in html
    assert "no winner before 200 sends per variant" in html
    assert "<td>A</td>" in html and "<td>B</td>" in html and "<td>control</td>" in html
