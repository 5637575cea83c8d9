"""A stream whose room has ended while the backend has not heard of it yet: the rooms-webhook
deliveries are lost while the room is completed, and handed to the backend afterwards.

Private to :mod:`conformance.checks`. A backend that judges a stream by the record it keeps
until room-ended is handled (the original's send-speaker-invite did) answers 200 in that window;
the protocol says 'error finding room' as soon as the room is completed (ERR-2, FLOW-8).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._answers import describe_answer
from ._webhook_deliveries import registered_url

if TYPE_CHECKING:
    from ..context import CheckContext

_PATH = "rooms-webhook"


@contextlib.contextmanager
def room_ended_held_back(ctx: CheckContext, stream: Any) -> Iterator[None]:
    """Within the block, the stream's rooms-webhook deliveries (room-ended among them) do not
    reach the backend; afterwards they are delivered, in order, signed as Twilio signs them,
    so the backend cleans up as usual. Needs a view of Twilio."""
    view = ctx.require_twilio()
    url = registered_url(ctx, stream, _PATH)
    since = max((d.get("seq") or 0 for d in view.deliveries()), default=0)
    try:
        with view.webhooks_lost(url):
            yield
            view.flush_webhooks()
    finally:
        held = [d for d in view.deliveries(since) if d.get("url") == url]
        for delivery in held:
            exchange = ctx.webhook(_PATH, dict(delivery.get("params") or {}), url_for_signature=url)
            if not exchange.ok:
                ctx.note(
                    f"the held {delivery.get('params', {}).get('StatusCallbackEvent')} delivery "
                    f"answered {describe_answer(exchange)} when handed over late"
                )
