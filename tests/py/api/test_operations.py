"""/healthz, /readyz, /metrics, and logs without personal data."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from api.api_practice import local
from api.conftest import METRICS, Keys
from api.test_webhooks import INBOUND, inbound, post_signed
from litestar.testing import TestClient

import slotoptim.api.db


def test_health_and_readiness(client: TestClient[Any], make_client: Callable[..., TestClient[Any]]) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "database": True, "redis": None, "calendars_broken": 0}
    no_redis = make_client(redis_url="redis://127.0.0.1:1/0")
    answer = no_redis.get("/readyz")
    assert answer.status_code == 503 and answer.json() == {
        "status": "not_ready",
        "database": True,
        "redis": False,
        "calendars_broken": 0,
    }
    no_db = make_client(database_url="host=127.0.0.1 port=1 dbname=none connect_timeout=1")
    answer = no_db.get("/readyz")
    assert answer.status_code == 503 and answer.json()["database"] is False
    assert no_db.get("/healthz").status_code == 200


def test_without_the_isolation_role_the_api_refuses_to_serve(
    make_client: Callable[..., TestClient[Any]], keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slotoptim.api.db, "APP_ROLE", "slotoptim_role_that_does_not_exist")
    answer = make_client().get("/v1/providers", headers=keys.headers("readonly"))
    assert answer.status_code == 503 and "migrate" in answer.json()["detail"]


def test_metrics(client: TestClient[Any], keys: Keys) -> None:
    h = keys.headers("staff")
    client.get("/v1/providers", headers=h)
    client.get("/v1/appointments/123456", headers=h)
    client.get("/v1/providers")
    text = client.get("/metrics", headers=METRICS).text
    assert 'slotoptim_http_requests_total{method="GET",route="/v1/providers",status="200"} 1.0' in text
    assert 'slotoptim_http_requests_total{method="GET",route="/v1/providers",status="401"} 1.0' in text
    assert 'route="/v1/appointments/{appointment_id}",status="404"' in text
    assert 'slotoptim_http_request_duration_seconds_bucket{le="0.5",method="GET",route="/v1/providers"}' in text
    assert 'slotoptim_offers_made_total{org="acme"} 0.0' in text
    assert "slotoptim_offers_sent_total" in text and "slotoptim_engine_metrics_up 1.0" in text


def test_logs_hold_no_personal_data(client: TestClient[Any], keys: Keys, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="slotoptim.api")
    post_signed(client, INBOUND, inbound("stop texting me, Casey here", "+16175550003"))
    client.post(
        "/v1/appointments",
        headers=keys.headers("staff"),
        json={"provider": "dr-a", "service": "short", "customer": "c2", "start": local(14, 10).isoformat()},
    )
    client.get("/v1/appointments", params={"provider": "dr-a", "day": "2026-11-24"}, headers=keys.headers("staff"))
    formatter = logging.getLogger("slotoptim.api").handlers[0].formatter
    assert formatter is not None
    lines = [formatter.format(r) for r in caplog.records]
    assert any('"route": "/webhooks/twilio/inbound"' in line for line in lines)
    text = "\n".join(lines)
    for secret in ("+1617", "6175550003", "Casey", "texting", "Customer", "c2@", "testclient", "2026-11-24"):
        assert secret not in text, secret
