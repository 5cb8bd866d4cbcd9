"""A short-lived cache of API keys proven by their tokens, so a request does not look its key up.

Entries live `ttl` seconds (5 by default) and are keyed by the token's SHA-256, never the token.
Revocation must not wait for them: any change to `slotoptim_private.api_key` notifies the secret
channel `engine_channel('api_key')` at commit (sql/60j_trg_api_key_notify.sql), and a thread of
this process LISTENs on it and empties the cache. While that thread is not connected (starting,
the database restarting) nothing is cached, so a revocation is never missed; the process that
revokes a key also empties its own cache at once, without waiting for the notification.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

import psycopg

from slotoptim.api.apikeys import ApiKey

logger = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0


class ApiKeyCache:
    def __init__(self, url: str, ttl: float = 5.0) -> None:
        self.url = url
        self.ttl = ttl
        self._keys: dict[bytes, tuple[ApiKey, float]] = {}
        self._lock = threading.Lock()
        self._live = False  # True while the listener is connected: only then may entries be used
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def live(self) -> bool:
        """True while the listener is connected (only then are keys cached)."""
        return self._live

    @staticmethod
    def _digest(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str) -> ApiKey | None:
        if not self._live:
            return None
        digest = self._digest(token)
        with self._lock:
            entry = self._keys.get(digest)
        if entry is None or time.monotonic() - entry[1] > self.ttl:
            return None
        return entry[0]

    def put(self, token: str, key: ApiKey, looked_up_at: float) -> None:
        """`looked_up_at`: time.monotonic() before the lookup began; a notification that arrived
        after it (the key may have changed since) keeps the result out of the cache."""
        if not self._live:
            return
        with self._lock:
            if looked_up_at >= self._cleared_at:
                self._keys[self._digest(token)] = (key, looked_up_at)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._cleared_at = time.monotonic()

    _cleared_at = 0.0

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._listen, name="slotoptim-apikey-cache", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._live = False
        self.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    row = conn.execute("select slotoptim_private.engine_channel('api_key')").fetchone()
                    if row is None or row[0] is None:
                        return  # not migrated: never cache
                    conn.execute(psycopg.sql.SQL("listen {}").format(psycopg.sql.Identifier(str(row[0]))))
                    self.clear()  # whatever changed while away
                    self._live = True
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self.clear()
            except psycopg.Error as exc:
                logger.warning("API key cache listener: %s", type(exc).__name__)
            finally:
                self._live = False
                self.clear()
            self._stopping.wait(RECONNECT_SECONDS)
