"""IDEM: retries and replays (docs/PROTOCOL.md 4 and requirements IDEM-1..IDEM-4)."""

from __future__ import annotations

from typing import Any

from ..context import CheckContext
from ..registry import check
from ._answers import describe_answer, expect_2xx, without_token
from ._late_room_ended import ended_stream, event_of, late_deliveries
from ._parameters import stream_params
from ._twilio_state import (
    expect_unchanged,
    permissions_snapshot,
    show_writes,
    stream_snapshot,
    successful_writes,
    sync_snapshot,
)
from ._waiting import quiet_wait, settle
from ._webhook_deliveries import (
    connected_speaker,
    deliver_without_effect,
    room_event,
    sync_event,
)


@check("IDEM-1", needs_twilio=True)
def client_retries_are_harmless(ctx: CheckContext) -> None:
    """Repeating an identical join (viewer or speaker), viewer-connected-to-player,
    raise-hand (true, false, and lowering a hand never raised) or send-speaker-invite gives
    the same status and body (token aside) and the same Sync state, permissions and
    conversation participants as the first request alone.

    Passes: raise-hand {"hand_raised": true} twice answers {"sent": true} twice and
    raised_hands = {"bob": {}}.
    Fails: the second viewer-connected-to-player answers 500 'error adding user to viewers
    map' (Twilio said the item exists).
    """
    stream = ctx.new_stream()
    viewer = ctx.identity()
    stranger = ctx.identity()
    speaker = ctx.identity("speaker")
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("join-stream-as-viewer", viewer, {}),
        ("viewer-connected-to-player", viewer, {}),
        ("raise-hand", viewer, {"hand_raised": True}),
        ("raise-hand", viewer, {"hand_raised": False}),
        ("raise-hand", stranger, {"hand_raised": False}),
        ("send-speaker-invite", viewer, {}),
        ("join-stream-as-speaker", speaker, {}),
    ]
    for endpoint, identity, extra in steps:
        params = {**stream_params(ctx, endpoint, stream, identity), **extra}
        first = ctx.call(endpoint, params)
        settle(ctx)
        after_first = stream_snapshot(ctx, stream)
        second = ctx.call(endpoint, params)
        settle(ctx)
        after_second = stream_snapshot(ctx, stream)
        what = f"{endpoint} {params} repeated"
        if first.status != second.status:
            ctx.fail(
                f"{what}: answered {describe_answer(first)} then {describe_answer(second)}",
                exchange=second,
            )
        if without_token(first.json) != without_token(second.json):
            ctx.fail(
                f"{what}: the bodies differ",
                exchange=second,
                expected=without_token(first.json),
                actual=without_token(second.json),
            )
        expect_unchanged(ctx, after_first, after_second, f"{what} changed the state", second)


@check("IDEM-2", needs_twilio=True)
def duplicate_deliveries_change_nothing(ctx: CheckContext) -> None:
    """Delivering the same signed rooms-webhook or sync-webhook request twice in a row
    answers 2xx both times and leaves the state of a single delivery.

    Passes: participant-connected for bob delivered again answers 200 twice and speakers is
    still {"alice": {"host": true}, "bob": {"host": false}}.
    Fails: the second delivery answers 500 'error adding user to speakers map'.
    """
    view = ctx.require_twilio()
    stream, speaker, sid = connected_speaker(ctx)
    viewer = stream.join_viewer()
    stream.viewer_connected(viewer.identity)
    stream.raise_hand(viewer.identity, True)
    settle(ctx)
    deliveries = [
        (
            "rooms-webhook",
            room_event(
                ctx, stream.room_sid, stream.name, "participant-connected", speaker.identity, sid
            ),
        ),
        (
            "sync-webhook",
            sync_event(ctx, stream.sync_service_sid, "endpoint_disconnected", viewer.identity),
        ),
    ]
    for path, form in deliveries:
        event = form.get("StatusCallbackEvent") or form.get("EventType")
        _repeat_changes_nothing(ctx, view, stream, path, form, f"the first {path} {event}", path)
    speaker.disconnect_room()
    settle(ctx)
    form = room_event(
        ctx, stream.room_sid, stream.name, "participant-disconnected", speaker.identity, sid
    )
    _repeat_changes_nothing(
        ctx,
        view,
        stream,
        "rooms-webhook",
        form,
        "a participant-disconnected",
        "participant-disconnected",
    )


def _repeat_changes_nothing(
    ctx: CheckContext,
    view: Any,
    stream: Any,
    path: str,
    form: dict[str, str],
    first: str,
    label: str,
) -> None:
    """Deliver ``form`` to ``path`` twice: both acknowledged, the second changing nothing.

    ``first`` names the first delivery ("<first> delivery"), ``label`` the repeated one.
    """
    once = ctx.webhook(path, form)
    expect_2xx(ctx, once, f"{first} delivery")
    settle(ctx)
    single = sync_snapshot(view, stream.sync_service_sid)
    deliver_without_effect(
        ctx,
        view,
        stream.sync_service_sid,
        path,
        form,
        single,
        f"the same {label} delivery repeated",
        changed=f"the repeated {label} delivery changed the state",
    )


_CREATES = (
    ("video", "/video/v1/Rooms"),
    ("media", "/media/v1/PlayerStreamers"),
    ("media", "/media/v1/MediaProcessors"),
    ("sync", "/sync/v1/Services"),
)


@check("IDEM-3", needs_twilio=True)
def late_deliveries_resurrect_nothing(ctx: CheckContext) -> None:
    """After room-ended, deliveries about the old room or Sync service (participant-connected,
    participant-disconnected, room-ended again, endpoint_disconnected) create no Sync
    service, map, item, document, permission or stream record, whatever they answer (the
    answer is WH-4's).

    Passes: after room-ended, a participant-connected for alice about the old room answers
    200 (or even 500) and the old Sync service stays deleted.
    Fails: it re-creates the speakers item in a new Sync service, or a room or a
    PlayerStreamer for the stream.
    """
    view = ctx.require_twilio()
    ended = ended_stream(ctx)
    stream = ended.stream
    before = {
        "sync": sync_snapshot(view, stream.sync_service_sid),
        "permissions": permissions_snapshot(view, stream.sync_service_sid),
    }
    mark = view.mark()
    for path, form in late_deliveries(ctx, ended):
        event = event_of(form)
        exchange = ctx.webhook(path, form)
        settle(ctx)
        after = {
            "sync": sync_snapshot(view, stream.sync_service_sid),
            "permissions": permissions_snapshot(view, stream.sync_service_sid),
        }
        expect_unchanged(
            ctx,
            before,
            after,
            f"the late {event} delivery (answered {describe_answer(exchange)}) changed the old "
            "stream's Sync state",
            exchange,
        )
        created = [
            w
            for w in successful_writes(view, mark)
            if any(w.get("path") == path_ for _, path_ in _CREATES)
            or str(w.get("path", "")).startswith(f"/sync/v1/Services/{stream.sync_service_sid}")
        ]
        if created:
            ctx.fail(
                f"the late {event} delivery (answered {describe_answer(exchange)}) created "
                f"resources: {show_writes(created)}",
                exchange=exchange,
                actual=created,
            )


@check("IDEM-4", needs_twilio=True)
def stale_connect_does_not_readd_speaker(ctx: CheckContext) -> None:
    """A participant-connected delivery whose participant is already disconnected (a replay,
    or overtaken by its participant-disconnected) leaves no speakers item for that identity
    unless another participant with the identity is connected.

    Passes: bob leaves the room; replaying his participant-connected answers 200 and
    speakers has no "bob".
    Fails: the replay puts speakers["bob"] = {"host": false} back.
    """
    view = ctx.require_twilio()
    stream, speaker, sid = connected_speaker(ctx)
    connected = room_event(
        ctx, stream.room_sid, stream.name, "participant-connected", speaker.identity, sid
    )
    speaker.disconnect_room()
    settle(ctx)
    quiet_wait(
        ctx,
        lambda: view.map_items(stream.sync_service_sid, "speakers") or {},
        lambda found: speaker.identity not in found,
        ctx.config.consistency_timeout,
    )
    exchange = ctx.webhook("rooms-webhook", connected)
    expect_2xx(ctx, exchange, "a stale participant-connected delivery")
    settle(ctx)
    speakers = view.map_items(stream.sync_service_sid, "speakers") or {}
    if speaker.identity in speakers:
        ctx.fail(
            f"the stale participant-connected delivery for {speaker.identity!r} (participant "
            f"{sid}, disconnected) re-added speakers[{speaker.identity!r}]",
            exchange=exchange,
            actual=speakers,
        )
