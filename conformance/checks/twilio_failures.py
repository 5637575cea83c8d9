"""ERR, when Twilio fails: the answer names the failing step, and a failed create-stream
leaves nothing behind (docs/PROTOCOL.md 3.x and requirements ERR-6, ERR-7, ERR-10).

Failures are injected into the fake Twilio (a fault rule answering 500 to one kind of POST);
the answers the protocol itself gives (envelope, unknown streams, conflicts) are in
:mod:`.errors`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from ..context import CheckContext
from ..outcomes import CheckFailed
from ..registry import check
from ..transport import Exchange
from ._answers import describe_answer, expect_failure_message
from ._parameters import stream_params, valid_params
from ._twilio_state import participant_sid
from ._waiting import settle, wait_for
from ._webhook_deliveries import registered_url, room_event

_ANY = r"[^/]+"
_SERVICE = r"IS[0-9a-f]{32}"
#: The Twilio error code of the failures the suite injects.
_INJECTED = 20500


@contextlib.contextmanager
def _failing(ctx: CheckContext, product: str, path: str) -> Iterator[dict[str, Any]]:
    """Twilio answers 500 to every POST of ``product`` to ``path`` (a full-match regex)."""
    with ctx.require_twilio().fault(
        product=product,
        method="POST",
        path=path,
        code=_INJECTED,
        status=500,
        message="Injected Twilio failure",
    ) as rule:
        yield rule


def _failed_map_message(failed: list[dict[str, Any]]) -> str:
    """'error creating <map label>' for the map whose creation the journal shows failing."""
    labels = {
        "speakers": "speakers map",
        "raised_hands": "raised hands map",
        "viewers": "viewers map",
    }
    for entry in failed:
        names = (entry.get("form") or {}).get("UniqueName") or []
        if names and names[0] in labels:
            return f"error creating {labels[names[0]]}"
    return "error creating speakers map"


#: What a judge of one failure case is given: the answer, the case and the step's message.
Judge = Callable[[Exchange, str, str], None]


@check("ERR-6", needs_twilio=True)
def twilio_failures_are_never_successes(ctx: CheckContext) -> None:
    """When a Twilio request of a client endpoint fails (Twilio answers 500 to it, every
    time), the endpoint's answer is not 2xx: create-stream's room, media, Sync service and
    maps; the joins' user document and PlaybackGrant; viewers and raised hands items; the
    invitation; removing a speaker; deleting a stream. A case whose failing request the
    backend never makes is not judged.

    Passes: POST /create-stream while Twilio answers 500 to POST /v1/Services answers 502
    {"error": {"message": "error creating stream sync service", "explanation": "..."}}.
    Fails: the same request answers 200 with a token and a room_sid.
    """

    def judge(exchange: Exchange, what: str, message: str) -> None:
        if exchange.ok:
            ctx.fail(
                f"{what}: answered {describe_answer(exchange)}, expected a non-2xx answer",
                exchange=exchange,
                expected="non-2xx",
                actual=describe_answer(exchange),
            )

    _failure_cases(ctx, judge, webhooks=False)


@check("ERR-10", needs_twilio=True)
def twilio_failures_name_the_failing_step(ctx: CheckContext) -> None:
    """When a Twilio request fails (Twilio answers 500), the endpoint answers a 5xx with the
    message documented for the failing step (the cases of ERR-6, and the rooms-webhook's
    speakers item).

    Passes: POST /create-stream while Twilio answers 500 to POST /v1/Services answers 502
    {"error": {"message": "error creating stream sync service", "explanation": "..."}}.
    Fails: the same request answers 500 'internal error', or 404 'error finding room'.
    """

    def judge(exchange: Exchange, what: str, message: str) -> None:
        expect_failure_message(ctx, exchange, message, what=what, status=range(500, 600))

    _failure_cases(ctx, judge, webhooks=True)


def _failure_cases(ctx: CheckContext, judge: Judge, *, webhooks: bool) -> None:
    """Provoke each Twilio failure of ERR-6 (and, with ``webhooks``, of the rooms-webhook)
    and hand each answer the backend gave to ``judge``."""
    view = ctx.require_twilio()
    stream = ctx.new_stream()  # also provisions whatever the backend shares between streams
    viewer = stream.join_viewer()
    speaker = stream.join_speaker()
    speaker.connect_room()
    settle(ctx)
    registered_url(ctx, stream, "rooms-webhook")
    newcomer = ctx.identity()
    items = rf"/v1/Services/{_SERVICE}/Maps/{_ANY}/Items"

    def client(endpoint: str, identity: str | None = None) -> Callable[[], Exchange]:
        if endpoint == "create-stream":
            return lambda: ctx.call(endpoint, valid_params(ctx, endpoint))
        assert identity is not None
        return lambda: ctx.call(endpoint, stream_params(ctx, endpoint, stream, identity))

    def late_speaker_connects() -> Exchange:
        late = stream.join_speaker()
        with contextlib.suppress(CheckFailed):
            late.connect_room()  # the fake's own delivery fails too; the suite's is judged
        sid = participant_sid(ctx, stream.room_sid, late.identity)
        form = room_event(
            ctx, stream.room_sid, stream.name, "participant-connected", late.identity, sid
        )
        return ctx.webhook("rooms-webhook", form)

    cases: list[tuple[str, str, str, Callable[[], Exchange], str | None]] = [
        (
            "create-stream when creating the room fails",
            "video",
            r"/v1/Rooms",
            client("create-stream"),
            "error creating room",
        ),
        (
            "create-stream when creating the PlayerStreamer fails",
            "media",
            r"/v1/PlayerStreamers",
            client("create-stream"),
            "error creating stream",
        ),
        (
            "create-stream when creating the MediaProcessor fails",
            "media",
            r"/v1/MediaProcessors",
            client("create-stream"),
            "error creating stream",
        ),
        (
            "create-stream when creating the Sync service fails",
            "sync",
            r"/v1/Services",
            client("create-stream"),
            "error creating stream sync service",
        ),
        (
            "create-stream when creating a map fails",
            "sync",
            rf"/v1/Services/{_SERVICE}/Maps",
            client("create-stream"),
            None,
        ),
        (
            "join-stream-as-viewer when creating the user document fails",
            "sync",
            rf"/v1/Services/{_SERVICE}/Documents",
            client("join-stream-as-viewer", newcomer),
            "error creating user document",
        ),
        (
            "join-stream-as-speaker when creating the user document fails",
            "sync",
            rf"/v1/Services/{_SERVICE}/Documents",
            client("join-stream-as-speaker", newcomer),
            "error creating user document",
        ),
        (
            "join-stream-as-viewer when creating the PlaybackGrant fails",
            "media",
            rf"/v1/PlayerStreamers/{_ANY}/PlaybackGrant",
            client("join-stream-as-viewer", viewer.identity),
            "error getting playback grant",
        ),
        (
            "viewer-connected-to-player when adding the viewers item fails",
            "sync",
            items,
            client("viewer-connected-to-player", viewer.identity),
            "error adding user to viewers map",
        ),
        (
            "raise-hand when adding the raised_hands item fails",
            "sync",
            items,
            client("raise-hand", viewer.identity),
            "error updating raised hands map",
        ),
        (
            "send-speaker-invite when writing the user document fails",
            "sync",
            rf"/v1/Services/{_SERVICE}/Documents/{_ANY}",
            client("send-speaker-invite", viewer.identity),
            "error updating user document",
        ),
        (
            "remove-speaker when disconnecting the participant fails",
            "video",
            rf"/v1/Rooms/{_ANY}/Participants/{_ANY}",
            client("remove-speaker", speaker.identity),
            "error removing speaker",
        ),
    ]
    if ctx.has("delete-stream"):
        cases.append(
            (
                "delete-stream when completing the room fails",
                "video",
                rf"/v1/Rooms/{_ANY}",
                lambda: ctx.call("delete-stream", {"stream_name": stream.name}),
                "error deleting stream",
            )
        )
    if webhooks:
        cases.append(
            (
                "rooms-webhook participant-connected when adding the speakers item fails",
                "sync",
                items,
                late_speaker_connects,
                "error adding user to speakers map",
            )
        )
    judged = 0
    for what, product, path, call, message in cases:
        with _failing(ctx, product, path):
            mark = view.mark()
            exchange = call()
        failed = [
            entry
            for entry in view.requests_since(mark)
            if entry.get("error_code") == _INJECTED and entry.get("method") == "POST"
        ]
        if not failed:
            ctx.note(f"{what}: not judged (the backend made no such request)")
            continue
        judged += 1
        if message is None:
            message = _failed_map_message(failed)
        judge(exchange, what, message)
    ctx.note(f"{judged} Twilio failures judged")


def _resource_sets(view: Any) -> dict[str, set[str]]:
    """SIDs of the live resources an orphan could be: in-progress rooms, started media,
    Sync services."""
    found: dict[str, set[str]] = {}
    rooms = view._list("/video/v1/Rooms", "rooms", {"Status": "in-progress"}) or []
    found["in-progress room"] = {r["sid"] for r in rooms}
    streamers = view._list("/media/v1/PlayerStreamers", "player_streamers") or []
    found["started PlayerStreamer"] = {
        s["sid"] for s in streamers if s.get("status") not in ("ended", "failed")
    }
    processors = view._list("/media/v1/MediaProcessors", "media_processors") or []
    found["started MediaProcessor"] = {
        p["sid"] for p in processors if p.get("status") not in ("ended", "failed")
    }
    services = view._list("/sync/v1/Services", "services") or []
    found["Sync service"] = {s["sid"] for s in services}
    return found


@check("ERR-7", needs_twilio=True)
def failed_create_leaves_no_orphan(ctx: CheckContext) -> None:
    """When create-stream fails after creating resources, the room it created is completed,
    its PlayerStreamer and MediaProcessor are ended and its Sync service is deleted (by the
    answer or within the consistency bound), and the name can be used again.

    Passes: POST /create-stream while Twilio fails POST /v1/Services/IS.../Maps answers 502
    and, within 5 s, no room, media or Sync service created by it is left live; a retry with
    the same name answers 200.
    Fails: after the 502 the room 'friday-townhall' is still in progress (the retry answers
    409 'Room exists').
    """
    view = ctx.require_twilio()
    ctx.new_stream()  # provisions whatever the backend shares between streams
    cases = [
        ("media", r"/v1/MediaProcessors", "creating the MediaProcessor"),
        ("sync", r"/v1/Services", "creating the Sync service"),
        ("sync", rf"/v1/Services/{_SERVICE}/Maps", "creating the maps"),
        (
            "sync",
            rf"/v1/Services/{_SERVICE}/Maps/{_ANY}/Permissions/{_ANY}",
            "granting read access",
        ),
    ]
    if ctx.has("chat"):
        cases.append(
            (
                "conversations",
                rf"/v1/Services/{_SERVICE}/Conversations",
                "creating the conversation",
            )
        )
    for product, path, what in cases:
        settle(ctx)
        before = _resource_sets(view)
        params = valid_params(ctx, "create-stream")
        mark = view.mark()
        with _failing(ctx, product, path):
            exchange = ctx.call("create-stream", params)
        fired = any(e.get("error_code") == _INJECTED for e in view.requests_since(mark))
        if not fired:
            ctx.note(f"create-stream when {what} fails: not judged (no such request was made)")
            if exchange.ok:
                ctx.cleanup(lambda name=params["stream_name"]: _end(ctx, name))
            continue
        if exchange.ok:
            ctx.note(f"create-stream succeeded although {what} failed; case not judged")
            ctx.cleanup(lambda name=params["stream_name"]: _end(ctx, name))
            continue

        def orphans(before: dict[str, set[str]] = before) -> list[str]:
            after = _resource_sets(view)
            return [
                f"{kind} {sid}"
                for kind, sids in after.items()
                for sid in sorted(sids - before.get(kind, set()))
            ]

        wait_for(
            ctx,
            orphans,
            lambda found: not found,
            f"resources left behind after create-stream failed while {what}",
            timeout=ctx.config.consistency_timeout,
        )
        retry = ctx.call("create-stream", params)
        if not retry.ok:
            ctx.fail(
                f"after create-stream failed while {what}, a retry with the same name answered "
                f"{describe_answer(retry)}",
                exchange=retry,
            )
        ctx.cleanup(lambda name=params["stream_name"]: _end(ctx, name))


def _end(ctx: CheckContext, name: str) -> None:
    """Best-effort end of a stream the check created outside the scenario helpers."""
    if ctx.has("delete-stream"):
        ctx.call("delete-stream", {"stream_name": name})
    elif ctx.twilio is not None and ctx.twilio.room(name) is not None:
        ctx.twilio.complete_room(name)
    if ctx.twilio is not None:
        ctx.twilio.flush_webhooks()
