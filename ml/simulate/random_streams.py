"""Common random numbers: one independent stream per (replication, provider, weekday, purpose, visit type).

Two templates compared on the same seed see the same k-th "new patient" on Monday with dr_a: the
same punctuality, the same no-show and cancellation draws and the same duration quantile. Their
difference in a metric is then mostly the templates' doing, and its confidence interval shrinks.
"""

from __future__ import annotations

import zlib

import numpy as np


def _label(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


class DayStreams:
    def __init__(self, seed: int, replication: int, provider: str, weekday: str) -> None:
        self._root = (seed, replication, _label(provider), _label(weekday))
        self._streams: dict[tuple[str, str], np.random.Generator] = {}

    def uniform(self, purpose: str, key: str) -> float:
        """The next uniform in [0, 1) of the (purpose, key) sequence."""
        stream = self._streams.get((purpose, key))
        if stream is None:
            sequence = np.random.SeedSequence([*self._root, _label(purpose), _label(key)])
            stream = self._streams[(purpose, key)] = np.random.default_rng(sequence)
        return float(stream.random())
