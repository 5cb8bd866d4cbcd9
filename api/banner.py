"""What `slotoptim run --banner` (the last step of `make run`) prints once the service listens:
where everything is, a staff API key for the demo organisation, and what to try next.

The key's secret exists only in the caller's hands (the database keeps its hash), so it is kept in
a 0600 file in the state directory and reused while it is live: re-running `make run` neither
revokes nor piles up keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from slotoptim.api.apikeys import create_key, find_key
from slotoptim.listener.db import fetch_dict
from slotoptim.listener.tokens import make_token, signing_key

DEMO_ORG = "harbourview"
DEMO_KEY_NAME = "make run (demo staff)"
DEMO_KEY_FILE = "demo-staff-key"


@dataclass(frozen=True)
class Banner:
    base_url: str
    org_name: str | None
    staff_key: str | None
    claim_link: str | None

    def text(self) -> str:
        base = self.base_url.rstrip("/")
        lines = [
            "",
            "SlotOptim is running. Ctrl-C stops it.",
            f"  API        {base}/v1/gaps  (send the key as X-API-Key)",
            f"  Dashboard  {base}/dashboard",
            f"  OpenAPI    {base}/schema",
        ]
        if self.claim_link:
            lines.append(f"  Claim link {self.claim_link}  (an offer from the demo day)")
        if self.staff_key:
            lines.append(f"  Staff API key for {self.org_name}: {self.staff_key}")
        key = self.staff_key or "KEY"
        lines += [
            "Next:",
            f"  curl -H 'X-API-Key: {key}' {base}/v1/gaps?live=true",
            "  .venv/bin/slotoptim gaps --provider dr-chen --day tomorrow",
            "  .venv/bin/slotoptim db psql -c 'select * from slotoptim.fill_kpis'",
            "",
        ]
        return "\n".join(lines)


def demo_staff_key(conn: psycopg.Connection[Any], state_dir: Path, org_id: int) -> str:
    """The live staff key kept in the state directory, or a new one written there."""
    path = state_dir / DEMO_KEY_FILE
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        key = find_key(conn, token)
        if key is not None and key.org_id == org_id and key.role == "staff":
            return token
    created = create_key(conn, org_id, DEMO_KEY_NAME, "staff")
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(created.token + "\n")
    return created.token


def sample_claim_link(conn: psycopg.Connection[Any], base_url: str, org_id: int) -> str | None:
    """A claim link of the organisation's latest offer (open ones first)."""
    row = fetch_dict(
        conn,
        "select id, customer_id, expires_at from slotoptim_private.offer where org_id = %s"
        " order by status = 'open' desc, id desc limit 1",
        (org_id,),
    )
    if row is None:
        return None
    token = make_token(signing_key(conn), int(row["id"]), int(row["customer_id"]), int(row["expires_at"].timestamp()))
    return f"{base_url.rstrip('/')}/c/{token}"


def build_banner(url: str, state_dir: Path, base_url: str, org_key: str = DEMO_ORG) -> Banner:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        org = fetch_dict(conn, "select id, name from slotoptim_private.organisation where key = %s", (org_key,))
        if org is None:
            return Banner(base_url, None, None, None)
        org_id = int(org["id"])
        return Banner(
            base_url,
            str(org["name"]),
            demo_staff_key(conn, state_dir, org_id),
            sample_claim_link(conn, base_url, org_id),
        )
