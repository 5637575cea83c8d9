"""Streams around room-ended: one whose room has ended while the backend has not heard of it
yet, and one whose room-ended was handled, with the deliveries that arrive late for it.

Private to :mod:`conformance.checks`. :func:`room_ended_held_back`: the rooms-webhook
deliveries are lost while the room is completed, and handed to the backend afterwards. A
backend that judges a stream by the record it keeps until room-ended is handled (the original's
send-speaker-invite did) answers 200 in that window; the protocol says 'error finding room' as
soon as the room is completed (ERR-2, FLOW-8). :func:`ended_stream` and
:func:`late_deliveries`: Twilio sends participant events around room-ended in any order, so
deliveries about a stream's room or Sync service keep coming after its cleanup (IDEM-3 judges
what they create, WH-4 what they answer).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._answers import describe_answer
from ._waiting import quiet_wait
from ._webhook_deliveries import connected_speaker, registered_url, room_event, sync_event

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


@dataclass(frozen=True)
class EndedStream:
    """A stream whose room was completed at Twilio (room-ended delivered as usual), with the
    speaker (and its participant SID) and the viewer it had."""

    stream: Any
    speaker: str
    speaker_sid: str
    viewer: str


def ended_stream(ctx: CheckContext) -> EndedStream:
    """A stream with the host and a speaker in the room and a viewer, whose room is then
    completed at Twilio; waits (without failing: FLOW-9 judges the cleanup) until the backend
    deleted the stream's Sync service. Needs a view of Twilio."""
    view = ctx.require_twilio()
    stream, speaker, sid = connected_speaker(ctx)
    viewer = stream.join_viewer()
    view.complete_room(stream.room_sid)
    quiet_wait(
        ctx,
        lambda: view.sync_service(stream.sync_service_sid),
        lambda service: service is None,
        2 * ctx.config.consistency_timeout,
    )
    return EndedStream(stream, speaker.identity, sid, viewer.identity)


def late_deliveries(ctx: CheckContext, ended: EndedStream) -> list[tuple[str, dict[str, str]]]:
    """``(webhook path, form)`` of deliveries about ``ended``'s room or Sync service after its
    room-ended: participant-connected (the speaker, the host), participant-disconnected,
    room-ended again and endpoint_disconnected."""
    stream = ended.stream
    completed = "completed"

    def late_room_event(event: str, identity: str, sid: str | None = None) -> dict[str, str]:
        return room_event(
            ctx, stream.room_sid, stream.name, event, identity, sid, room_status=completed
        )

    return [
        (
            "rooms-webhook",
            late_room_event("participant-connected", ended.speaker, ended.speaker_sid),
        ),
        ("rooms-webhook", late_room_event("participant-connected", stream.host)),
        (
            "rooms-webhook",
            late_room_event("participant-disconnected", ended.speaker, ended.speaker_sid),
        ),
        ("rooms-webhook", room_event(ctx, stream.room_sid, stream.name, "room-ended")),
        (
            "sync-webhook",
            sync_event(ctx, stream.sync_service_sid, "endpoint_disconnected", ended.viewer),
        ),
    ]


def event_of(form: dict[str, str]) -> str:
    """The event a webhook form reports (StatusCallbackEvent or EventType)."""
    return form.get("StatusCallbackEvent") or form.get("EventType") or "?"
