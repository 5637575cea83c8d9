"""One lock per stream, so the webhook deliveries about one stream are handled one at a time.

Twilio delivers webhooks concurrently and the server is threaded. Each handler reads Twilio
state and then writes Sync (e.g. the sync-webhook asks whether the identity is in the room,
then removes its speakers item); two deliveries about one stream interleaved between those
steps lose an update: a participant-connected handled between the sync-webhook's check and its
removal leaves a connected speaker out of ``speakers``, and one handled while room-ended deletes
the Sync service fails with a 5xx. Serialising the deliveries of one stream (in one process)
closes those windows; deliveries about different streams still run in parallel.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["StreamLocks"]


class StreamLocks:
    """Locks keyed by Room SID, created on demand and dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, room_sid: str) -> Iterator[None]:
        """Hold the lock of ``room_sid`` for the ``with`` block."""
        with self._guard:
            lock, users = self._locks.get(room_sid, (None, 0))
            lock = lock or threading.Lock()
            self._locks[room_sid] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users = self._locks[room_sid][1] - 1
                if users:
                    self._locks[room_sid] = (lock, users)
                else:
                    del self._locks[room_sid]

    def __len__(self) -> int:
        """How many streams have a lock held or awaited now."""
        with self._guard:
            return len(self._locks)
