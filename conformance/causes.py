"""Root causes: one defect of the backend gives one failure, the other checks it stops are blocked.

Most checks need other endpoints to work before they reach what they judge: a create-stream
that crashes stops nearly every check. Each failure that shows a request the check expected
to succeed (a set-up step, or a request its requirement says must be accepted) gets a
*cause*: the endpoint and its answer, e.g. ``join-stream-as-viewer answered 500 'error
updating user  document'`` (or no answer at all, or a success answer outside its schema).
Failures with the same cause are one defect. A failure on a request the check expected to be
refused gets a *weak* cause when the answer was a 5xx: such a check is blocked only when the
endpoint's owner (below) failed on the very same answer to plain, valid input (the endpoint
crashes whatever it is sent); otherwise a 5xx where a refusal was due is its own finding.
One of the failures with a cause keeps the failure, the *owner*:

1. the requirement that owns the endpoint's success (RESP-1 for the client endpoints, WH-2
   for the webhooks: :data:`OWNERS`), when it failed on this cause;
2. else a MUST requirement before a SHOULD or MAY one (a block never hides a MUST failure);
3. else the first in requirement order.

The others become ``blocked``, with the cause and the owner's ID in their summary. A failure
whose cause nothing else shares stays a failure: a set-up that fails only in one check is that
check's finding, never hidden.

:class:`CauseTracker` does this as results arrive (so the live output says "blocked" at once)
and again over the whole run (:meth:`CauseTracker.settle`), where a later owner of higher
rank takes the failure over.
"""

from __future__ import annotations

from collections.abc import Iterable

from .outcomes import BLOCKED, FAIL, CheckFailed, Result
from .transport import CLIENT_ENDPOINTS, WEBHOOK_ENDPOINTS, Exchange

__all__ = ["OWNERS", "CauseTracker", "cause_of"]

#: Endpoint -> the requirement that judges its plain success.
OWNERS: dict[str, str] = {
    **dict.fromkeys(CLIENT_ENDPOINTS, "RESP-1"),
    **dict.fromkeys(WEBHOOK_ENDPOINTS, "WH-2"),
}
_SHOWN = 80


def cause_of(failure: CheckFailed, exchange: Exchange | None) -> str | None:
    """The root cause of ``failure`` (shown by ``exchange``), or ``None`` when it has none
    that another check could share (a weak cause when ``failure.expected_success`` is false:
    see the module docstring)."""
    if failure.cause:
        return failure.cause
    if exchange is None or not exchange.endpoint:
        return None
    if not failure.expected_success and not (exchange.status or 0) >= 500:
        return None
    endpoint = exchange.endpoint
    status = exchange.status
    if status is None:
        if exchange.response.unsent:
            return None
        return f"{endpoint} gave no answer ({exchange.response.error or 'no response'})"
    if 200 <= status < 300:
        return f"{endpoint}'s {status} answer does not match protocol/{endpoint}.response"
    return f"{endpoint} answered {_answer(exchange)}"


def _answer(exchange: Exchange) -> str:
    message = exchange.error_message
    if isinstance(message, str):
        return f"{exchange.status} {message!r}"
    text = " ".join(exchange.text.split())
    if len(text) > _SHOWN:
        text = text[: _SHOWN - 3] + "..."
    return f"{exchange.status} {text}" if text else str(exchange.status)


def _owns_endpoint(result: Result) -> bool:
    """True when ``result`` is the failure of the requirement owning its cause's endpoint."""
    return result.cause is not None and any(
        result.cause.startswith(f"{endpoint} ") or result.cause.startswith(f"{endpoint}'s ")
        for endpoint, owner in OWNERS.items()
        if owner == result.id
    )


def _rank(result: Result) -> tuple[int, int, int]:
    """Lower is a better owner (see the module docstring)."""
    must = result.level == "MUST"
    return (0 if _owns_endpoint(result) else 1, 0 if must else 1, result.requirement.index)


class CauseTracker:
    """Blocks the failures whose cause another failure owns (see the module docstring)."""

    def __init__(self) -> None:
        self._owners: dict[str, Result] = {}
        self._weak: dict[str, list[Result]] = {}

    def observe(self, result: Result) -> None:
        """Record ``result`` (a finished check); block it if its cause is owned already and
        the owner outranks it, or take the cause over if it outranks the owner."""
        if result.status != FAIL or result.cause is None:
            return
        owner = self._owners.get(result.cause)
        if not result.expected_success:
            if owner is not None and _owns_endpoint(owner):
                _block(result, owner)
            else:
                self._weak.setdefault(result.cause, []).append(result)
            return
        if owner is None or _rank(result) < _rank(owner):
            self._owners[result.cause] = result
            if owner is not None:
                _block(owner, result)
            if _owns_endpoint(result):
                for weak in self._weak.pop(result.cause, []):
                    _block(weak, result)
            return
        _block(result, owner)

    def settle(self, results: Iterable[Result]) -> None:
        """Make every blocked result name the final owner of its cause."""
        for result in results:
            if result.status == BLOCKED and result.cause in self._owners:
                owner = self._owners[result.cause]
                if result.blocked_by != owner.id:
                    _block(result, owner)


def _block(result: Result, owner: Result) -> None:
    if result.status == FAIL:
        # what the check saw stays in the detail
        result.detail = f"{result.summary}\n{result.detail}".rstrip("\n")
    result.status = BLOCKED
    result.blocked_by = owner.id
    result.summary = f"blocked: {result.cause}; see {owner.id}"
