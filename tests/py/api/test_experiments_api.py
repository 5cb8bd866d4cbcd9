"""Message experiments and the pricing policy through the API (issue 16): admins create and stop,
every role reads; each variant's SMS is checked for one GSM-7 segment; the readout refuses a winner
below 200 sends per variant; bravo sees none of acme's; every change is audited."""

from __future__ import annotations

from typing import Any

import psycopg
from api.conftest import Keys
from litestar.testing import TestClient

PATH = "/v1/experiments"
A = "{org}: opening {when}. Claim: {link}"
B = "{org}: opening {when} with {provider}, {minutes} min to claim: {link}"


def new(client: TestClient[Any], keys: Keys, key: str = "deadline", **changes: Any) -> Any:
    body = {"key": key, "variable": "deadline", "variants": [{"key": "A", "template": A}, {"key": "B", "template": B}]}
    return client.post(PATH, headers=keys.headers("admin"), json={**body, **changes})


def test_create_read_stop_with_readout(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    made = new(client, keys)
    assert made.status_code == 201, made.text
    assert made.json()["running"] is True
    assert [(v["key"], v["segments"]) for v in made.json()["variants"]] == [("A", 1), ("B", 1)]
    # Every role reads; the readout refuses a winner before 200 sends per variant.
    listed = client.get(PATH, headers=keys.headers("readonly"))
    assert listed.status_code == 200 and [e["key"] for e in listed.json()] == ["deadline"]
    detail = client.get(f"{PATH}/deadline", headers=keys.headers("staff"))
    assert detail.status_code == 200, detail.text
    readout = {r["variant"]: r for r in detail.json()["readout"]}
    assert detail.json()["min_sends"] == 200
    assert readout["A"]["verdict"] == "control" and readout["A"]["sent"] == 0
    assert readout["B"]["verdict"].startswith("no winner yet: 0 sends in the smallest variant, 200 needed")
    assert {"clicked", "declined", "ignored", "ci95_low", "ci95_high"} <= set(readout["B"])
    # One experiment at a time; a key is never reused.
    assert new(client, keys, "other").status_code == 409
    # Staff may not stop it; an admin may, once.
    assert client.post(f"{PATH}/deadline/stop", headers=keys.headers("staff")).status_code == 403
    stopped = client.post(f"{PATH}/deadline/stop", headers=keys.headers("admin"))
    assert stopped.status_code == 200 and stopped.json()["running"] is False
    assert client.post(f"{PATH}/deadline/stop", headers=keys.headers("admin")).status_code == 409
    assert new(client, keys).status_code == 409
    assert new(client, keys, "other").status_code == 201
    assert client.get(f"{PATH}/nope", headers=keys.headers("staff")).status_code == 404
    audited = db.execute(
        "select count(*) as n from slotoptim_private.audit_event where entity = 'message_experiment'"
    ).fetchone()
    assert audited is not None and audited["n"] >= 3  # two created, one stopped


def test_a_variant_over_one_segment_is_refused_naming_it(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    long = "{org}: " + "an opening just came up for you, " * 3 + "{when}: {link}"
    wrong = new(client, keys, variants=[{"key": "A", "template": A}, {"key": "B", "template": long}])
    assert wrong.status_code == 422, wrong.text
    assert "variants[1].template" in wrong.text and "SMS segments at its longest" in wrong.text
    curly = new(
        client, keys, variants=[{"key": "A", "template": "{org}: it’s yours {link}"}, {"key": "B", "template": A}]
    )
    assert curly.status_code == 422 and "variants[0].template" in curly.text and "not GSM-7" in curly.text
    unknown = new(client, keys, variants=[{"key": "A", "template": "{practice} {link}"}, {"key": "B", "template": A}])
    assert unknown.status_code == 422 and "unknown placeholder {practice}" in unknown.text
    no_link = new(client, keys, variants=[{"key": "A", "template": "{org} call us"}, {"key": "B", "template": A}])
    assert no_link.status_code == 422 and "{link}" in no_link.text
    same = new(client, keys, variants=[{"key": "A", "template": A}, {"key": "A", "template": B}])
    assert same.status_code == 422 and "variants" in same.text
    # Malformed input: 400 naming the field.
    for body, field in (
        ({"key": "Bad Key", "variable": "deadline", "variants": []}, "key"),
        ({"key": "x", "variable": "colour", "variants": []}, "variable"),
        ({"key": "x", "variable": "deadline", "variants": [{"key": "A", "template": A}]}, "variants"),
    ):
        answer = client.post(PATH, headers=keys.headers("admin"), json=body)
        assert answer.status_code == 400 and field in answer.text, (body, answer.text)
    # Staff may not create; nothing was written by any refusal.
    assert new(client, keys, variants=[]).status_code == 400
    assert client.post(PATH, headers=keys.headers("staff"), json={}).status_code == 403
    row = db.execute("select count(*) as n from slotoptim_private.message_experiment").fetchone()
    assert row is not None and row["n"] == 0


def test_bravo_sees_none_of_acmes_experiments(client: TestClient[Any], keys: Keys) -> None:
    assert new(client, keys).status_code == 201
    theirs = keys.headers("other_admin")
    assert client.get(PATH, headers=theirs).json() == []
    assert client.get(f"{PATH}/deadline", headers=theirs).status_code == 404
    assert client.post(f"{PATH}/deadline/stop", headers=theirs).status_code == 404
    # Keys are per organisation: bravo may run its own "deadline".
    assert (
        client.post(
            PATH,
            headers=theirs,
            json={
                "key": "deadline",
                "variable": "wording",
                "variants": [{"key": "A", "template": A}, {"key": "B", "template": B}],
            },
        ).status_code
        == 201
    )


def test_pricing_policy(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    path = "/v1/pricing-policy"
    none = client.get(path, headers=keys.headers("readonly"))
    assert none.status_code == 200 and none.json()["configured"] is False and none.json()["enabled"] is False
    policy = {
        "last_minute_hours": 24,
        "last_minute_discount_pct": 15,
        "tier_discount_pct": {"platinum": 10},
        "holiday_surge_pct": 20,
        "holidays": ["2026-12-25", "2026-12-24"],
    }
    assert client.put(path, headers=keys.headers("staff"), json=policy).status_code == 403
    put = client.put(path, headers=keys.headers("admin"), json=policy)
    assert put.status_code == 200, put.text
    got = client.get(path, headers=keys.headers("staff")).json()
    assert got == {**policy, "holidays": ["2026-12-24", "2026-12-25"], "enabled": True, "configured": True}
    assert client.get(path, headers=keys.headers("other_admin")).json()["configured"] is False
    for body, field in (
        ({"last_minute_discount_pct": 95}, "last_minute_discount_pct"),
        ({"tier_discount_pct": {"diamond": 5}}, "tier_discount_pct"),
        ({"holidays": ["2026-13-01"]}, "holidays"),
        ({"last_minute_hours": 0}, "last_minute_hours"),
        ({"surge": 5}, "surge"),
    ):
        answer = client.put(path, headers=keys.headers("admin"), json=body)
        assert answer.status_code == 400 and field in answer.text, (body, answer.text)
    assert client.get(path, headers=keys.headers("staff")).json() == got  # nothing half-written
    audited = db.execute(
        "select count(*) as n from slotoptim_private.audit_event where entity = 'pricing_policy'"
    ).fetchone()
    assert audited is not None and audited["n"] == 1


def test_pricing_policy_takes_json_types_strictly(client: TestClient[Any], keys: Keys) -> None:
    for body, field in (({"enabled": 0}, "enabled"), ({"holiday_surge_pct": "20"}, "holiday_surge_pct")):
        answer = client.put("/v1/pricing-policy", headers=keys.headers("admin"), json=body)
        assert answer.status_code == 400 and field in answer.text, (body, answer.text)
    assert client.get("/v1/pricing-policy", headers=keys.headers("admin")).json()["configured"] is False
