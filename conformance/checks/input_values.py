"""IN, the values of identities and stream references: which are accepted (verbatim) and which
are refused (docs/PROTOCOL.md 2.1, 2.2 and requirements IN-5, IN-6).
"""

from __future__ import annotations

import unicodedata

from ..context import CheckContext
from ..registry import check
from ._answers import (
    expect_failure_message,
    expect_ok,
    grants_of,
)
from ._parameters import SID_HEX, client_endpoints, params_of, random_room_sid, valid_params

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
    ("a lone high surrogate (JSON \\ud800)", "lone\ud800half"),
    ("a lone low surrogate (JSON \\udfff)", "\udfff"),
)


@check("IN-5")
def identities_are_limited_and_verbatim(ctx: CheckContext) -> None:
    """user_identity of 1..121 code points without control characters is accepted (non-ASCII
    letters, spaces, any case) and used verbatim in the token, Sync keys and document name;
    an empty string, 122+ characters, a control character or a lone surrogate (a JSON
    escape such as "\\ud800" that is no Unicode character) answers 400 'invalid
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
def _accepted_stream_names(ctx: CheckContext) -> list[tuple[str, str]]:
    base = ctx.unique_name()
    return [
        ("128 characters", (base + "-" + "n" * 128)[:128]),
        ("non-ASCII letters and spaces", f"{base} r\u00e9union \u5c71"),
        ("a leading space", f" {base}"),
        ("RM and 31 hex digits", "RM" + SID_HEX[:31]),
        ("RM and 33 hex digits", "RM" + SID_HEX + "0"),
        ("RM and 32 non-hex characters", "RM" + "g" * 32),
        ("one character", "z"),
    ]


_REJECTED_STREAM_NAMES: tuple[tuple[str, str], ...] = (
    ("an empty string", ""),
    ("129 characters", "n" * 129),
    ("a newline", "a\nb"),
    ("U+0000", "a\u0000b"),
    ("U+009F", "a\u009fb"),
    ("a lone surrogate (JSON \\udbff)", "a\udbffb"),
    ("a Room SID", "RM" + SID_HEX),
    ("an upper-case Room SID", "RM" + SID_HEX.upper()),
    ("a Room SID with a lower-case prefix", "rm" + SID_HEX),
)


@check("IN-6")
def stream_references_are_limited(ctx: CheckContext) -> None:
    """stream_name: 1..128 characters, no control character or lone surrogate, not shaped
    like a Room SID ('invalid stream_name' otherwise); room_name: the same or a lower-case
    Room SID ('invalid room_name'); room_sid: a lower-case Room SID ('invalid room_sid').
    All 400.

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
        ("an upper-case Room SID", "RM" + SID_HEX.upper()),
        ("RM and 31 hex digits", "RM" + SID_HEX[:31]),
        ("RM and 33 hex digits", "RM" + SID_HEX + "0"),
        ("a lower-case prefix", "rm" + SID_HEX),
        ("another SID type", "IS" + SID_HEX),
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
