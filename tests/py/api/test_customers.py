"""/v1/customers: staff add the customer they are booking, read, correct and find them; consent per
channel needs its address; another organisation's customers do not exist; readonly keys get 403."""

from __future__ import annotations

from typing import Any

from api.conftest import Keys
from litestar.testing import TestClient

NEW = {
    "key": "c-walk-in",
    "name": "Nia Walker",
    "phone": "+16175551234",
    "timezone": "America/New_York",
    "consent": {"sms": True},
}


def test_create_read_update_list(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("staff")
    made = client.post("/v1/customers", headers=h, json=NEW)
    assert made.status_code == 201, made.text
    customer = made.json()
    assert customer["consent"] == {"sms": True, "whatsapp": False, "email": False}
    assert customer["email"] is None and customer["opted_out_at"] is None
    assert client.get("/v1/customers/c-walk-in", headers=h).json() == customer

    changed = client.patch(
        "/v1/customers/c-walk-in",
        headers=h,
        json={"email": "nia@example.org", "consent": {"email": True, "sms": False}, "timezone": None},
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["consent"] == {"sms": False, "whatsapp": False, "email": True}
    assert after["timezone"] is None and after["phone"] == "+16175551234"

    found = client.get("/v1/customers", headers=h, params={"phone": "+16175551234"}).json()
    assert [c["key"] for c in found["items"]] == ["c-walk-in"]
    assert (
        client.get("/v1/customers", headers=h, params={"email": "NIA@example.org"}).json()["items"][0]["id"]
        == (customer["id"])
    )
    page = client.get("/v1/customers", headers=h, params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = client.get("/v1/customers", headers=h, params={"limit": 200, "cursor": page["next_cursor"]}).json()
    assert page["items"][0]["key"] not in [c["key"] for c in rest["items"]]

    # The new customer can be put on the waitlist at once.
    entry = client.post("/v1/waitlist/entries", headers=h, json={"customer": "c-walk-in", "services": ["short"]})
    assert entry.status_code == 201, entry.text


def test_bad_input_names_the_field(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("staff")
    assert client.post("/v1/customers", headers=h, json=NEW).status_code == 201
    again = client.post("/v1/customers", headers=h, json=NEW)
    assert again.status_code == 409
    no_address = client.post("/v1/customers", headers=h, json={"key": "c-x", "name": "X", "consent": {"email": True}})
    assert no_address.status_code == 422 and "consent.email" in no_address.text
    bad_phone = client.post("/v1/customers", headers=h, json={"key": "c-y", "name": "Y", "phone": "617-555"})
    assert bad_phone.status_code == 400 and "phone" in bad_phone.text
    clearing = client.patch("/v1/customers/c-walk-in", headers=h, json={"phone": None})
    assert clearing.status_code == 422 and "consent.sms" in clearing.text
    assert client.get("/v1/customers/nobody", headers=h).status_code == 404


def test_roles_and_tenants(client: TestClient[Any], keys: Keys) -> None:
    assert client.post("/v1/customers", headers=keys.headers("staff"), json=NEW).status_code == 201
    assert client.get("/v1/customers", headers=keys.headers("readonly")).status_code == 403
    other = keys.headers("other_admin")
    assert client.get("/v1/customers/c-walk-in", headers=other).status_code == 404
    assert "c-walk-in" not in client.get("/v1/customers", headers=other).text
