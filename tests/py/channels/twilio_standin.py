"""A local stand-in for Twilio's Messages API, for tests and benchmarks with the real twilio SDK.

It speaks the wire format of ``https://api.twilio.com/2010-04-01``:

- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded To/From (or
  MessagingServiceSid)/Body/StatusCallback, HTTP Basic auth with the account SID and auth token;
  201 with the JSON of a Message resource (sid ``SM`` + 32 hex, status ``queued``/``accepted`` ...).
- ``GET .../Messages/{Sid}.json`` and ``GET .../Messages.json?To=&From=&DateSent=&PageSize=``
  (newest first; ``DateSent``, ``DateSent>`` and ``DateSent<`` compare the UTC day of ``date_sent``
  as Twilio documents: exactly, on or after, on or before), so a sender can reconcile after an
  ambiguous failure. The stand-in "sends" at once: ``date_sent`` is the creation time.
- errors as Twilio sends them: ``{"code": 21211, "message": ..., "more_info": ..., "status": 400}``
  with the matching HTTP status, Retry-After on 429/503, 401/20003 for bad credentials.

What a test can make it do: fail the next N sends with a status/code (``fail_next``), reject a
recipient every time (``reject_to``, e.g. 21610 for an unsubscribed number), hold sends until
released (``stall_next``, for client timeouts), accept a send and drop the connection before
answering (``drop_next``), accept one and answer with an HTML page (``garble_next``), and POST
signed status callbacks (``send_status_callback``, or ``auto_callbacks``).

Scripted outages for fault tests: ``outage(500, seconds=30, created_share=0.5)`` answers every
request (sends and lists) with a 500 for 30 s, half of the sends having created the message first
(the ambiguous case a sender must reconcile); ``outage(429, seconds=30, retry_after=1)`` answers
429 with Retry-After. Outages run one after another from the first call. ``latency`` delays every
send (so a killed sender has calls in flight). ``duplicate_deliveries()`` counts texts that really
went out twice (same To and Body), whatever the client sent as headers.

It is a ThreadingHTTPServer with HTTP/1.1 keep-alive and TCP_NODELAY. On a busy 2-CPU machine it
answers about 1,400 raw requests a second; through the twilio SDK in the same process a sender
gets about 600 a second, the SDK and requests taking most of the time.

Use: the ``twilio_standin`` pytest fixture (import it into a conftest), ``running_standin()`` as a
context manager, or ``TwilioStandIn().start()`` / ``.stop()``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import queue
import random
import re
import secrets
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from slotoptim.listener.channels.sms_text import sms_segments

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
WHATSAPP = "whatsapp:"

# (HTTP status, message) for the codes the stand-in produces on its own or is asked for by code.
ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authentication Error - invalid username"),
    20404: (404, "The requested resource {path} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "Invalid 'To' Phone Number: {to}"),
    21408: (400, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}"),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    21910: (400, "Invalid 'From' and 'To' pair. 'From' and 'To' should be of the same channel"),
    63016: (
        400,
        "Failed to send freeform message because you are outside the allowed window. "
        "If you are using WhatsApp, please use a Message Template.",
    ),
}
DEFAULT_CODE_FOR_STATUS = {400: 21211, 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}


def free_port() -> int:
    """A loopback port nothing listens on right now: for servers that cannot bind port 0
    themselves (aiosmtpd's Controller) and for connection-refused tests."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def error_body(status: int, code: int | None, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}" if code else None,
        "status": status,
    }


def _rfc2822(when: dt.datetime) -> str:
    return format_datetime(when, usegmt=True)


@dataclass(frozen=True)
class Failure:
    kind: Literal["error", "stall", "drop", "garble"]
    status: int = 0
    code: int | None = None
    message: str | None = None
    retry_after: str | None = None
    created: bool = False  # an error answer after the message was created (the ambiguous 5xx)


@dataclass(frozen=True)
class Outage:
    status: int
    starts: float  # time.monotonic()
    ends: float
    retry_after: str | None = None
    created_share: float = 0.0  # of the sends refused with a 5xx, the share created first anyway


@dataclass
class RecordedMessage:
    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    status: str
    created: dt.datetime
    params: dict[str, list[str]]
    idempotency_token: str | None

    def resource(self) -> dict[str, Any]:
        """The Message resource JSON, as Twilio returns it on create and fetch."""
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": _rfc2822(self.created),
            "date_sent": _rfc2822(self.created),
            "date_updated": _rfc2822(self.created),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(sms_segments(self.body)),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"{base}/Media.json", "feedback": f"{base}/Feedback.json"},
            "to": self.to,
            "uri": f"{base}.json",
        }


@dataclass
class StatusCallbackResult:
    url: str
    params: dict[str, str]
    http_status: int | None  # None when the callback URL could not be reached
    error: str | None = None


@dataclass
class _State:
    lock: threading.Condition = field(default_factory=threading.Condition)  # notified on every accepted message
    messages: list[RecordedMessage] = field(default_factory=list)
    by_sid: dict[str, RecordedMessage] = field(default_factory=dict)
    failures: deque[Failure] = field(default_factory=deque)
    rejected_to: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    auth_failures: int = 0
    callbacks: list[StatusCallbackResult] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    outage_answers: Counter[int] = field(default_factory=Counter)  # status -> requests refused by an outage
    list_requests: int = 0


class TwilioStandIn:
    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        auto_callbacks: Sequence[str] = (),
    ) -> None:
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.auto_callbacks = tuple(auto_callbacks)
        self.latency = 0.0  # seconds every send waits before it is handled
        self._rng = random.Random(9)
        self._state = _State()
        self._release = threading.Event()
        self._callback_queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._threads: list[threading.Thread] = []

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> TwilioStandIn:
        # A short poll keeps stop() quick; serve_forever only checks for shutdown between polls.
        server = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="twilio-standin", daemon=True
        )
        callbacks = threading.Thread(target=self._callback_worker, name="twilio-standin-callbacks", daemon=True)
        self._threads = [server, callbacks]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._release.set()  # let stalled handlers finish
        self._callback_queue.put(None)
        self._server.shutdown()
        self._server.server_close()
        for t in self._threads:
            t.join()

    # -- what it saw ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[RecordedMessage]:
        """Every accepted message, in arrival order (a copy)."""
        with self._state.lock:
            return list(self._state.messages)

    @property
    def message_count(self) -> int:
        with self._state.lock:
            return len(self._state.messages)

    @property
    def request_count(self) -> int:
        """Every request that reached a handler, including rejected and failed ones."""
        with self._state.lock:
            return self._state.requests

    @property
    def auth_failures(self) -> int:
        with self._state.lock:
            return self._state.auth_failures

    @property
    def callbacks(self) -> list[StatusCallbackResult]:
        with self._state.lock:
            return list(self._state.callbacks)

    def wait_for_messages(self, count: int, timeout: float | None = None) -> list[RecordedMessage]:
        """Block until at least ``count`` messages were accepted (for sends that finish after the
        client gave up). Returns them; raises TimeoutError if ``timeout`` passes first."""
        with self._state.lock:
            if not self._state.lock.wait_for(lambda: len(self._state.messages) >= count, timeout):
                raise TimeoutError(f"{len(self._state.messages)} of {count} messages arrived")
            return list(self._state.messages)

    def duplicate_tokens(self) -> dict[str, int]:
        """Idempotency tokens seen on more than one accepted message: each one is a double send."""
        counts = Counter(m.idempotency_token for m in self.messages if m.idempotency_token)
        return {token: n for token, n in counts.items() if n > 1}

    def duplicate_deliveries(self) -> int:
        """Texts beyond the first with the same recipient and body: each one a customer got twice."""
        counts = Counter((m.to, m.body) for m in self.messages)
        return sum(n - 1 for n in counts.values())

    @property
    def outage_answers(self) -> dict[int, int]:
        """Requests answered by a scripted outage, by HTTP status."""
        with self._state.lock:
            return dict(self._state.outage_answers)

    @property
    def list_requests(self) -> int:
        with self._state.lock:
            return self._state.list_requests

    def clear(self) -> None:
        with self._state.lock:
            self._state.messages.clear()
            self._state.by_sid.clear()
            self._state.requests = 0
            self._state.auth_failures = 0
            self._state.callbacks.clear()

    # -- what it should do next ----------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        code: int | None = None,
        *,
        times: int = 1,
        message: str | None = None,
        retry_after: float | str | None = None,
        created: bool = False,
    ) -> None:
        """The next ``times`` sends get this error. ``code`` defaults to Twilio's generic code for
        the status (20429 for 429, 20500 for 500 ...). ``created``: the message is created first,
        as when Twilio queued it and then failed to answer."""
        code = code if code is not None else DEFAULT_CODE_FOR_STATUS.get(status)
        ra = None if retry_after is None else str(retry_after)
        self._queue(Failure("error", status, code, message, ra, created), times)

    def fail_next_with_code(self, code: int, *, times: int = 1) -> None:
        """The next sends fail with a Twilio code at its usual HTTP status (21211 -> 400 ...)."""
        status, _ = ERRORS.get(code, (400, ""))
        self.fail_next(status, code, times=times)

    def stall_next(self, times: int = 1) -> None:
        """The next sends wait, unanswered, until ``release_stalled()``; then they are accepted as usual
        (as Twilio would, the client having given up meanwhile)."""
        self._release.clear()
        self._queue(Failure("stall"), times)

    def release_stalled(self) -> None:
        self._release.set()

    def drop_next(self, times: int = 1) -> None:
        """The next sends are accepted and recorded, then the connection closes with no response."""
        self._queue(Failure("drop"), times)

    def garble_next(self, times: int = 1) -> None:
        """The next sends are accepted and recorded, then answered 201 with an HTML body (a proxy
        or load balancer page), which no client can read a SID from."""
        self._queue(Failure("garble"), times)

    def outage(
        self,
        status: int,
        *,
        seconds: float,
        retry_after: float | None = None,
        created_share: float = 0.0,
        after: float = 0.0,
    ) -> Outage:
        """From ``after`` seconds from now, or the end of the last scripted outage if later, every
        request is answered ``status`` for ``seconds``. ``created_share`` of the sends refused with
        a 5xx are created first."""
        with self._state.lock:
            now = time.monotonic() + after
            starts = max([now] + [o.ends for o in self._state.outages])
            outage = Outage(
                status, starts, starts + seconds, None if retry_after is None else str(retry_after), created_share
            )
            self._state.outages.append(outage)
            return outage

    def end_outages(self) -> None:
        """Every scripted outage ends now."""
        with self._state.lock:
            self._state.outages.clear()

    def _current_outage(self) -> Outage | None:
        now = time.monotonic()
        with self._state.lock:
            return next((o for o in self._state.outages if o.starts <= now < o.ends), None)

    def reject_to(self, number: str, code: int) -> None:
        """Every send to ``number`` (with or without 'whatsapp:') fails with ``code``, e.g. 21610."""
        with self._state.lock:
            self._state.rejected_to[number.removeprefix(WHATSAPP)] = code

    def _queue(self, failure: Failure, times: int) -> None:
        with self._state.lock:
            self._state.failures.extend([failure] * times)

    # -- status callbacks ----------------------------------------------------------------------

    def send_status_callback(self, sid: str, status: str, error_code: int | None = None) -> StatusCallbackResult:
        """POST a signed StatusCallback for a recorded message, now, and return how it went."""
        with self._state.lock:
            message = self._state.by_sid[sid]
            message.status = status
        url = message.status_callback
        if not url:
            raise ValueError(f"message {sid} has no StatusCallback")
        params = {
            "AccountSid": message.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_ or "",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        request = urllib.request.Request(
            url,
            data=urllib.parse.urlencode(params).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                "I-Twilio-Idempotency-Token": secrets.token_hex(16),
                "User-Agent": "TwilioProxy/1.1",
            },
            method="POST",
        )
        # Callback receivers in tests are on loopback: never route them through an env proxy.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request) as response:
                result = StatusCallbackResult(url, params, response.status)
        except urllib.error.HTTPError as exc:
            result = StatusCallbackResult(url, params, exc.code, str(exc))
        except OSError as exc:
            result = StatusCallbackResult(url, params, None, str(exc))
        with self._state.lock:
            self._state.callbacks.append(result)
        return result

    def _callback_worker(self) -> None:
        while (item := self._callback_queue.get()) is not None:
            self.send_status_callback(*item)

    # -- request handling (called from handler threads) ---------------------------------------

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.account_sid) and secrets.compare_digest(password, self.auth_token)

    def _next_failure(self) -> Failure | None:
        with self._state.lock:
            self._state.requests += 1
            return self._state.failures.popleft() if self._state.failures else None

    def _validate(self, form: Mapping[str, list[str]]) -> tuple[int, dict[str, str]] | None:
        """The Twilio error code for a request Twilio would refuse, or None."""
        to = form.get("To", [""])[0]
        from_ = form.get("From", [""])[0]
        service = form.get("MessagingServiceSid", [""])[0]
        body = form.get("Body", [""])[0]
        if not to:
            return 21604, {}
        if not (from_ or service):
            return 21603, {}
        if not (body or form.get("MediaUrl") or form.get("ContentSid")):
            return 21602, {}
        if len(body) > 1600:
            return 21617, {}
        if from_ and to.startswith(WHATSAPP) != from_.startswith(WHATSAPP):
            return 21910, {}
        if not E164.match(to.removeprefix(WHATSAPP)):
            return 21211, {"to": to}
        with self._state.lock:
            code = self._state.rejected_to.get(to.removeprefix(WHATSAPP))
        if code is not None:
            return code, {"to": to}
        return None

    def _accept(self, account_sid: str, form: Mapping[str, list[str]], token: str | None) -> RecordedMessage:
        service = form.get("MessagingServiceSid", [None])[0]
        message = RecordedMessage(
            sid="SM" + secrets.token_hex(16),
            account_sid=account_sid,
            to=form["To"][0],
            from_=form.get("From", [None])[0],
            messaging_service_sid=service,
            body=form.get("Body", [""])[0],
            status_callback=form.get("StatusCallback", [None])[0],
            # With a Messaging Service Twilio answers 'accepted' and picks the sender later.
            status="accepted" if service else "queued",
            created=dt.datetime.now(dt.UTC),
            params=dict(form),
            idempotency_token=token,
        )
        with self._state.lock:
            self._state.messages.append(message)
            self._state.by_sid[message.sid] = message
            self._state.lock.notify_all()
        if message.status_callback:
            for status in self.auto_callbacks:
                self._callback_queue.put((message.sid, status))
        return message

    def _list(self, query: Mapping[str, list[str]]) -> list[RecordedMessage]:
        to = query.get("To", [None])[0]
        from_ = query.get("From", [None])[0]
        on, after, before = (_day(query.get(k, [None])[0]) for k in ("DateSent", "DateSent>", "DateSent<"))

        def wanted(m: RecordedMessage) -> bool:
            day = m.created.astimezone(dt.UTC).date()
            return (
                (to is None or m.to == to)
                and (from_ is None or m.from_ == from_)
                and (on is None or day == on)
                and (after is None or day >= after)
                and (before is None or day <= before)
            )

        return list(reversed([m for m in self.messages if wanted(m)]))  # Twilio lists newest first


def _day(value: str | None) -> dt.date | None:
    """A DateSent filter's day: 'YYYY-MM-DD' or the SDK's 'YYYY-MM-DDTHH:MM:SSZ' (Twilio compares days)."""
    return None if not value else dt.date.fromisoformat(value[:10])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # bursts of new connections from a many-threaded benchmark

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], standin: TwilioStandIn):
        self.standin = standin
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK's requests session reuses connections
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall between headers and body
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # thousands of requests per test run; the recorded messages are the log

    # -- plumbing ------------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

    def _send_raw(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Twilio-Request-Id", "RQ" + secrets.token_hex(16))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout test); nothing to tell it

    def _error(self, status: int, code: int | None, message: str, headers: Mapping[str, str] | None = None) -> None:
        self._send_json(status, error_body(status, code, message), headers)

    def _error_for_code(self, code: int, **fields: str) -> None:
        status, template = ERRORS.get(code, (400, "Error {code}"))
        self._error(status, code, template.format(code=code, path=self.path, **fields))

    def _read_form(self) -> dict[str, list[str]]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        return urllib.parse.parse_qs(raw, keep_blank_values=True)

    def _route(self) -> tuple[str, str, str | None] | None:
        """(account sid, 'Messages' collection or message sid, query) for our paths, else None."""
        path, _, query = self.path.partition("?")
        match = re.fullmatch(rf"/{API_VERSION}/Accounts/([^/]+)/Messages(?:/([^/]+))?\.json", path)
        if match is None:
            return None
        return match.group(1), match.group(2) or "", query

    def _check(self) -> tuple[str, str, str | None] | None:
        """Auth and routing common to every verb; answers the request itself when they fail."""
        standin = self.server.standin
        if not standin._authorized(self.headers.get("Authorization")):
            with standin._state.lock:
                standin._state.auth_failures += 1
            self._error(401, 20003, ERRORS[20003][1], {"WWW-Authenticate": 'Basic realm="Twilio API"'})
            return None
        route = self._route()
        if route is None or route[0] != standin.account_sid:
            self._error_for_code(20404)
            return None
        return route

    def _outage_answer(self, outage: Outage) -> None:
        standin = self.server.standin
        with standin._state.lock:
            standin._state.outage_answers[outage.status] += 1
            standin._state.requests += 1 if self.command == "POST" else 0  # a GET was counted already
        code = DEFAULT_CODE_FOR_STATUS.get(outage.status)
        text = ERRORS.get(code or 0, (outage.status, "Error"))[1]
        headers = {"Retry-After": outage.retry_after} if outage.retry_after is not None else None
        self._error(outage.status, code, text, headers)

    # -- verbs ---------------------------------------------------------------------------------

    def do_POST(self) -> None:
        standin = self.server.standin
        form = self._read_form()  # always drain the body, or the next keep-alive request is garbage
        route = self._check()
        if route is None:
            return
        account_sid, item, _ = route
        if item:
            self._error(405, 20004, "Method not allowed")
            return
        if standin.latency:
            time.sleep(standin.latency)
        outage = standin._current_outage()
        if outage is not None:
            created = outage.status >= 500 and standin._rng.random() < outage.created_share
            if created and standin._validate(form) is None:
                standin._accept(account_sid, form, self.headers.get("I-Twilio-Idempotency-Token"))
            self._outage_answer(outage)
            return
        failure = standin._next_failure()
        if failure is not None and failure.kind == "error":
            if failure.created and standin._validate(form) is None:
                standin._accept(account_sid, form, self.headers.get("I-Twilio-Idempotency-Token"))
            status, code = failure.status, failure.code
            default = ERRORS.get(code, (status, "Error"))[1] if code else "Error"
            text = failure.message or default.format(code=code, path=self.path, to=form.get("To", [""])[0])
            headers = {"Retry-After": failure.retry_after} if failure.retry_after is not None else None
            self._error(status, code, text, headers)
            return
        if failure is not None and failure.kind == "stall":
            standin._release.wait()
        rejected = standin._validate(form)
        if rejected is not None:
            code, fields = rejected
            self._error_for_code(code, **fields)
            return
        token = self.headers.get("I-Twilio-Idempotency-Token")
        message = standin._accept(account_sid, form, token)
        if failure is not None and failure.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if failure is not None and failure.kind == "garble":
            self._send_raw(201, b"<html><body>Accepted</body></html>", "text/html")
            return
        self._send_json(201, message.resource())

    def do_GET(self) -> None:
        standin = self.server.standin
        route = self._check()
        if route is None:
            return
        _, item, query = route
        with standin._state.lock:
            standin._state.requests += 1
            standin._state.list_requests += 0 if item else 1
        outage = standin._current_outage()
        if outage is not None:
            self._outage_answer(outage)
            return
        if item:
            with standin._state.lock:
                message = standin._state.by_sid.get(item)
            if message is None:
                self._error_for_code(20404)
            else:
                self._send_json(200, message.resource())
            return
        params = urllib.parse.parse_qs(query or "")
        page_size = int(params.get("PageSize", ["50"])[0])
        found = standin._list(params)[:page_size]
        uri = self.path
        self._send_json(
            200,
            {
                "messages": [m.resource() for m in found],
                "end": max(len(found) - 1, 0),
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": page_size,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            },
        )


@contextmanager
def running_standin(
    account_sid: str | None = None, auth_token: str | None = None, *, auto_callbacks: Sequence[str] = ()
) -> Iterator[TwilioStandIn]:
    standin = TwilioStandIn(account_sid, auth_token, auto_callbacks=auto_callbacks).start()
    try:
        yield standin
    finally:
        standin.stop()


@pytest.fixture
def twilio_standin() -> Iterator[TwilioStandIn]:
    """A fresh stand-in per test. Import this name into a conftest (or test module) to use it."""
    with running_standin() as standin:
        yield standin
