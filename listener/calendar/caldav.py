"""CalDAV calendars (iCloud, Fastmail, Nextcloud, Radicale) over plain HTTP (httpx).

Inbound: RFC 6578 sync-collection REPORT with the stored sync-token (an invalid token answers
403/409 valid-sync-token: sync in full). Servers without it (or config {"sync": "ctag"}) fall back
to the collection's getctag: unchanged, nothing to do; changed, a full listing that releases what
it no longer holds. Each resource's iCalendar data is expanded (recurring-ical-events honours
RRULE, EXDATE, overridden instances and VTIMEZONE) over a window from a day ago to a year ahead;
its instances form one group, so an instance removed from a series is released.
Outbound: PUT of {collection}/{key}.ics with UID {key}@slotoptim and our id in X-SLOTOPTIM-ID.
"""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
import zoneinfo
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import icalendar
import recurring_ical_events

from slotoptim.listener.calendar.model import Item, OutboundEvent, Page, Written
from slotoptim.listener.integrations.backoff import parse_retry_after
from slotoptim.listener.integrations.errors import (
    ConnectionBroken,
    PermanentError,
    ResyncRequired,
    Throttled,
    TransientError,
)

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CS = "http://calendarserver.org/ns/"
OUR_PROPERTY = "X-SLOTOPTIM-ID"
WINDOW_BEFORE = dt.timedelta(days=1)
WINDOW_AHEAD = dt.timedelta(days=365)

SYNC_BODY = """<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:sync-token>{token}</d:sync-token>
  <d:sync-level>1</d:sync-level>
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
</d:sync-collection>"""

QUERY_BODY = """<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
  <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter></c:filter>
</c:calendar-query>"""

CTAG_BODY = """<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop><cs:getctag/></d:prop></d:propfind>"""


def _tag(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _as_datetime(value: Any, tz: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zoneinfo.ZoneInfo(tz))
    # A DATE (all-day): the provider's local day.
    return dt.datetime.combine(value, dt.time(0), tzinfo=zoneinfo.ZoneInfo(tz))


def expand(href: str, etag: str | None, data: str, tz: str, at: dt.datetime) -> list[Item]:
    """The busy/free instances of one calendar resource (or a whole feed), grouped under its href."""
    group = href + "#"
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise PermanentError(f"calendar data of {href} does not parse: {exc}") from None
    items = []
    lo, hi = at - WINDOW_BEFORE, at + WINDOW_AHEAD
    for event in recurring_ical_events.of(calendar).between(lo, hi):
        start = _as_datetime(event.get("DTSTART").dt, tz)
        end_prop = event.get("DTEND")
        end = _as_datetime(end_prop.dt, tz) if end_prop is not None else start
        recurrence = event.get("RECURRENCE-ID")
        instance = _as_datetime(recurrence.dt, tz) if recurrence is not None else start
        ours = str(event.get(OUR_PROPERTY) or "")
        busy = (
            str(event.get("STATUS", "CONFIRMED")).upper() != "CANCELLED"
            and str(event.get("TRANSP", "OPAQUE")).upper() != "TRANSPARENT"
        )
        # Several events can share a resource (a feed): the UID tells their instances apart.
        uid = str(event.get("UID") or "")
        items.append(
            Item(
                id=group
                + (uid + "/" if href == "feed" else "")
                + instance.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ"),
                etag=etag,
                start=start,
                end=end,
                busy=busy,
                ours=int(ours) if ours.isdigit() else None,
                group=group,
            )
        )
    if not items:
        # Nothing in the window (or no VEVENT): still a complete group, so stale instances go.
        items.append(Item(id=group, etag=etag, start=None, end=None, busy=False, group=group))
    return items


class CalDavCalendar:
    def __init__(
        self,
        url: str,
        username: str,
        secrets: dict[str, str],
        timezone: str,
        mode: str = "sync-collection",
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.timezone = timezone
        self.mode = mode
        auth = httpx.BasicAuth(username, secrets["password"]) if secrets.get("password") else None
        self.client = client or httpx.Client(auth=auth, timeout=30.0)

    def refreshed_secrets(self) -> dict[str, str] | None:
        return None  # passwords do not refresh

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise TransientError(f"caldav unreachable: {type(exc).__name__}") from None
        if response.status_code in (401, 403) and b"valid-sync-token" not in response.content:
            raise ConnectionBroken(f"caldav {response.status_code}: credentials refused")
        if response.status_code in (429, 503):
            retry_after = parse_retry_after(response.headers.get("retry-after"), dt.datetime.now(dt.UTC))
            raise Throttled(f"caldav {response.status_code}", retry_after)
        if response.status_code >= 500:
            raise TransientError(f"caldav {response.status_code}")
        return response

    def _href_url(self, href: str) -> str:
        return urljoin(self.url, href)

    # -- inbound ---------------------------------------------------------------------------------

    def pages(self, cursor: str | None, at: dt.datetime) -> Iterator[Page]:
        if self.mode == "ctag" or (cursor or "").startswith("ctag:"):
            yield from self._ctag_pages(cursor, at)
            return
        response = self._request(
            "REPORT",
            self.url,
            content=SYNC_BODY.format(token=cursor or "").encode(),
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        if response.status_code in (403, 409) and b"valid-sync-token" in response.content:
            raise ResyncRequired("caldav sync token no longer valid")
        if response.status_code in (400, 403, 405, 501) and cursor is None:
            # No RFC 6578 here: fall back to the ctag and full listings.
            yield from self._ctag_pages(None, at)
            return
        if response.status_code != 207:
            raise PermanentError(f"caldav sync-collection answered {response.status_code}")
        root = ET.fromstring(response.content)
        items: list[Item] = []
        for entry in root.findall(_tag(DAV, "response")):
            href = entry.findtext(_tag(DAV, "href")) or ""
            status = entry.findtext(_tag(DAV, "status")) or ""
            if " 404 " in status:
                items.append(Item(id=href + "#", etag=None, start=None, end=None, busy=False, group=href + "#"))
                continue
            etag = entry.findtext(f".//{_tag(DAV, 'getetag')}")
            data = entry.findtext(f".//{_tag(CALDAV, 'calendar-data')}")
            if data:
                items.extend(expand(href, etag, data, self.timezone, at))
        token = root.findtext(_tag(DAV, "sync-token"))
        if not token:
            raise PermanentError("caldav sync-collection answered without a sync-token")
        yield Page(items, token)

    def _ctag(self) -> str:
        response = self._request("PROPFIND", self.url, content=CTAG_BODY.encode(), headers={"Depth": "0"})
        root = ET.fromstring(response.content)
        return root.findtext(f".//{_tag(CS, 'getctag')}") or ""

    def _ctag_pages(self, cursor: str | None, at: dt.datetime) -> Iterator[Page]:
        ctag = self._ctag()
        if cursor is not None:
            if cursor == f"ctag:{ctag}":
                yield Page([], cursor)
                return
            # Changed: only a full listing tells what went, so sync in full.
            raise ResyncRequired("caldav ctag changed")
        response = self._request(
            "REPORT", self.url, content=QUERY_BODY.encode(), headers={"Depth": "1", "Content-Type": "application/xml"}
        )
        if response.status_code != 207:
            raise PermanentError(f"caldav calendar-query answered {response.status_code}")
        items: list[Item] = []
        for entry in ET.fromstring(response.content).findall(_tag(DAV, "response")):
            href = entry.findtext(_tag(DAV, "href")) or ""
            data = entry.findtext(f".//{_tag(CALDAV, 'calendar-data')}")
            if data:
                items.extend(expand(href, entry.findtext(f".//{_tag(DAV, 'getetag')}"), data, self.timezone, at))
        yield Page(items, f"ctag:{ctag}")

    # -- outbound --------------------------------------------------------------------------------

    def _resource(self, idempotency_key: str) -> str:
        return urljoin(self.url, f"{idempotency_key}.ics")

    def upsert_event(self, event: OutboundEvent, known_id: str | None) -> Written:
        calendar = icalendar.Calendar()
        calendar.add("prodid", "-//SlotOptim//calendar sync//EN")
        calendar.add("version", "2.0")
        vevent = icalendar.Event()
        vevent.add("uid", f"{event.idempotency_key}@slotoptim")
        vevent.add("dtstamp", dt.datetime.now(dt.UTC))
        vevent.add("dtstart", event.start.astimezone(dt.UTC))
        vevent.add("dtend", event.end.astimezone(dt.UTC))
        vevent.add("summary", event.title)
        vevent.add("transp", "OPAQUE")
        vevent.add(OUR_PROPERTY, str(event.appointment_id))
        calendar.add_component(vevent)
        url = self._resource(event.idempotency_key)
        # One resource per key: a resend overwrites the same resource, never adds a second.
        response = self._request("PUT", url, content=calendar.to_ical(), headers={"Content-Type": "text/calendar"})
        if response.status_code not in (200, 201, 204):
            raise PermanentError(f"caldav PUT answered {response.status_code}")
        href = urlsplit(url).path
        return Written(
            href + "#" + event.start.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ"), response.headers.get("etag")
        )

    def delete_event(self, idempotency_key: str, known_id: str | None) -> None:
        response = self._request("DELETE", self._resource(idempotency_key))
        if response.status_code not in (200, 204, 404):
            raise PermanentError(f"caldav DELETE answered {response.status_code}")


def new_collection(url: str, client: httpx.Client) -> None:
    """MKCALENDAR (tests and `slotoptim calendar connect caldav --create`)."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        f"<d:set><d:prop><d:displayname>SlotOptim {uuid.uuid4().hex[:6]}</d:displayname></d:prop></d:set>"
        "</c:mkcalendar>"
    )
    response = client.request("MKCALENDAR", url, content=body.encode())
    if response.status_code not in (201, 405):
        raise PermanentError(f"caldav MKCALENDAR answered {response.status_code}")
