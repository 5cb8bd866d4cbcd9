"""A streaming read replica for analysts (the CDK app's optional AnalystReplica), on this machine:
an analyst login reads its organisation's views on the replica and cannot write there; the API's
/v1/gaps/analyze reads the replica (SLOTOPTIM_READ_DATABASE_URL) while bookings, claims and the
engine stay on the primary; a write is visible on the primary at once (read your writes) and on
the replica once replayed. The replay lag is printed (docs/scaling.md quotes it)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg.rows import dict_row
from scaleout.cluster import upcoming_practice, wait_for
from scaleout.replica import PrimaryAndReplica, primary_with_replica

from slotoptim.api.apikeys import create_key
from slotoptim.api.app import create_app
from slotoptim.api.settings import ApiSettings
from slotoptim.listener.practice.importer import import_practice
from slotoptim.migrations.migrate import migrate

DB = "slotoptim"


@pytest.fixture(scope="module")
def servers() -> Iterator[PrimaryAndReplica]:
    with primary_with_replica() as pair:
        with psycopg.connect(pair.primary_admin, autocommit=True) as conn:
            conn.execute(f"create database {DB}")
        migrate(psycopg.conninfo.make_conninfo(pair.primary_admin, dbname=DB))
        yield pair


def _url(admin: str, **params: str) -> str:
    return psycopg.conninfo.make_conninfo(admin, dbname=DB, **params)


def _replayed(primary: psycopg.Connection[Any], replica: psycopg.Connection[Any]) -> float:
    """Seconds from the primary's commit (its current WAL position) until the replica replayed it."""
    lsn = primary.execute("select pg_current_wal_lsn()::text as lsn").fetchone()["lsn"]  # type: ignore[index]
    return wait_for(
        "the replica to replay",
        lambda: bool(
            replica.execute("select pg_last_wal_replay_lsn() >= %s::pg_lsn as done", (lsn,)).fetchone()["done"]  # type: ignore[index]
        ),
        step=0.005,
    )


def test_analyst_reads_the_replica_and_writes_stay_on_the_primary(servers: PrimaryAndReplica) -> None:
    with (
        psycopg.connect(_url(servers.primary_admin), autocommit=True, row_factory=dict_row) as primary,
        psycopg.connect(_url(servers.replica_admin), autocommit=True, row_factory=dict_row) as replica,
    ):
        assert replica.execute("select pg_is_in_recovery() as standby").fetchone()["standby"] is True  # type: ignore[index]
        import_practice(primary, upcoming_practice(3))
        other = upcoming_practice(2)
        other["organisation"] = {**other["organisation"], "key": "otherco", "name": "Other Clinic"}
        import_practice(primary, other)
        primary.execute("select slotoptim.create_analyst_login('fillco', 'fill_analyst', 'a long enough password')")
        lags = [_replayed(primary, replica)]

        # The analyst logs in on the replica: its organisation's rows only, and no writing.
        with psycopg.connect(
            _url(servers.replica_admin, user="fill_analyst", password="a long enough password"),
            autocommit=True,
            row_factory=dict_row,
        ) as analyst:
            orgs = analyst.execute("select distinct org_key from slotoptim.appointments").fetchall()
            assert [r["org_key"] for r in orgs] == ["fillco"]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                analyst.execute("select slotoptim.create_analyst_login('fillco', 'sneaky', 'another long password')")
        # Not even the owner writes on the replica: every write, claim and engine pass is the primary's.
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            replica.execute("select slotoptim.tick()")

        # Read your writes on the primary: a cancellation shows there at once...
        gap = primary.execute(
            "select slotoptim.cancel_appointment((select a.id from slotoptim_private.appointment a"
            " join slotoptim_private.organisation o on o.id = a.org_id"
            " where a.key = 'to-cancel' and o.key = 'fillco')) as gap"
        ).fetchone()["gap"]  # type: ignore[index]
        assert (
            primary.execute("select count(*) as n from slotoptim_private.gap where id = %s", (gap,)).fetchone()["n"]
            == 1
        )  # type: ignore[index]
        # ...and on the replica once replayed.
        lags.append(_replayed(primary, replica))
        seen = replica.execute("select count(*) as n from slotoptim_private.gap where id = %s", (gap,)).fetchone()
        assert seen is not None and seen["n"] == 1
        print(f"\nreplica replay lag after a commit: {max(lags) * 1000:.1f} ms (max of {len(lags)})")


def _analyze(client: TestClient[Any], token: str, day: dt.date) -> list[dict[str, Any]]:
    response = client.get(
        "/v1/gaps/analyze",
        params={
            "provider": "dr-fill",
            "start": dt.datetime.combine(day, dt.time(8), dt.UTC).isoformat(),
            "end": dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8), dt.UTC).isoformat(),
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    gaps: list[dict[str, Any]] = response.json()["gaps"]
    return gaps


def test_gap_analysis_reads_the_replica(servers: PrimaryAndReplica) -> None:
    primary_url, replica_url = _url(servers.primary_admin), _url(servers.replica_admin)
    with (
        psycopg.connect(primary_url, autocommit=True, row_factory=dict_row) as primary,
        psycopg.connect(replica_url, autocommit=True, row_factory=dict_row) as replica,
    ):
        practice = upcoming_practice(3)
        practice["organisation"] = {**practice["organisation"], "key": "readco", "name": "Read Clinic"}
        import_practice(primary, practice)
        org = primary.execute("select id from slotoptim_private.organisation where key = 'readco'").fetchone()["id"]  # type: ignore[index]
        token = create_key(primary, org, "analysis", "readonly").token
        day = dt.date.fromisoformat(next(a["start"] for a in practice["appointments"] if a["key"] == "to-cancel")[:10])
        _replayed(primary, replica)
        settings = ApiSettings(database_url=primary_url, read_database_url=replica_url)
        with TestClient(create_app(settings)) as client:
            before = _analyze(client, token, day)
            # Replay paused: the replica stands still while the primary moves on.
            replica.execute("select pg_wal_replay_pause()")
            try:
                primary.execute(
                    "update slotoptim_private.appointment set status = 'cancelled'"
                    " where key = 'to-cancel' and org_id = %s",
                    (org,),
                )
                time.sleep(0.2)  # a replica that replayed would show the change by now; this one must not
                assert _analyze(client, token, day) == before  # served by the (paused) replica
            finally:
                replica.execute("select pg_wal_replay_resume()")
            _replayed(primary, replica)
            after = _analyze(client, token, day)
            assert after != before  # the freed half hour, once the replica caught up
            assert len(after) < len(before) or sum(g["minutes"] for g in after) > sum(g["minutes"] for g in before)
