"""Move-up's minimum gain and cooldown (issue 12) through /v1/settings, in whole minutes."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from api.conftest import Keys
from litestar.testing import TestClient


def test_moveup_intervals_read_and_change_in_minutes(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    current = client.get("/v1/settings", headers=keys.headers("readonly")).json()
    # The defaults: at least a day earlier, one move a week.
    assert (current["moveup_min_gain_minutes"], current["moveup_cooldown_minutes"]) == (1440, 10080)
    changed = client.patch(
        "/v1/settings",
        headers=keys.headers("admin"),
        json={"moveup_min_gain_minutes": 90, "moveup_cooldown_minutes": 0},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["moveup_min_gain_minutes"], changed.json()["moveup_cooldown_minutes"]) == (90, 0)
    row = db.execute(
        "select s.moveup_min_gain, s.moveup_cooldown from slotoptim_private.organisation_settings as s"
        " join slotoptim_private.organisation as o on o.id = s.org_id where o.key = 'acme'"
    ).fetchone()
    assert row is not None
    assert (str(row["moveup_min_gain"]), str(row["moveup_cooldown"])) == ("1:30:00", "0:00:00")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("moveup_min_gain_minutes", -1),
        ("moveup_min_gain_minutes", "P1D"),
        ("moveup_cooldown_minutes", 525_601),
        ("moveup_cooldown_minutes", 1.5),
        ("moveup_cooldown_minutes", None),
    ],
)
def test_bad_moveup_intervals_are_refused_by_name(client: TestClient[Any], keys: Keys, field: str, value: Any) -> None:
    before = client.get("/v1/settings", headers=keys.headers("readonly")).json()
    wrong = client.patch("/v1/settings", headers=keys.headers("admin"), json={field: value})
    assert wrong.status_code == 400 and field in wrong.text, wrong.text
    assert client.get("/v1/settings", headers=keys.headers("readonly")).json() == before
