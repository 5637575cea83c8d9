"""ERR: error answers (docs/PROTOCOL.md 2.3, 3.x and requirements ERR-1..ERR-7)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import schemas

from ..context import CheckContext
from ..outcomes import CheckFailed
from ..registry import check
from ..transport import WEBHOOK_ENDPOINTS, Exchange
from ._support import (
    client_endpoints,
    describe_answer,
    expect_failure_message,
    expect_ok,
    participant_sid,
    random_room_sid,
    refused_call,
    registered_url,
    room_event,
    settle,
    show_writes,
    stream_params,
    stream_snapshot,
    successful_writes,
    valid_params,
    wait_for,
)

#: Bodies no client endpoint should answer with anything but the error envelope.
MALFORMED_BODIES: tuple[tuple[str, bytes | str, str], ...] = (
    ("a body that is not JSON", "{not json", "application/json"),
    ("a truncated JSON object", '{"user_identity": "a", "stream_name": ', "application/json"),
    ("a JSON array", "[1, 2, 3]", "application/json"),
    ("a JSON string", '"just a string"', "application/json"),
    ("a JSON number", "42", "application/json"),
    ("JSON null", "null", "application/json"),
    ("invalid UTF-8", b'{"user_identity": "\xff\xfe"}', "application/json"),
    ("deeply nested arrays", "[" * 5000 + "]" * 5000, "application/json"),
    (
        "a huge identity",
        json.dumps({"user_identity": "x" * 200_000, "stream_name": "s"}),
        "application/json",
    ),
    (
        "control characters",
        json.dumps({"user_identity": "a\u0000b\u001bc", "stream_name": "\u0085"}),
        "application/json",
    ),
    ("a text/plain body", '{"user_identity": "a", "stream_name": "b"}', "text/plain"),
    ("an XML body", "<user_identity>a</user_identity>", "application/xml"),
    (
        "a multipart body",
        '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n',
        "multipart/form-data; boundary=x",
    ),
)


def _expect_envelope(ctx: CheckContext, exchange: Exchange, what: str) -> None:
    """If ``exchange`` is not 2xx: JSON content type and a body validating protocol/error."""
    if exchange.status is None or 200 <= exchange.status < 300:
        return
    if exchange.content_type != "application/json":
        shown = exchange.headers.get("content-type") or "no Content-Type"
        ctx.fail(
            f"{what}: the {exchange.status} answer has {shown}, expected application/json",
            exchange=exchange,
            expected="application/json",
            actual=shown,
        )
    if not exchange.is_json:
        ctx.fail(
            f"{what}: the {exchange.status} answer is not JSON: {exchange.text[:80]!r}",
            exchange=exchange,
        )
    problems = schemas.errors("protocol/error", exchange.json)
    if problems:
        ctx.fail(
            f"{what}: the {exchange.status} answer is not the error envelope: "
            + "; ".join(problems[:3]),
            exchange=exchange,
            expected='{"error": {"message": "...", "explanation": "..."}}',
            actual=exchange.json,
        )


@check("ERR-1")
def every_error_uses_the_envelope(ctx: CheckContext) -> None:
    """Every non-2xx answer of every endpoint (authentication, input, not found, conflict,
    wrong method, malformed bodies, unsigned webhooks, Twilio failures) has Content-Type
    application/json and a body that is exactly {"error": {"message", "explanation"}}.

    Passes: PUT /verify-passcode answers 405 {"error": {"message": "method not allowed",
    "explanation": "This endpoint does not accept PUT."}}.
    Fails: PUT /verify-passcode answers 405 text/html "<h1>Method Not Allowed</h1>", or a 404
    answers {"error": {...}, "code": 404}.
    """
    checked = 0

    def judge(exchange: Exchange, what: str) -> None:
        nonlocal checked
        checked += 1
        _expect_envelope(ctx, exchange, what)

    endpoints = client_endpoints(ctx)
    # authentication
    for endpoint in ("verify-passcode", "create-stream"):
        for passcode, who in ((None, "no passcode"), ("not-the-passcode", "a wrong passcode")):
            exchange = refused_call(ctx, endpoint, {}, passcode=passcode, what=who)
            judge(exchange, f"{endpoint} with {who}")
    # input, not found, malformed bodies
    for endpoint in endpoints:
        params = valid_params(ctx, endpoint)
        judge(ctx.call(endpoint, params), f"{endpoint} naming an unknown stream")
        judge(ctx.call(endpoint, {}), f"{endpoint} with {{}}")
        for name in params:
            judge(ctx.call(endpoint, {**params, name: 12}), f"{endpoint} with a numeric {name}")
        for label, body, content_type in MALFORMED_BODIES:
            exchange = ctx.call(endpoint, body=body, content_type=content_type)
            judge(exchange, f"{endpoint} with {label}")
    # wrong HTTP methods
    for endpoint in ("verify-passcode", "raise-hand", *WEBHOOK_ENDPOINTS):
        methods = ["PUT", "DELETE", "PATCH"]
        if not ctx.has("get-query") or endpoint in WEBHOOK_ENDPOINTS:
            methods.append("GET")
        for method in methods:
            exchange = ctx.call(endpoint, None, method=method, body=b"")
            judge(exchange, f"{method} {endpoint}")
    # unsigned webhooks
    for path in WEBHOOK_ENDPOINTS:
        form = {"StatusCallbackEvent": "room-created", "EventType": "endpoint_connected"}
        judge(ctx.backend.post_webhook(path, form, signature=None), f"an unsigned {path} delivery")
        judge(
            ctx.backend.post_webhook(path, form, signature="forged"),
            f"a {path} delivery with a forged signature",
        )
    # conflict and Twilio failures need a stream (and a view of Twilio to clean it up)
    if ctx.twilio is not None or ctx.has("delete-stream"):
        stream = ctx.new_stream()
        exchange = ctx.call(
            "create-stream", {"user_identity": ctx.identity("host"), "stream_name": stream.name}
        )
        judge(exchange, "create-stream with the name of a live stream")
        member = ctx.identity()
        judge(
            ctx.call("send-speaker-invite", {"user_identity": member, "room_sid": stream.room_sid}),
            "send-speaker-invite for a user who never joined",
        )
        judge(
            ctx.call("remove-speaker", {"user_identity": member, "room_name": stream.name}),
            "remove-speaker for a user who is not connected",
        )
    if ctx.twilio is not None:
        view = ctx.twilio
        with view.fault(
            product="video",
            method="POST",
            path=r"/v1/Rooms",
            code=20500,
            status=500,
            message="Injected failure",
        ):
            exchange = ctx.call("create-stream", valid_params(ctx, "create-stream"))
        judge(exchange, "create-stream while Twilio fails to create rooms")
    else:
        ctx.note("Twilio failures not provoked: no view of Twilio (run with --twilio URL)")
    ctx.note(f"{checked} error answers checked")


@check("ERR-2")
def unknown_streams_are_reported(ctx: CheckContext) -> None:
    """Every endpoint naming a stream that was never created, or whose room has ended,
    answers non-2xx 'error finding room' and sends no write request to Twilio.

    Passes: POST /join-stream-as-viewer {"user_identity": "bob", "stream_name":
    "never-created"} answers 404 {"error": {"message": "error finding room", ...}}.
    Fails: POST /send-speaker-invite {"user_identity": "bob", "room_sid": "RM<32 hex>"}
    answers 500 'error updating user document'.
    """
    view = ctx.twilio
    endpoints = [e for e in client_endpoints(ctx) if e not in ("verify-passcode", "create-stream")]

    def probe(stream_name: str, room_sid: str, label: str) -> None:
        for endpoint in endpoints:
            params = valid_params(ctx, endpoint, stream_name=stream_name, room_sid=room_sid)
            mark = view.mark() if view is not None else None
            exchange = ctx.call(endpoint, params)
            expect_failure_message(
                ctx, exchange, "error finding room", what=f"{endpoint} naming {label}"
            )
            if view is not None and mark is not None:
                settle(ctx)
                writes = view.writes_since(mark)
                if writes:
                    ctx.fail(
                        f"{endpoint} naming {label} answered {exchange.status} but wrote to "
                        f"Twilio: {show_writes(writes)}",
                        exchange=exchange,
                        actual=writes,
                    )
        if "remove-speaker" in endpoints:
            params = {"user_identity": ctx.identity(), "room_name": room_sid}
            exchange = ctx.call("remove-speaker", params)
            expect_failure_message(
                ctx, exchange, "error finding room", what=f"remove-speaker naming {label} by SID"
            )

    probe(ctx.unique_name(), random_room_sid(ctx), "a stream that was never created")
    if ctx.twilio is None and not ctx.has("delete-stream"):
        ctx.note("ended streams not probed: needs delete-stream or a view of Twilio")
        return
    stream = ctx.new_stream()
    stream.join_viewer()
    if ctx.has("delete-stream"):
        expect_ok(ctx, ctx.call("delete-stream", {"stream_name": stream.name}), "delete-stream")
    else:
        ctx.require_twilio().complete_room(stream.room_sid)
    probe(stream.name, stream.room_sid, "a stream whose room has ended")


@check("ERR-3", needs_twilio=True)
def name_in_use_is_reported(ctx: CheckContext) -> None:
    """create-stream with the name of a live stream answers non-2xx 'error creating room'
    with explanation exactly 'Room exists', creates nothing and leaves the stream as it was.

    Passes: POST /create-stream {"user_identity": "carol", "stream_name": "<live stream>"}
    answers 409 {"error": {"message": "error creating room", "explanation": "Room exists"}}.
    Fails: the same request answers 500 'error creating room' / 'Room exists' after creating
    a PlayerStreamer that stays started.
    """
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    stream.viewer_connected(viewer.identity)
    settle(ctx)
    before = stream_snapshot(ctx, stream)
    room_before = view.room(stream.room_sid)
    media_before = view.media_processors(stream.room_sid)
    mark = view.mark()
    exchange = ctx.call(
        "create-stream", {"user_identity": ctx.identity("host"), "stream_name": stream.name}
    )
    expect_failure_message(
        ctx,
        exchange,
        "error creating room",
        explanation="Room exists",
        what="create-stream with the name of a live stream",
    )
    settle(ctx)
    created = successful_writes(view, mark)
    if created:
        ctx.fail(
            f"the refused create-stream changed Twilio: {show_writes(created)}",
            exchange=exchange,
            actual=created,
        )
    after = stream_snapshot(ctx, stream)
    if after != before:
        ctx.fail(
            "the refused create-stream changed the existing stream's Sync state",
            exchange=exchange,
            expected=before,
            actual=after,
        )
    room_after = view.room(stream.room_sid)
    if (room_after or {}).get("status") != (room_before or {}).get("status"):
        ctx.fail("the refused create-stream changed the existing room", exchange=exchange)
    if view.media_processors(stream.room_sid) != media_before:
        ctx.fail("the refused create-stream changed the stream's MediaProcessor", exchange=exchange)


@check("ERR-4", needs_twilio=True)
def unknown_invitee_and_speaker_are_reported(ctx: CheckContext) -> None:
    """send-speaker-invite for a user who never joined answers non-2xx 'error updating user
    document' and creates no document; remove-speaker for a user not connected to the room
    answers non-2xx 'error removing speaker'.

    Passes: POST /send-speaker-invite {"user_identity": "nobody", "room_sid": "RM..."} answers
    404 {"error": {"message": "error updating user document", ...}} and user-nobody does not
    exist.
    Fails: it answers 404 'error updating user  document' (two spaces, the original's typo).
    """
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    stranger = ctx.identity()
    exchange = ctx.call(
        "send-speaker-invite", {"user_identity": stranger, "room_sid": stream.room_sid}
    )
    expect_failure_message(
        ctx,
        exchange,
        "error updating user document",
        what="send-speaker-invite for a user who never joined",
    )
    settle(ctx)
    if view.document(stream.sync_service_sid, f"user-{stranger}") is not None:
        ctx.fail(
            f"send-speaker-invite for a user who never joined created user-{stranger}",
            exchange=exchange,
        )
    for identity, label in (
        (stranger, "a user who never joined"),
        (viewer.identity, "a viewer who is not in the room"),
    ):
        for room_name in (stream.name, stream.room_sid):
            exchange = ctx.call(
                "remove-speaker", {"user_identity": identity, "room_name": room_name}
            )
            expect_failure_message(
                ctx, exchange, "error removing speaker", what=f"remove-speaker for {label}"
            )


@check("ERR-5")
def not_found_is_404_and_conflict_is_409(ctx: CheckContext) -> None:
    """Unknown streams, unknown invitees and speakers not in the room answer 404; a stream
    name in use answers 409.

    Passes: POST /create-stream naming a live stream answers 409 'error creating room'.
    Fails: it answers 500 'error creating room' / 'Room exists' (like the original).
    """
    for endpoint in ("join-stream-as-viewer", "raise-hand", "send-speaker-invite"):
        exchange = ctx.call(endpoint, valid_params(ctx, endpoint))
        ctx.expect_status(exchange, 404)
    if ctx.twilio is None and not ctx.has("delete-stream"):
        ctx.note("conflict and invitee answers not probed: needs delete-stream or --twilio")
        return
    stream = ctx.new_stream()
    exchange = ctx.call(
        "create-stream", {"user_identity": ctx.identity("host"), "stream_name": stream.name}
    )
    ctx.expect_status(exchange, 409)
    stranger = ctx.identity()
    exchange = ctx.call(
        "send-speaker-invite", {"user_identity": stranger, "room_sid": stream.room_sid}
    )
    ctx.expect_status(exchange, 404)
    exchange = ctx.call("remove-speaker", {"user_identity": stranger, "room_name": stream.name})
    ctx.expect_status(exchange, 404)


# -- Twilio failures ------------------------------------------------------------------------------
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


@check("ERR-6", needs_twilio=True)
def twilio_failures_name_the_failing_step(ctx: CheckContext) -> None:
    """When a Twilio request fails (Twilio answers 500), the endpoint answers a 5xx with the
    message documented for the failing step (create-stream's room, media, Sync service and
    maps; the joins' user document and PlaybackGrant; viewers and raised hands items; the
    invitation; removing a speaker; deleting a stream; the rooms-webhook's speakers item).
    A case whose failing request the backend never makes is not judged.

    Passes: POST /create-stream while Twilio answers 500 to POST /v1/Services answers 502
    {"error": {"message": "error creating stream sync service", "explanation": "..."}}.
    Fails: the same request answers 500 'internal error', or 404 'error finding room'.
    """
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
        expect_failure_message(ctx, exchange, message, what=what, status=range(500, 600))
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
