"""Webhook deliveries the suite makes itself: forms like Twilio's, the URL the backend
registered, and a delivery that must be acknowledged without changing any state.

Private to :mod:`conformance.checks`. Forms carry what Twilio sends (account, room or
service, event, identity, timestamps); the transport signs them as Twilio does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..transport import Exchange
from ._answers import expect_2xx
from ._parameters import random_sid
from ._twilio_state import expect_unchanged, participant_sid, sync_snapshot
from ._waiting import settle

if TYPE_CHECKING:
    from ..context import CheckContext
    from ..twilio_view import TwilioView


def registered_url(ctx: CheckContext, stream: Any, path: str) -> str:
    """The webhook URL the backend registered for ``stream`` (read from the fake)."""
    view = ctx.require_twilio()
    if path == "rooms-webhook":
        room = view.room(stream.room_sid) or {}
        url = room.get("status_callback")
    else:
        service = view.sync_service(stream.sync_service_sid) or {}
        url = service.get("webhook_url")
    if isinstance(url, str) and url:
        ctx.backend.webhook_urls.setdefault(path, url)
        return url
    return ctx.backend.webhook_url(path)


_SEQUENCE = iter(range(100, 10**9))


def room_event(
    ctx: CheckContext,
    room_sid: str,
    room_name: str,
    event: str,
    identity: str | None = None,
    participant_sid: str | None = None,
    *,
    room_status: str = "in-progress",
) -> dict[str, str]:
    """A rooms-webhook form like Twilio's."""
    view = ctx.require_twilio()
    form = {
        "AccountSid": view.credentials.account_sid,
        "RoomSid": room_sid,
        "RoomName": room_name,
        "RoomStatus": room_status,
        "RoomType": "group",
        "StatusCallbackEvent": event,
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "SequenceNumber": str(next(_SEQUENCE)),
    }
    if identity is not None:
        form["ParticipantIdentity"] = identity
        form["ParticipantSid"] = participant_sid or random_sid(ctx, "PA")
        form["ParticipantStatus"] = (
            "disconnected" if event == "participant-disconnected" else "connected"
        )
    if event == "room-ended":
        form["RoomStatus"] = "completed"
        form["RoomDuration"] = "60"
    return form


def sync_event(ctx: CheckContext, service_sid: str, event: str, identity: str) -> dict[str, str]:
    """A sync-webhook form like Twilio's reachability webhooks."""
    view = ctx.require_twilio()
    return {
        "AccountSid": view.credentials.account_sid,
        "ServiceSid": service_sid,
        "EventType": event,
        "Identity": identity,
        "EndpointId": f"{identity}-endpoint",
        "DateCreated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def deliver_without_effect(
    ctx: CheckContext,
    view: TwilioView,
    service_sid: str,
    path: str,
    form: dict[str, str],
    before: Any,
    what: str,
    changed: str | None = None,
) -> Exchange:
    """Deliver ``form`` to the webhook ``path``: it must be acknowledged (2xx) and, once the
    deliveries settled, leave the Sync state of ``service_sid`` as ``before``.

    ``what`` names the delivery in a failure; ``changed`` is the message when the state moved
    (by default "<what> changed the state").
    """
    exchange = ctx.webhook(path, form)
    expect_2xx(ctx, exchange, what)
    settle(ctx)
    after = sync_snapshot(view, service_sid)
    expect_unchanged(ctx, before, after, changed or f"{what} changed the state", exchange)
    return exchange


def stream_with_audience(ctx: CheckContext) -> tuple[Any, Any, Any]:
    """A live stream with a viewer in viewers and raised_hands, and a speaker connected to the
    room: ``(stream, viewer, speaker)``."""
    stream = ctx.new_stream()
    stream.host_connects()
    viewer = stream.join_viewer()
    stream.viewer_connected(viewer.identity)
    stream.raise_hand(viewer.identity, True)
    speaker = stream.join_speaker()
    speaker.connect_room()
    return stream, viewer, speaker


def connected_speaker(ctx: CheckContext) -> tuple[Any, Any, str]:
    """A new stream with the host and a speaker connected to its room, both webhooks
    registered: ``(stream, speaker, the speaker's ParticipantSid)``."""
    stream = ctx.new_stream()
    stream.host_connects()
    speaker = stream.join_speaker()
    speaker.connect_room()
    settle(ctx)
    sid = participant_sid(ctx, stream.room_sid, speaker.identity)
    if sid is None:
        ctx.fail(f"{speaker.identity!r} could not connect to the room (needed for the check)")
    registered_url(ctx, stream, "rooms-webhook")
    registered_url(ctx, stream, "sync-webhook")
    return stream, speaker, sid
