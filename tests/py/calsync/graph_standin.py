"""A local stand-in for Microsoft Graph v1.0 (calendar parts) and the identity platform's token
endpoint, following reference/integrations.md §2: calendarView/delta with @odata.nextLink
($skiptoken), @odata.deltaLink ($deltatoken), @removed items, 410 Gone with a Location for an
expired delta token; events create (transactionId dedup) / patch / delete; subscriptions with the
validationToken handshake on notificationUrl and lifecycleNotificationUrl, change notifications
carrying clientState, lifecycle notifications, renewal by PATCH. Queued failures (429 Retry-After).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

V1 = "/v1.0"


@dataclass
class Subscription:
    id: str
    notification_url: str
    lifecycle_url: str
    client_state: str
    expiration: str


@dataclass
class GraphState:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    seq: int = 0
    invalid_before: int = 0
    refresh_tokens: set[str] = field(default_factory=set)
    access_tokens: set[str] = field(default_factory=set)
    failures: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class GraphStandin:
    def __init__(self) -> None:
        self.state = GraphState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def graph_url(self) -> str:
        return self.url + V1

    def start(self) -> GraphStandin:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what a test does in the mailbox ---------------------------------------------------------

    def grant(self, refresh_token: str) -> None:
        self.state.refresh_tokens.add(refresh_token)

    def revoke_all(self) -> None:
        with self.state.lock:
            self.state.refresh_tokens.clear()
            self.state.access_tokens.clear()

    def fail_next(self, status: int, headers: dict[str, str] | None = None, code: str = "TooManyRequests") -> None:
        self.state.failures.append((status, headers or {}, _error(code, "stand-in")))

    def invalidate_delta_tokens(self) -> None:
        with self.state.lock:
            self.state.invalid_before = self.state.seq + 1

    def put_event(self, event: dict[str, Any], notify: bool = True) -> dict[str, Any]:
        with self.state.lock:
            stored = self._store(event)
        if notify:
            self._notify(stored["id"], "updated")
        return stored

    def delete_event(self, event_id: str, notify: bool = True) -> None:
        with self.state.lock:
            self._delete(event_id)
        if notify:
            self._notify(event_id, "deleted")

    def live_events(self) -> list[dict[str, Any]]:
        return [e for e in self.state.events.values() if not e.get("_deleted")]

    def lifecycle(self, subscription_id: str, event: str) -> int:
        sub = self.state.subscriptions[subscription_id]
        body = {
            "value": [
                {
                    "subscriptionId": sub.id,
                    "subscriptionExpirationDateTime": sub.expiration,
                    "tenantId": "tenant",
                    "clientState": sub.client_state,
                    "lifecycleEvent": event,
                }
            ]
        }
        return httpx.post(sub.lifecycle_url, json=body, timeout=10).status_code

    # -- internals -------------------------------------------------------------------------------

    def _store(self, event: dict[str, Any]) -> dict[str, Any]:
        self.state.seq += 1
        stored = {**event}
        stored.setdefault("id", "AAMk" + uuid.uuid4().hex)
        stored["@odata.etag"] = f'W/"{self.state.seq}"'
        stored["changeKey"] = str(self.state.seq)
        stored["_seq"] = self.state.seq
        stored.pop("_deleted", None)
        self.state.events[stored["id"]] = stored
        return stored

    def _delete(self, event_id: str) -> bool:
        event = self.state.events.get(event_id)
        if event is None or event.get("_deleted"):
            return False
        self.state.seq += 1
        event["_deleted"] = True
        event["_seq"] = self.state.seq
        return True

    def _notify(self, event_id: str, change: str) -> None:
        for sub in list(self.state.subscriptions.values()):
            body = {
                "value": [
                    {
                        "id": uuid.uuid4().hex,
                        "subscriptionId": sub.id,
                        "subscriptionExpirationDateTime": sub.expiration,
                        "clientState": sub.client_state,
                        "changeType": change,
                        "tenantId": "tenant",
                        "resource": f"Users/me/Events/{event_id}",
                        "resourceData": {
                            "@odata.type": "#Microsoft.Graph.Event",
                            "@odata.id": f"Users/me/Events/{event_id}",
                            "id": event_id,
                        },
                    }
                ]
            }
            with contextlib.suppress(httpx.HTTPError):  # Graph retries later; the stand-in gives up
                httpx.post(sub.notification_url, json=body, timeout=10)

    @staticmethod
    def _public(event: dict[str, Any]) -> dict[str, Any]:
        if event.get("_deleted"):
            return {"@odata.type": "#microsoft.graph.event", "id": event["id"], "@removed": {"reason": "deleted"}}
        return {"@odata.type": "#microsoft.graph.event", **{k: v for k, v in event.items() if not k.startswith("_")}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if body is not None:
                    self.send_header("Content-Type", "application/json; odata.metadata=minimal")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self) -> None:
                standin._serve(self, "GET")

            def do_POST(self) -> None:
                standin._serve(self, "POST")

            def do_PATCH(self) -> None:
                standin._serve(self, "PATCH")

            def do_DELETE(self) -> None:
                standin._serve(self, "DELETE")

        return Handler

    def _serve(self, h: Any, method: str) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        path = parsed.path
        self.state.requests.append((method, path))
        if re.fullmatch(r"/[^/]+/oauth2/v2\.0/token", path) and method == "POST":
            form = dict(urllib.parse.parse_qsl(h.body().decode()))
            if form.get("refresh_token") not in self.state.refresh_tokens:
                h.send(400, {"error": "invalid_grant", "error_description": "AADSTS70000: grant is expired or revoked"})
                return
            access, refresh = "eyJ" + uuid.uuid4().hex, "M.R3_" + uuid.uuid4().hex
            with self.state.lock:
                self.state.access_tokens.add(access)
                self.state.refresh_tokens.add(refresh)  # rotated; the old one stays valid a while
            h.send(
                200,
                {
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "access_token": access,
                    "refresh_token": refresh,
                    "scope": "Calendars.ReadWrite",
                },
            )
            return
        if h.headers.get("Authorization", "").removeprefix("Bearer ") not in self.state.access_tokens:
            h.send(401, _error("InvalidAuthenticationToken", "Access token has expired or is not yet valid."))
            return
        if self.state.failures:
            status, headers, body = self.state.failures.pop(0)
            h.send(status, body, headers)
            return
        # msgraph-sdk calls the OData function with its parentheses (delta()); Graph takes both.
        if path in (f"{V1}/me/calendarView/delta", f"{V1}/me/calendarView/delta()") and method == "GET":
            self._delta(h, query)
        elif path == f"{V1}/me/events" and method == "POST":
            body = json.loads(h.body())
            with self.state.lock:
                existing = [
                    e
                    for e in self.state.events.values()
                    if body.get("transactionId") and e.get("transactionId") == body["transactionId"]
                ]
                stored = existing[0] if existing else self._store(body)
            h.send(201, self._public(stored))
            if not existing:
                self._notify(stored["id"], "created")
        elif (m := re.fullmatch(rf"{V1}/me/events/([^/]+)", path)) is not None:
            event_id = urllib.parse.unquote(m.group(1))
            with self.state.lock:
                existing = self.state.events.get(event_id)
                if existing is None or existing.get("_deleted"):
                    h.send(404, _error("ErrorItemNotFound", "The specified object was not found in the store."))
                    return
                if method == "PATCH":
                    stored = self._store({**existing, **json.loads(h.body())})
                elif method == "DELETE":
                    self._delete(event_id)
                    stored = None
            if method == "PATCH":
                h.send(200, self._public(stored or {}))
            else:
                h.send(204)
            self._notify(event_id, "updated" if method == "PATCH" else "deleted")
        elif path == f"{V1}/subscriptions" and method == "POST":
            self._subscribe(h, json.loads(h.body()))
        elif (m := re.fullmatch(rf"{V1}/subscriptions/([^/]+)", path)) is not None:
            sub = self.state.subscriptions.get(m.group(1))
            if sub is None:
                h.send(404, _error("ResourceNotFound", "subscription not found"))
            elif method == "PATCH":
                sub.expiration = json.loads(h.body())["expirationDateTime"]
                h.send(200, {"id": sub.id, "expirationDateTime": sub.expiration})
            else:
                self.state.subscriptions.pop(sub.id)
                h.send(204)
        else:
            h.send(404, _error("ResourceNotFound", f"{method} {path}"))

    def _delta(self, h: Any, query: dict[str, str]) -> None:
        size = 500
        prefer = h.headers.get("Prefer", "")
        if (m := re.search(r"odata\.maxpagesize=(\d+)", prefer)) is not None:
            size = int(m.group(1))
        with self.state.lock:
            if "$deltatoken" in query:
                since = int(query["$deltatoken"])
                if since < self.state.invalid_before:
                    initial = f"{self.graph_url}/me/calendarView/delta?$deltatoken="
                    h.send(410, _error("syncStateNotFound", "The sync state was not found."), {"Location": initial})
                    return
                offset, snapshot = 0, self.state.seq
            elif "$skiptoken" in query:
                offset_s, snapshot_s, since_s = query["$skiptoken"].split(".")
                offset, snapshot, since = int(offset_s), int(snapshot_s), int(since_s)
            else:
                offset, snapshot, since = 0, self.state.seq, -1
            events = sorted(self.state.events.values(), key=lambda e: (e["_seq"], e["id"]))
            if since < 0:
                chosen = [e for e in events if e["_seq"] <= snapshot and not e.get("_deleted")]
            else:
                chosen = [e for e in events if since < e["_seq"] <= snapshot]
            page = chosen[offset : offset + size]
            body: dict[str, Any] = {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(event)",
                "value": [self._public(e) for e in page],
            }
            if offset + size < len(chosen):
                body["@odata.nextLink"] = (
                    f"{self.graph_url}/me/calendarView/delta?$skiptoken={offset + size}.{snapshot}.{since}"
                )
            else:
                body["@odata.deltaLink"] = f"{self.graph_url}/me/calendarView/delta?$deltatoken={snapshot}"
        h.send(200, body)

    def _subscribe(self, h: Any, body: dict[str, Any]) -> None:
        for url in (body["notificationUrl"], body.get("lifecycleNotificationUrl")):
            if not url:
                continue
            token = "Validation: Testing client application reachability " + uuid.uuid4().hex + " <&>"
            answer = httpx.post(
                url,
                params={"validationToken": token},
                headers={"Content-Type": "text/plain; charset=utf-8"},
                timeout=10,
            )
            if (
                answer.status_code != 200
                or answer.text != token
                or not answer.headers.get("content-type", "").startswith("text/plain")
            ):
                h.send(400, _error("ValidationError", "Subscription validation request failed."))
                return
        sub = Subscription(
            id=str(uuid.uuid4()),
            notification_url=body["notificationUrl"],
            lifecycle_url=body.get("lifecycleNotificationUrl") or "",
            client_state=body.get("clientState") or "",
            expiration=body["expirationDateTime"],
        )
        self.state.subscriptions[sub.id] = sub
        h.send(
            201,
            {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
                "id": sub.id,
                "resource": body["resource"],
                "changeType": body["changeType"],
                "clientState": sub.client_state,
                "notificationUrl": sub.notification_url,
                "lifecycleNotificationUrl": sub.lifecycle_url,
                "expirationDateTime": sub.expiration,
                "applicationId": "app",
                "creatorId": "creator",
                "includeResourceData": False,
            },
        )


@contextmanager
def running() -> Iterator[GraphStandin]:
    standin = GraphStandin().start()
    try:
        yield standin
    finally:
        standin.stop()
