"""Connection secrets: sealed with AES-GCM, bound to their row, rotatable, never in the audit trail."""

from __future__ import annotations

import base64
from typing import Any

import psycopg
import pytest
from integrations.practice import TEST_KEY, link_calendar, make_practice, use_test_key

from slotoptim.listener.integrations import connections, secrets


def test_sealed_secret_opens_only_with_its_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_key(monkeypatch)
    sealed = secrets.seal({"refresh_token": "1//rt"}, secrets.binding(1, 2, "calendar"))
    assert b"1//rt" not in sealed.ciphertext
    assert secrets.unseal(sealed.ciphertext, sealed.key_id, secrets.binding(1, 2, "calendar")) == {
        "refresh_token": "1//rt"
    }
    with pytest.raises(secrets.SecretKeyError, match="does not open"):
        secrets.unseal(sealed.ciphertext, sealed.key_id, secrets.binding(1, 3, "calendar"))


def test_old_keys_still_open_after_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_key(monkeypatch)
    context = secrets.binding(1, None, "fhir")
    sealed = secrets.seal({"client_secret": "s"}, context)
    new_key = base64.b64encode(b"n" * 32).decode()
    monkeypatch.setenv("SLOTOPTIM_SECRET_KEY", new_key)
    with pytest.raises(secrets.SecretKeyError, match="no key"):
        secrets.unseal(sealed.ciphertext, sealed.key_id, context)
    monkeypatch.setenv("SLOTOPTIM_SECRET_KEYS_OLD", TEST_KEY)
    assert secrets.unseal(sealed.ciphertext, sealed.key_id, context) == {"client_secret": "s"}


def test_missing_or_bad_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLOTOPTIM_SECRET_KEY", raising=False)
    with pytest.raises(secrets.SecretKeyError, match="SLOTOPTIM_SECRET_KEY is not set"):
        secrets.seal({"a": "b"}, b"x")
    monkeypatch.setenv("SLOTOPTIM_SECRET_KEY", "bm90IDMyIGJ5dGVz")
    with pytest.raises(secrets.SecretKeyError, match="32 bytes"):
        secrets.seal({"a": "b"}, b"x")


def test_database_and_audit_trail_hold_no_secret(
    conn: psycopg.Connection[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_key(monkeypatch)
    org_id, provider_id = make_practice(conn)
    cid = link_calendar(conn, org_id, provider_id, secret_values={"refresh_token": "1//very-secret-refresh"})
    connection = connections.load(conn, cid)
    assert connection.secrets() == {"refresh_token": "1//very-secret-refresh"}
    connections.store_secrets(conn, connection, {"refresh_token": "1//very-secret-refresh", "access_token": "ya29.x"})
    dump = conn.execute(
        "select string_agg(t::text, ' ') as everything from ("
        " select to_jsonb(c)::text as t from slotoptim_private.external_connection c"
        " union all select to_jsonb(e)::text from slotoptim_private.audit_event e"
        " union all select to_jsonb(v)::text from slotoptim.calendar_connections v) s"
    ).fetchone()
    assert dump is not None
    assert "very-secret" not in dump["everything"] and "ya29" not in dump["everything"]
    audited = conn.execute(
        "select count(*) as n from slotoptim_private.audit_event where entity = 'external_connection'"
    ).fetchone()
    assert audited is not None and audited["n"] >= 1
