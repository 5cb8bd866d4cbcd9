"""A lean HTTP transport for ``twilio.rest.Client``: ``http.client`` with one kept-alive connection
per thread and host, instead of the SDK's requests session.

The SDK still builds every request (URL, form parameters, headers, Basic auth) and still turns the
answers into its objects and exceptions; only the wire layer is replaced, because requests cost
about 0.8 ms of CPU per message where ``http.client`` costs about 0.3 ms (issue 18).

What the channel's error handling relies on is kept: failures are raised as the requests
exceptions ``twilio_channel`` classifies (a connection never made: ``ConnectTimeout`` or
``ConnectionError`` carrying urllib3's ``NewConnectionError``/``NameResolutionError``, so nothing
reached Twilio; a timeout or a dropped connection after the request left: ``ReadTimeout`` or a
plain ``ConnectionError``, so it may have been sent). It never retries: a POST resent behind the
caller's back could text a patient twice. A kept-alive connection the server has closed is noticed
before it is reused (as urllib3 does), so a stale socket is not mistaken for a lost request.
The idempotency header and the response headers (for ``Retry-After``) travel as with
``SendingHttpClient``, through the same ContextVar.
"""

from __future__ import annotations

import base64
import http.client
import logging
import select
import socket
import ssl
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit

from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout, ReadTimeout
from twilio.http import HttpClient  # type: ignore[import-untyped]
from twilio.http.response import Response  # type: ignore[import-untyped]
from urllib3.exceptions import NameResolutionError, NewConnectionError

from slotoptim.listener.channels.twilio_http import IDEMPOTENCY_HEADER, current_exchange

_Key = tuple[str, str, int]


class LeanHttpClient(HttpClient):  # type: ignore[misc]
    def __init__(self, timeout: float) -> None:
        super().__init__(logging.getLogger("twilio.http_client"), is_async=False, timeout=timeout)
        self._local = threading.local()
        self._tls = ssl.create_default_context()

    def _connections(self) -> dict[_Key, http.client.HTTPConnection]:
        connections: dict[_Key, http.client.HTTPConnection] | None = getattr(self._local, "connections", None)
        if connections is None:
            connections = self._local.connections = {}
        return connections

    def _connection(self, key: _Key, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        """A connection to the host, and whether it is new (so it still has to connect)."""
        connections = self._connections()
        conn = connections.get(key)
        if conn is not None and conn.sock is not None and not _dropped(conn.sock):
            conn.timeout = timeout
            conn.sock.settimeout(timeout)
            return conn, False
        if conn is not None:
            conn.close()
        scheme, host, port = key
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        connections[key] = conn
        return conn, True

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Any:
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError(timeout)
        timeout = float(timeout or 10)
        parts = urlsplit(uri)
        scheme = parts.scheme or "https"
        port = parts.port or (443 if scheme == "https" else 80)
        key = (scheme, parts.hostname or "", port)
        path = parts.path or "/"
        query = [q for q in (parts.query, urlencode(_pairs(params), doseq=True) if params else "") if q]
        if query:
            path = f"{path}?{'&'.join(query)}"
        send_headers = dict(headers or {})
        exchange = current_exchange.get()
        if exchange is not None and method.upper() == "POST":
            send_headers[IDEMPOTENCY_HEADER] = exchange.idempotency_token
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            send_headers["Authorization"] = f"Basic {token}"
        body: bytes | None = None
        if data is not None:
            body = urlencode(_pairs(data), doseq=True).encode()
            send_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")

        conn, new = self._connection(key, timeout)
        if new:
            try:
                conn.connect()
            except TimeoutError as exc:
                self._forget(key)
                raise ConnectTimeout(f"connecting to {key[1]}:{port} timed out") from exc
            except socket.gaierror as exc:
                self._forget(key)
                raise RequestsConnectionError(NameResolutionError(key[1], None, exc)) from exc  # type: ignore[arg-type]
            except OSError as exc:
                self._forget(key)
                raise RequestsConnectionError(NewConnectionError(None, f"{type(exc).__name__}: {exc}")) from exc  # type: ignore[arg-type]
        try:
            conn.request(method.upper(), path, body=body, headers=send_headers)
            answer = conn.getresponse()
            text = answer.read().decode("utf-8", errors="replace")
        except TimeoutError as exc:
            self._forget(key)
            raise ReadTimeout(f"{method} {parts.path}: no answer within {timeout} s") from exc
        except (OSError, http.client.HTTPException) as exc:
            # The request may have left: whoever handles this must assume it may have arrived.
            self._forget(key)
            raise RequestsConnectionError(f"{method} {parts.path}: {type(exc).__name__}: {exc}") from exc
        response_headers = dict(answer.getheaders())
        if answer.will_close:
            self._forget(key)
        if exchange is not None:
            exchange.response_headers = response_headers
        self._test_only_last_response = Response(int(answer.status), text, response_headers)
        return self._test_only_last_response

    def _forget(self, key: _Key) -> None:
        conn = self._connections().pop(key, None)
        if conn is not None:
            conn.close()


def _pairs(values: dict[str, object]) -> dict[str, object]:
    """Form values as requests sends them: lists repeat the key, None leaves it out."""
    return {k: v for k, v in values.items() if v is not None}


def _dropped(sock: socket.socket) -> bool:
    """True when a kept-alive socket was closed by the other side (readable with nothing to read)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
