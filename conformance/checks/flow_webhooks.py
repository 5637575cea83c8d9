"""FLOW, Twilio's side: how a stream's state follows the webhooks Twilio delivers, from
participants connecting to the room ending (docs/PROTOCOL.md 5.3, 10 and requirements FLOW-4,
FLOW-5, FLOW-7, FLOW-9..11, FLOW-13, FLOW-16 and FLOW-17).

State driven by webhooks is awaited for twice the consistency bound (``correctness_timeout``):
these checks judge whether an effect happens; FLOW-12 (:mod:`.flow_endpoints`) alone judges
how fast.
"""

from __future__ import annotations

from typing import Any

from ..context import CheckContext
from ..registry import check
from ..scenario import Member
from ._answers import describe_answer
from ._twilio_state import (
    MAPS,
    chat_service_of,
    maps_snapshot,
    stream_items,
    sync_snapshot,
)
from ._waiting import advance_past_debouncing, correctness_timeout, quiet_wait, settle, wait_for
from ._webhook_deliveries import (
    deliver_without_effect,
    registered_url,
    room_event,
    stream_with_audience,
)


@check("FLOW-4", needs_twilio=True)
def connecting_participant_becomes_speaker(ctx: CheckContext) -> None:
    """After participant-connected for X: X is in neither viewers nor raised_hands, and
    speakers has X = {"host": false} when it had no item X (an existing item, such as the
    host's {"host": true}, is kept). The invitation may be consumed or left as it is.

    Passes: invited bob connects to the room: speakers["bob"] = {"host": false}, viewers and
    raised_hands lose bob; alice, connected while her {"host": true} item was there, keeps it.
    Fails: when alice connects, speakers["alice"] becomes {"host": false}.
    """
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    stream.viewer_connected(viewer.identity)
    stream.raise_hand(viewer.identity, True)
    stream.invite(viewer.identity)
    stream.host_connects()
    speaker = stream.join_speaker(viewer.identity)
    speaker.connect_room()
    host = stream.host

    def expected(state: dict[str, Any]) -> bool:
        return (
            viewer.identity not in (state["viewers"] or {})
            and viewer.identity not in (state["raised_hands"] or {})
            and (state["speakers"] or {}).get(viewer.identity) == {"host": False}
            and (state["speakers"] or {}).get(host) == {"host": True}
        )

    wait_for(
        ctx,
        lambda: maps_snapshot(ctx.require_twilio(), stream.sync_service_sid),
        expected,
        f"after {viewer.identity!r} and the host connected: {viewer.identity!r} a speaker "
        "{'host': False} out of viewers and raised_hands, the host still {'host': True}",
    )


@check("FLOW-5", needs_twilio=True)
def disconnecting_participant_stops_speaking(ctx: CheckContext) -> None:
    """After participant-disconnected for X, speakers has no item X (the host included).

    Passes: bob leaves the room and speakers loses "bob"; alice leaves and loses "alice".
    Fails: speakers still has "bob" after he left the room.
    """
    stream = ctx.new_stream()
    stream.host_connects()
    speaker = stream.join_speaker()
    speaker.connect_room()
    # not judged here (FLOW-4's business): give the speakers item a chance to appear first
    quiet_wait(
        ctx,
        lambda: stream_items(ctx, stream, "speakers"),
        lambda found: speaker.identity in found,
        ctx.config.consistency_timeout,
    )
    speaker.disconnect_room()
    wait_for(
        ctx,
        lambda: stream_items(ctx, stream, "speakers"),
        lambda found: speaker.identity not in found,
        f"speakers has no {speaker.identity!r} after participant-disconnected",
    )
    ctx.require_twilio().disconnect_from_room(stream.room_sid, stream.host)
    wait_for(
        ctx,
        lambda: stream_items(ctx, stream, "speakers"),
        lambda found: stream.host not in found,
        "speakers has no host item after the host's participant-disconnected",
    )


@check("FLOW-16", needs_twilio=True)
def host_is_the_host_again_after_reconnecting(ctx: CheckContext) -> None:
    """After the host's participant-disconnected and a later participant-connected for the
    host's identity, the host's speakers item is {"host": true} again.

    Passes: alice (the host) leaves the room, speakers loses "alice"; she connects again and
    speakers["alice"] = {"host": true}.
    Fails: alice comes back as {"host": false} (the original), so the web app shows
    "undefined (Host)" and nobody has the host's menu.
    """
    stream = ctx.new_stream()
    stream.host_connects()
    settle(ctx)
    stream.host_disconnects()
    # not judged here (FLOW-5's business): give the removal a chance to happen first
    quiet_wait(
        ctx,
        lambda: stream_items(ctx, stream, "speakers"),
        lambda found: stream.host not in found,
        ctx.config.consistency_timeout,
    )
    stream.host_connects()
    wait_for(
        ctx,
        lambda: stream_items(ctx, stream, "speakers"),
        lambda found: found.get(stream.host) == {"host": True},
        f"speakers[{stream.host!r}] is {{'host': True}} after the host left the room and "
        "connected again",
    )


@check("FLOW-17", needs_twilio=True)
def speaker_can_leave_the_stage_to_watch(ctx: CheckContext) -> None:
    """The web app's "Leave and View Event": join-stream-as-viewer and
    viewer-connected-to-player for a user still connected to the room (and in speakers)
    answer 200, and after its later participant-disconnected it is in viewers and not in
    speakers.

    The suite plays the web app's order: join-stream-as-viewer, the player connects with the
    new token, viewer-connected-to-player, and only then the Video client leaves the room.
    A plain viewer and a plain speaker go alongside: when the backend records no viewer at
    all (FLOW-1) or keeps every departed speaker (FLOW-5), that part is theirs, not this
    requirement's, and is only noted.

    Passes: speaker carol (connected, speakers["carol"] = {"host": false}) joins as a viewer
    and reports her player (both 200); she leaves the room: viewers = {"carol": {}} and
    speakers has no "carol".
    Fails: join-stream-as-viewer answers 409 for a connected speaker; or carol's
    participant-disconnected also removes her from viewers, hiding her from the host.
    """
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    stream.host_connects()
    audience = stream.join_viewer()
    stream.viewer_connected(audience.identity)
    plain, speaker = stream.join_speaker(), stream.join_speaker()
    plain.connect_room()
    speaker.connect_room()
    # not judged here (FLOW-4's business): give the speakers items a chance to appear first
    quiet_wait(
        ctx,
        lambda: stream_items(ctx, stream, "speakers"),
        lambda found: speaker.identity in found and plain.identity in found,
        ctx.config.consistency_timeout,
    )
    params = {"user_identity": speaker.identity, "stream_name": stream.name}
    answer = _accepted(ctx, "join-stream-as-viewer", params)
    viewer = Member(stream, speaker.identity, answer.json["token"], answer, "viewer")
    viewer.connect_player()
    _accepted(ctx, "viewer-connected-to-player", params)
    settle(ctx)
    plain.disconnect_room()
    speaker.disconnect_room()
    who = speaker.identity

    def watching_only(state: dict[str, Any]) -> bool:
        return who in (state["viewers"] or {}) and who not in (state["speakers"] or {})

    def probe() -> dict[str, Any]:
        return maps_snapshot(view, stream.sync_service_sid)

    if quiet_wait(ctx, probe, watching_only, correctness_timeout(ctx)):
        return
    state = probe()
    viewers, speakers = state["viewers"] or {}, state["speakers"] or {}
    if who in speakers:
        if plain.identity in speakers:
            ctx.note("departed speakers keep their speakers item (FLOW-5's business)")
        else:
            ctx.fail(
                f"after 'Leave and View Event' and its participant-disconnected, {who!r} is "
                f"still in speakers ({speakers[who]!r}) while in viewers",
                actual=state,
            )
    if who not in viewers:
        if audience.identity not in viewers:
            ctx.note("viewers records no viewer at all (FLOW-1's business)")
            return
        ctx.fail(
            f"after 'Leave and View Event' and its participant-disconnected, {who!r} is not in "
            "viewers: the host no longer sees the user who left the stage to watch",
            actual=state,
        )


def _accepted(ctx: CheckContext, endpoint: str, params: dict[str, Any]) -> Any:
    """``endpoint`` for a user still connected to the room answers 200 (FLOW-17)."""
    exchange = ctx.call(endpoint, params)
    if exchange.status != 200:
        ctx.fail(
            f"{endpoint} for {params['user_identity']!r}, still connected to the room, "
            f"answered {describe_answer(exchange)}: the web app's 'Leave and View Event' "
            "is stuck",
            exchange=exchange,
        )
    ctx.expect_success(exchange, endpoint)
    return exchange


@check("FLOW-7", needs_twilio=True)
def sync_disconnection_clears_the_audience(ctx: CheckContext) -> None:
    """After endpoint_disconnected for X, X is in neither viewers nor raised_hands, and X's
    speakers item is removed unless X is connected to the room (then it is kept).

    Passes: viewer bob's Sync client goes away: viewers and raised_hands lose bob; speaker
    carol's Sync client goes away while she is in the room: speakers keeps carol.
    Fails: carol loses her speakers item although she is still connected (the original).
    """
    view = ctx.require_twilio()
    stream, viewer, speaker = stream_with_audience(ctx)
    view.connect_to_sync(viewer.token, stream.sync_service_sid)
    view.connect_to_sync(speaker.token, stream.sync_service_sid)
    quiet_wait(
        ctx,
        lambda: stream_items(ctx, stream, "speakers"),
        lambda found: speaker.identity in found,
        ctx.config.consistency_timeout,
    )
    speaker_item = stream_items(ctx, stream, "speakers").get(speaker.identity)
    view.disconnect_from_sync(stream.sync_service_sid, viewer.identity)
    view.disconnect_from_sync(stream.sync_service_sid, speaker.identity)
    advance_past_debouncing(ctx, stream.sync_service_sid)

    def cleared(state: dict[str, Any]) -> bool:
        return viewer.identity not in (state["viewers"] or {}) and viewer.identity not in (
            state["raised_hands"] or {}
        )

    wait_for(
        ctx,
        lambda: maps_snapshot(view, stream.sync_service_sid),
        cleared,
        f"viewers and raised_hands have no {viewer.identity!r} after its endpoint_disconnected",
    )
    speakers = stream_items(ctx, stream, "speakers")
    if speakers.get(speaker.identity) != speaker_item:
        ctx.fail(
            f"after endpoint_disconnected for {speaker.identity!r}, who is still connected "
            f"to the room, speakers[{speaker.identity!r}] is "
            f"{speakers.get(speaker.identity)!r} (was {speaker_item!r})"
        )


def _media_and_sync_released(
    ctx: CheckContext, stream: Any, streamer: str | None, processors: list[str]
) -> dict[str, Any]:
    view = ctx.require_twilio()
    state: dict[str, Any] = {"sync service": view.sync_service(stream.sync_service_sid) is not None}
    if streamer:
        state["PlayerStreamer"] = (view.player_streamer(streamer) or {}).get("status")
    for sid in processors:
        state[f"MediaProcessor {sid}"] = (view.media_processor(sid) or {}).get("status")
    return state


def _released(state: dict[str, Any]) -> bool:
    return not state["sync service"] and all(
        value in (None, "ended", "failed") for key, value in state.items() if key != "sync service"
    )


def _composition(ctx: CheckContext, stream: Any) -> tuple[str | None, list[str]]:
    import json

    processors = ctx.require_twilio().media_processors(stream.room_sid)
    streamer = None
    for processor in processors:
        context = processor.get("extension_context")
        if isinstance(context, str):
            try:
                context = json.loads(context)
            except ValueError:
                context = None
        if isinstance(context, dict) and context.get("outputs"):
            streamer = str(context["outputs"][0])
    return streamer, [str(p["sid"]) for p in processors]


@check("FLOW-9", needs_twilio=True)
def room_ended_releases_resources(ctx: CheckContext) -> None:
    """After room-ended (the stream deleted, or the room ended by Twilio), the stream's
    MediaProcessor and PlayerStreamer are ended and its Sync service is deleted.

    Passes: Twilio completes room RM...: MediaProcessor ZX... and PlayerStreamer VJ... become
    "ended" and Sync service IS... is gone.
    Fails: the Sync service still exists after room-ended.
    """
    view = ctx.require_twilio()
    streams = [("ended by Twilio", ctx.new_stream())]
    if ctx.has("delete-stream"):
        streams.append(("deleted with delete-stream", ctx.new_stream()))
    for label, stream in streams:
        viewer = stream.join_viewer()
        stream.viewer_connected(viewer.identity)
        streamer, processors = _composition(ctx, stream)
        if label == "ended by Twilio":
            view.complete_room(stream.room_sid)
        else:
            stream.delete()
        wait_for(
            ctx,
            lambda s=stream, p=streamer, m=processors: _media_and_sync_released(ctx, s, p, m),
            _released,
            f"the stream's media ended and Sync service deleted after room-ended ({label})",
        )


@check("FLOW-10", needs_twilio=True)
def ended_stream_name_is_reused_afresh(ctx: CheckContext) -> None:
    """After room-ended, create-stream with the same name succeeds with a new room SID and a
    new Sync service holding only the new host, with nothing carried over.

    Passes: "friday-townhall" ended; create-stream "friday-townhall" for dave answers a new
    room_sid, and the new service has speakers = {"dave": {"host": true}} and no documents.
    Fails: the new stream's service still holds user-bob, or the create answers 409.
    """
    view = ctx.require_twilio()
    old = ctx.new_stream()
    viewer = old.join_viewer()
    old.viewer_connected(viewer.identity)
    old.raise_hand(viewer.identity, True)
    view.complete_room(old.room_sid)
    quiet_wait(
        ctx,
        lambda: view.sync_service(old.sync_service_sid),
        lambda s: s is None,
        ctx.config.consistency_timeout,
    )
    new = ctx.new_stream(name=old.name)
    if new.room_sid == old.room_sid:
        ctx.fail(
            f"the re-created stream has the old room SID {old.room_sid}",
            exchange=new.create_response,
        )
    if new.sync_service_sid == old.sync_service_sid:
        ctx.fail(
            f"the re-created stream reuses the old Sync service {old.sync_service_sid}",
            exchange=new.create_response,
        )
    state = sync_snapshot(view, new.sync_service_sid)
    expected = {
        "speakers": {new.host: {"host": True}},
        "raised_hands": {},
        "viewers": {},
        "documents": {},
    }
    if state != expected:
        ctx.fail(
            "the re-created stream's Sync state is not that of a new stream",
            expected=expected,
            actual=state,
        )
    for name in MAPS:
        holders = set(view.permissions(new.sync_service_sid, "map", name))
        if holders - {new.host}:
            ctx.fail(
                f"map {name} of the re-created stream has permissions for "
                f"{sorted(holders - {new.host})}"
            )


@check("FLOW-11", needs_twilio=True)
def composer_participant_is_ignored(ctx: CheckContext) -> None:
    """participant-connected and participant-disconnected deliveries for an identity
    starting with video-composer change no Sync state.

    Passes: a signed participant-connected for "video-composer-ZX..." answers 200 and
    speakers is unchanged.
    Fails: speakers gains "video-composer-ZX..." = {"host": false}.
    """
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    stream.viewer_connected(viewer.identity)
    settle(ctx)
    registered_url(ctx, stream, "rooms-webhook")
    before = sync_snapshot(ctx.require_twilio(), stream.sync_service_sid)
    for identity in ("video-composer-ZX0123456789abcdef0123456789abcdef", "video-composer"):
        for event in ("participant-connected", "participant-disconnected"):
            form = room_event(ctx, stream.room_sid, stream.name, event, identity)
            what = f"{event} for {identity!r}"
            deliver_without_effect(
                ctx,
                ctx.require_twilio(),
                stream.sync_service_sid,
                "rooms-webhook",
                form,
                before,
                what,
                changed=f"{what} changed Sync state",
            )


@check("FLOW-13", needs_twilio=True)
def room_ended_may_close_the_conversation(ctx: CheckContext) -> None:
    """After room-ended the backend may close the stream's conversation; the suite reports
    whether it does and never fails on it.

    Passes: always; the report says "closed" or "left to its own timer".
    Fails: never (a MAY requirement).
    """
    if not ctx.has("chat"):
        ctx.skip("capability chat not declared or detected")
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    service = chat_service_of(ctx, stream)
    view.complete_room(stream.room_sid)
    settle(ctx)
    if service is None:
        ctx.note("the host token has no chat grant: nothing to observe")
        return
    closed = quiet_wait(
        ctx,
        lambda: view.conversation(stream.room_sid, service),
        lambda c: c is None or c.get("state") == "closed",
        min(1.0, ctx.config.consistency_timeout),
    )
    conversation = view.conversation(stream.room_sid, service)
    if conversation is None:
        ctx.note("the conversation was deleted after room-ended")
    elif closed:
        ctx.note("the conversation was closed after room-ended")
    else:
        timers = conversation.get("timers")
        ctx.note(f"the conversation was left {conversation.get('state')!r} (timers: {timers})")
