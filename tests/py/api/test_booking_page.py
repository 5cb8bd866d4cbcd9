"""/book/{org}: the public booking page without a browser (plain form posts, as a phone without
JavaScript sends them). The browser and accessibility checks are in test_booking_browser.py."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from api.api_practice import SHARED_PHONE, local
from api.conftest import ApiDb
from litestar.testing import TestClient

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def opening(provider: str, hour: int, minute: int = 0) -> str:
    return f"{provider}|{local(hour, minute).astimezone(__import__('datetime').UTC):%Y-%m-%dT%H:%M:%SZ}"


def book(client: TestClient[Any], **fields: str) -> Any:
    data = {"service": "short", "name": "Ana Walk-In", "phone": "+1 (617) 555-4242", "lang": "en", **fields}
    return client.post("/book/acme/book", data=data, headers=FORM, follow_redirects=False)


def counts(db: psycopg.Connection[dict[str, Any]]) -> dict[str, int]:
    row = db.execute(
        "select (select count(*) from slotoptim_private.customer) as customers,"
        " (select count(*) from slotoptim_private.waitlist_entry) as entries,"
        " (select count(*) from slotoptim_private.offer) as offers,"
        " (select count(*) from slotoptim_private.appointment) as appointments,"
        " (select count(*) from slotoptim_private.gap) as gaps,"
        " (select count(*) from slotoptim_private.consent_event) as consent_events,"
        " (select count(*) from slotoptim_private.message) as messages"
    ).fetchone()
    assert row is not None
    return {k: int(v) for k, v in row.items()}


def test_the_page_lists_services_and_ranked_openings(client: TestClient[Any]) -> None:
    first = client.get("/book/acme")
    assert first.status_code == 200
    assert "Short visit (30 min, $100.00)" in first.text
    assert "Book this time" not in first.text  # no service chosen yet
    page = client.get("/book/acme", params={"service": "short", "provider": "dr-a"})
    assert page.status_code == 200
    values = re.findall(r'name="opening" type="radio" value="([^"]+)"', page.text)
    assert values, page.text
    assert all(v.startswith("dr-a|") for v in values)
    # 13:30-15:00 is booked; 08:00 (now) is too soon; every offered start is a real free time.
    assert opening("dr-a", 14) not in values
    assert "content-security-policy" in page.headers
    assert "style=" not in page.text and "<script" not in page.text


def test_an_unknown_or_disabled_organisation_is_404(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    assert client.get("/book/nobody").status_code == 404
    db.execute(
        "update slotoptim_private.organisation_settings set booking_page_enabled = false"
        " where org_id = (select id from slotoptim_private.organisation where key = 'bravo')"
    )
    assert client.get("/book/bravo").status_code == 404


def test_booking_goes_through_the_claim_and_shows_the_claim_page(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    before = counts(db)
    answer = book(client, opening=opening("dr-a", 10), texts="yes")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/c/")
    row = db.execute(
        "select a.source, a.status, o.status as offer_status, c.phone, c.consent_sms, w.status as entry_status"
        " from slotoptim_private.appointment as a"
        " join slotoptim_private.offer as o on o.appointment_id = a.id"
        " join slotoptim_private.customer as c on c.id = a.customer_id"
        " join slotoptim_private.waitlist_entry as w on w.id = o.waitlist_entry_id"
        " where lower(a.period) = %s",
        (local(10),),
    ).fetchone()
    assert row == {
        "source": "booking_page",
        "status": "booked",
        "offer_status": "claimed",
        "phone": "+16175554242",
        "consent_sms": False,  # not until the customer replies YES
        "entry_status": "fulfilled",
    }
    request = db.execute(
        "select r.status, r.source, r.wording_version, m.kind, m.body from slotoptim_private.consent_request as r"
        " join slotoptim_private.message as m on m.customer_id = r.customer_id and m.kind = 'consent_request'"
    ).fetchone()
    assert request is not None and request["status"] == "pending" and request["source"] == "booking_page"
    assert "reply YES" in request["body"]
    page = client.get(answer.headers["location"])
    assert page.status_code == 200 and "You're booked" in page.text and "Short visit" in page.text
    after = counts(db)
    assert after["appointments"] == before["appointments"] + 1


def test_a_taken_time_rolls_everything_back(client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]) -> None:
    before = counts(db)
    answer = book(client, opening=opening("dr-a", 14))  # the 14:00 appointment holds it
    assert answer.status_code == 409
    assert "that time was just taken" in answer.text
    assert counts(db) == before


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Name: please enter your name."),
        ({"name": "Ana\x00"}, "name", "Name: remove the control characters."),
        ({"email": "a\x00@b.example"}, "email", "Email: remove the control characters."),
        ({"phone": "617"}, "phone", "Phone: enter the number with its country code"),
        ({"phone": "", "email": ""}, "phone", "Phone: enter a phone number or an email address"),
        ({"email": "not-an-address"}, "email", "Email: enter an address like"),
        ({"phone": "", "email": "a@b.example", "texts": "yes"}, "phone", "Phone: texts need a phone number."),
        ({"opening": "garbage"}, "opening", "Time: choose one of the openings."),
        ({"tz": "Mars/Olympus"}, "tz", "Time zone: choose one from the list."),
        ({"lang": "xx"}, "lang", "Language: choose English or Español."),
        ({"opening": "dr-zz|2026-11-24T15:00:00Z"}, "opening", "Time: choose one of the openings."),
        ({"opening": "dr-b|2026-11-24T15:00:00Z", "service": "long"}, "opening", "Time: choose one of the openings."),
        ({"service": "nope"}, "service", "Service: choose a service from the list."),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]], fields: dict[str, str], field: str, message: str
) -> None:
    before = counts(db)
    answer = book(client, **{"opening": opening("dr-a", 10), **fields})
    assert answer.status_code == 422, answer.text
    assert message in answer.text
    assert 'role="alert"' in answer.text
    assert counts(db) == before


def test_the_answer_does_not_tell_whether_a_phone_is_known(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    fields = {"service": "short", "name": "Shared Phone", "texts": "yes", "day2": "yes"}
    known = client.post("/book/acme/waitlist", data={**fields, "phone": SHARED_PHONE}, headers=FORM)
    unknown = client.post("/book/acme/waitlist", data={**fields, "phone": "+16175550777"}, headers=FORM)
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    # The known customer (texts already confirmed) is not asked again; the new one is.
    rows = db.execute(
        "select c.phone, count(r.id) as requests from slotoptim_private.customer as c"
        " left join slotoptim_private.consent_request as r on r.customer_id = c.id"
        " where c.phone in (%s, '+16175550777')"
        " and c.org_id = (select id from slotoptim_private.organisation where key = 'acme')"
        " group by c.phone order by c.phone",
        (SHARED_PHONE,),
    ).fetchall()
    assert rows == [{"phone": "+16175550777", "requests": 1}, {"phone": SHARED_PHONE, "requests": 0}]


def test_joining_the_waitlist_keeps_the_preferences(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    answer = client.post(
        "/book/acme/waitlist",
        data={
            "service": "short",
            "provider": "dr-a",
            "name": "Bo Early",
            "email": "bo@example.org",
            "emails": "yes",
            "day1": "yes",
            "day3": "yes",
            "time_from": "09:00",
            "time_to": "12:00",
            "date_from": "2026-11-25",
            "date_to": "2026-12-20",
        },
        headers=FORM,
    )
    assert answer.status_code == 200, answer.text
    assert "You're on the waiting list" in answer.text
    entry = db.execute(
        "select w.preferred_days, w.window_start::text, w.window_end::text, w.earliest_date::text, w.latest_date::text,"
        " w.status, c.consent_email, c.consent_sms from slotoptim_private.waitlist_entry as w"
        " join slotoptim_private.customer as c on c.id = w.customer_id where c.email = 'bo@example.org'"
    ).fetchone()
    assert entry == {
        "preferred_days": [1, 3],
        "window_start": "09:00:00",
        "window_end": "12:00:00",
        "earliest_date": "2026-11-25",
        "latest_date": "2026-12-20",
        "status": "active",
        "consent_email": True,
        "consent_sms": False,
    }
    event = db.execute(
        "select channel, action, source, wording_version from slotoptim.consent_history where customer_key like 'web-%'"
    ).fetchall()
    assert event == [
        {"channel": "email", "action": "granted", "source": "booking_page", "wording_version": "2026-12-v1"}
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"time_from": "12:00", "time_to": "09:00"}, "Time window: the start must be before the end."),
        ({"time_from": "9"}, "Time window: enter both times"),
        ({"date_from": "2026-12-20", "date_to": "2026-12-01"}, "From date: must not be after the until date."),
        ({"date_to": "2026-11-01"}, "Until date: must not be in the past."),
        ({"date_from": "tomorrow"}, "From date: enter a date like"),
        ({"texts": "", "emails": ""}, "Messages: choose texts, emails or both"),
        ({"service": "nope"}, "Service: choose a service from the list."),
        ({"provider": "dr-b", "service": "long"}, "Provider: choose a provider who offers this service"),
    ],
)
def test_bad_waitlist_input_names_the_field(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]], fields: dict[str, str], message: str
) -> None:
    before = counts(db)
    data = {"service": "short", "name": "Cy", "phone": "+16175550888", "texts": "yes", **fields}
    answer = client.post("/book/acme/waitlist", data=data, headers=FORM)
    assert answer.status_code == 422, answer.text
    assert message in answer.text
    assert counts(db) == before


def test_a_cross_site_post_is_refused(client: TestClient[Any], api_db: ApiDb) -> None:
    answer = client.post(
        "/book/acme/book",
        data={"service": "short", "name": "X", "phone": "+16175550111", "opening": opening("dr-a", 10)},
        headers={**FORM, "Sec-Fetch-Site": "cross-site"},
    )
    assert answer.status_code == 403


def test_any_form_gets_a_page_never_an_error_and_a_refusal_writes_nothing(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    text = st.one_of(st.just(""), st.text(max_size=40), st.sampled_from(["short", "long", "dr-a", "+16175550123"]))
    fields = st.fixed_dictionaries(
        {},
        optional={
            name: text
            for name in ("service", "provider", "name", "phone", "email", "tz", "lang", "texts", "emails", "opening")
        },
    )

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(fields)
    def check(data: dict[str, str]) -> None:
        before = counts(db)
        answer = client.post("/book/acme/book", data=data, headers=FORM, follow_redirects=False)
        assert answer.status_code in (303, 409, 422), (answer.status_code, data)
        assert answer.headers["content-type"].startswith("text/html")
        if answer.status_code != 303:
            assert counts(db) == before

    check()


def test_earlier_if_possible_enrols_the_booking_in_move_up(
    client: TestClient[Any], db: psycopg.Connection[dict[str, Any]]
) -> None:
    page = client.get("/book/acme", params={"service": "short", "provider": "dr-a"})
    assert 'name="earlier" type="checkbox"' in page.text and "Earlier if possible" in page.text
    plain = book(client, opening=opening("dr-a", 10))
    assert plain.status_code == 303, plain.text
    answer = book(client, opening=opening("dr-a", 11), name="Eli Early", phone="+16175550177", earlier="yes")
    assert answer.status_code == 303, answer.text
    rows = db.execute(
        "select c.name, w.status, w.moveup_appointment_id = a.id as same, w.service_ids = array[a.service_id] as svc"
        " from slotoptim_private.appointment as a"
        " join slotoptim_private.customer as c on c.id = a.customer_id"
        " join slotoptim_private.waitlist_entry as w on w.moveup_appointment_id = a.id"
        " where a.source = 'booking_page'"
    ).fetchall()
    assert [dict(r) for r in rows] == [{"name": "Eli Early", "status": "active", "same": True, "svc": True}]
