"""Wrong passcodes sent on purpose: near misses of the right one, and the accepted request
that follows each refused one.

Private to :mod:`conformance.checks`. SEC-2 throttles *consecutive* failures, so every check
that provokes a refusal restores standing at once and never trips the throttle itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemas import catalog

from ..transport import Exchange

if TYPE_CHECKING:
    from ..context import CheckContext

PASSCODE_INCORRECT = next(c for c in catalog.AUTH_ERRORS if c.message == "passcode incorrect")
PASSCODE_EXPIRED = next(c for c in catalog.AUTH_ERRORS if c.message == "passcode expired")


def near_misses(passcode: str) -> list[tuple[str, str]]:
    """``(label, header value)`` pairs that are not exactly the passcode but close to it."""
    changed_char = "1" if passcode[0] != "1" else "2"
    last = passcode[-1]
    appended = "0" if last != "0" else "1"
    found = [
        ("a 'Bearer ' prefix", f"Bearer {passcode}"),
        ("a leading space", f" {passcode}"),
        ("a trailing space", f"{passcode} "),
        ("a trailing tab", f"{passcode}\t"),
        ("its last character missing", passcode[:-1]),
        ("one character appended", passcode + appended),
        ("its first character changed", changed_char + passcode[1:]),
        ("a completely different value", "not-the-passcode"),
    ]
    if passcode.lower() != passcode.upper():
        swapped = passcode.swapcase()
        found.append(("its letters' case swapped", swapped))
    return [(label, value) for label, value in found if value != passcode and value]


def restore_standing(ctx: CheckContext) -> Exchange:
    """A successful request after a failed passcode attempt.

    SEC-2 counts *consecutive* failures, so a check that sends wrong passcodes on purpose
    follows each with an accepted one and never provokes the throttle itself.
    """
    return ctx.call("verify-passcode", {})


def refused_call(
    ctx: CheckContext,
    endpoint: str,
    params: Any = None,
    *,
    passcode: Any,
    what: str,
    **kwargs: Any,
) -> Exchange:
    """Call with a wrong (or no) passcode, then restore standing; a 429 fails the check."""
    exchange = ctx.call(endpoint, params, passcode=passcode, **kwargs)
    restore_standing(ctx)
    if exchange.status == 429:
        ctx.fail(
            f"{endpoint} with {what} answered 429 instead of 401, although every failed "
            "attempt of the suite was followed by an accepted one (SEC-2 counts consecutive "
            "failures)",
            exchange=exchange,
        )
    return exchange
