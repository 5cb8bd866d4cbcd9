"""The SQL functions as they were before issue 18, for a baseline measured in the same run.

A benchmark builds a second database and re-applies these repeatable files as they were at
BASELINE_REV (the commit issue 18 started from; override with SLOTOPTIM_BENCH_BASELINE_REV), so
"before" and "after" run on the same machine, under the same load, minutes apart.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg

BASELINE_REV = os.environ.get("SLOTOPTIM_BENCH_BASELINE_REV", "d964c76")
ROOT = Path(__file__).resolve().parents[2]
# Changed by issue 18: buffers per provider and service, gaps, ranking, offers.
FILES = ("44_fn_fitting_services.sql", "50_fn_gaps.sql", "54_fn_candidates.sql", "55_fn_offers.sql")


def baseline_text(name: str) -> str:
    return subprocess.run(
        ["git", "show", f"{BASELINE_REV}:sql/{name}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def apply_baseline(conn: psycopg.Connection[Any], files: tuple[str, ...] = FILES) -> None:
    """Puts the baseline functions in place of today's (the bounded ranking's three-argument form
    goes first: the old two-argument one would be ambiguous beside its default)."""
    if "54_fn_candidates.sql" in files:
        conn.execute("drop function if exists slotoptim_private.rank_candidates(bigint, timestamptz, integer) cascade")
    if "50_fn_gaps.sql" in files:
        # slotoptim.gaps returns starts_at and ends_at now: the old result type needs a drop first.
        conn.execute("drop function if exists slotoptim.gaps(text, tstzrange, text)")
        conn.execute("drop function if exists slotoptim.gaps(tstzrange)")
    for name in files:
        conn.execute(baseline_text(name).encode())
