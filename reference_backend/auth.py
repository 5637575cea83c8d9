"""The passcode check of every client endpoint, with per-client throttling of wrong guesses.

Order (docs/PROTOCOL.md 2.2): a client that made too many consecutive wrong guesses recently is
refused first (429 ``too many requests`` with ``Retry-After``, even with the right passcode, so
throttling reveals nothing); then the expiry (401 ``passcode expired`` whatever the header
holds); then the ``Authorization`` header is compared verbatim (no trimming, no ``Bearer``)
with the passcode in constant time (401 ``passcode incorrect``, counted against the client; a
success clears the count). The check runs before input validation, and a refused request never
reaches Twilio.
"""

from __future__ import annotations

import hmac
import math
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime

from .errors import passcode_expired, passcode_incorrect, too_many_requests

__all__ = ["FailureThrottle", "PasscodeGuard"]


class FailureThrottle:
    """Counts failures per client key in a sliding window; thread-safe, bounded memory.

    A client is blocked while it has at least ``max_failures`` failures younger than
    ``window`` seconds. ``now`` returns seconds on any monotonic-enough scale (injectable for
    tests). At most ``max_clients`` clients are tracked; the least recently failing are
    forgotten first.
    """

    def __init__(
        self,
        max_failures: int,
        window: float,
        now: Callable[[], float],
        max_clients: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self._now = now
        self._max_clients = max_clients
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def blocked_for(self, client: str) -> float:
        """Seconds until ``client`` may try again (0 when it is not blocked).

        A client is blocked while its last ``max_failures`` failures all happened within the
        window; the block lifts when the oldest of them leaves the window.
        """
        with self._lock:
            now = self._now()
            times = self._recent(client, now)
            if times is None or len(times) < self.max_failures:
                return 0.0
            return max(times[0] + self.window - now, 0.0)

    def record_failure(self, client: str) -> None:
        with self._lock:
            now = self._now()
            times = self._recent(client, now)
            if times is None:
                times = self._failures[client] = deque(maxlen=self.max_failures)
            times.append(now)
            self._failures.move_to_end(client)
            while len(self._failures) > self._max_clients:
                self._failures.popitem(last=False)

    def forget(self, client: str) -> None:
        """Clear ``client``'s failures (after it proved it knows the passcode)."""
        with self._lock:
            self._failures.pop(client, None)


class PasscodeGuard:
    """Checks a request's ``Authorization`` header; raises the protocol's 401/429 errors."""

    def __init__(
        self,
        passcode: str,
        expires_at: datetime,
        throttle: FailureThrottle,
        now: Callable[[], datetime],
    ) -> None:
        self._passcode = passcode.encode("utf-8")
        self._expires_at = expires_at
        self._throttle = throttle
        self._now = now

    def check(self, authorization: str | None, client: str) -> None:
        """Return if ``authorization`` is exactly the passcode and it has not expired.

        Raises :class:`~reference_backend.errors.ProtocolError`: 429 ``too many requests``,
        401 ``passcode expired`` or 401 ``passcode incorrect`` (in that order of precedence).
        """
        wait = self._throttle.blocked_for(client)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        if self._now() > self._expires_at:
            raise passcode_expired()
        given = (authorization or "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._passcode):
            self._throttle.record_failure(client)
            raise passcode_incorrect()
        self._throttle.forget(client)
