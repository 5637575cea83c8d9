"""IN, how a request carries its parameters: JSON object bodies, bodies that are not objects,
form bodies and GET queries (docs/PROTOCOL.md 2.1, 2.2 and requirements IN-1, IN-7, IN-9,
IN-10).

The parameters themselves are judged in :mod:`.input_validation` and :mod:`.input_values`.
"""

from __future__ import annotations

from typing import Any

from ..context import CheckContext
from ..registry import check
from ..transport import Exchange
from ._answers import (
    describe_answer,
    error_fields,
    expect_failure_message,
    expect_ok,
    without_token,
)
from ._parameters import client_endpoints, params_of, stream_params, valid_params
from ._waiting import settle, wait_for


def _same_answer(first: Exchange, second: Exchange) -> bool:
    """Same status, and the same body apart from a freshly issued token."""
    if first.status != second.status:
        return False
    if first.ok:
        return without_token(first.json) == without_token(second.json)
    return error_fields(first)[0] == error_fields(second)[0]


# -- IN-1 -------------------------------------------------------------------------------------
@check("IN-1")
def accepts_json_object_bodies(ctx: CheckContext) -> None:
    """Every client endpoint accepts a JSON object body with Content-Type application/json,
    with or without a charset parameter; undefined members are ignored; an empty body is
    answered like {}.

    Passes: POST /join-stream-as-viewer with "Content-Type: application/json; charset=utf-8"
    and {"user_identity": "bob", "stream_name": "<live stream>", "color": "blue"} answers 200.
    Fails: the same request answers 400 'invalid request body' (the charset or the extra
    member was refused).
    """
    for endpoint in client_endpoints(ctx):
        empty = ctx.call(endpoint, body=b"", content_type="application/json")
        braces = ctx.call(endpoint, {})
        if not _same_answer(empty, braces):
            ctx.fail(
                f"{endpoint}: an empty body answered {describe_answer(empty)} but {{}} "
                f"answered {describe_answer(braces)}",
                exchange=empty,
            )
    extras = {"extra_member": {"nested": [1, 2]}, "passcode": "ignored", "role": "host"}
    plain = ctx.call("verify-passcode", extras)
    charset = ctx.call("verify-passcode", extras, content_type="application/json; charset=utf-8")
    for exchange, label in ((plain, "application/json"), (charset, "a charset parameter")):
        if exchange.status != 200:
            ctx.fail(
                f"verify-passcode with {label} and undefined members answered "
                f"{describe_answer(exchange)}, expected 200",
                exchange=exchange,
                expected_success=True,
            )
    stream = ctx.new_stream()
    viewer = ctx.identity()
    speaker = ctx.identity("speaker")
    steps = [
        ("join-stream-as-viewer", viewer),
        ("viewer-connected-to-player", viewer),
        ("raise-hand", viewer),
        ("send-speaker-invite", viewer),
        ("join-stream-as-speaker", speaker),
    ]
    for index, (endpoint, identity) in enumerate(steps):
        params = {**stream_params(ctx, endpoint, stream, identity), **extras}
        content_type = "application/json; charset=utf-8" if index % 2 else "application/json"
        exchange = ctx.call(endpoint, params, content_type=content_type)
        if exchange.status != 200:
            ctx.fail(
                f"{endpoint} with valid parameters, undefined members and Content-Type "
                f"{content_type!r} answered {describe_answer(exchange)}, expected 200",
                exchange=exchange,
                expected_success=True,
            )
    if ctx.twilio is not None:
        stream.host_connects()
        member = stream.join_speaker()
        member.connect_room()
        settle(ctx)
        params = {"user_identity": member.identity, "room_name": stream.name, **extras}
        exchange = ctx.call(
            "remove-speaker", params, content_type="application/json; charset=utf-8"
        )
        if exchange.status != 200:
            ctx.fail(
                f"remove-speaker with undefined members answered {describe_answer(exchange)}, "
                "expected 200",
                exchange=exchange,
                expected_success=True,
            )
    if ctx.has("delete-stream"):
        other = ctx.new_stream()
        exchange = ctx.call(
            "delete-stream",
            {"stream_name": other.name, **extras},
            content_type="application/json; charset=utf-8",
        )
        if exchange.status != 200:
            ctx.fail(
                f"delete-stream with undefined members answered {describe_answer(exchange)}, "
                "expected 200",
                exchange=exchange,
                expected_success=True,
            )


# -- IN-7 --------------------------------------------------------------------------------------
_NOT_OBJECTS: tuple[tuple[str, str | bytes], ...] = (
    ("a body that does not parse", "{not json"),
    ("a truncated object", '{"user_identity": "a"'),
    ("a trailing comma", '{"user_identity": "a",}'),
    ("an array", '[{"user_identity": "a"}]'),
    ("a string", '"user_identity"'),
    ("a number", "12"),
    ("true", "true"),
    ("false", "false"),
    ("null", "null"),
    ("an object in invalid UTF-8", b'{"user_identity": "\xff\xfe", "stream_name": "s"}'),
    ("an array nested 2000 deep", "[" * 2000 + "]" * 2000),
)


@check("IN-7")
def non_object_bodies_are_invalid(ctx: CheckContext) -> None:
    """A non-empty JSON body that does not parse (invalid UTF-8 included), or is not an
    object, answers 400 'invalid request body' on every client endpoint; a body of
    whitespace only is treated as empty (the answer to {}).

    Passes: POST /create-stream with body "[1, 2]" answers 400 {"error": {"message":
    "invalid request body", ...}}.
    Fails: the same request answers 500 'internal error' or 400 'missing user_identity'.
    """
    for endpoint in client_endpoints(ctx):
        for label, body in _NOT_OBJECTS:
            exchange = ctx.call(endpoint, body=body, content_type="application/json")
            expect_failure_message(
                ctx, exchange, "invalid request body", status=400, what=f"{endpoint} with {label}"
            )
        as_empty = ctx.call(endpoint, {})
        blank = ctx.call(endpoint, body=" \r\n\t ", content_type="application/json")
        if (blank.status, blank.error_message) != (as_empty.status, as_empty.error_message):
            ctx.fail(
                f"{endpoint} with a body of whitespace only answered {describe_answer(blank)}; "
                f"with {{}} it answered {describe_answer(as_empty)}",
                exchange=blank,
            )


# -- IN-9 / IN-10 --------------------------------------------------------------------------------
def _encoded_equivalence(ctx: CheckContext, encoding: str, label: str) -> None:
    """The answers of ``encoding`` requests are those of the same JSON POSTs."""
    stream = ctx.new_stream()
    viewer = ctx.identity()
    speaker = ctx.identity("speaker")
    for endpoint in client_endpoints(ctx):
        full = valid_params(ctx, endpoint)
        names = params_of(endpoint)
        cases: list[dict[str, Any]] = [{}]
        cases += [{n: full[n] for n in names[:i]} for i in range(1, len(names))]
        for params in cases:
            as_json = ctx.call(endpoint, params)
            encoded = ctx.call(endpoint, params, encoding=encoding)
            if not _same_answer(as_json, encoded):
                ctx.fail(
                    f"{endpoint} {label} with {params} answered {describe_answer(encoded)}; as "
                    f"JSON it answered {describe_answer(as_json)}",
                    exchange=encoded,
                )
    # values that exist only as strings
    raise_params = stream_params(ctx, "raise-hand", stream, viewer)
    for value in ("yes", "True", "1", "", "TRUE"):
        exchange = ctx.call("raise-hand", {**raise_params, "hand_raised": value}, encoding=encoding)
        expect_failure_message(
            ctx,
            exchange,
            "invalid hand_raised",
            status=400,
            what=f"raise-hand {label} with hand_raised={value!r}",
        )
    for endpoint in ("join-stream-as-viewer", "raise-hand", "send-speaker-invite"):
        params = stream_params(ctx, endpoint, stream, viewer)
        for name in params_of(endpoint):
            if name == "hand_raised":
                params_repeated = {**params, name: ["true", "false"]}
            else:
                params_repeated = {**params, name: [params[name], params[name]]}
            exchange = ctx.call(endpoint, params_repeated, encoding=encoding)
            expect_failure_message(
                ctx,
                exchange,
                f"invalid {name}",
                status=400,
                what=f"{endpoint} {label} with {name} given twice",
            )
    # the stream's walkthrough, each step both ways
    steps = [
        ("join-stream-as-viewer", viewer),
        ("viewer-connected-to-player", viewer),
        ("raise-hand", viewer),
        ("send-speaker-invite", viewer),
        ("join-stream-as-speaker", speaker),
    ]
    for endpoint, identity in steps:
        params = stream_params(ctx, endpoint, stream, identity)
        encoded = ctx.call(endpoint, params, encoding=encoding)
        as_json = ctx.call(endpoint, params)
        if encoded.status != 200 or not _same_answer(as_json, encoded):
            ctx.fail(
                f"{endpoint} {label} answered {describe_answer(encoded)}; as JSON "
                f"{describe_answer(as_json)}",
                exchange=encoded,
            )
        if endpoint in ("create-stream", "join-stream-as-speaker", "join-stream-as-viewer"):
            ctx.expect_schema(f"protocol/{endpoint}.response", encoded.json, encoded)
    lower = ctx.call("raise-hand", {**raise_params, "hand_raised": False}, encoding=encoding)
    expect_ok(ctx, lower, f"raise-hand {label} with hand_raised=false")
    view = ctx.twilio
    if view is not None:
        wait_for(
            ctx,
            lambda: view.map_items(stream.sync_service_sid, "raised_hands") or {},
            lambda found: viewer not in found,
            f"raise-hand {label} with hand_raised=false lowers the hand",
        )
    created = ctx.call("create-stream", valid_params(ctx, "create-stream"), encoding=encoding)
    if created.ok:
        _adopt(ctx, created)
    if created.status != 200:
        ctx.fail(
            f"create-stream {label} answered {describe_answer(created)}, expected 200",
            exchange=created,
            expected_success=True,
        )
    ctx.expect_schema("protocol/create-stream.response", created.json, created)


def _adopt(ctx: CheckContext, created: Exchange) -> None:
    """Clean up a stream this check created with create-stream directly."""
    from urllib.parse import parse_qs, urlsplit

    request = created.request
    values: dict[str, list[str]] = parse_qs(urlsplit(request.url).query)
    if request.body:
        values.update(parse_qs(request.text))
    name = (values.get("stream_name") or [None])[0]
    body = created.json if isinstance(created.json, dict) else {}
    room_sid = body.get("room_sid")

    def end() -> None:
        if ctx.has("delete-stream") and name:
            ctx.call("delete-stream", {"stream_name": name})
        elif ctx.twilio is not None and room_sid:
            room = ctx.twilio.room(room_sid)
            if room is not None and room.get("status") == "in-progress":
                ctx.twilio.complete_room(room_sid)
        if ctx.twilio is not None:
            ctx.twilio.flush_webhooks()

    ctx.cleanup(end)


@check("IN-9")
def accepts_form_bodies(ctx: CheckContext) -> None:
    """With the form-body capability, every client endpoint answers form-encoded POSTs like
    the same JSON POSTs; hand_raised is exactly 'true' or 'false'; a repeated parameter is
    'invalid <param>'.

    Passes: POST /raise-hand (application/x-www-form-urlencoded)
    user_identity=bob&stream_name=<live>&hand_raised=true answers 200 {"sent": true}.
    Fails: hand_raised=yes answers 200 instead of 400 'invalid hand_raised'.
    """
    if not ctx.has("form-body"):
        ctx.skip("capability form-body not declared or detected")
    _encoded_equivalence(ctx, "form", "form-encoded")


@check("IN-10")
def accepts_get_queries(ctx: CheckContext) -> None:
    """With the get-query capability, every client endpoint answers GET <endpoint>?<params>
    like the same JSON POST (form encoding of IN-9).

    Passes: GET /join-stream-as-viewer?user_identity=bob&stream_name=<live> answers 200 with a
    viewer token.
    Fails: the same request answers 405 'method not allowed'.
    """
    if not ctx.has("get-query"):
        ctx.skip("capability get-query not declared or detected")
    _encoded_equivalence(ctx, "query", "as a GET query")
