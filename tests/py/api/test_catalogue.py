"""Providers, services, weekly hours and settings: everyone reads, admins change."""

from __future__ import annotations

from typing import Any

from api.conftest import Keys
from litestar.testing import TestClient


def test_read_providers_and_services(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("readonly")
    providers = client.get("/v1/providers", headers=h).json()
    assert [p["key"] for p in providers] == ["dr-a", "dr-b"]
    assert client.get("/v1/providers/dr-b", headers=h).json()["services"] == ["short"]
    services = client.get("/v1/services", headers=h).json()
    assert {s["key"]: s["minutes"] for s in services} == {"short": 30, "long": 60}
    assert client.get("/v1/services/long", headers=h).json()["currency"] == "USD"
    assert client.get("/v1/providers/dr-zz", headers=h).status_code == 404
    assert client.get("/v1/services/zz", headers=h).status_code == 404


def test_admin_changes_a_provider_and_its_services(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("admin")
    changed = client.patch("/v1/providers/dr-b", headers=h, json={"name": "Dr. Bea", "services": ["long", "short"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Dr. Bea" and changed.json()["services"] == ["long", "short"]
    assert client.patch("/v1/providers/dr-b", headers=h, json={"services": ["long"]}).json()["services"] == ["long"]
    bad_zone = client.patch("/v1/providers/dr-b", headers=h, json={"timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 422 and "timezone" in bad_zone.text
    assert client.patch("/v1/providers/dr-b", headers=h, json={"active": "yes"}).status_code == 400
    assert client.patch("/v1/providers/dr-b", headers=keys.headers("staff"), json={"name": "X"}).status_code == 403


def test_admin_changes_a_service(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("admin")
    changed = client.patch("/v1/services/short", headers=h, json={"minutes": 20, "price": 80.5})
    assert changed.status_code == 200 and changed.json()["minutes"] == 20 and changed.json()["price"] == 80.5
    assert client.patch("/v1/services/short", headers=h, json={"minutes": 0}).status_code == 400
    assert client.patch("/v1/services/short", headers=h, json={"complexity": 9}).status_code == 400


def test_hours_are_replaced_as_a_whole(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("admin")
    # The practice file's shape: days grouped by span.
    week = [
        {"days": ["mon", "wed"], "start": "08:00", "end": "12:00"},
        {"days": ["mon"], "start": "13:00", "end": "17:00"},
        {"days": ["sat"], "start": "09:00", "end": "11:30"},
    ]
    replaced = client.put("/v1/providers/dr-b/hours", headers=h, json=week)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == {"provider": "dr-b", "timezone": "America/New_York", "hours": week}
    assert client.get("/v1/providers/dr-b/hours", headers=keys.headers("readonly")).json()["hours"] == week
    overlap = client.put(
        "/v1/providers/dr-b/hours",
        headers=h,
        json=[{"days": ["mon"], "start": "08:00", "end": "12:00"}, {"days": ["mon"], "start": "11:00", "end": "13:00"}],
    )
    assert overlap.status_code == 422 and "[1]" in overlap.text
    backwards = client.put(
        "/v1/providers/dr-b/hours", headers=h, json=[{"days": ["mon"], "start": "12:00", "end": "08:00"}]
    )
    assert backwards.status_code == 422 and "[0].end" in backwards.text
    assert client.get("/v1/providers/dr-b/hours", headers=h).json()["hours"] == week
    old_shape = client.put(
        "/v1/providers/dr-b/hours", headers=h, json=[{"day": "mon", "start": "08:00", "end": "9:00"}]
    )
    assert old_shape.status_code == 400 and "unknown field `day`" in old_shape.text


def test_settings(client: TestClient[Any], keys: Keys) -> None:
    current = client.get("/v1/settings", headers=keys.headers("readonly")).json()
    assert current["offer_strategy"] == "cascade" and current["send_window_start"] == "08:00"
    h = keys.headers("admin")
    changed = client.patch("/v1/settings", headers=h, json={"offer_strategy": "broadcast", "max_offers_per_day": 3})
    assert changed.status_code == 200, changed.text
    assert changed.json()["offer_strategy"] == "broadcast" and changed.json()["max_offers_per_day"] == 3
    wrong = client.patch("/v1/settings", headers=h, json={"send_window_start": "22:00"})
    assert wrong.status_code == 422 and "send_window_end" in wrong.text
    assert client.patch("/v1/settings", headers=h, json={"offer_strategy": "lottery"}).status_code == 400
    assert current["slot_grid_minutes"] == 5, "offered slots start on a 5-minute grid by default"
    grid = client.patch("/v1/settings", headers=h, json={"slot_grid_minutes": 15})
    assert grid.status_code == 200 and grid.json()["slot_grid_minutes"] == 15
    odd = client.patch("/v1/settings", headers=h, json={"slot_grid_minutes": 7})
    assert odd.status_code == 400 and "slot_grid_minutes" in odd.text, "7 does not divide a day"
    assert client.patch("/v1/settings", headers=keys.headers("staff"), json={"auto_offer": False}).status_code == 403
