"""IN: request bodies and parameters (docs/PROTOCOL.md 2.1, 2.2 and requirements IN-1..IN-10)."""

from __future__ import annotations

import unicodedata
from typing import Any

from schemas import catalog

from ..context import CheckContext
from ..registry import check
from ..transport import Exchange
from ._support import (
    client_endpoints,
    describe_answer,
    error_fields,
    expect_failure_message,
    expect_ok,
    grants_of,
    params_of,
    random_room_sid,
    settle,
    stream_params,
    sync_snapshot,
    valid_params,
    wait_for,
    without_token,
)


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
            )


# -- IN-2 / IN-3 ----------------------------------------------------------------------------------
@check("IN-2")
def missing_parameters_are_named(ctx: CheckContext) -> None:
    """A request lacking one of the endpoint's parameters (the earlier ones valid) answers
    400 'missing <param>' with explanation exactly 'The <param> parameter is missing.'.

    Passes: POST /raise-hand {"user_identity": "bob", "stream_name": "s"} answers 400
    {"error": {"message": "missing hand_raised", "explanation": "The hand_raised parameter
    is missing."}}.
    Fails: the same request answers 500 (the original crashed here).
    """
    for endpoint in client_endpoints(ctx, with_params=True):
        full = valid_params(ctx, endpoint)
        names = params_of(endpoint)
        for index, name in enumerate(names):
            params = {n: full[n] for n in names[:index]}
            for later in names[index + 1 :]:
                params[later] = full[later]
            case = catalog.missing_error(name)
            exchange = ctx.call(endpoint, params)
            expect_failure_message(
                ctx,
                exchange,
                case.message,
                status=400,
                explanation=case.explanation,
                what=f"{endpoint} without {name}",
            )


def _order_cases(endpoint: str, ctx: CheckContext) -> list[tuple[dict[str, Any], str]]:
    """Bodies with two or more problems, and the message the first problem must give."""
    names = params_of(endpoint)
    full = valid_params(ctx, endpoint)
    bad = {
        "user_identity": 5,
        "stream_name": 5,
        "room_sid": "not-a-sid",
        "room_name": 5,
        "hand_raised": "yes",
    }
    cases: list[tuple[dict[str, Any], str]] = []
    if len(names) > 1:
        cases.append(({}, f"missing {names[0]}"))
    for index, name in enumerate(names):
        before = {n: full[n] for n in names[:index]}
        later = names[index + 1 :]
        if not later:
            break  # a single problem: IN-2's and IN-4's business, not an order
        # this one invalid, every later one invalid too
        cases.append(({**before, name: bad[name], **{n: bad[n] for n in later}}, f"invalid {name}"))
        # this one missing, every later one invalid
        cases.append(({**before, **{n: bad[n] for n in later}}, f"missing {name}"))
        # this one invalid, every later one missing
        cases.append(({**before, name: bad[name]}, f"invalid {name}"))
    return cases


@check("IN-3")
def parameters_are_checked_in_order(ctx: CheckContext) -> None:
    """Parameters are checked one at a time in the order user_identity, then stream_name /
    room_sid / room_name, then hand_raised; the first absent or invalid one decides.

    Passes: POST /raise-hand {"user_identity": "a", "hand_raised": "yes"} answers 400
    'missing stream_name'.
    Fails: the same request answers 400 'invalid hand_raised' (or a 500).
    """
    for endpoint in client_endpoints(ctx, with_params=True):
        for body, message in _order_cases(endpoint, ctx):
            exchange = ctx.call(endpoint, body)
            got, _ = error_fields(exchange)
            if got != message:
                ctx.fail(
                    f"{endpoint} with {body} answered {describe_answer(exchange)}, expected "
                    f"{message!r}",
                    exchange=exchange,
                    expected=message,
                    actual=got,
                )


# -- IN-4 --------------------------------------------------------------------------------------
_WRONG_FOR_STRINGS: tuple[Any, ...] = (5, 1.5, True, False, [], ["a"], {}, {"a": "b"}, None)
_WRONG_FOR_BOOLEAN: tuple[Any, ...] = ("true", "false", "", "yes", 1, 0, None, [], {})


@check("IN-4")
def wrong_json_types_are_invalid(ctx: CheckContext) -> None:
    """A parameter of the wrong JSON type (number, boolean, array, object or null for a
    string; a string, number or null for hand_raised) answers 400 'invalid <param>' with a
    non-empty explanation.

    Passes: POST /raise-hand {"user_identity": "bob", "stream_name": "s", "hand_raised":
    "false"} answers 400 {"error": {"message": "invalid hand_raised", ...}}.
    Fails: the same request raises the hand (JavaScript truthiness: "false" is true) or
    answers 400 'missing hand_raised' for "".
    """
    for endpoint in client_endpoints(ctx, with_params=True):
        full = valid_params(ctx, endpoint)
        for name in params_of(endpoint):
            wrong_values = _WRONG_FOR_BOOLEAN if name == "hand_raised" else _WRONG_FOR_STRINGS
            for value in wrong_values:
                exchange = ctx.call(endpoint, {**full, name: value})
                expect_failure_message(
                    ctx,
                    exchange,
                    f"invalid {name}",
                    status=400,
                    what=f"{endpoint} with {name} = {value!r}",
                )
                _, explanation = error_fields(exchange)
                if not explanation:
                    ctx.fail(
                        f"{endpoint} with {name} = {value!r}: the explanation is empty",
                        exchange=exchange,
                    )


# -- IN-5 --------------------------------------------------------------------------------------
_ACCEPTED_IDENTITIES: tuple[tuple[str, str], ...] = (
    ("121 characters", "i" * 121),
    ("121 non-ASCII characters", "\u00e9" * 60 + "\u5c71" * 61),
    ("non-ASCII letters and spaces", "Zo\u00eb \u00dcnl\u00fc \u5c71\u7530 \u0416\u0443\u043a"),
    ("leading and trailing spaces", "  padded name  "),
    ("mixed case", "MiXeD-CaSe"),
    ("a decomposed accent (NFD)", unicodedata.normalize("NFD", "Andr\u00e9")),
    ("an emoji", "emoji \U0001f600 user"),
    ("one character", "q"),
)
_REJECTED_IDENTITIES: tuple[tuple[str, str], ...] = (
    ("an empty string", ""),
    ("122 characters", "i" * 122),
    ("a 10000-character string", "i" * 10_000),
    ("U+0000", "nul\u0000byte"),
    ("a newline", "line\nbreak"),
    ("a tab", "tab\there"),
    ("U+001F", "unit\u001fsep"),
    ("U+007F", "del\u007f"),
    ("U+0085", "next\u0085line"),
    ("U+009F", "app\u009fcmd"),
)


@check("IN-5")
def identities_are_limited_and_verbatim(ctx: CheckContext) -> None:
    """user_identity of 1..121 code points without control characters is accepted (non-ASCII
    letters, spaces, any case) and used verbatim in the token, Sync keys and document name;
    an empty string, 122+ characters or a control character answers 400 'invalid
    user_identity'.

    Passes: join-stream-as-viewer with user_identity "  padded name  " answers 200, the token's
    identity and sync_object_names.user_document are "  padded name  " / "user-  padded name  ".
    Fails: user_identity "line\\nbreak" answers 200, or "  padded name  " is trimmed to
    "padded name".
    """
    stream = ctx.new_stream()
    for label, identity in _REJECTED_IDENTITIES:
        for endpoint in ("join-stream-as-viewer", "raise-hand", "create-stream"):
            params = valid_params(ctx, endpoint, identity=identity, stream_name=stream.name)
            exchange = ctx.call(endpoint, params)
            expect_failure_message(
                ctx,
                exchange,
                "invalid user_identity",
                status=400,
                what=f"{endpoint} with a user_identity of {label}",
            )
    view = ctx.twilio
    for label, identity in _ACCEPTED_IDENTITIES:
        exchange = ctx.call(
            "join-stream-as-viewer", {"user_identity": identity, "stream_name": stream.name}
        )
        body = expect_ok(ctx, exchange, f"join-stream-as-viewer with a user_identity of {label}")
        names = body.get("sync_object_names") if isinstance(body, dict) else None
        document = names.get("user_document") if isinstance(names, dict) else None
        if document != f"user-{identity}":
            ctx.fail(
                f"user_identity of {label}: user_document is {document!r}, expected "
                f"{'user-' + identity!r}",
                exchange=exchange,
            )
        token_identity = grants_of(ctx, body.get("token")).get("identity")
        if token_identity != identity:
            ctx.fail(
                f"user_identity of {label}: the token's identity is {token_identity!r}, "
                f"expected {identity!r}",
                exchange=exchange,
            )
        exchange = ctx.call(
            "raise-hand",
            {"user_identity": identity, "stream_name": stream.name, "hand_raised": True},
        )
        expect_ok(ctx, exchange, f"raise-hand with a user_identity of {label}")
        if view is None:
            continue
        service = stream.sync_service_sid
        documents = view.documents(service) or {}
        if f"user-{identity}" not in documents:
            ctx.fail(
                f"user_identity of {label}: no document named {'user-' + identity!r} "
                f"(documents: {sorted(documents)})",
                exchange=exchange,
            )
        hands = view.map_items(service, "raised_hands") or {}
        if identity not in hands:
            ctx.fail(
                f"user_identity of {label}: raised_hands has no key {identity!r} "
                f"(keys: {sorted(hands)})",
                exchange=exchange,
            )


# -- IN-6 --------------------------------------------------------------------------------------
_SID_HEX = "0123456789abcdef0123456789abcdef"


def _accepted_stream_names(ctx: CheckContext) -> list[tuple[str, str]]:
    base = ctx.unique_name()
    return [
        ("128 characters", (base + "-" + "n" * 128)[:128]),
        ("non-ASCII letters and spaces", f"{base} r\u00e9union \u5c71"),
        ("a leading space", f" {base}"),
        ("RM and 31 hex digits", "RM" + _SID_HEX[:31]),
        ("RM and 33 hex digits", "RM" + _SID_HEX + "0"),
        ("RM and 32 non-hex characters", "RM" + "g" * 32),
        ("one character", "z"),
    ]


_REJECTED_STREAM_NAMES: tuple[tuple[str, str], ...] = (
    ("an empty string", ""),
    ("129 characters", "n" * 129),
    ("a newline", "a\nb"),
    ("U+0000", "a\u0000b"),
    ("U+009F", "a\u009fb"),
    ("a Room SID", "RM" + _SID_HEX),
    ("an upper-case Room SID", "RM" + _SID_HEX.upper()),
    ("a Room SID with a lower-case prefix", "rm" + _SID_HEX),
)


@check("IN-6")
def stream_references_are_limited(ctx: CheckContext) -> None:
    """stream_name: 1..128 characters, no control character, not shaped like a Room SID
    ('invalid stream_name' otherwise); room_name: the same or a lower-case Room SID
    ('invalid room_name'); room_sid: a lower-case Room SID ('invalid room_sid'). All 400.

    Passes: join-stream-as-viewer with stream_name "RM0123...ef" (a Room SID) answers 400
    'invalid stream_name'; with 128 characters it answers 404 'error finding room'.
    Fails: send-speaker-invite with room_sid "friday-townhall" answers 404 'error finding
    room' instead of 400 'invalid room_sid'.
    """
    identity = ctx.identity()
    stream_endpoints = [
        e for e in client_endpoints(ctx) if "stream_name" in params_of(e) and e != "create-stream"
    ]
    for label, name in _accepted_stream_names(ctx):
        for endpoint in stream_endpoints:
            params = valid_params(ctx, endpoint, identity=identity, stream_name=name)
            exchange = ctx.call(endpoint, params)
            expect_failure_message(
                ctx,
                exchange,
                "error finding room",
                what=f"{endpoint} with a stream_name of {label} (unknown)",
            )
        exchange = ctx.call("remove-speaker", {"user_identity": identity, "room_name": name})
        expect_failure_message(
            ctx,
            exchange,
            "error finding room",
            what=f"remove-speaker with a room_name of {label} (unknown)",
        )
    for label, name in _REJECTED_STREAM_NAMES:
        for endpoint in [*stream_endpoints, "create-stream"]:
            params = valid_params(ctx, endpoint, identity=identity, stream_name=name)
            exchange = ctx.call(endpoint, params)
            expect_failure_message(
                ctx,
                exchange,
                "invalid stream_name",
                status=400,
                what=f"{endpoint} with a stream_name of {label}",
            )
    # every rejected stream name but the lower-case Room SID is a rejected room_name too
    rejected_room_names = [
        (label, value) for label, value in _REJECTED_STREAM_NAMES if label != "a Room SID"
    ]
    _expect_room_field_checked(ctx, "remove-speaker", "room_name", identity, rejected_room_names)
    rejected_sids = [
        ("a stream name", ctx.unique_name()),
        ("an empty string", ""),
        ("an upper-case Room SID", "RM" + _SID_HEX.upper()),
        ("RM and 31 hex digits", "RM" + _SID_HEX[:31]),
        ("RM and 33 hex digits", "RM" + _SID_HEX + "0"),
        ("a lower-case prefix", "rm" + _SID_HEX),
        ("another SID type", "IS" + _SID_HEX),
    ]
    _expect_room_field_checked(ctx, "send-speaker-invite", "room_sid", identity, rejected_sids)
    long_name = _accepted_stream_names(ctx)[0][1]
    if ctx.twilio is not None or ctx.has("delete-stream"):
        stream = ctx.new_stream(name=long_name)
        if stream.name != long_name:
            ctx.fail(f"a stream named with 128 characters was created as {stream.name!r}")


def _expect_room_field_checked(
    ctx: CheckContext,
    endpoint: str,
    field: str,
    identity: str,
    rejected: list[tuple[str, str]],
) -> None:
    """``endpoint`` refuses each of ``rejected`` (label, value) as ``field`` with 400
    'invalid <field>', and a well-formed Room SID of no room with 'error finding room'."""
    for label, value in rejected:
        exchange = ctx.call(endpoint, {"user_identity": identity, field: value})
        expect_failure_message(
            ctx,
            exchange,
            f"invalid {field}",
            status=400,
            what=f"{endpoint} with a {field} of {label}",
        )
    exchange = ctx.call(endpoint, {"user_identity": identity, field: random_room_sid(ctx)})
    expect_failure_message(
        ctx, exchange, "error finding room", what=f"{endpoint} with the Room SID of no room"
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
    """A non-empty JSON body that does not parse, or is not an object, answers 400 'invalid
    request body' on every client endpoint.

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


# -- IN-8 --------------------------------------------------------------------------------------
@check("IN-8", needs_twilio=True)
def rejected_input_has_no_effect(ctx: CheckContext) -> None:
    """A request answered 400 sends no write request to Twilio and changes no Sync state
    (bodies naming a live stream with one bad or missing parameter).

    Passes: POST /raise-hand {"user_identity": "bob", "stream_name": "<live>",
    "hand_raised": "yes"} answers 400 and the fake's journal shows no write.
    Fails: the same request answers 400 after the backend added bob to raised_hands.
    """
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    viewer = stream.join_viewer()
    settle(ctx)
    sid = stream.sync_service_sid
    before = sync_snapshot(view, sid)
    bad = {
        "user_identity": "",
        "stream_name": "RM" + _SID_HEX,
        "room_sid": "x",
        "room_name": "",
        "hand_raised": "yes",
    }
    for endpoint in client_endpoints(ctx, with_params=True):
        full = stream_params(ctx, endpoint, stream, viewer.identity)
        bodies: list[tuple[str, Any]] = [("a body that is not an object", "[1]")]
        for name in params_of(endpoint):
            bodies.append((f"an invalid {name}", {**full, name: bad[name]}))
            bodies.append((f"no {name}", {k: v for k, v in full.items() if k != name}))
        for label, body in bodies:
            mark = view.mark()
            if isinstance(body, str):
                exchange = ctx.call(endpoint, body=body, content_type="application/json")
            else:
                exchange = ctx.call(endpoint, body)
            settle(ctx)
            if exchange.status != 400:
                before = sync_snapshot(view, sid)  # not judged here: a new baseline
                continue
            writes = view.writes_since(mark)
            if writes:
                shown = ", ".join(f"{w.get('method')} {w.get('path')}" for w in writes[:4])
                ctx.fail(
                    f"{endpoint} with {label} answered 400 but wrote to Twilio: {shown}",
                    exchange=exchange,
                    actual=writes,
                )
            after = sync_snapshot(view, sid)
            if after != before:
                ctx.fail(
                    f"{endpoint} with {label} answered 400 but changed the stream's Sync state",
                    exchange=exchange,
                    expected=before,
                    actual=after,
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
