"""RESP: success answers (docs/PROTOCOL.md 3.x and requirements RESP-1, RESP-2)."""

from __future__ import annotations

from typing import Any

from ..context import CheckContext
from ..registry import check
from ..transport import Exchange
from ._answers import describe_answer
from ._waiting import settle


def _expect_documented_success(ctx: CheckContext, exchange: Exchange, endpoint: str) -> Any:
    if exchange.status != 200:
        ctx.fail(
            f"{endpoint} with valid parameters answered {describe_answer(exchange)}, expected 200",
            exchange=exchange,
            expected=200,
            actual=exchange.status,
            expected_success=True,
        )
    return ctx.expect_success(exchange, endpoint)


@check("RESP-1")
def success_answers_are_documented(ctx: CheckContext) -> None:
    """Every successful client request answers 200, Content-Type application/json and a
    body validating <endpoint>.response, through a whole stream's life.

    Passes: POST /viewer-connected-to-player answers 200 application/json {"success": true}.
    Fails: it answers 200 application/json {"success": "ok"}, or 204 with no body.
    """
    exchange = ctx.call("verify-passcode", {})
    _expect_documented_success(ctx, exchange, "verify-passcode")
    stream = ctx.new_stream()
    _expect_documented_success(ctx, stream.create_response, "create-stream")
    viewer = ctx.identity()
    speaker = ctx.identity("speaker")
    calls = [
        ("join-stream-as-viewer", {"user_identity": viewer, "stream_name": stream.name}),
        ("viewer-connected-to-player", {"user_identity": viewer, "stream_name": stream.name}),
        ("raise-hand", {"user_identity": viewer, "stream_name": stream.name, "hand_raised": True}),
        ("raise-hand", {"user_identity": viewer, "stream_name": stream.name, "hand_raised": False}),
        ("send-speaker-invite", {"user_identity": viewer, "room_sid": stream.room_sid}),
        ("join-stream-as-speaker", {"user_identity": speaker, "stream_name": stream.name}),
    ]
    tokens: dict[str, str] = {}
    for endpoint, params in calls:
        exchange = ctx.call(endpoint, params)
        body = _expect_documented_success(ctx, exchange, endpoint)
        if endpoint == "join-stream-as-speaker":
            tokens[speaker] = body["token"]
    if ctx.twilio is not None:
        ctx.twilio.connect_to_room(tokens[speaker], stream.name)
        settle(ctx)
        exchange = ctx.call("remove-speaker", {"user_identity": speaker, "room_name": stream.name})
        _expect_documented_success(ctx, exchange, "remove-speaker")
    else:
        ctx.note(
            "remove-speaker's success not provoked: needs a view of Twilio to connect a speaker"
        )
    if ctx.has("delete-stream"):
        exchange = ctx.call("delete-stream", {"stream_name": stream.name})
        _expect_documented_success(ctx, exchange, "delete-stream")


@check("RESP-2")
def stream_answers_identify_stream_and_caller(ctx: CheckContext) -> None:
    """In create-stream and join answers, room_sid is the SID of the in-progress room named
    after the stream (the same in every answer), user_document is 'user-' + user_identity
    (none for create-stream), and chat_enabled is the same everywhere and true exactly with
    the chat capability.

    Passes: join-stream-as-viewer for "lc-viewer-1" answers room_sid "RMfef2..." (as
    create-stream did) and user_document "user-lc-viewer-1".
    Fails: create-stream's answer carries a user_document, or a join answers another
    room_sid.
    """
    stream = ctx.new_stream()
    created = stream.create_response.json
    answers: list[tuple[str, Exchange, str | None]] = [
        ("create-stream", stream.create_response, None)
    ]
    for endpoint, identity in (
        # plain identities: unusual ones are IN-5's business
        ("join-stream-as-viewer", ctx.identity()),
        ("join-stream-as-speaker", ctx.identity("speaker")),
        ("join-stream-as-viewer", stream.host),
    ):
        exchange = ctx.call(endpoint, {"user_identity": identity, "stream_name": stream.name})
        if exchange.status != 200:
            ctx.fail(
                f"{endpoint} answered {describe_answer(exchange)}, expected 200",
                exchange=exchange,
                expected_success=True,
            )
        answers.append((endpoint, exchange, identity))
    room_sid = created.get("room_sid") if isinstance(created, dict) else None
    chat_values = set()
    for endpoint, exchange, identity in answers:
        body = exchange.json if isinstance(exchange.json, dict) else {}
        if body.get("room_sid") != room_sid:
            ctx.fail(
                f"{endpoint} answered room_sid {body.get('room_sid')!r}; create-stream "
                f"answered {room_sid!r}",
                exchange=exchange,
            )
        names = body.get("sync_object_names")
        names = names if isinstance(names, dict) else {}
        if identity is None and "user_document" in names:
            ctx.fail(
                "create-stream's answer has a user_document (the host has none)",
                exchange=exchange,
                actual=names,
            )
        if identity is not None and names.get("user_document") != f"user-{identity}":
            ctx.fail(
                f"{endpoint} for {identity!r} answered user_document "
                f"{names.get('user_document')!r}, expected {'user-' + identity!r}",
                exchange=exchange,
            )
        chat_values.add(body.get("chat_enabled"))
    if len(chat_values) != 1:
        ctx.fail(f"chat_enabled differs between answers of one deployment: {chat_values}")
    chat_enabled = chat_values.pop()
    if chat_enabled is not ctx.has("chat"):
        ctx.fail(
            f"chat_enabled is {chat_enabled!r} but the chat capability is "
            f"{'present' if ctx.has('chat') else 'absent'}"
        )
    if ctx.twilio is not None:
        room = ctx.twilio.room(stream.name)
        if room is None or room.get("sid") != room_sid:
            ctx.fail(
                f"the in-progress room named {stream.name!r} is "
                f"{(room or {}).get('sid')!r}, but the answers say {room_sid!r}"
            )
