"""Push channels: the shared secret an external system echoes (X-Goog-Channel-Token, Graph
clientState) is random per channel, stored only as a SHA-256 digest, and compared in constant time."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import psycopg

from slotoptim.listener.db import fetch_dict


@dataclass(frozen=True)
class Channel:
    id: int
    connection_id: int
    channel_key: str
    resource_id: str | None
    expires_at: dt.datetime
    status: str


def new_token() -> str:
    # Graph's clientState allows at most 128 characters; 43 is plenty.
    return secrets.token_urlsafe(32)


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def opened(
    conn: psycopg.Connection[Any],
    connection_id: int,
    channel_key: str,
    resource_id: str | None,
    token: str,
    expires_at: dt.datetime,
    at: dt.datetime,
) -> int:
    row = fetch_dict(
        conn,
        "select slotoptim.external_channel_opened(%s, %s, %s, %s, %s, %s) as id",
        (connection_id, channel_key, resource_id, digest(token), expires_at, at),
    )
    assert row is not None
    return int(row["id"])


def verify(
    conn: psycopg.Connection[Any], channel_key: str, token: str | None, resource_id: str | None, at: dt.datetime
) -> Channel | None:
    """The channel a message claims to come from, if its token (and resource) match and it is live."""
    row = fetch_dict(
        conn,
        "select id, connection_id, channel_key, resource_id, token_sha256, expires_at, status"
        " from slotoptim_private.external_channel where channel_key = %s",
        (channel_key,),
    )
    if row is None or token is None or row["status"] == "stopped":
        return None
    if not hmac.compare_digest(bytes(row["token_sha256"]), digest(token)):
        return None
    if resource_id is not None and row["resource_id"] is not None and resource_id != row["resource_id"]:
        return None
    if row["expires_at"] < at - dt.timedelta(minutes=5):
        return None
    return Channel(
        int(row["id"]),
        int(row["connection_id"]),
        row["channel_key"],
        row["resource_id"],
        row["expires_at"],
        row["status"],
    )


def received(conn: psycopg.Connection[Any], channel: Channel, message_number: int, at: dt.datetime) -> None:
    conn.execute("select slotoptim.external_push_received(%s, %s, %s)", (channel.id, message_number, at))
