"""The adaptive strategy's targets through PATCH /v1/settings (issue 16)."""

from __future__ import annotations

from typing import Any

from api.conftest import Keys
from litestar.testing import TestClient


def test_adaptive_settings(client: TestClient[Any], keys: Keys) -> None:
    current = client.get("/v1/settings", headers=keys.headers("readonly")).json()
    assert current["adaptive_fill_target"] == 0.9 and current["adaptive_max_late_claims"] == 2.0
    h = keys.headers("admin")
    changed = client.patch(
        "/v1/settings",
        headers=h,
        json={"offer_strategy": "adaptive", "adaptive_fill_target": 0.95, "adaptive_max_late_claims": 1},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["offer_strategy"], body["adaptive_fill_target"], body["adaptive_max_late_claims"]) == (
        "adaptive",
        0.95,
        1.0,
    )
    wrong = client.patch("/v1/settings", headers=h, json={"adaptive_fill_target": 1})
    assert wrong.status_code == 400 and "adaptive_fill_target" in wrong.text
