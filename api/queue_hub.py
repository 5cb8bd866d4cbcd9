"""One LISTEN connection per process, fanned out to every browser watching a queue.

The database announces each queue change on the channel slotoptim_private.engine_channel('queue')
(ids only). The hub holds
the process's single listening connection; browsers subscribe to a topic (an organisation and a
location) and get the topic's board, which the hub computes once per burst of changes with a
pooled connection and hands to every subscriber. So 200 open screens cost one listening
connection and one board query per change, not 200 of each. A subscriber that falls behind only
ever holds the newest board (a queue of one, latest wins). After a reconnect every watched topic
is recomputed, since changes may have been missed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import psycopg

from slotoptim.api.logs import log_event

# The NOTIFY channel kind; its name carries the instance secret (sql/45_fn_engine_channel.sql).
CHANNEL_KIND = "queue"
Topic = tuple[int, int | None]  # organisation, location (None: its providers without a location)
Board = dict[str, Any]


@dataclass(eq=False)
class Subscription:
    topic: Topic
    boards: asyncio.Queue[Board] = field(default_factory=lambda: asyncio.Queue(maxsize=1))

    def offer(self, board: Board) -> None:
        if self.boards.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.boards.get_nowait()
        self.boards.put_nowait(board)


class QueueHub:
    def __init__(self, url: str, compute: Callable[[Topic], Board], reconnect_seconds: float = 1.0) -> None:
        self.url = url
        self.compute = compute  # blocking: runs in a worker thread
        self.reconnect_seconds = reconnect_seconds
        self.subscribers: dict[Topic, set[Subscription]] = {}
        self.latest: dict[Topic, Board] = {}
        self._dirty: set[Topic] = set()
        self._refreshing: set[Topic] = set()
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self.notifications = 0
        self.boards_computed = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="queue-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_listening(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._listening.wait(), timeout)

    async def subscribe(self, topic: Topic) -> Subscription:
        """A new subscriber gets the topic's current board first."""
        subscription = Subscription(topic)
        self.subscribers.setdefault(topic, set()).add(subscription)
        board = self.latest.get(topic)
        if board is None:
            board = await self._compute(topic)
        subscription.offer(board)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        watchers = self.subscribers.get(subscription.topic)
        if watchers is not None:
            watchers.discard(subscription)
            if not watchers:
                del self.subscribers[subscription.topic]
                self.latest.pop(subscription.topic, None)

    @property
    def watchers(self) -> int:
        return sum(len(s) for s in self.subscribers.values())

    async def _compute(self, topic: Topic) -> Board:
        board = await anyio.to_thread.run_sync(self.compute, topic)
        self.boards_computed += 1
        self.latest[topic] = board
        return board

    def changed(self, topic: Topic) -> None:
        """A change in topic: recompute once, however many changes arrive while computing."""
        if topic not in self.subscribers:
            return
        self._dirty.add(topic)
        if topic not in self._refreshing:
            self._refreshing.add(topic)
            asyncio.get_running_loop().create_task(self._refresh(topic))

    async def _refresh(self, topic: Topic) -> None:
        try:
            while topic in self._dirty and topic in self.subscribers:
                self._dirty.discard(topic)
                try:
                    board = await self._compute(topic)
                except Exception as exc:  # a failed board must not end the hub; the next change retries
                    log_event("queue_board_failed", logging.WARNING, error=type(exc).__name__)
                    return
                for subscription in list(self.subscribers.get(topic, ())):
                    subscription.offer(board)
        finally:
            self._refreshing.discard(topic)

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    cur = await conn.execute("select slotoptim_private.engine_channel(%s)", (CHANNEL_KIND,))
                    row = await cur.fetchone()
                    assert row is not None and row[0] is not None, "engine_channel: run slotoptim migrate"
                    await conn.execute(psycopg.sql.SQL("listen {}").format(psycopg.sql.Identifier(str(row[0]))))
                    self._listening.set()
                    for topic in list(self.subscribers):  # whatever changed while we were away
                        self.changed(topic)
                    async for notify in conn.notifies():
                        self.notifications += 1
                        changed = _topic(notify.payload)
                        if changed is not None:
                            self.changed(changed)
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:
                self._listening.clear()
                log_event("queue_listener_reconnecting", logging.WARNING, error=type(exc).__name__)
                await asyncio.sleep(self.reconnect_seconds)


def _topic(payload: str) -> Topic | None:
    try:
        data = json.loads(payload)
        location = data.get("location")
        return int(data["org"]), None if location is None else int(location)
    except (ValueError, KeyError, TypeError):
        return None
