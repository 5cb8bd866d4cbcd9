"""The claim page of a move-up offer (issue 12) names the appointment it would replace, found
through the offer's waitlist entry (waitlist_entry.moveup_appointment_id)."""

from __future__ import annotations

from typing import Any

import psycopg
from api.claim_helpers import offered, token
from api.conftest import Keys
from litestar.testing import TestClient


def test_a_move_up_offer_shows_the_appointment_it_replaces(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    staff = keys.headers("staff")
    # Customer c1 holds a visit three weeks on (Tue Dec 15, 10:00 AM) and wants it earlier; their
    # plain waitlist entry is closed, so their only way in is move-up.
    later = client.post(
        "/v1/appointments",
        headers=staff,
        json={"provider": "dr-a", "service": "short", "start": "2026-12-15T10:00:00-05:00", "customer": "c1"},
    )
    assert later.status_code == 201, later.text
    held = later.json()["id"]
    assert client.put(f"/v1/appointments/{held}/move-up", headers=staff, json={}).status_code == 200
    db.execute(
        "update slotoptim_private.waitlist_entry set status = 'cancelled' where key = 'w1' and org_id ="
        " (select id from slotoptim_private.organisation where key = 'acme')"
    )
    offers = offered(client, keys, db)
    c1 = db.execute(
        "select c.id from slotoptim_private.customer as c join slotoptim_private.organisation as o on o.id = c.org_id"
        " where o.key = 'acme' and c.key = 'c1'"
    ).fetchone()
    assert c1 is not None
    [moveup] = [o for o in offers if o["customer_id"] == c1["id"]]
    others = [o for o in offers if o["customer_id"] != c1["id"]]
    page = client.get(f"/c/{token(db, moveup)}")
    assert page.status_code == 200
    assert "Instead of your Tue Dec 15, 10:00 AM appointment." in page.text
    # An ordinary waitlist offer says nothing of the kind.
    assert "Instead of your" not in client.get(f"/c/{token(db, others[0])}").text
    t = token(db, moveup)
    booked = client.post(f"/c/{t}", data={"token": t})
    assert "Moved from your Tue Dec 15, 10:00 AM appointment." in booked.text
