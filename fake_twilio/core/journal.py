"""The request journal: every REST request the fake answered, for assertions.

A test asks, for example, "after the rejected request, did the backend write to Twilio?" with
``journal.entries(since=mark, writes_only=True)``. Bounded (oldest entries dropped first) so a
long soak run cannot grow it without limit.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


@dataclass
class JournalEntry:
    seq: int
    time: str
    account_sid: str | None
    product: str | None
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    form: dict[str, list[str]] = field(default_factory=dict)
    status: int = 0
    error_code: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class JournalFilter:
    """Which journal entries to list: every field left at its default matches everything.

    The one definition of the journal's filters: :meth:`Journal.entries`, ``FakeControl.requests``
    and ``ControlClient.requests`` all take these fields as keyword arguments.
    """

    since: int = 0
    account_sid: str | None = None
    product: str | None = None
    method: str | None = None
    path_contains: str | None = None
    writes_only: bool = False
    status: int | None = None

    def matches(self, entry: JournalEntry) -> bool:
        return (
            entry.seq > self.since
            and (not self.account_sid or entry.account_sid == self.account_sid)
            and (not self.product or entry.product == self.product)
            and (not self.method or entry.method == self.method.upper())
            and (not self.path_contains or self.path_contains in entry.path)
            and (not self.writes_only or entry.method in WRITE_METHODS)
            and (self.status is None or entry.status == self.status)
        )


class Journal:
    def __init__(self, max_entries: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque(maxlen=max_entries)
        self._seq = itertools.count(1)
        self.enabled = True

    def record(self, **fields: Any) -> JournalEntry | None:
        if not self.enabled:
            return None
        with self._lock:
            entry = JournalEntry(seq=next(self._seq), **fields)
            self._entries.append(entry)
            return entry

    def mark(self) -> int:
        """The sequence number of the latest entry (0 when empty): pass it as ``since``."""
        with self._lock:
            return self._entries[-1].seq if self._entries else 0

    def entries(self, **filters: Any) -> list[JournalEntry]:
        """The entries, oldest first, that match ``filters`` (the fields of
        :class:`JournalFilter`; an unknown name is a ``TypeError``)."""
        wanted = JournalFilter(**filters)
        with self._lock:
            snapshot = list(self._entries)
        return [entry for entry in snapshot if wanted.matches(entry)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
