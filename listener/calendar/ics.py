"""A read-only iCalendar feed (an EHR's or booking tool's export URL): fetched whole each time.

The cursor is the feed's SHA-256: unchanged, nothing to do; changed, a full listing that releases
what the feed no longer holds. Nothing is ever written to a feed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import httpx

from slotoptim.listener.calendar.caldav import expand
from slotoptim.listener.calendar.model import OutboundEvent, Page, Written
from slotoptim.listener.integrations.errors import ConnectionBroken, PermanentError, ResyncRequired, TransientError


class IcsFeed:
    def __init__(self, url: str, timezone: str, client: httpx.Client | None = None) -> None:
        self.url = url
        self.timezone = timezone
        self.client = client or httpx.Client(timeout=30.0, follow_redirects=True)

    def refreshed_secrets(self) -> dict[str, str] | None:
        return None

    def pages(self, cursor: str | None, at: dt.datetime) -> Iterator[Page]:
        try:
            response = self.client.get(self.url)
        except httpx.TransportError as exc:
            raise TransientError(f"ics feed unreachable: {type(exc).__name__}") from None
        if response.status_code in (401, 403):
            raise ConnectionBroken(f"ics feed {response.status_code}")
        if response.status_code >= 500:
            raise TransientError(f"ics feed {response.status_code}")
        if response.status_code != 200:
            raise PermanentError(f"ics feed {response.status_code}")
        digest = "sha256:" + hashlib.sha256(response.content).hexdigest()
        if cursor is not None:
            if cursor == digest:
                yield Page([], cursor)
                return
            raise ResyncRequired("ics feed changed")
        yield Page(expand("feed", None, response.text, self.timezone, at), digest)

    def upsert_event(self, event: OutboundEvent, known_id: str | None) -> Written:
        raise PermanentError("an ics feed is read-only")

    def delete_event(self, idempotency_key: str, known_id: str | None) -> None:
        raise PermanentError("an ics feed is read-only")
