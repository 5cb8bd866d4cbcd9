"""`slotoptim migrate` refuses a server older than PostgreSQL 15 with a message that says what the
schema needs, before it changes anything; 15 and newer (the suites run on 15 and 18) pass."""

from __future__ import annotations

import psycopg
import pytest

from slotoptim.listener import cli
from slotoptim.migrations.server_version import UnsupportedServer, check_server, require_supported_server


@pytest.mark.parametrize(("number", "text"), [(140012, "14.12"), (130016, "13.16")])
def test_servers_before_15_are_refused_naming_the_features(number: int, text: str) -> None:
    with pytest.raises(UnsupportedServer, match=rf"PostgreSQL {text} is too old: .*15 or newer.*security_invoker"):
        require_supported_server(number, text)


@pytest.mark.parametrize("number", [150000, 150020, 170005, 180001])
def test_15_and_newer_pass(number: int) -> None:
    require_supported_server(number, str(number))


def test_the_test_server_passes(fresh_db: str) -> None:
    check_server(fresh_db)


def test_migrate_on_a_refused_server_exits_1_with_the_message(
    fresh_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The server here is new enough: make it look like 14 to the check, as a 14 would answer.
    import slotoptim.migrations.server_version as server_version

    monkeypatch.setattr(server_version, "MINIMUM_SERVER", 990000)
    monkeypatch.setenv("DATABASE_URL", fresh_db)
    with psycopg.connect(fresh_db) as conn:
        conn.execute("drop table slotoptim_private.alembic_version")
    assert cli.main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("slotoptim: error: PostgreSQL ") and "too old" in err
    with psycopg.connect(fresh_db) as conn:
        row = conn.execute("select to_regclass('slotoptim_private.alembic_version')").fetchone()
        assert row is not None and row[0] is None  # nothing was changed
