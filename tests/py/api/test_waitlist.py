"""/v1/waitlist/entries: create, read, update, delete (cancel), list with filters and pages."""

from __future__ import annotations

from typing import Any

from api.conftest import Keys
from litestar.testing import TestClient

ENTRY = {
    "customer": "c1",
    "services": ["long", "short"],
    "providers": ["dr-a"],
    "days": ["tue", "mon", "tue"],
    "window": {"start": "09:00", "end": "12:30"},
    "dates": {"from": "2026-11-24", "to": "2026-12-31"},
    "lead_time_minutes": 240,
    "tier": "gold",
    "key": "w-new",
}


def test_create_read_update_cancel(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("staff")
    made = client.post("/v1/waitlist/entries", headers=h, json=ENTRY)
    assert made.status_code == 201, made.text
    entry = made.json()
    assert entry["services"] == ["long", "short"] and entry["providers"] == ["dr-a"]
    assert entry["days"] == ["mon", "tue"] and entry["window"] == {"start": "09:00", "end": "12:30"}
    assert entry["dates"] == {"from": "2026-11-24", "to": "2026-12-31"} and entry["tier"] == "gold"
    assert entry["status"] == "active" and entry["excluded_providers"] == []
    url = f"/v1/waitlist/entries/{entry['id']}"
    assert client.get(url, headers=keys.headers("readonly")).json() == entry

    changed = client.patch(
        url, headers=h, json={"providers": None, "window": None, "tier": "platinum", "days": ["fri"]}
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["providers"] is None and after["window"] is None and after["tier"] == "platinum"
    assert after["days"] == ["fri"] and after["services"] == ["long", "short"]

    assert client.delete(url, headers=h).status_code == 204
    assert client.get(url, headers=h).json()["status"] == "cancelled"
    assert client.delete(url, headers=h).status_code == 204  # already off the list: no change


def test_validation_names_the_field(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("staff")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**ENTRY, "services": []}, 400, "services"),
        ({**ENTRY, "days": ["funday"]}, 400, "days"),
        ({**ENTRY, "window": {"start": "12:00", "end": "09:00"}}, 422, "window.end"),
        ({**ENTRY, "window": {"start": "25:00", "end": "26:00"}}, 400, "window.start"),
        ({**ENTRY, "dates": {"from": "2026-12-31", "to": "2026-11-24"}}, 422, "dates.to"),
        ({**ENTRY, "lead_time_minutes": -5}, 400, "lead_time_minutes"),
        ({**ENTRY, "tier": "diamond"}, 400, "tier"),
        ({**ENTRY, "services": ["short", "massage"]}, 404, "services[1]"),
        ({**ENTRY, "customer": "nobody"}, 404, "customer"),
        ({**ENTRY, "excluded_providers": ["dr-x"]}, 404, "excluded_providers[0]"),
    ]
    for body, status, field in cases:
        answer = client.post("/v1/waitlist/entries", headers=h, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert field in answer.text, (field, answer.text)
    duplicate = client.post("/v1/waitlist/entries", headers=h, json={**ENTRY, "key": "w1"})
    assert duplicate.status_code == 409 and "duplicate" in duplicate.json()["detail"]


def test_list_filters_and_pages(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("readonly")
    everyone = client.get("/v1/waitlist/entries", headers=h).json()
    assert [e["key"] for e in everyone["items"]] == [f"w{i}" for i in range(1, 7)]
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/waitlist/entries", params=params, headers=h).json()
        pages.append([e["key"] for e in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [["w1", "w2", "w3", "w4"], ["w5", "w6"]]
    client.post("/v1/waitlist/entries", headers=keys.headers("staff"), json=ENTRY)
    assert [
        e["key"] for e in client.get("/v1/waitlist/entries", params={"tier": "gold"}, headers=h).json()["items"]
    ] == ["w-new"]
    by_customer = client.get("/v1/waitlist/entries", params={"customer": "c1"}, headers=h).json()["items"]
    assert {e["key"] for e in by_customer} == {"w1", "w-new"}
    long_ones = client.get("/v1/waitlist/entries", params={"service": "long"}, headers=h).json()["items"]
    assert [e["key"] for e in long_ones] == ["w-new"]
    sunday = client.get("/v1/waitlist/entries", params={"day": "sun"}, headers=h).json()["items"]
    assert "w-new" not in {e["key"] for e in sunday} and "w1" in {e["key"] for e in sunday}
    assert client.get("/v1/waitlist/entries", params={"status": "paused"}, headers=h).json()["items"] == []
    assert client.get("/v1/waitlist/entries", params={"service": "nope"}, headers=h).status_code == 404
