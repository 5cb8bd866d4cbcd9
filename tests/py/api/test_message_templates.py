"""Offer, reminder, confirmation and consent texts as templates per organisation and language,
each checked for one GSM-7 segment (or flagged multi-part); the sender uses them."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from api.conftest import Keys
from litestar.testing import TestClient

from slotoptim.listener import message_catalogue as catalogue

PATH = "/v1/message-templates"


def test_every_built_in_text_fits_one_gsm7_segment_at_its_longest() -> None:
    for (kind, language), body in catalogue.DEFAULTS.items():
        # A practice and a provider name of common length; longer names are shortened when sent.
        check = catalogue.check(body, language, "Northside Clinic", "Dr. M. Fernandez")
        assert check.gsm7, (kind, language, check.non_gsm7)
        assert check.segments == 1, (kind, language, len(check.sample), check.sample)


def test_the_list_shows_english_and_spanish_with_segments(client: TestClient[Any], keys: Keys) -> None:
    answer = client.get(PATH, headers=keys.headers("readonly"))
    assert answer.status_code == 200
    rows = answer.json()
    assert {(r["kind"], r["language"]) for r in rows} >= {("offer", "en"), ("offer", "es"), ("reminder", "es")}
    assert all(r["segments"] == 1 and r["gsm7"] for r in rows if r["channel"] == "sms")


def test_a_practice_words_its_own_spanish_offer(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    body = "{practice}: cita libre con {provider} el {when}. Hasta las {until}: {link} {stop}"
    answer = client.put(f"{PATH}/offer/es/sms", headers=keys.headers("admin"), json={"body": body})
    assert answer.status_code == 200, answer.text
    assert answer.json()["segments"] == 1 and answer.json()["custom"] is True
    # The sender uses it for a customer who reads Spanish (the outbox row's facts, as the sender reads them).
    db.execute("update slotoptim_private.customer set language = 'es' where key = 'c1'")
    text = catalogue.catalogue_text(
        {
            "kind": "offer",
            "language": "es",
            "template_body": body,
            "channel": "sms",
            "customer_tz": "America/New_York",
            "org_name": "Acme Clinic",
            "provider_name": "Dr. A",
            "starts": __import__("api.api_practice", fromlist=["SLOT"]).SLOT,
            "expires_at": __import__("api.api_practice", fromlist=["SLOT"]).SLOT,
        },
        "https://x.example/c/abc",
    )
    assert text is not None
    assert text.startswith("Acme Clinic: cita libre con Dr. A el mar 24 nov, 14:00 EST. Hasta las 14:00")
    assert text.endswith("STOP para salir")


@pytest.mark.parametrize(
    ("path", "payload", "field", "fragment"),
    [
        ("/offer/es/sms", {"body": "{practice}: " + "muy largo " * 20 + "{link}"}, "body", "SMS segments"),
        ("/offer/es/sms", {"body": "{practice}: “hola” {link}"}, "body", "not GSM-7"),
        ("/offer/es/sms", {"body": "{practice} {service}"}, "body", "unknown placeholder {service}"),
        ("/offer/es/sms", {"body": "{practice"}, "body", "body"),
        ("/offer/fr/sms", {"body": "{practice}"}, "language", "one of"),
        ("/nope/en/sms", {"body": "{practice}"}, "kind", "one of"),
        ("/offer/en/fax", {"body": "{practice}"}, "channel", "sms or email"),
    ],
)
def test_a_bad_template_is_422_naming_the_field(
    client: TestClient[Any],
    keys: Keys,
    db: psycopg.Connection[dict[str, Any]],
    path: str,
    payload: dict[str, Any],
    field: str,
    fragment: str,
) -> None:
    answer = client.put(PATH + path, headers=keys.headers("admin"), json=payload)
    assert answer.status_code == 422, answer.text
    assert answer.json()["extra"][0]["key"] == field
    assert fragment in answer.json()["detail"]
    assert db.execute("select count(*) as n from slotoptim_private.message_template").fetchone() == {"n": 0}


def test_a_long_text_is_saved_when_flagged_multipart(client: TestClient[Any], keys: Keys) -> None:
    body = "{practice}: " + "una cita libre " * 12 + "{link} {stop}"
    answer = client.put(f"{PATH}/offer/es/sms", headers=keys.headers("admin"), json={"body": body, "multipart": True})
    assert answer.status_code == 200, answer.text
    assert answer.json()["segments"] > 1 and answer.json()["multipart"] is True
    assert (
        client.put(f"{PATH}/offer/es/sms", headers=keys.headers("staff"), json={"body": "{practice}"}).status_code
        == 403
    )


def test_spanish_move_up_offer_and_reminder_built_ins() -> None:
    """Issue 12 in Spanish: the move-up offer names the appointment it replaces and the reminder
    lists every reply keyword, each one GSM-7 segment at its longest."""
    for language, body in catalogue.MOVEUP_OFFER.items():
        check = catalogue.check(body, language, "Northside Clinic", "Dr. M. Fernandez", catalogue.MOVEUP_PLACEHOLDERS)
        assert check.gsm7 and check.segments == 1, (language, len(check.sample), check.sample)
    reminder = catalogue.DEFAULTS[("reminder", "es")]
    assert all(f" {word} " in reminder for word in ("Y", "C", "R", "EARLIER"))
    slot = __import__("api.api_practice", fromlist=["SLOT"]).SLOT
    row = {
        "kind": "offer",
        "language": "es",
        "template_body": None,
        "channel": "sms",
        "customer_tz": "America/New_York",
        "org_name": "Acme Clinic",
        "provider_name": "Dr. A",
        "starts": slot,
        "expires_at": slot,
        "replaces": slot + __import__("datetime").timedelta(days=21),
    }
    text = catalogue.catalogue_text(row, "https://x.example/c/abc")
    assert (
        text == "Dr. A: antes, mar 24 nov, 14:00 EST, en vez del mar 15 dic. Hasta 14:00: https://x.example/c/abc"
        " STOP para salir"
    )
    # An ordinary offer keeps the ordinary wording; an English move-up offer is the sender's own.
    assert "en vez" not in (catalogue.catalogue_text({**row, "replaces": None}, "l") or "")
    assert catalogue.catalogue_text({**row, "language": "en"}, "l") is None
