"""A local stand-in for Google Calendar API v3 and Google's OAuth token endpoint, following the
wire format (reference/integrations.md §1): events.list with singleEvents/showDeleted/paging and
nextSyncToken on the last page only, incremental lists by syncToken (with tombstones), 410
fullSyncRequired for an invalidated token, events insert/patch/delete with client-chosen ids
(409 duplicate), events.watch and channels.stop, push notifications with the
X-Goog-* headers and no body, and the token endpoint (refresh_token grant, invalid_grant).
Failures can be queued (429 with Retry-After, 403 rateLimitExceeded, 500).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API = "/calendar/v3"


@dataclass
class Channel:
    id: str
    resource_id: str
    calendar_id: str
    address: str
    token: str | None
    expiration_ms: int
    message_number: int = 1
    stopped: bool = False


@dataclass
class State:
    events: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # calendar -> id -> event
    seq: int = 0
    invalid_before: int = 0  # sync tokens older than this answer 410
    refresh_tokens: set[str] = field(default_factory=set)
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (epoch s)
    failures: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    channels: dict[str, Channel] = field(default_factory=dict)
    server_seconds: float = 0.0  # time spent inside handlers, so a bench can leave it out
    token_lifetime: int = 3600
    push_delivery: list[float] = field(default_factory=list)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "errors": [{"domain": "global", "reason": reason, "message": message}],
            "code": code,
            "message": message,
        }
    }


class GoogleStandin:
    def __init__(self) -> None:
        self.state = State()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.url}{API}/"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def start(self) -> GoogleStandin:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what a test does "in the calendar" ------------------------------------------------------

    def grant(self, refresh_token: str) -> None:
        self.state.refresh_tokens.add(refresh_token)

    def revoke(self, refresh_token: str) -> None:
        with self.state.lock:
            self.state.refresh_tokens.discard(refresh_token)
            self.state.access_tokens.clear()

    def expire_access_tokens(self) -> None:
        with self.state.lock:
            self.state.access_tokens.clear()

    def invalidate_sync_tokens(self) -> None:
        with self.state.lock:
            self.state.invalid_before = self.state.seq + 1

    def fail_next(self, status: int, headers: dict[str, str] | None = None, body: dict[str, Any] | None = None) -> None:
        with self.state.lock:
            self.state.failures.append((status, headers or {}, body or _error(status, "backendError", "stand-in")))

    def put_event(self, calendar_id: str, event: dict[str, Any], notify: bool = True) -> dict[str, Any]:
        with self.state.lock:
            stored = self._store(calendar_id, event)
        if notify:
            self._push(calendar_id)
        return stored

    def put_events(self, calendar_id: str, events: list[dict[str, Any]]) -> None:
        with self.state.lock:
            for e in events:
                self._store(calendar_id, e)

    def delete_event(self, calendar_id: str, event_id: str, notify: bool = True) -> None:
        with self.state.lock:
            self._cancel(calendar_id, event_id)
        if notify:
            self._push(calendar_id)

    def purge_event(self, calendar_id: str, event_id: str) -> None:
        """Removes an event without a tombstone (what a full list after a 410 looks like)."""
        with self.state.lock:
            self.state.events.get(calendar_id, {}).pop(event_id, None)
            self.state.seq += 1

    def events(self, calendar_id: str) -> dict[str, dict[str, Any]]:
        return self.state.events.get(calendar_id, {})

    # -- internals -------------------------------------------------------------------------------

    def _store(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        self.state.seq += 1
        stored = dict(event)
        stored.setdefault("id", uuid.uuid4().hex)
        stored.setdefault("status", "confirmed")
        stored["kind"] = "calendar#event"
        stored["etag"] = f'"{self.state.seq}"'
        stored["updated"] = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        stored["_seq"] = self.state.seq
        self.state.events.setdefault(calendar_id, {})[stored["id"]] = stored
        return stored

    def _cancel(self, calendar_id: str, event_id: str) -> None:
        event = self.state.events.get(calendar_id, {}).get(event_id)
        if event is None:
            return
        self.state.seq += 1
        # A deleted event is only guaranteed to carry its id (discovery doc, Event.status).
        self.state.events[calendar_id][event_id] = {
            "kind": "calendar#event",
            "id": event_id,
            "status": "cancelled",
            "etag": f'"{self.state.seq}"',
            "_seq": self.state.seq,
            "_was": event,
        }

    def _push(self, calendar_id: str) -> None:
        for channel in list(self.state.channels.values()):
            if channel.calendar_id != calendar_id or channel.stopped:
                continue
            if channel.expiration_ms < time.time() * 1000:
                continue
            channel.message_number += 1
            self._post_notification(channel, "exists")

    def _post_notification(self, channel: Channel, state: str) -> None:
        headers = {
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Message-Number": str(channel.message_number),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-State": state,
            "X-Goog-Resource-URI": f"https://www.googleapis.com/calendar/v3/calendars/{channel.calendar_id}/events",
            "X-Goog-Channel-Expiration": time.strftime(
                "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(channel.expiration_ms / 1000)
            ),
            "User-Agent": "APIs-Google",
        }
        if channel.token is not None:
            headers["X-Goog-Channel-Token"] = channel.token
        request = urllib.request.Request(channel.address, data=b"", headers=headers, method="POST")
        self.state.push_delivery.append(time.perf_counter())
        # Google drops a notification that keeps failing; so does the stand-in, at once.
        with contextlib.suppress(Exception):
            urllib.request.urlopen(request, timeout=5).read()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if body is not None:
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _route(self, method: str) -> None:
                started = time.perf_counter()
                try:
                    standin._serve(self, method)
                finally:
                    standin.state.server_seconds += time.perf_counter() - started

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_PATCH(self) -> None:
                self._route("PATCH")

            def do_PUT(self) -> None:
                self._route("PUT")

            def do_DELETE(self) -> None:
                self._route("DELETE")

        return Handler

    def _serve(self, h: Any, method: str) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        path = parsed.path
        self.state.requests.append((method, path))
        if path == "/token" and method == "POST":
            self._token(h, dict(urllib.parse.parse_qsl(h._body().decode())))
            return
        if path == "/authorize" and method == "GET":
            # The user consents at once: back to the redirect URI with a one-time code.
            code = "4/" + uuid.uuid4().hex
            self.state.codes[code] = (query["code_challenge"], query["redirect_uri"])
            target = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query["state"]})
            h._send(302, None, {"Location": target})
            return
        auth = h.headers.get("Authorization", "")
        with self.state.lock:
            expiry = self.state.access_tokens.get(auth.removeprefix("Bearer "))
        if expiry is None or expiry < time.time():
            h._send(
                401,
                _error(401, "authError", "Invalid Credentials"),
                {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
            )
            return
        with self.state.lock:
            failure = self.state.failures.pop(0) if self.state.failures else None
        if failure is not None:
            h._send(failure[0], failure[2], failure[1])
            return
        if path == f"{API}/channels/stop" and method == "POST":
            body = json.loads(h._body())
            channel = self.state.channels.get(body.get("id", ""))
            if channel is None or channel.resource_id != body.get("resourceId"):
                h._send(404, _error(404, "notFound", "Channel not found"))
                return
            channel.stopped = True
            h._send(204)
            return
        m = re.fullmatch(rf"{API}/calendars/([^/]+)/events(?:/([^/]+))?", path)
        if m is None:
            h._send(404, _error(404, "notFound", "Not Found"))
            return
        calendar_id = urllib.parse.unquote(m.group(1))
        event_id = urllib.parse.unquote(m.group(2)) if m.group(2) else None
        if event_id == "watch" and method == "POST":
            self._watch(h, calendar_id, json.loads(h._body()))
        elif event_id is None and method == "GET":
            self._list(h, calendar_id, query)
        elif event_id is None and method == "POST":
            body = json.loads(h._body())
            with self.state.lock:
                existing = self.state.events.get(calendar_id, {}).get(body.get("id", ""))
                if existing is not None:
                    h._send(409, _error(409, "duplicate", "The requested identifier already exists."))
                    return
                stored = self._store(calendar_id, body)
            h._send(200, self._public(stored))
            self._push(calendar_id)
        elif event_id is not None and method in ("PATCH", "PUT"):
            body = json.loads(h._body())
            with self.state.lock:
                existing = self.state.events.get(calendar_id, {}).get(event_id)
                if existing is None:
                    h._send(404, _error(404, "notFound", "Not Found"))
                    return
                merged = {**existing, **body} if method == "PATCH" else {**body, "id": event_id}
                merged.pop("_was", None)
                if method == "PATCH" and existing.get("status") == "cancelled" and "status" not in body:
                    merged["status"] = "confirmed"
                stored = self._store(calendar_id, merged)
            h._send(200, self._public(stored))
            self._push(calendar_id)
        elif event_id is not None and method == "DELETE":
            with self.state.lock:
                existing = self.state.events.get(calendar_id, {}).get(event_id)
                if existing is None:
                    h._send(404, _error(404, "notFound", "Not Found"))
                    return
                if existing.get("status") == "cancelled":
                    h._send(410, _error(410, "deleted", "Resource has been deleted"))
                    return
                self._cancel(calendar_id, event_id)
            h._send(204)
            self._push(calendar_id)
        elif event_id is not None and method == "GET":
            existing = self.state.events.get(calendar_id, {}).get(event_id)
            if existing is None:
                h._send(404, _error(404, "notFound", "Not Found"))
            else:
                h._send(200, self._public(existing))
        else:
            h._send(405, _error(405, "methodNotAllowed", "Method not allowed"))

    @staticmethod
    def _public(event: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in event.items() if not k.startswith("_")}

    def _token(self, h: Any, form: dict[str, str]) -> None:
        if form.get("grant_type") == "authorization_code":
            challenge, redirect = self.state.codes.pop(form.get("code", ""), ("", ""))
            verifier = form.get("code_verifier", "").encode()
            expected = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).decode().rstrip("=")
            if not challenge or redirect != form.get("redirect_uri") or expected != challenge:
                h._send(400, {"error": "invalid_grant", "error_description": "Bad code or code_verifier."})
                return
            refresh = "1//" + uuid.uuid4().hex
            self.state.refresh_tokens.add(refresh)
            access = "ya29." + uuid.uuid4().hex
            with self.state.lock:
                self.state.access_tokens[access] = time.time() + self.state.token_lifetime
            h._send(
                200,
                {
                    "access_token": access,
                    "refresh_token": refresh,
                    "expires_in": self.state.token_lifetime,
                    "token_type": "Bearer",
                    "scope": "https://www.googleapis.com/auth/calendar.events",
                },
            )
            return
        if form.get("grant_type") != "refresh_token":
            h._send(400, {"error": "unsupported_grant_type"})
            return
        if form.get("refresh_token") not in self.state.refresh_tokens:
            h._send(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
            return
        token = "ya29." + uuid.uuid4().hex
        with self.state.lock:
            self.state.access_tokens[token] = time.time() + self.state.token_lifetime
        h._send(
            200,
            {
                "access_token": token,
                "expires_in": self.state.token_lifetime,
                "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/calendar.events",
            },
        )

    def _list(self, h: Any, calendar_id: str, query: dict[str, str]) -> None:
        with self.state.lock:
            sync_token = query.get("syncToken")
            if sync_token is not None:
                since = int(sync_token.removeprefix("st-"))
                if since < self.state.invalid_before:
                    h._send(
                        410, _error(410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required.")
                    )
                    return
            page_token = query.get("pageToken")
            if page_token:
                offset_text, snapshot_text = page_token.split(".")
                offset, snapshot = int(offset_text), int(snapshot_text)
            else:
                offset, snapshot = 0, self.state.seq
            events = sorted(self.state.events.get(calendar_id, {}).values(), key=lambda e: (e["_seq"], e["id"]))
            show_deleted = query.get("showDeleted") == "true"
            if sync_token is not None:
                chosen = [e for e in events if since < e["_seq"] <= snapshot]
            else:
                chosen = [e for e in events if e["_seq"] <= snapshot and (show_deleted or e["status"] != "cancelled")]
                time_min = query.get("timeMin")
                if time_min:
                    bound = dt.datetime.fromisoformat(time_min.replace("Z", "+00:00"))
                    chosen = [e for e in chosen if _ends_after(e, bound)]
            size = min(int(query.get("maxResults", "250")), 2500)
            page = chosen[offset : offset + size]
            body: dict[str, Any] = {
                "kind": "calendar#events",
                "etag": f'"p{snapshot}"',
                "summary": calendar_id,
                "timeZone": "America/New_York",
                "accessRole": "owner",
                "items": [self._public(e) for e in page],
            }
            if offset + size < len(chosen):
                body["nextPageToken"] = f"{offset + size}.{snapshot}"
            else:
                body["nextSyncToken"] = f"st-{snapshot}"
        h._send(200, body)

    def _watch(self, h: Any, calendar_id: str, body: dict[str, Any]) -> None:
        requested = int(body.get("expiration") or (time.time() + 7 * 86400) * 1000)
        expiration = min(requested, int((time.time() + 7 * 86400) * 1000))
        channel = Channel(
            id=body["id"],
            resource_id="res-" + uuid.uuid4().hex[:12],
            calendar_id=calendar_id,
            address=body["address"],
            token=body.get("token"),
            expiration_ms=expiration,
        )
        self.state.channels[channel.id] = channel
        h._send(
            200,
            {
                "kind": "api#channel",
                "id": channel.id,
                "resourceId": channel.resource_id,
                "resourceUri": f"https://www.googleapis.com/calendar/v3/calendars/{calendar_id}/events",
                "token": channel.token,
                "expiration": str(expiration),
            },
        )
        threading.Thread(target=self._post_notification, args=(channel, "sync"), daemon=True).start()


def _instant(value: dict[str, Any] | None) -> dt.datetime | None:
    if not value or "dateTime" not in value:
        return None
    return dt.datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))


def _ends_after(event: dict[str, Any], bound: dt.datetime) -> bool:
    end = _instant(event.get("end") or (event.get("_was") or {}).get("end"))
    return end is None or end > bound


@contextmanager
def running() -> Iterator[GoogleStandin]:
    standin = GoogleStandin().start()
    try:
        yield standin
    finally:
        standin.stop()
