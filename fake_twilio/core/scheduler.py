"""Deadlines on the fake's clock (TTLs, room timeouts, MaxDuration).

Models schedule a callback for an instant; :meth:`Scheduler.run_due` runs the ones whose time
has come, in time order. It is called under the state lock at the start of every request and
after every clock move, so time-driven transitions are deterministic: nothing happens between
requests unless the clock is advanced. A callback re-checks its object (it may have been
deleted or its TTL changed), so cancelling is optional.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(order=True)
class _Entry:
    when: datetime
    seq: int
    owner: tuple[str, str] = field(compare=False)
    callback: Callable[[datetime], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Scheduler:
    """A heap of deadlines, each owned by an ``(account_sid, product)`` pair."""

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._seq = itertools.count()

    def schedule(
        self, when: datetime, owner: tuple[str, str], callback: Callable[[datetime], None]
    ) -> _Entry:
        entry = _Entry(when, next(self._seq), owner, callback)
        heapq.heappush(self._heap, entry)
        return entry

    @staticmethod
    def cancel(entry: _Entry | None) -> None:
        if entry is not None:
            entry.cancelled = True

    def drop(self, account_sid: str | None = None, product: str | None = None) -> None:
        """Cancel every deadline of an account and/or product (both None: all)."""
        for entry in self._heap:
            acc, prod = entry.owner
            if (account_sid is None or acc == account_sid) and (product is None or prod == product):
                entry.cancelled = True

    def run_due(self, now: datetime) -> int:
        """Run every deadline at or before ``now``; return how many ran."""
        ran = 0
        while self._heap and self._heap[0].when <= now:
            entry = heapq.heappop(self._heap)
            if entry.cancelled:
                continue
            entry.callback(entry.when)
            ran += 1
        return ran

    def __len__(self) -> int:
        return sum(1 for entry in self._heap if not entry.cancelled)
