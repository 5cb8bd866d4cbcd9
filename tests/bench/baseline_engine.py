"""The engine and sender as they ran before issue 18, for a baseline measured in the same run as
today's: a new database connection every pass, a fixed 10 ms wait for more notifications after a
wake-up, a new thread pool every batch, and one round trip per message for its attempt and for its
outcome. Used with baseline_sql.apply_baseline (the SQL functions of that time) on a database of
its own, so the two paths alternate round by round under the same load.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from psycopg.rows import dict_row

from slotoptim.listener.channels.base import Channel, OutboundMessage, ReconcilableChannel
from slotoptim.listener.engine import Engine
from slotoptim.listener.sender import FACTS, Sender


class BaselineSender(Sender):
    def drain(self, limit: int = 1000) -> int:
        total = 0
        for _ in range(limit):
            sent = self.run_once()
            total += sent
            if sent < self.config.batch:
                break
        return total

    def run_once(self) -> int:
        at = self.clock()
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            claimed = cur.execute(
                "select id from slotoptim.claim_messages(%s, %s, %s, make_interval(secs => %s))",
                (self.worker, self.config.batch, at, self.config.lease_seconds),
            ).fetchall()
            if not claimed:
                return 0
            ids = [int(r["id"]) for r in claimed]
            facts = cur.execute(FACTS, (ids,)).fetchall()
            key = self._signing_key(conn)
        with ThreadPoolExecutor(max_workers=self.config.threads) as pool:
            list(pool.map(lambda row: self._deliver(row, key), facts))
        return len(ids)

    def _send(
        self,
        row: dict[str, Any],
        message: OutboundMessage,
        channel: Channel,
        reconcilable: ReconcilableChannel | None,
        account: str,
        sent: list[tuple[int, str, str]] | None = None,
    ) -> None:
        recorded = self._sql(
            "select slotoptim.message_attempt(%s, %s, %s, %s, %s, make_interval(secs => %s))",
            (row["id"], self.worker, uuid.uuid4(), message.body, self.clock(), self.config.lease_seconds),
        )
        if recorded:
            self._call(row, message, channel, reconcilable, account, None)


class BaselineEngine(Engine):
    def run_pass(self) -> dict[str, int]:
        # A new connection every pass: run_pass closes its connection when not serving.
        serving, self._serving = self._serving, False
        try:
            return super().run_pass()
        finally:
            self._serving = serving

    def _listen_loop(self, listen: psycopg.Connection[Any]) -> None:
        self.run_pass()
        while not self.stopping.is_set():
            woke = False
            for _ in listen.notifies(timeout=self.poll_seconds, stop_after=1):
                woke = True
            if woke:
                for _ in listen.notifies(timeout=0.01):
                    pass
            self.run_pass()
