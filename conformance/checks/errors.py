"""ERR: the protocol's error answers: the envelope, unknown streams, names in use, unknown
users, and their statuses (docs/PROTOCOL.md 2.3, 3.x and requirements ERR-1..ERR-5).

What the answers say when Twilio itself fails (ERR-6, ERR-7) is in :mod:`.twilio_failures`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import schemas

from ..context import CheckContext
from ..registry import check
from ..transport import WEBHOOK_ENDPOINTS, Exchange
from ._answers import expect_failure_message, expect_ok
from ._late_room_ended import room_ended_held_back
from ._parameters import client_endpoints, random_room_sid, valid_params
from ._passcodes import refused_call
from ._twilio_state import show_writes, stream_snapshot, successful_writes
from ._waiting import settle

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


def _body_of(exchange: Exchange) -> object:
    """The answer's body parsed as JSON whatever its Content-Type (as the clients do), or
    ``None`` when it is not JSON."""
    try:
        return json.loads(exchange.text)
    except ValueError:
        return None


def _expect_envelope(ctx: CheckContext, exchange: Exchange, what: str) -> None:
    """ERR-1: if ``exchange`` is not 2xx, a JSON body validating protocol/error (extra
    members allowed), whatever its Content-Type."""
    if exchange.status is None or 200 <= exchange.status < 300:
        return
    body = _body_of(exchange)
    if body is None:
        ctx.fail(
            f"{what}: the {exchange.status} answer is not JSON: {exchange.text[:80]!r}",
            exchange=exchange,
            expected='{"error": {"message": "...", "explanation": "..."}}',
            actual=exchange.text[:200],
        )
    problems = schemas.errors("protocol/error", body)
    if problems:
        ctx.fail(
            f"{what}: the {exchange.status} answer is not the error envelope: "
            + "; ".join(problems[:3]),
            exchange=exchange,
            expected='{"error": {"message": "...", "explanation": "..."}}',
            actual=body,
        )


def _expect_json_content_type(ctx: CheckContext, exchange: Exchange, what: str) -> None:
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


def _client_errors(ctx: CheckContext) -> Iterator[tuple[Exchange, str]]:
    """The error answers the clients act on (ERR-1): refused passcodes, unknown streams,
    a name in use, an unknown invitee or speaker, a Twilio failure, each to a well-formed
    JSON POST with valid parameters."""
    for endpoint in ("verify-passcode", "create-stream"):
        for passcode, who in ((None, "no passcode"), ("not-the-passcode", "a wrong passcode")):
            params = valid_params(ctx, endpoint)
            exchange = refused_call(ctx, endpoint, params, passcode=passcode, what=who)
            yield exchange, f"{endpoint} with {who}"
    for endpoint in client_endpoints(ctx):
        if endpoint in ("verify-passcode", "create-stream"):
            continue
        params = valid_params(ctx, endpoint)
        yield ctx.call(endpoint, params), f"{endpoint} naming an unknown stream"
    if ctx.twilio is not None or ctx.has("delete-stream"):
        stream = ctx.new_stream()
        exchange = ctx.call(
            "create-stream", {"user_identity": ctx.identity("host"), "stream_name": stream.name}
        )
        yield exchange, "create-stream with the name of a live stream"
        member = ctx.identity()
        yield (
            ctx.call("send-speaker-invite", {"user_identity": member, "room_sid": stream.room_sid}),
            "send-speaker-invite for a user who never joined",
        )
        yield (
            ctx.call("remove-speaker", {"user_identity": member, "room_name": stream.name}),
            "remove-speaker for a user who is not connected",
        )
    if ctx.twilio is not None:
        with ctx.twilio.fault(
            product="video",
            method="POST",
            path=r"/v1/Rooms",
            code=20500,
            status=500,
            message="Injected failure",
        ):
            exchange = ctx.call("create-stream", valid_params(ctx, "create-stream"))
        yield exchange, "create-stream while Twilio fails to create rooms"
    else:
        ctx.note("Twilio failures not provoked: no view of Twilio (run with --twilio URL)")


def _other_errors(ctx: CheckContext) -> Iterator[tuple[Exchange, str]]:
    """Every other error answer (ERR-8): input no client sends, wrong methods."""
    for endpoint in client_endpoints(ctx):
        params = valid_params(ctx, endpoint)
        yield ctx.call(endpoint, {}), f"{endpoint} with {{}}"
        for name in params:
            yield ctx.call(endpoint, {**params, name: 12}), f"{endpoint} with a numeric {name}"
        for label, body, content_type in MALFORMED_BODIES:
            exchange = ctx.call(endpoint, body=body, content_type=content_type)
            yield exchange, f"{endpoint} with {label}"
    for endpoint in ("verify-passcode", "raise-hand", *WEBHOOK_ENDPOINTS):
        methods = ["PUT", "DELETE", "PATCH"]
        if not ctx.has("get-query") or endpoint in WEBHOOK_ENDPOINTS:
            methods.append("GET")
        for method in methods:
            exchange = ctx.call(endpoint, None, method=method, body=b"")
            yield exchange, f"{method} {endpoint}"


@check("ERR-1")
def client_errors_use_the_envelope(ctx: CheckContext) -> None:
    """The error answers the clients act on (a refused passcode, an unknown stream, a name
    in use, an unknown invitee or speaker, a Twilio failure) are JSON bodies with
    error.message and error.explanation non-empty strings; other members are allowed.

    Passes: POST /join-stream-as-viewer naming an unknown stream answers 404
    {"error": {"message": "error finding room", "explanation": "...", "code": 20404}}.
    Fails: the same request answers 500 text/html "<h1>Internal Server Error</h1>", or
    {"message": "error finding room"} without the error object.
    """
    checked = 0
    for exchange, what in _client_errors(ctx):
        checked += 1
        _expect_envelope(ctx, exchange, what)
    ctx.note(f"{checked} error answers checked")


@check("ERR-8")
def every_other_error_uses_the_envelope(ctx: CheckContext) -> None:
    """Every other non-2xx answer (wrong method, malformed or non-object bodies, missing or
    invalid parameters) is the error envelope too, and every error answer, ERR-1's
    included, has Content-Type application/json. Refused webhook signatures are exempt.

    Passes: PUT /verify-passcode answers 405 {"error": {"message": "method not allowed",
    "explanation": "This endpoint does not accept PUT."}}.
    Fails: PUT /verify-passcode answers 405 text/html "<h1>Method Not Allowed</h1>".
    """
    checked = 0
    for exchange, what in _client_errors(ctx):
        checked += 1
        _expect_json_content_type(ctx, exchange, what)
    for exchange, what in _other_errors(ctx):
        checked += 1
        _expect_json_content_type(ctx, exchange, what)
        _expect_envelope(ctx, exchange, what)
    ctx.note(f"{checked} error answers checked")


#: The endpoints of ERR-2; the other stream endpoints are ERR-9's.
_JOINS = ("join-stream-as-speaker", "join-stream-as-viewer")


@check("ERR-2")
def unknown_streams_are_reported_to_joiners(ctx: CheckContext) -> None:
    """Both join endpoints naming a stream that was never created, or whose room has ended
    (with room-ended delivered, and while it is held back), answer non-2xx 'error finding
    room' and send no write request to Twilio.

    Passes: POST /join-stream-as-viewer {"user_identity": "bob", "stream_name":
    "never-created"} answers 404 {"error": {"message": "error finding room", ...}}.
    Fails: after delete-stream, with room-ended held back, POST /join-stream-as-viewer for
    the stream answers 200 with a token (the backend trusted its stream record).
    """
    _unknown_streams(ctx, list(_JOINS))


@check("ERR-9")
def unknown_streams_are_reported_everywhere(ctx: CheckContext) -> None:
    """viewer-connected-to-player, raise-hand, remove-speaker, delete-stream and
    send-speaker-invite naming an unknown or ended stream answer non-2xx 'error finding
    room' and send no write request to Twilio.

    Passes: POST /send-speaker-invite {"user_identity": "bob", "room_sid": "RM<32 hex>"}
    answers 404 {"error": {"message": "error finding room", ...}}.
    Fails: the same request answers 500 'error updating user document' (like the original).
    """
    others = [
        e for e in client_endpoints(ctx) if e not in ("verify-passcode", "create-stream", *_JOINS)
    ]
    _unknown_streams(ctx, others)


def _unknown_streams(ctx: CheckContext, endpoints: list[str]) -> None:
    view = ctx.twilio

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
    for held_back in (False, True) if view is not None else (False,):
        stream = ctx.new_stream()
        stream.join_viewer()
        label = "a stream whose room has ended"
        with room_ended_held_back(ctx, stream) if held_back else contextlib.nullcontext():
            if ctx.has("delete-stream"):
                exchange = ctx.call("delete-stream", {"stream_name": stream.name})
                expect_ok(ctx, exchange, "delete-stream")
            else:
                ctx.require_twilio().complete_room(stream.room_sid)
            if held_back:
                label += " (room-ended not delivered yet)"
            probe(stream.name, stream.room_sid, label)


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
