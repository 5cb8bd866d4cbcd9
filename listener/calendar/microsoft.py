"""Microsoft 365 calendars through Microsoft Graph v1.0, with plain httpx.

Why not msgraph-sdk: measured (`make bench-msgraph`, docs/calendar.md), it took 174-320 times as
long per delta page of 500 events (460-600 times the CPU: its models run a block of imports for
every event they deserialise), imports 470 modules to our 160 and adds 17 distributions (kiota,
azure-identity, msal, OpenTelemetry) for the five calls used here, whose delta helpers hand back the
same nextLink/deltaLink URLs. Plain httpx keeps the wire format visible, and the tests check it
against the documented shapes (reference/integrations.md §2).

Inbound: calendarView/delta over a fixed window (a day ago to a year ahead; re-based by a full
round when less than half a year is left), following @odata.nextLink to the @odata.deltaLink,
which is the cursor. @removed items free their time. 410 Gone, syncStateNotFound and
resyncRequired raise ResyncRequired; 429/503 with Retry-After raise Throttled; a refused refresh
(invalid_grant) raises ConnectionBroken. Tokens are refreshed before expiry, and refresh tokens
rotate (each answer may carry a new one, which is stored).
Outbound: POST with transactionId = our idempotency key (Graph's guard against a retried create;
it also carries our appointment id, so our echo is recognised); PATCH and DELETE by the known id.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import zoneinfo
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from slotoptim.listener.calendar import endpoints
from slotoptim.listener.calendar.model import Item, OutboundEvent, Page, Written
from slotoptim.listener.integrations.backoff import parse_retry_after
from slotoptim.listener.integrations.errors import (
    ConnectionBroken,
    PermanentError,
    ResyncRequired,
    Throttled,
    TransientError,
)

WINDOW_BEFORE = dt.timedelta(days=1)
WINDOW_AHEAD = dt.timedelta(days=365)
REBASE_WHEN_LEFT = dt.timedelta(days=182)
TRANSACTION_PREFIX = "slotoptim-appointment-"
RESYNC_CODES = {"syncStateNotFound", "resyncRequired", "SyncStateNotFound", "ResyncRequired"}
NOT_BUSY = {"free", "workingElsewhere"}


def parse_time(value: dict[str, Any] | None, all_day: bool, tz: str) -> dt.datetime | None:
    if not value or not value.get("dateTime"):
        return None
    text = str(value["dateTime"])[:26]  # Graph sends 7 fractional digits
    naive = dt.datetime.fromisoformat(text)
    zone = str(value.get("timeZone") or "UTC")
    if all_day:
        zone = tz
    try:
        return naive.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return naive.replace(tzinfo=dt.UTC)


def normalise(event: dict[str, Any], tz: str) -> Item:
    if "@removed" in event:
        return Item(id=str(event["id"]), etag=None, start=None, end=None, busy=False)
    transaction = str(event.get("transactionId") or "")
    ours = transaction.removeprefix(TRANSACTION_PREFIX) if transaction.startswith(TRANSACTION_PREFIX) else ""
    declined = ((event.get("responseStatus") or {}).get("response")) == "declined"
    all_day = bool(event.get("isAllDay"))
    return Item(
        id=str(event["id"]),
        etag=event.get("@odata.etag") or event.get("changeKey"),
        start=parse_time(event.get("start"), all_day, tz),
        end=parse_time(event.get("end"), all_day, tz),
        busy=not event.get("isCancelled") and event.get("showAs", "busy") not in NOT_BUSY and not declined,
        ours=int(ours) if ours.isdigit() else None,
    )


class GraphCalendar:
    def __init__(self, user: str, secrets: dict[str, str], timezone: str, client: httpx.Client | None = None) -> None:
        self.user = user
        self.timezone = timezone
        self.secrets = dict(secrets)
        self.changed = False
        self.client = client or httpx.Client(timeout=30.0)
        self.base = endpoints.microsoft_graph_api()

    @property
    def _root(self) -> str:
        return f"{self.base}/me" if self.user == "me" else f"{self.base}/users/{quote(self.user)}"

    def refreshed_secrets(self) -> dict[str, str] | None:
        if self.changed:
            self.changed = False
            return dict(self.secrets)
        return None

    # -- tokens ----------------------------------------------------------------------------------

    def _token(self, force: bool = False) -> str:
        expiry = self.secrets.get("expiry")
        fresh = (
            self.secrets.get("access_token")
            and expiry
            and dt.datetime.fromisoformat(expiry) > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
        )
        if fresh and not force:
            return self.secrets["access_token"]
        tenant = os.environ.get("MICROSOFT_TENANT", "common")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.secrets.get("refresh_token", ""),
            "client_id": endpoints.client_id("microsoft"),
            "client_secret": endpoints.client_secret("microsoft"),
            "scope": endpoints.MICROSOFT_SCOPES,
        }
        try:
            response = self.client.post(f"{endpoints.microsoft_login()}/{tenant}/oauth2/v2.0/token", data=form)
        except httpx.TransportError as exc:
            raise TransientError(f"microsoft login unreachable: {type(exc).__name__}") from None
        body = response.json() if "json" in response.headers.get("content-type", "") else {}
        if response.status_code != 200:
            error = str(body.get("error") or response.status_code)
            if error in ("invalid_grant", "interaction_required", "invalid_client", "unauthorized_client"):
                raise ConnectionBroken(f"microsoft token refresh refused: {error}")
            raise TransientError(f"microsoft token endpoint answered {error}")
        self.secrets["access_token"] = str(body["access_token"])
        self.secrets["expiry"] = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(body["expires_in"]))).isoformat()
        if body.get("refresh_token"):
            self.secrets["refresh_token"] = str(body["refresh_token"])
        self.changed = True
        return self.secrets["access_token"]

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        for attempt in (0, 1):
            headers["Authorization"] = f"Bearer {self._token(force=attempt == 1)}"
            try:
                response = self.client.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                raise TransientError(f"microsoft graph unreachable: {type(exc).__name__}") from None
            if response.status_code != 401:
                break
        else:
            raise ConnectionBroken("microsoft graph 401 after a token refresh")
        if response.status_code < 400:
            return response
        code = ""
        if "json" in response.headers.get("content-type", ""):
            code = str((response.json().get("error") or {}).get("code") or "")
        message = f"microsoft graph {response.status_code} {code}".strip()
        if response.status_code == 410 or code in RESYNC_CODES:
            raise ResyncRequired(message)
        if response.status_code in (429, 503):
            raise Throttled(message, parse_retry_after(response.headers.get("retry-after"), dt.datetime.now(dt.UTC)))
        if response.status_code >= 500:
            raise TransientError(message)
        raise PermanentError(message)

    # -- inbound ---------------------------------------------------------------------------------

    def pages(self, cursor: str | None, at: dt.datetime) -> Iterator[Page]:
        state = json.loads(cursor) if cursor else None
        if state is not None and dt.datetime.fromisoformat(state["until"]) - at < REBASE_WHEN_LEFT:
            raise ResyncRequired("calendarView window must move on")
        if state is None:
            until = at + WINDOW_AHEAD
            params = {
                "startDateTime": (at - WINDOW_BEFORE).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endDateTime": until.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            url = f"{self._root}/calendarView/delta?{urlencode(params)}"
        else:
            until = dt.datetime.fromisoformat(state["until"])
            url = str(state["link"])
        headers = {"Prefer": 'odata.maxpagesize=500, outlook.timezone="UTC"'}
        while True:
            body = self._request("GET", url, headers=headers).json()
            items = [normalise(e, self.timezone) for e in body.get("value", [])]
            if "@odata.nextLink" in body:
                # Keep following even when a page is empty.
                url = str(body["@odata.nextLink"])
                yield Page(items, None)
                continue
            link = body.get("@odata.deltaLink")
            if not link:
                raise PermanentError("microsoft graph delta answered without a nextLink or deltaLink")
            yield Page(items, json.dumps({"link": link, "until": until.isoformat()}))
            return

    # -- outbound --------------------------------------------------------------------------------

    def _body(self, event: OutboundEvent) -> dict[str, Any]:
        return {
            "subject": event.title,
            "start": {"dateTime": event.start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "end": {"dateTime": event.end.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "showAs": "busy",
            "isReminderOn": False,
        }

    def upsert_event(self, event: OutboundEvent, known_id: str | None) -> Written:
        body = self._body(event)
        if known_id is None:
            created = self._request(
                "POST", f"{self._root}/events", json={**body, "transactionId": event.idempotency_key}
            ).json()
            # A retried create answers with the event the first attempt made; it may hold an
            # older time if the appointment moved since, so make it current.
            if (created.get("start") or {}).get("dateTime", "")[:19] == body["start"]["dateTime"] and (
                created.get("end") or {}
            ).get("dateTime", "")[:19] == body["end"]["dateTime"]:
                return Written(str(created["id"]), created.get("@odata.etag"))
            known_id = str(created["id"])
        patched = self._request("PATCH", f"{self._root}/events/{quote(known_id)}", json=body).json()
        return Written(str(patched["id"]), patched.get("@odata.etag"))

    def delete_event(self, idempotency_key: str, known_id: str | None) -> None:
        if known_id is None:
            return  # never written (or its create never reached Graph)
        try:
            self._request("DELETE", f"{self._root}/events/{quote(known_id)}")
        except PermanentError as exc:
            if "404" not in str(exc):
                raise

    # -- subscriptions ---------------------------------------------------------------------------

    def subscribe(
        self, address: str, lifecycle_address: str, client_state: str, expires: dt.datetime
    ) -> dict[str, Any]:
        resource = "/me/events" if self.user == "me" else f"/users/{self.user}/events"
        body = {
            "changeType": "created,updated,deleted",
            "notificationUrl": address,
            "lifecycleNotificationUrl": lifecycle_address,
            "resource": resource,
            "expirationDateTime": expires.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
            "clientState": client_state,
        }
        result: dict[str, Any] = self._request("POST", f"{self.base}/subscriptions", json=body).json()
        return result

    def renew(self, subscription_id: str, expires: dt.datetime) -> dict[str, Any]:
        body = {"expirationDateTime": expires.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")}
        result: dict[str, Any] = self._request(
            "PATCH", f"{self.base}/subscriptions/{quote(subscription_id)}", json=body
        ).json()
        return result

    def unsubscribe(self, subscription_id: str) -> None:
        with contextlib.suppress(PermanentError):  # already gone
            self._request("DELETE", f"{self.base}/subscriptions/{quote(subscription_id)}")
