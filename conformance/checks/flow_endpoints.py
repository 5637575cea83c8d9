"""FLOW, the host's and the viewers' side: how a stream's state follows the client endpoints
(docs/PROTOCOL.md 5.3, 10 and requirements FLOW-1..3, FLOW-6, FLOW-8, FLOW-12).

State driven by webhooks is awaited for twice the consistency bound (``correctness_timeout``):
these checks judge whether an effect happens; FLOW-12 alone judges how fast. What Twilio's
own deliveries cause is in :mod:`.flow_webhooks`.
"""

from __future__ import annotations

import time
from typing import Any

from ..context import CheckContext
from ..registry import check
from ._answers import describe_answer, expect_failure_message
from ._late_room_ended import room_ended_held_back
from ._parameters import valid_params
from ._twilio_state import (
    expect_unchanged,
    maps_snapshot,
    participant_sid,
    stream_items,
    user_document,
)
from ._waiting import quiet_wait, settle, wait_for

#: The member FLOW-2 adds to the invitee's document before the invitation, to see it kept.
_MARKER = "lc_marker"
_GONE = object()


@check("FLOW-1", needs_twilio=True)
def audience_endpoints_update_the_maps(ctx: CheckContext) -> None:
    """viewer-connected-to-player adds viewers[<identity>] = {}; raise-hand true adds
    raised_hands[<identity>] = {}; raise-hand false removes it.

    Passes: after viewer-connected-to-player for bob, viewers = {"bob": {}}.
    Fails: viewers stays {} (the viewer was never recorded).
    """
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    stream.viewer_connected(viewer.identity)
    wait_for(
        ctx,
        lambda: stream_items(ctx, stream, "viewers"),
        lambda found: found.get(viewer.identity) == {},
        f"viewers[{viewer.identity!r}] is {{}} after viewer-connected-to-player",
    )
    stream.raise_hand(viewer.identity, True)
    wait_for(
        ctx,
        lambda: stream_items(ctx, stream, "raised_hands"),
        lambda found: found.get(viewer.identity) == {},
        f"raised_hands[{viewer.identity!r}] is {{}} after raise-hand true",
    )
    stream.raise_hand(viewer.identity, False)
    wait_for(
        ctx,
        lambda: stream_items(ctx, stream, "raised_hands"),
        lambda found: viewer.identity not in found,
        f"raised_hands has no {viewer.identity!r} after raise-hand false",
    )


@check("FLOW-2", needs_twilio=True)
def invitation_is_set(ctx: CheckContext) -> None:
    """After send-speaker-invite, the invitee's document has speaker_invite true and keeps
    every other member it had, with its value.

    The suite first adds a member of its own (``lc_marker``) to the document, as a client app
    might, so that a backend replacing the document's data shows.

    Passes: user-bob goes from {"speaker_invite": false, "lc_marker": 1} to
    {"speaker_invite": true, "lc_marker": 1}.
    Fails: user-bob stays {"speaker_invite": false, ...}, or becomes {"speaker_invite": true}
    (the invitation overwrote the document).
    """
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    name = f"user-{viewer.identity}"
    found = user_document(ctx, stream, viewer.identity)
    before: dict[str, Any] = {}
    if isinstance(found, dict):  # none yet: other requirements judge when it is created
        before = ctx.require_twilio().write_document(
            stream.sync_service_sid, name, {**found, _MARKER: 1}
        )
    exchange = stream.invite(viewer.identity)
    after = wait_for(
        ctx,
        lambda: user_document(ctx, stream, viewer.identity),
        lambda data: isinstance(data, dict) and data.get("speaker_invite") is True,
        f"{name} has speaker_invite true after send-speaker-invite",
    )
    changed = sorted(
        key for key in before if key != "speaker_invite" and after.get(key, _GONE) != before[key]
    )
    if changed:
        ctx.fail(
            f"send-speaker-invite did not keep the other members {changed} of {name}",
            exchange=exchange,
            expected={**before, "speaker_invite": True},
            actual=after,
        )


@check("FLOW-3", needs_twilio=True)
def joining_keeps_maps_and_invitation(ctx: CheckContext) -> None:
    """join-stream-as-viewer and join-stream-as-speaker change none of the maps and leave an
    existing user document as it is: a pending invitation survives repeated joins.

    Passes: bob invited (user-bob = {"speaker_invite": true}) joins as a viewer twice and
    user-bob is still {"speaker_invite": true}.
    Fails: the re-join resets user-bob to {"speaker_invite": false} (the original's bug).
    """
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    stream.viewer_connected(viewer.identity)
    stream.raise_hand(viewer.identity, True)
    stream.invite(viewer.identity)
    settle(ctx)
    maps = maps_snapshot(ctx.require_twilio(), stream.sync_service_sid)
    document = user_document(ctx, stream, viewer.identity)
    for label, join in (
        ("join-stream-as-viewer", stream.join_viewer),
        ("join-stream-as-viewer again", stream.join_viewer),
        ("join-stream-as-speaker", stream.join_speaker),
    ):
        member = join(viewer.identity)
        settle(ctx)
        expect_unchanged(
            ctx,
            maps,
            maps_snapshot(ctx.require_twilio(), stream.sync_service_sid),
            f"{label} changed the maps",
            member.response,
        )
        expect_unchanged(
            ctx,
            document,
            user_document(ctx, stream, viewer.identity),
            f"{label} changed the existing document user-{viewer.identity}",
            member.response,
        )
    newcomer = stream.join_speaker()
    settle(ctx)
    expect_unchanged(
        ctx,
        maps,
        maps_snapshot(ctx.require_twilio(), stream.sync_service_sid),
        "join-stream-as-speaker by a newcomer changed the maps",
        newcomer.response,
    )


@check("FLOW-6", needs_twilio=True)
def remove_speaker_disconnects(ctx: CheckContext) -> None:
    """When remove-speaker answers 200 {"removed": true}, the participant is disconnected in
    Twilio, and after the resulting delivery the speakers item is gone.

    Passes: remove-speaker for bob answers {"removed": true}; bob's participant is
    "disconnected" and speakers loses "bob".
    Fails: it answers {"removed": true} but bob is still connected to the room.
    """
    stream = ctx.new_stream()
    stream.host_connects()
    speaker = stream.join_speaker()
    speaker.connect_room()
    settle(ctx)
    exchange = stream.remove_speaker(speaker.identity)
    wait_for(
        ctx,
        lambda: participant_sid(ctx, stream.room_sid, speaker.identity),
        lambda sid: sid is None,
        f"{speaker.identity!r} is disconnected after remove-speaker answered "
        f"{describe_answer(exchange)}",
    )
    wait_for(
        ctx,
        lambda: stream_items(ctx, stream, "speakers"),
        lambda found: speaker.identity not in found,
        f"speakers has no {speaker.identity!r} after remove-speaker",
    )


@check("FLOW-8", needs_twilio=True)
def delete_stream_completes_the_room(ctx: CheckContext) -> None:
    """When delete-stream answers 200 {"deleted": true}, the room is completed in Twilio
    and every endpoint answers 'error finding room' for the stream: once room-ended has been
    delivered, and already while it is held back (late or lost).

    Passes: delete-stream answers {"deleted": true}; room RM... is "completed"; a second
    delete-stream answers 404 'error finding room', before and after room-ended arrives.
    Fails: the room is still in progress, or join-stream-as-viewer still answers 200; or
    send-speaker-invite answers 200 while room-ended has not reached the backend (it trusted
    its own stream record).
    """
    if not ctx.has("delete-stream"):
        ctx.skip("capability delete-stream not declared or detected")
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    _delete_and_expect_unknown(ctx, stream, viewer.identity, "after delete-stream")
    late = ctx.new_stream()
    late_viewer = late.join_viewer()
    with room_ended_held_back(ctx, late):
        _delete_and_expect_unknown(
            ctx, late, late_viewer.identity, "after delete-stream, before room-ended arrived"
        )


def _delete_and_expect_unknown(ctx: CheckContext, stream: Any, identity: str, when: str) -> None:
    """delete-stream answers {"deleted": true}, the room is completed, and then every
    endpoint naming the stream answers 'error finding room'."""
    view = ctx.require_twilio()
    exchange = ctx.call("delete-stream", {"stream_name": stream.name})
    body = exchange.json
    if exchange.status != 200 or not isinstance(body, dict) or body.get("deleted") is not True:
        ctx.fail(
            f'delete-stream answered {describe_answer(exchange)}, expected 200 {{"deleted": true}}',
            exchange=exchange,
        )
    wait_for(
        ctx,
        lambda: view.room(stream.room_sid) or {},
        lambda found: found.get("status") == "completed",
        "the stream's room is completed after delete-stream",
    )
    for endpoint in (
        "join-stream-as-viewer",
        "join-stream-as-speaker",
        "viewer-connected-to-player",
        "raise-hand",
        "send-speaker-invite",
        "remove-speaker",
        "delete-stream",
    ):
        params = valid_params(
            ctx,
            endpoint,
            identity=identity,
            stream_name=stream.name,
            room_sid=stream.room_sid,
        )
        answer = ctx.call(endpoint, params)
        expect_failure_message(ctx, answer, "error finding room", what=f"{endpoint} {when}")


@check("FLOW-12", needs_twilio=True)
def effects_are_visible_in_time(ctx: CheckContext) -> None:
    """Client endpoints' effects are visible in Twilio when their answer arrives; webhook
    effects within the consistency bound (5 s by default). Effects that never happen are
    other requirements' business; this check judges only when they appear.

    Passes: viewers has bob as soon as viewer-connected-to-player answers; speakers has bob
    1.2 s after his participant-connected delivery.
    Fails: raised_hands gets bob 3 s after raise-hand answered (written in the background).
    """
    view = ctx.require_twilio()
    bound = ctx.config.consistency_timeout
    stream = ctx.new_stream()
    viewer = stream.join_viewer()

    def immediate(what: str, probe: Any, until: Any) -> None:
        if until(probe()):
            return
        if quiet_wait(ctx, probe, until, bound * 2):
            ctx.fail(f"{what}: not visible when the answer arrived, only later")

    immediate(
        "the user document after join-stream-as-viewer",
        lambda: user_document(ctx, stream, viewer.identity),
        lambda d: d is not None,
    )
    stream.viewer_connected(viewer.identity)
    immediate(
        "viewers after viewer-connected-to-player",
        lambda: stream_items(ctx, stream, "viewers"),
        lambda f: viewer.identity in f,
    )
    stream.raise_hand(viewer.identity, True)
    immediate(
        "raised_hands after raise-hand true",
        lambda: stream_items(ctx, stream, "raised_hands"),
        lambda f: viewer.identity in f,
    )
    stream.invite(viewer.identity)
    immediate(
        "the invitation after send-speaker-invite",
        lambda: user_document(ctx, stream, viewer.identity) or {},
        lambda d: d.get("speaker_invite") is True,
    )
    speaker = stream.join_speaker(viewer.identity)
    started = time.monotonic()
    speaker.connect_room()
    settle(ctx)
    appeared = quiet_wait(
        ctx,
        lambda: stream_items(ctx, stream, "speakers"),
        lambda f: viewer.identity in f,
        bound * 2,
    )
    took = time.monotonic() - started
    if appeared and took > bound:
        ctx.fail(
            f"the speakers item appeared {took:.1f} s after participant-connected, more "
            f"than the {bound:g} s bound"
        )
    stream.host_connects()
    stream.remove_speaker(viewer.identity)
    immediate(
        "the disconnection after remove-speaker",
        lambda: participant_sid(ctx, stream.room_sid, viewer.identity),
        lambda sid: sid is None,
    )
    if ctx.has("delete-stream"):
        stream.delete()
        immediate(
            "the completed room after delete-stream",
            lambda: (view.room(stream.room_sid) or {}).get("status"),
            lambda status: status == "completed",
        )
        started = time.monotonic()
        released = quiet_wait(
            ctx, lambda: view.sync_service(stream.sync_service_sid), lambda s: s is None, bound * 2
        )
        took = time.monotonic() - started
        if released and took > bound:
            ctx.fail(
                f"the Sync service was deleted {took:.1f} s after room-ended, more than "
                f"the {bound:g} s bound"
            )
