"""FLOW, the host's and the viewers' side: how a stream's state follows the client endpoints
(docs/PROTOCOL.md 5.3, 10 and requirements FLOW-1..3, FLOW-6, FLOW-8, FLOW-12, FLOW-14 and
FLOW-15).

State driven by webhooks is awaited for twice the consistency bound (``correctness_timeout``):
these checks judge whether an effect happens; FLOW-12 alone judges how fast. What Twilio's
own deliveries cause is in :mod:`.flow_webhooks`.
"""

from __future__ import annotations

import time
from typing import Any

from ..context import CheckContext
from ..registry import check
from ._answers import describe_answer
from ._twilio_state import (
    expect_unchanged,
    maps_snapshot,
    participant_sid,
    stream_items,
    user_document,
    user_document_revision,
)
from ._waiting import correctness_timeout, quiet_wait, settle, wait_for

#: The member FLOW-15 adds to the invitee's document before the invitation, to see it kept.
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
    """After send-speaker-invite answers 200, the invitee's document has speaker_invite true.

    (Keeping the document's other members is FLOW-15; the new revision, FLOW-14.)

    Passes: user-bob goes from {"speaker_invite": false} to {"speaker_invite": true}.
    Fails: user-bob stays {"speaker_invite": false} although send-speaker-invite answered
    {"sent": true}.
    """
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    stream.invite(viewer.identity)
    wait_for(
        ctx,
        lambda: user_document(ctx, stream, viewer.identity),
        lambda data: isinstance(data, dict) and data.get("speaker_invite") is True,
        f"user-{viewer.identity} has speaker_invite true after send-speaker-invite",
    )


@check("FLOW-14", needs_twilio=True)
def every_invitation_writes_a_new_revision(ctx: CheckContext) -> None:
    """Every send-speaker-invite answering 200 writes a new revision of the invitee's
    user document with speaker_invite true, also when the stored value is true already.

    The suite invites a viewer who watches the stream, lets it join as a viewer again (a
    backend may keep the invitation or reset it, FLOW-3) and invites it again, then invites
    it a third time with nothing in between (a declined invitation is never reported): each
    invitation must move the document's revision in Twilio.

    Passes: user-bob's revision goes 0 -> 1 (first invitation) -> 2 (after the re-join) -> 3
    (third invitation), each time with speaker_invite true.
    Fails: the second invitation finds speaker_invite true already and writes nothing: the
    revision stays 1, so no client sees an updated event and the invitation is lost.
    """
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    stream.viewer_connected(viewer.identity)
    name = f"user-{viewer.identity}"
    steps = (
        ("the first send-speaker-invite", None),
        ("send-speaker-invite after a re-join as a viewer", stream.join_viewer),
        ("send-speaker-invite again (the previous one declined)", None),
    )
    for label, before_invite in steps:
        if before_invite is not None:
            before_invite(viewer.identity)
        settle(ctx)
        revision, data = user_document_revision(ctx, stream, viewer.identity)
        exchange = stream.invite(viewer.identity)

        def written(pair: tuple[Any, Any], revision: Any = revision) -> bool:
            found_revision, found = pair
            invited = isinstance(found, dict) and found.get("speaker_invite") is True
            return invited and (revision is None or found_revision != revision)

        def probe() -> tuple[Any, Any]:
            return user_document_revision(ctx, stream, viewer.identity)

        if quiet_wait(ctx, probe, written, correctness_timeout(ctx)):
            continue
        after, found = probe()
        if isinstance(found, dict) and found.get("speaker_invite") is True:
            ctx.fail(
                f"{label} answered {describe_answer(exchange)} but wrote no new revision of "
                f"{name} (still revision {after!r}: {found!r}); no client sees the invitation",
                exchange=exchange,
                expected=f"a revision other than {revision!r}, with speaker_invite true",
                actual={"revision": after, "data": found, "before": data},
            )
        ctx.fail(
            f"after {label}, {name} is {found!r} (revision {after!r}), expected speaker_invite "
            "true in a new revision",
            exchange=exchange,
            expected={"speaker_invite": True},
            actual=found,
        )


@check("FLOW-15", needs_twilio=True)
def invitation_keeps_other_members(ctx: CheckContext) -> None:
    """send-speaker-invite changes only speaker_invite in the invitee's user document: every
    other member it had is kept, with its value.

    The suite first adds a member of its own (``lc_marker``) to the document, as a backend's
    own bookkeeping might, so that a backend replacing the document's data shows.

    Passes: user-bob goes from {"speaker_invite": false, "lc_marker": 1} to
    {"speaker_invite": true, "lc_marker": 1}.
    Fails: user-bob becomes {"speaker_invite": true} (the invitation overwrote the document).
    """
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    name = f"user-{viewer.identity}"
    found = user_document(ctx, stream, viewer.identity)
    if not isinstance(found, dict):  # none yet: STATE-6 judges its creation
        ctx.note(f"{name} does not exist after join-stream-as-viewer: no member to keep")
        return
    before = ctx.require_twilio().write_document(
        stream.sync_service_sid, name, {**found, _MARKER: 1}
    )
    exchange = stream.invite(viewer.identity)
    settle(ctx)
    after = user_document(ctx, stream, viewer.identity)
    after = after if isinstance(after, dict) else {}
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


def _join_may_reset(before: Any, after: Any) -> bool:
    """Whether a join left the existing document ``before`` as ``after`` the way FLOW-3
    allows: unchanged, or with speaker_invite set to false (absent counts as false)."""
    if after == before:
        return True
    if not isinstance(before, dict) or not isinstance(after, dict):
        return False
    rest = {k: v for k, v in after.items() if k != "speaker_invite"}
    kept = {k: v for k, v in before.items() if k != "speaker_invite"}
    return rest == kept and after.get("speaker_invite", False) is False


@check("FLOW-3", needs_twilio=True)
def joining_changes_no_map(ctx: CheckContext) -> None:
    """join-stream-as-viewer and join-stream-as-speaker change none of the three maps; an
    existing user document is left as it is or has its speaker_invite set to false (both
    are allowed: clients never read the stored value).

    Passes: bob, watching with a raised hand and invited, joins as a viewer twice and as a
    speaker: speakers, raised_hands and viewers are unchanged, and user-bob stays
    {"speaker_invite": true} (or becomes {"speaker_invite": false}).
    Fails: the re-join removes bob from viewers or lowers his hand, or a newcomer's
    join-stream-as-speaker adds it to speakers before it connected to the room.
    """
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    stream.viewer_connected(viewer.identity)
    stream.raise_hand(viewer.identity, True)
    stream.invite(viewer.identity)
    settle(ctx)
    maps = maps_snapshot(ctx.require_twilio(), stream.sync_service_sid)
    for label, join in (
        ("join-stream-as-viewer", stream.join_viewer),
        ("join-stream-as-viewer again", stream.join_viewer),
        ("join-stream-as-speaker", stream.join_speaker),
    ):
        document = user_document(ctx, stream, viewer.identity)
        member = join(viewer.identity)
        settle(ctx)
        expect_unchanged(
            ctx,
            maps,
            maps_snapshot(ctx.require_twilio(), stream.sync_service_sid),
            f"{label} changed the maps",
            member.response,
        )
        after = user_document(ctx, stream, viewer.identity)
        if not _join_may_reset(document, after):
            ctx.fail(
                f"{label} changed the existing document user-{viewer.identity} from "
                f"{document!r} to {after!r} (allowed: unchanged, or speaker_invite false)",
                exchange=member.response,
                expected=document,
                actual=after,
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
    """delete-stream is there (every backend must have it), and when it answers 200
    {"deleted": true} the stream's room is completed in Twilio.

    (What the endpoints answer for the deleted stream is ERR-2 for the joins, ERR-9 for the
    others.)

    Passes: delete-stream answers {"deleted": true}; room RM... is "completed".
    Fails: POST /delete-stream answers 404 {"error": {"message": "not found"}} (the endpoint
    is not there), or it answers {"deleted": true} and the room is still in progress.
    """
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    stream.join_viewer()
    exchange = ctx.call("delete-stream", {"stream_name": stream.name})
    body = exchange.json
    if exchange.status in (404, 405) and exchange.error_message != "error finding room":
        ctx.fail(f"delete-stream is not there (answered {exchange.status})", exchange=exchange)
    if exchange.status != 200 or not isinstance(body, dict) or body.get("deleted") is not True:
        ctx.fail(
            f'delete-stream answered {describe_answer(exchange)}, expected 200 {{"deleted": true}}',
            exchange=exchange,
            expected_success=True,
        )
    stream.ended = True
    wait_for(
        ctx,
        lambda: view.room(stream.room_sid) or {},
        lambda found: found.get("status") == "completed",
        "the stream's room is completed after delete-stream",
    )


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
