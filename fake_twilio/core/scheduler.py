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
    scheduler: Scheduler | None = field(default=None, compare=False, repr=False)


def _cancelled_callback(when: datetime) -> None:
    pass


#: Cancelled entries wait in the heap until popped; past this many (and half the heap) the
#: heap is rebuilt without them, so cancelled deadlines cannot pile up (a frozen clock never
#: pops them) and do not keep what their callbacks reference alive.
_COMPACT_AFTER = 64


class Scheduler:
    """A heap of deadlines, each owned by an ``(account_sid, product)`` pair."""

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._cancelled = 0

    def schedule(
        self, when: datetime, owner: tuple[str, str], callback: Callable[[datetime], None]
    ) -> _Entry:
        entry = _Entry(when, next(self._seq), owner, callback, scheduler=self)
        heapq.heappush(self._heap, entry)
        return entry

    @staticmethod
    def cancel(entry: _Entry | None) -> None:
        if entry is None or entry.cancelled:
            return
        entry.cancelled = True
        entry.callback = _cancelled_callback  # release what the callback referenced
        scheduler, entry.scheduler = entry.scheduler, None
        if scheduler is not None:
            scheduler._note_cancelled()

    def _note_cancelled(self) -> None:
        self._cancelled += 1
        if self._cancelled > _COMPACT_AFTER and 2 * self._cancelled > len(self._heap):
            self._heap = [entry for entry in self._heap if not entry.cancelled]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def drop(self, account_sid: str | None = None, product: str | None = None) -> None:
        """Cancel every deadline of an account and/or product (both None: all)."""
        for entry in self._heap:
            acc, prod = entry.owner
            if (account_sid is None or acc == account_sid) and (product is None or prod == product):
                Scheduler.cancel(entry)

    def run_due(self, now: datetime) -> int:
        """Run every deadline at or before ``now``; return how many ran."""
        ran = 0
        while self._heap and self._heap[0].when <= now:
            entry = heapq.heappop(self._heap)
            if entry.cancelled:
                self._cancelled = max(self._cancelled - 1, 0)
                continue
            entry.scheduler = None  # popped: a later cancel() has nothing to count
            entry.callback(entry.when)
            ran += 1
        return ran

    def __len__(self) -> int:
        return sum(1 for entry in self._heap if not entry.cancelled)
