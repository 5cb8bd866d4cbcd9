"""Google Calendar through Google's own client (google-api-python-client + google-auth).

Inbound (reference/integrations.md §1): a full sync lists with singleEvents=true and
showDeleted=true from a day ago, following nextPageToken to the last page, which alone carries
nextSyncToken; incremental syncs send that syncToken with the same singleEvents. 410
fullSyncRequired raises ResyncRequired. 403 rateLimitExceeded/userRateLimitExceeded and 429 raise
Throttled with the Retry-After; a refused refresh (invalid_grant) raises ConnectionBroken.
Outbound: an event id derived from our idempotency key (base32hex, as Google allows client ids),
so a retried insert answers 409 and becomes a patch: never a second event.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import json
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient import discovery, discovery_cache
from googleapiclient.errors import HttpError

from slotoptim.listener.calendar import endpoints
from slotoptim.listener.calendar.model import OUR_ID_PROPERTY, Item, OutboundEvent, Page, Written
from slotoptim.listener.integrations.backoff import parse_retry_after
from slotoptim.listener.integrations.errors import (
    ConnectionBroken,
    PermanentError,
    ResyncRequired,
    Throttled,
    TransientError,
)

# Event types that are information, not time taken (newer API revisions; see §1.4).
NON_BLOCKING_TYPES = {"workingLocation", "birthday"}
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
PAGE_SIZE = 2500


@functools.cache
def calendar_document() -> dict[str, Any]:
    """The Calendar v3 discovery document the client library ships, parsed once per process
    (building the client from the file each time costs a JSON parse of ~100 kB per sync)."""
    text = discovery_cache.get_static_doc("calendar", "v3")
    if text is None:
        raise RuntimeError("google-api-python-client ships no calendar v3 discovery document")
    document: dict[str, Any] = json.loads(text)
    return document


def event_id_for(idempotency_key: str) -> str:
    """A valid client-chosen Google event id (base32hex: 0-9 a-v, 5..1024 chars) for our key."""
    return base64.b32hexencode(idempotency_key.encode()).decode().rstrip("=").lower()


def _reason(exc: HttpError) -> str:
    try:
        body = json.loads(exc.content.decode() or "{}")
        errors = body.get("error", {}).get("errors") or [{}]
        return str(errors[0].get("reason") or "")
    except (ValueError, AttributeError):
        return ""


def translate(exc: HttpError) -> Exception:
    status = int(exc.resp.status)
    reason = _reason(exc)
    retry_after = parse_retry_after(exc.resp.get("retry-after"), dt.datetime.now(dt.UTC))
    message = f"google {status} {reason}".strip()
    if status == 410 and reason in ("fullSyncRequired", "updatedMinTooLongAgo", ""):
        return ResyncRequired(message)
    if status == 429 or (status == 403 and reason in RATE_LIMIT_REASONS):
        return Throttled(message, retry_after)
    if status == 401:
        return ConnectionBroken(message + ": credentials refused after a refresh")
    if status >= 500 or status == 408:
        return TransientError(message, retry_after)
    return PermanentError(message)


def parse_time(value: dict[str, Any] | None, tz: str) -> dt.datetime | None:
    if not value:
        return None
    if "dateTime" in value:
        return dt.datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
    if "date" in value:
        # All-day: the whole local day(s) of the calendar's time zone.
        day = dt.date.fromisoformat(str(value["date"]))
        return dt.datetime.combine(day, dt.time(0), tzinfo=zoneinfo.ZoneInfo(value.get("timeZone") or tz))
    return None


def normalise(event: dict[str, Any], tz: str, self_email: str | None = None) -> Item:
    private = (event.get("extendedProperties") or {}).get("private") or {}
    ours_text = private.get(OUR_ID_PROPERTY)
    declined = any(
        a.get("responseStatus") == "declined"
        for a in event.get("attendees") or []
        if a.get("self") or (self_email and a.get("email") == self_email)
    )
    busy = (
        event.get("status") != "cancelled"
        and event.get("transparency", "opaque") != "transparent"
        and event.get("eventType", "default") not in NON_BLOCKING_TYPES
        and not declined
    )
    return Item(
        id=str(event["id"]),
        etag=event.get("etag"),
        start=parse_time(event.get("start"), tz),
        end=parse_time(event.get("end"), tz),
        busy=busy,
        ours=int(ours_text) if ours_text and str(ours_text).isdigit() else None,
    )


class GoogleCalendar:
    def __init__(
        self,
        calendar_id: str,
        secrets: dict[str, str],
        timezone: str,
        http_factory: Callable[[], httplib2.Http] | None = None,
    ) -> None:
        self.calendar_id = calendar_id
        self.timezone = timezone
        self.secrets = dict(secrets)
        expiry = dt.datetime.fromisoformat(secrets["expiry"]) if secrets.get("expiry") else None
        self.credentials = Credentials(  # type: ignore[no-untyped-call]
            token=secrets.get("access_token"),
            refresh_token=secrets.get("refresh_token"),
            token_uri=endpoints.google_token_url(),
            client_id=endpoints.client_id("google") or None,
            client_secret=endpoints.client_secret("google") or None,
            scopes=[endpoints.GOOGLE_SCOPE],
            # google-auth compares expiry as a naive UTC datetime.
            expiry=expiry.astimezone(dt.UTC).replace(tzinfo=None) if expiry else None,
        )
        self._initial_token = secrets.get("access_token")
        http = (http_factory or (lambda: httplib2.Http(timeout=30)))()
        self.http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=http)
        self.service = discovery.build_from_document(
            calendar_document(),
            http=self.http,
            client_options={"api_endpoint": endpoints.google_calendar_api()},
        )

    def _execute(self, request: Any) -> Any:
        try:
            return request.execute(num_retries=0)
        except google.auth.exceptions.RefreshError as exc:
            # invalid_grant: revoked, expired, or the user changed their password. Never retried.
            raise ConnectionBroken(f"google token refresh refused: {exc.args[0] if exc.args else exc}") from None
        except HttpError as exc:
            raise translate(exc) from None
        except (httplib2.HttpLib2Error, OSError) as exc:
            raise TransientError(f"google unreachable: {type(exc).__name__}") from None

    def refreshed_secrets(self) -> dict[str, str] | None:
        if self.credentials.token and self.credentials.token != self._initial_token:
            self._initial_token = self.credentials.token
            self.secrets["access_token"] = self.credentials.token
            if self.credentials.expiry:
                self.secrets["expiry"] = self.credentials.expiry.replace(tzinfo=dt.UTC).isoformat()
            if self.credentials.refresh_token:
                self.secrets["refresh_token"] = self.credentials.refresh_token
            return dict(self.secrets)
        return None

    # -- inbound ---------------------------------------------------------------------------------

    def pages(self, cursor: str | None, at: dt.datetime) -> Iterator[Page]:
        params: dict[str, Any] = {
            "calendarId": self.calendar_id,
            "singleEvents": True,
            "showDeleted": True,
            "maxResults": PAGE_SIZE,
        }
        if cursor is not None:
            params["syncToken"] = cursor
        else:
            params["timeMin"] = (at - dt.timedelta(days=1)).astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        page_token: str | None = None
        while True:
            response = self._execute(self.service.events().list(**params, pageToken=page_token))
            tz = response.get("timeZone") or self.timezone
            items = [normalise(e, tz) for e in response.get("items", [])]
            page_token = response.get("nextPageToken")
            if page_token:
                yield Page(items, None)
                continue
            yield Page(items, response["nextSyncToken"])
            return

    # -- outbound --------------------------------------------------------------------------------

    def _body(self, event: OutboundEvent) -> dict[str, Any]:
        return {
            "summary": event.title,
            "start": {"dateTime": event.start.isoformat(), "timeZone": event.timezone},
            "end": {"dateTime": event.end.isoformat(), "timeZone": event.timezone},
            "status": "confirmed",
            "transparency": "opaque",
            "extendedProperties": {"private": {OUR_ID_PROPERTY: str(event.appointment_id)}},
        }

    def upsert_event(self, event: OutboundEvent, known_id: str | None) -> Written:
        event_id = known_id or event_id_for(event.idempotency_key)
        body = self._body(event)
        events = self.service.events()
        if known_id is None:
            try:
                created = self._execute(events.insert(calendarId=self.calendar_id, body={**body, "id": event_id}))
                return Written(str(created["id"]), created.get("etag"))
            except PermanentError as exc:
                if "409" not in str(exc):
                    raise
                # Already there: an earlier attempt went through before a crash. Patch it instead.
        patched = self._execute(events.patch(calendarId=self.calendar_id, eventId=event_id, body=body))
        return Written(str(patched["id"]), patched.get("etag"))

    def delete_event(self, idempotency_key: str, known_id: str | None) -> None:
        event_id = known_id or event_id_for(idempotency_key)
        try:
            self._execute(self.service.events().delete(calendarId=self.calendar_id, eventId=event_id))
        except (PermanentError, ResyncRequired) as exc:
            # 404 never written, 410 already deleted: either way, gone.
            if not any(code in str(exc) for code in ("404", "410")):
                raise

    # -- push ------------------------------------------------------------------------------------

    def watch(self, channel_id: str, address: str, token: str, expires: dt.datetime) -> dict[str, Any]:
        body = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
            "expiration": int(expires.timestamp() * 1000),
        }
        result: dict[str, Any] = self._execute(self.service.events().watch(calendarId=self.calendar_id, body=body))
        return result

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        # A 404 means it already expired or was stopped.
        with contextlib.suppress(PermanentError):
            self._execute(self.service.channels().stop(body={"id": channel_id, "resourceId": resource_id}))
