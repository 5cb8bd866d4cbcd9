"""The staff dashboard over HTTP: sign-in (header or session cookie), and only one's own data."""

from __future__ import annotations

from typing import Any

import psycopg
from api.claim_helpers import offered, token
from api.conftest import Keys
from litestar.testing import TestClient
from payments.helpers import set_policy


def _login(client: TestClient[Any], key: str) -> Any:
    return client.post("/dashboard/login", data={"api_key": key}, follow_redirects=False)


def test_sign_in_is_required(client: TestClient[Any], keys: Keys) -> None:
    away = client.get("/dashboard", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/dashboard/login"
    form = client.get("/dashboard/login")
    assert form.status_code == 200 and 'name="api_key"' in form.text and '<label for="api_key">' in form.text
    assert client.get("/dashboard", headers={"Authorization": "Bearer so_nope"}).status_code == 401
    refused = _login(client, "so_abcdefgh_" + "0" * 48)
    assert refused.status_code == 401 and "not accepted" in refused.text
    assert "set-cookie" not in refused.headers
    client.cookies.set("slotoptim_session", "forged.value", path="/dashboard")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_session_cookie(make_client: Any, keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    client = make_client(public_url=None)  # plain http end to end: the cookie must come back
    signed_in = _login(client, keys.readonly)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/dashboard"
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/dashboard" in cookie
    assert "secure" not in cookie  # plain http and no https public URL (test_front_door checks Secure)
    page = client.get("/dashboard")
    assert page.status_code == 200 and "Acme Clinic" in page.text and "signed in as readonly" in page.text
    # Revoking the key ends its sessions.
    key_id = db.execute("select id from slotoptim_private.api_key where name = 'reports'").fetchone()
    assert key_id is not None
    db.execute("update slotoptim_private.api_key set revoked_at = now() where id = %s", (key_id["id"],))
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    signed_out = client.post("/dashboard/logout", follow_redirects=False)
    assert signed_out.status_code == 303 and "max-age=0" in signed_out.headers["set-cookie"].lower()


def test_dashboard_with_data(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    offers = offered(client, keys, db)
    assert "booked" in client.post(f"/c/{token(db, offers[0])}", data={"token": token(db, offers[0])}).text
    page = client.get("/dashboard", headers=keys.headers("readonly"))
    assert page.status_code == 200, page.text
    html = page.text
    assert '<html lang="en">' in html and "Today at Acme Clinic" in html
    assert "Open gaps now" in html and "Live offers" in html and "Revenue recovered" in html
    assert "<svg" in html and "Revenue recovered per day, November 2026" in html
    assert "$100.00" in html  # the booked 30-minute visit, recovered
    assert 'class="heat"' in html and '<th scope="row">Tue</th>' in html
    assert "Bravo Clinic" not in html


def test_other_organisations_data_stays_hidden(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    offered(client, keys, db)  # acme's offers: customers c1..c6 of acme
    acme = client.get("/dashboard", headers=keys.headers("readonly")).text
    assert "Customer 1" in acme
    bravo = client.get("/dashboard", headers=keys.headers("other_admin"))
    assert bravo.status_code == 200 and "Bravo Clinic" in bravo.text
    assert "Acme Clinic" not in bravo.text and "Customer 1" not in bravo.text and "No offers are out" in bravo.text
    # A bravo session cookie cannot be turned into acme's by editing it: the signature breaks.
    signed_in = _login(client, keys.other_admin)
    value = signed_in.cookies.get("slotoptim_session") or client.cookies.get("slotoptim_session")
    assert value
    import base64
    import json

    body, _, tag = value.partition(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data["org"] = min(data["org"] - 1, 1) if data["org"] > 1 else data["org"] + 1
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=") + "." + tag
    client.cookies.clear()
    client.cookies.set("slotoptim_session", forged, path="/dashboard")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_dashboard_says_why_a_gap_has_no_offers(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    """Everyone on the waitlist needs ten hours' notice: the 14:00 gap is released, and the page
    says so, and who was not offered it and why."""
    db.execute(
        "update slotoptim_private.waitlist_entry set lead_time_minutes = 600"
        " where org_id = (select id from slotoptim_private.organisation where key = 'acme')"
    )
    appointment = db.execute(
        "select a.id from slotoptim_private.appointment as a join slotoptim_private.organisation as o"
        " on o.id = a.org_id where o.key = 'acme' and a.key = 'to-cancel'"
    ).fetchone()
    assert appointment is not None
    cancelled = client.post(f"/v1/appointments/{appointment['id']}/cancel", headers=keys.headers("staff")).json()
    gap_id = cancelled["gap_ids"][0]
    started = client.post("/v1/waitlist/offer", headers=keys.headers("staff"), json={"gap_id": gap_id})
    assert started.status_code == 201, started.text

    html = client.get("/dashboard", headers=keys.headers("readonly")).text
    assert "Why no live offer" in html
    assert "released: no waitlist entry passes the hard filters" in html
    assert '<li class="reason-no">6 need more notice</li>' in html  # six entries, all excluded by lead time
    assert f'<a href="/dashboard/gaps/{gap_id}">' in html
    assert "Bravo Clinic" not in html and "bravo" not in html

    # The gap's own page: its campaign, and each entry with the filter that excludes it.
    page = client.get(f"/dashboard/gaps/{gap_id}", headers=keys.headers("readonly"))
    assert page.status_code == 200, page.text
    assert '<h2 id="campaigns-h">Campaigns</h2>' in page.text and "released: no waitlist entry" in page.text
    assert "<td>Customer 1</td><td>w1</td><td>lead time</td><td>needs 600 min notice</td>" in page.text
    assert "6 need more notice" in page.text and "No offers were made for this gap." in page.text


def test_the_gaps_card_explains_within_its_budget(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]], monkeypatch: Any
) -> None:
    """The waitlist's account costs an evaluation per entry and gap: past the card's budget a gap
    without offers keeps its campaign's reason and points to its own page, which explains it."""
    from slotoptim.api.queries import card_20_gaps

    appointment = db.execute(
        "select a.id from slotoptim_private.appointment as a join slotoptim_private.organisation as o"
        " on o.id = a.org_id where o.key = 'acme' and a.key = 'before'"
    ).fetchone()
    assert appointment is not None
    gap_id = client.post(f"/v1/appointments/{appointment['id']}/cancel", headers=keys.headers("staff")).json()[
        "gap_ids"
    ][0]
    monkeypatch.setattr(card_20_gaps, "EXPLAIN_BUDGET", 5)  # acme has 6 active entries
    import html as markup

    html = markup.unescape(client.get("/dashboard", headers=keys.headers("staff")).text)
    assert "6 on the waitlist: the gap's page gives each entry's reason." in html
    assert '<ul class="reasons">' not in html and "not offered yet" in html
    page = client.get(f"/dashboard/gaps/{gap_id}", headers=keys.headers("staff")).text
    assert page.count("<td>w") == 6  # each entry, with its reason


def test_an_empty_practice_gets_an_empty_state_that_says_what_to_do(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    assert "Nothing to show yet" not in client.get("/dashboard", headers=keys.headers("staff")).text
    from slotoptim.api.apikeys import create_key
    from slotoptim.listener.practice.importer import import_practice

    import_practice(
        db,
        {
            "format": "slotoptim.practice/1",
            "organisation": {"key": "newco", "name": "New Clinic", "timezone": "America/New_York"},
        },
    )
    org = db.execute("select id from slotoptim_private.organisation where key = 'newco'").fetchone()
    assert org is not None
    key = create_key(db, int(org["id"]), "first", "staff").token
    page = client.get("/dashboard", headers={"Authorization": f"Bearer {key}"})
    assert page.status_code == 200
    assert "Nothing to show yet" in page.text and "slotoptim import practice.json" in page.text
    assert 'id="gaps-h"' not in page.text and 'id="trend-h"' not in page.text  # no wall of zeros


def test_offers_waiting_for_quiet_hours_say_when_they_send(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    offer = offered(client, keys, db)[0]
    db.execute(
        "update slotoptim_private.message set status = 'queued',"
        " not_before = '2026-11-25 08:00 America/New_York' where offer_id = %s and kind = 'offer'",
        (offer["id"],),
    )
    page = client.get("/dashboard", headers=keys.headers("staff")).text
    assert "sends at 8:00" in page or "sends at 08:00" in page, page


def test_a_gap_page_shows_its_campaign_offers_and_messages(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    offers = offered(client, keys, db)
    gap = db.execute("select gap_id from slotoptim_private.offer where id = %s", (offers[0]["id"],)).fetchone()
    assert gap is not None
    gap_id = int(gap["gap_id"])
    board = client.get("/dashboard", headers=keys.headers("staff")).text
    assert f'<a href="/dashboard/gaps/{gap_id}">' in board  # from the gaps table and the live offers
    page = client.get(f"/dashboard/gaps/{gap_id}", headers=keys.headers("staff"))
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert "<td>broadcast</td><td>running</td>" in html
    messages = db.execute(
        "select count(*) as n from slotoptim_private.message as m join slotoptim_private.offer as o"
        " on o.id = m.offer_id where o.gap_id = %s",
        (gap_id,),
    ).fetchone()
    assert messages is not None and messages["n"] >= 1
    assert html.count("<td>offer</td>") == messages["n"]  # a row per message of the gap's offers
    assert "Customer 1" in html and html.count("<td>open</td>") == len(offers)
    for phone_or_email in ("+1", "@"):  # names only: the page shows no addresses
        assert phone_or_email not in html.split('id="messages-h"')[1].split("</section>")[0]
    # Another organisation's gap, a missing one, and no credentials.
    assert client.get(f"/dashboard/gaps/{gap_id}", headers=keys.headers("other_admin")).status_code == 404
    missing = client.get("/dashboard/gaps/999999999", headers=keys.headers("staff"))
    assert missing.status_code == 404 and "Gap not found" in missing.text
    assert client.get(f"/dashboard/gaps/{gap_id}", follow_redirects=False).status_code == 303
    assert client.get("/dashboard/gaps/0", headers=keys.headers("staff")).status_code == 400


def test_the_weekly_trend_shows_fill_rate_and_revenue(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    from slotoptim.api.queries.card_40_trend import TREND_WEEKS

    offers = offered(client, keys, db)
    assert "booked" in client.post(f"/c/{token(db, offers[0])}", data={"token": token(db, offers[0])}).text
    html = client.get("/dashboard", headers=keys.headers("staff")).text
    trend = html.split('id="trend-h"')[1].split("</section>")[0]
    assert trend.count('<th scope="row">') == TREND_WEEKS
    assert "(so far)</th>" in trend  # this week is the last row
    this_week = trend.split('<tr class="current">')[1]
    assert "<td>1 / 1</td>" in this_week and ">100%</span>" in this_week and "$100.00" in this_week
    assert 'class="w20"' in this_week  # full bars: the whole week's gap filled, the best week's revenue
    assert "style=" not in html  # the CSP allows no style attributes


def test_the_heatmap_scale_fits_the_data_shown() -> None:
    from slotoptim.api.queries.card_60_heatmap import Scale

    busy = Scale.fitting([0.62, 0.7, 0.9])  # a practice booked between 62 % and 90 %
    assert (busy.low, busy.high, busy.count) == (62, 90, 4)
    assert [b.text for b in busy.bands()] == ["62% to 69%", "69% to 76%", "76% to 83%", "83% to 90%"]
    assert busy.level(0.62) == 1 and busy.level(0.9) == 4 and busy.level(None) == 0
    # The old fixed scale put all of these in its top two steps; this one spreads them.
    assert len({busy.level(s) for s in (0.62, 0.7, 0.8, 0.9)}) == 4
    quiet = Scale.fitting([0.0, 0.03])
    assert quiet.count == 3 and quiet.level(0.0) == 1 and quiet.level(0.03) == 4
    flat = Scale.fitting([0.5, 0.5])
    assert [b.text for b in flat.bands()] == ["50% (every hour shown)"] and flat.level(0.5) == 2


def test_the_heatmap_legend_comes_from_the_page_s_data(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    import re

    html = client.get("/dashboard", headers=keys.headers("staff")).text
    heat = html.split('id="heat-h"')[1].split("</section>")[0]
    shares = [int(v) for v in re.findall(r'<td class="l[1-4]">(\d+)%', heat)]
    assert shares
    legend = re.findall(r'<li class="l[1-4]">(\d+)% to (\d+)%</li>', heat)
    assert legend and int(legend[0][0]) == min(shares) and int(legend[-1][1]) == max(shares)


class _Counting:
    """A connection that counts the statements a card runs."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self.conn = conn
        self.statements = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return self.conn.execute(*args, **kwargs)


# Cards of features a practice turns on stay away until used (one query decides that too).
OPTIONAL_CARDS = {"card_55_payments", "card_80_experiment"}


def test_each_card_reads_with_one_query(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    import datetime as dt

    from slotoptim.api.queries import dashboard as q

    offered(client, keys, db)
    org = db.execute("select id from slotoptim_private.organisation where key = 'acme'").fetchone()
    assert org is not None
    # A payment policy turns the payments card on: it then reads its month and the charges needing
    # a person in the same one query.
    set_policy(db, int(org["id"]), {"deposit_min_price": 0, "deposit_percent": 50})
    with db.transaction():
        db.execute("select set_config('slotoptim.org_id', %s, true)", (str(org["id"]),))
        ctx = q.context(db, dt.datetime.now(dt.UTC))  # type: ignore[arg-type]
        names = []
        for name, module in q.card_modules():
            counting = _Counting(db)
            loaded = module.load(counting, ctx)  # type: ignore[arg-type]
            assert loaded is not None or name in OPTIONAL_CARDS, name
            assert counting.statements <= 1, (name, counting.statements)
            assert loaded is not None or name != "card_55_payments", "the policy turns the card on"
            names.append(name)
    assert names == sorted(names) and {"card_20_gaps", "card_40_trend", "card_60_heatmap"} <= set(names)
