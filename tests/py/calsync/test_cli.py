"""`slotoptim calendar connect|sync|status`, run as a user runs it: exit 0, or 2 naming the field."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from typing import Any

import httpx
import psycopg
from calsync.radicale_server import PASSWORD, USER
from calsync.test_caldav import ics, stamp
from calsync.test_google_inbound import next_workday_10am

from slotoptim.listener.calendar.caldav import new_collection


def slotoptim(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slotoptim.listener.cli", "calendar", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url, **env},
        check=False,
    )


def test_connect_sync_status(conn: psycopg.Connection[Any], fresh_db: str, caldav_server: str) -> None:
    conn.execute("select tests.make_practice()")
    url = f"{caldav_server}/{USER}/work/"
    client = httpx.Client(auth=httpx.BasicAuth(USER, PASSWORD))
    new_collection(url, client)
    start = next_workday_10am()
    client.put(
        url + "a.ics", content=ics("a", f"DTSTART:{stamp(start)}\r\nDTEND:{stamp(start + dt.timedelta(hours=1))}")
    )

    missing = slotoptim(fresh_db, "connect", "caldav", "--provider", "dr-a", "--url", url, "--username", USER)
    assert missing.returncode == 2 and "--password-env" in missing.stderr
    unset = slotoptim(
        fresh_db,
        "connect",
        "caldav",
        "--provider",
        "dr-a",
        "--url",
        url,
        "--username",
        USER,
        "--password-env",
        "NOT_SET_ANYWHERE",
    )
    assert unset.returncode == 2 and "NOT_SET_ANYWHERE is not set" in unset.stderr
    unknown = slotoptim(
        fresh_db,
        "connect",
        "caldav",
        "--provider",
        "dr-zzz",
        "--url",
        url,
        "--username",
        USER,
        "--password-env",
        "CAL_PW",
        CAL_PW=PASSWORD,
    )
    assert unknown.returncode == 2 and "--provider" in unknown.stderr
    bad_url = slotoptim(fresh_db, "connect", "ics", "--provider", "dr-a", "--url", "ftp://x")
    assert bad_url.returncode == 2 and "--url" in bad_url.stderr
    assert slotoptim(fresh_db, "connect", "yahoo", "--provider", "dr-a").returncode == 2
    assert conn.execute("select count(*) as n from slotoptim_private.external_connection").fetchone() == {"n": 0}

    done = slotoptim(
        fresh_db,
        "connect",
        "caldav",
        "--provider",
        "dr-a",
        "--url",
        url,
        "--username",
        USER,
        "--password-env",
        "CAL_PW",
        CAL_PW=PASSWORD,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kind"] == "caldav" and PASSWORD not in done.stdout + done.stderr

    synced = slotoptim(fresh_db, "sync", "--provider", "dr-a")
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout.splitlines()[0])["outcome"] == "synced"
    status = slotoptim(fresh_db, "status", "--format", "json")
    [row] = json.loads(status.stdout)
    assert (row["provider_key"], row["state"]) == ("dr-a", "ok") and PASSWORD not in status.stdout
    assert "dr-a" in slotoptim(fresh_db, "status").stdout
