"""Waiting for webhook-driven effects: flushing the fake's delivery queue, moving its clock
past debouncing, and polling within a bound.

Private to :mod:`conformance.checks`. State checks wait twice the consistency bound: whether
an effect happens is their business, how fast it happens is FLOW-12's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..outcomes import CheckFailed

if TYPE_CHECKING:
    from ..context import CheckContext


def settle(ctx: CheckContext) -> None:
    """Let queued webhook deliveries reach the backend before a snapshot."""
    if ctx.twilio is not None:
        ctx.twilio.flush_webhooks()


def correctness_timeout(ctx: CheckContext) -> float:
    """How long state checks wait for webhook-driven effects.

    Twice the consistency bound: timeliness itself is FLOW-12's requirement, so the other
    checks judge only whether the effect happens.
    """
    return 2 * ctx.config.consistency_timeout


def wait_for(
    ctx: CheckContext,
    probe: Callable[[], Any],
    until: Callable[[Any], Any],
    description: str,
    timeout: float | None = None,
) -> Any:
    """:meth:`CheckContext.eventually` after flushing the fake's webhook queue."""
    settle(ctx)
    return ctx.eventually(
        probe,
        until,
        description=description,
        timeout=correctness_timeout(ctx) if timeout is None else timeout,
    )


def quiet_wait(
    ctx: CheckContext, probe: Callable[[], Any], until: Callable[[Any], Any], timeout: float
) -> bool:
    """Poll without failing: whether ``until(probe())`` became true within ``timeout``."""
    settle(ctx)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if until(probe()):
                return True
        except CheckFailed:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def advance_past_debouncing(ctx: CheckContext, service_sid: str) -> None:
    """Move the fake clock past the Sync service's reachability debouncing window."""
    view = ctx.require_twilio()
    service = view.sync_service(service_sid) or {}
    if service.get("reachability_debouncing_enabled"):
        window = service.get("reachability_debouncing_window") or 5000
        view.advance_clock(float(window) / 1000.0 + 0.5)
    view.flush_webhooks()
