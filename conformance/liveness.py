"""Noticing that the backend went away, so that a run stops instead of failing everything.

A backend that is killed mid-run refuses every later connection, and one that hangs lets
every later request time out: without this, each remaining check would fail ("connection
refused") or wait out its timeouts. :class:`Liveness` sees every request the checks' clients
send (``BackendClient.liveness``). After :data:`STREAK` requests in a row got no HTTP answer
(refused, reset or timed out), it asks the backend once more, with verify-passcode and the
correct passcode (``probe``); if that gets no answer or anything but 200 either, the backend
is gone: this request and every later one raise :class:`~conformance.outcomes.BackendGone`
at once, and the runner stops. One answer of any status ends a streak, so a backend that
drops one connection now and then is not mistaken for a dead one.
"""

from __future__ import annotations

from collections.abc import Callable

from .exchange import Exchange
from .outcomes import BackendGone

__all__ = ["STREAK", "Liveness", "short_error"]

#: Requests in a row without an answer after which the backend is probed.
STREAK = 2


class Liveness:
    """The backend's liveness as the run has seen it (see the module docstring).

    ``probe()`` returns ``None`` when the backend answers verify-passcode with 200, else
    one line saying what happened. ``check`` is the ID of the check running now (the runner
    sets it); ``streak_started`` the ID of the check in which the current streak of
    unanswered requests began.
    """

    def __init__(self, probe: Callable[[], str | None], *, streak: int = STREAK) -> None:
        self._probe = probe
        self._limit = streak
        self._streak = 0
        self.check: str | None = None
        self.streak_started: str | None = None
        self.gone: str | None = None

    def before_send(self) -> None:
        if self.gone is not None:
            raise BackendGone(self.gone)

    def observe(self, exchange: Exchange) -> None:
        response = exchange.response
        if response.status is not None or response.unsent:
            self._streak = 0
            return
        if self._streak == 0:
            self.streak_started = self.check
        self._streak += 1
        if self._streak < self._limit:
            return
        problem = self._probe()
        if problem is None:
            self._streak = 0
            return
        reason = "timed out" if response.timed_out else short_error(response.error or "no answer")
        if short_error(problem) != reason:
            reason += f" (then verify-passcode: {problem})"
        self.gone = reason
        raise BackendGone(reason)


def short_error(error: str) -> str:
    """What a user needs of an HTTP client error: ``ConnectError: [Errno 111] Connection
    refused`` -> ``connection refused``; an error it does not know is returned as it is."""
    lowered = error.lower()
    phrases = (
        "connection refused",
        "connection reset",
        "timed out",
        "server disconnected",
        "name or service not known",
        "no route to host",
        "network is unreachable",
    )
    for phrase in phrases:
        if phrase in lowered:
            return phrase
    return error
