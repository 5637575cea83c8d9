"""A clock the tests control.

Every time the fake reads (token validity, TTLs, room timeouts, MaxDuration) comes from one
:class:`Clock` owned by the fake's state. It follows the wall clock until frozen; a frozen
clock only moves when advanced. ``advance`` also works on a running clock (it adds an offset).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_datetime(value: datetime | None) -> str | None:
    """Twilio's wire format, ``YYYY-MM-DDTHH:MM:SSZ`` (the SDK parses exactly this).

    The year always has four digits (``0772-06-20T13:41:35Z``, as RFC 3339 requires):
    ``strftime("%Y")`` does not pad years before 1000 on every platform (glibc writes ``772``).
    """
    if value is None:
        return None
    return format_date_and_time(value.astimezone(UTC)) + "Z"


def format_date_and_time(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` of ``value`` as it stands (no zone), the year zero-padded."""
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )


def parse_datetime(value: str) -> datetime:
    """Parse an ISO-8601 date-time as the SDK sends it (``Z`` or an offset)."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class Clock:
    """Wall-clock time plus an offset, or a frozen instant."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return utcnow() + self._offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self, at: datetime | None = None) -> datetime:
        """Stop the clock at ``at`` (default: the current fake time)."""
        current = self.now()
        with self._lock:
            self._frozen_at = (at or current).astimezone(UTC)
            return self._frozen_at

    def unfreeze(self) -> None:
        """Resume from the frozen instant at wall-clock speed."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - utcnow()
                self._frozen_at = None

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (never backward) by ``seconds``."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta(0)
            self._frozen_at = None
