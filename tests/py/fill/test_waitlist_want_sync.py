"""waitlist_want (the wanted services of active entries, which the bounded ranking walks) stays equal
to what waitlist_entry says, whichever way entries are written: many rows at once, status changes
(pause, resume, fulfil), new wanted services, response counts, tier, travel, move-up enrolment,
deletes (of the entry or of its customer), and new weights for the static parts."""

from __future__ import annotations

from typing import Any

import psycopg

ORDER = "waitlist_entry_id, service_id"


def _assert_in_sync(conn: psycopg.Connection[Any]) -> None:
    kept = conn.execute(f"select * from slotoptim_private.waitlist_want order by {ORDER}").fetchall()
    wanted = conn.execute(
        "select * from slotoptim_private.waitlist_want_rows(array(select id from slotoptim_private.waitlist_entry))"
        f" order by {ORDER}"
    ).fetchall()
    assert kept == wanted


def test_waitlist_want_follows_every_write(conn: psycopg.Connection[Any]) -> None:
    one = conn.execute
    org = one("insert into slotoptim_private.organisation (key, name, timezone) values ('w', 'W', 'UTC') returning id")
    org_id = org.fetchone()["id"]
    provider = one(
        "insert into slotoptim_private.provider (org_id, key, name, timezone)"
        " values (%s, 'p', 'P', 'UTC') returning id",
        (org_id,),
    ).fetchone()["id"]
    services = [
        one(
            "insert into slotoptim_private.service (org_id, key, name, minutes, category)"
            " values (%s, %s, %s, 30, %s) returning id",
            (org_id, f"s{i}", f"S{i}", f"c{i}"),
        ).fetchone()["id"]
        for i in range(3)
    ]
    one(
        "insert into slotoptim_private.customer (org_id, key, name, phone, consent_sms)"
        " select %s, 'c' || g, 'C', '+1617555' || lpad(g::text, 4, '0'), true from generate_series(1, 20) g",
        (org_id,),
    )
    # Many rows in one statement, some wanting two services (one listed twice), some paused.
    one(
        "insert into slotoptim_private.waitlist_entry (org_id, customer_id, service_ids, status, travel_minutes,"
        " max_travel_minutes, tier)"
        " select c.org_id, c.id, case when c.id %% 3 = 0 then array[%s, %s, %s]::bigint[] else array[%s]::bigint[] end,"
        "        case when c.id %% 4 = 0 then 'paused' else 'active' end, c.id %% 50, 60,"
        "        (array['standard', 'gold', 'platinum'])[1 + c.id %% 3]"
        " from slotoptim_private.customer as c where c.org_id = %s",
        (services[0], services[1], services[0], services[2], org_id),
    )
    _assert_in_sync(conn)
    assert one("select count(*) as n from slotoptim_private.waitlist_want").fetchone()["n"] > 0

    for change in (
        "update slotoptim_private.waitlist_entry set status = 'paused' where id %% 2 = 0",
        "update slotoptim_private.waitlist_entry set status = 'active' where status = 'paused'",
        "update slotoptim_private.waitlist_entry set service_ids = array[%(s1)s]::bigint[] where id %% 5 = 0",
        "update slotoptim_private.waitlist_entry set offers_received = 4, offers_accepted = 1 where id %% 3 = 1",
        "update slotoptim_private.waitlist_entry set tier = 'silver', travel_minutes = null where id %% 4 = 1",
        "update slotoptim_private.waitlist_entry set added_at = added_at - interval '3 days' where id %% 6 = 0",
        # Columns the rows do not hold: nothing to rewrite, and nothing goes out of step.
        "update slotoptim_private.waitlist_entry set consecutive_ignored = 1, window_start = '09:00',"
        " window_end = '10:00'",
        "update slotoptim_private.waitlist_entry set status = 'fulfilled' where id %% 7 = 0",
        "delete from slotoptim_private.waitlist_entry where id %% 8 = 0",
        "delete from slotoptim_private.customer where key = 'c3'",
        "update slotoptim_private.organisation_settings set weight_travel = 17, weight_response = 3"
        " where org_id = %(org)s",
    ):
        one(change, {"s1": services[1], "org": org_id})
        _assert_in_sync(conn)

    # A move-up enrolment, and enrolling again (an upsert: insert and update triggers both fire).
    appointment = one(
        "insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, period)"
        " select %s, %s, %s, c.id, tstzrange(now() + interval '10 days', now() + interval '10 days 30 minutes')"
        " from slotoptim_private.customer as c where c.key = 'c5' returning id",
        (org_id, provider, services[2]),
    ).fetchone()["id"]
    one("select slotoptim.enrol_moveup(%s)", (appointment,))
    _assert_in_sync(conn)
    assert one("select bool_or(moveup) as m from slotoptim_private.waitlist_want").fetchone()["m"]
    one("select slotoptim.enrol_moveup(%s, now(), array[1, 2]::smallint[])", (appointment,))
    _assert_in_sync(conn)
    one("select slotoptim.leave_moveup(%s)", (appointment,))
    _assert_in_sync(conn)
