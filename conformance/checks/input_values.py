"""IN, the values of identities and stream references: which are accepted (verbatim: IN-5,
IN-6, what the clients need) and which are refused (IN-11, IN-12, hygiene)
(docs/PROTOCOL.md 2.1, 2.2).
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
from ._parameters import SID_HEX, client_endpoints, params_of, valid_params

# -- IN-5 --------------------------------------------------------------------------------------
_ACCEPTED_IDENTITIES: tuple[tuple[str, str], ...] = (
    ("121 characters", "i" * 121),
    ("121 non-ASCII characters", "\u00e9" * 60 + "\u5c71" * 61),
    ("non-ASCII letters and spaces", "Zo\u00eb \u00dcnl\u00fc \u5c71\u7530 \u0416\u0443\u043a"),
    ("leading and trailing spaces", "  padded name  "),
    ("a trailing space", "trailing "),
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
def identities_are_taken_verbatim(ctx: CheckContext) -> None:
    """user_identity of 1..121 code points without control characters is accepted (non-ASCII
    letters, inner, leading and trailing spaces, any case) and used verbatim in the token,
    Sync keys and document name.

    Passes: join-stream-as-viewer with user_identity "  padded name  " answers 200, the token's
    identity and sync_object_names.user_document are "  padded name  " / "user-  padded name  ".
    Fails: "  padded name  " is trimmed to "padded name", or join-stream-as-viewer answers
    500 'error updating user document' for "name " (a trailing space).
    """
    stream = ctx.new_stream()
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


@check("IN-11")
def out_of_range_identities_are_refused(ctx: CheckContext) -> None:
    """An empty user_identity, 122+ characters, a control character or a lone surrogate (a
    JSON escape such as "\\ud800" that is no Unicode character) answers 400 'invalid
    user_identity'.

    Passes: join-stream-as-viewer with user_identity "line\\nbreak" answers 400
    {"error": {"message": "invalid user_identity", ...}}.
    Fails: it answers 200, or 500 when Twilio refuses the identity later.
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


# -- IN-6 --------------------------------------------------------------------------------------
def _accepted_stream_names(ctx: CheckContext) -> list[tuple[str, str]]:
    base = ctx.unique_name()
    hex_digits = "".join(ctx.rng.choice("0123456789abcdef") for _ in range(33))
    return [
        ("128 characters", (base + "-" + "n" * 128)[:128]),
        ("non-ASCII letters and spaces", f"{base} r\u00e9union \u5c71"),
        ("a leading space", f" {base}"),
        ("a trailing space", f"{base} "),
        ("RM and 31 hex digits", "RM" + hex_digits[:31]),
        ("RM and 33 hex digits", "RM" + hex_digits),
        ("RM and 32 non-hex characters", "RM" + "g" * 16 + hex_digits[:16]),
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
def stream_names_are_taken_verbatim(ctx: CheckContext) -> None:
    """A stream_name of 1..128 characters without control characters that is not shaped like
    a Room SID (non-ASCII letters and spaces included) creates a stream whose room has
    exactly that unique name, and the join endpoints find it by that name.

    Passes: create-stream with stream_name " r\u00e9union \u5c71" answers 200, the room's
    unique_name is " r\u00e9union \u5c71" and join-stream-as-viewer with it answers 200.
    Fails: create-stream trims the name to "r\u00e9union \u5c71", or refuses 128 characters.
    """
    view = ctx.twilio
    for label, name in _accepted_stream_names(ctx):
        stream = ctx.new_stream(name=name)
        if view is not None:
            room = view.room(stream.room_sid) or {}
            if room.get("unique_name") != name:
                ctx.fail(
                    f"a stream_name of {label}: the room's unique_name is "
                    f"{room.get('unique_name')!r}, expected {name!r}"
                )
        exchange = ctx.call(
            "join-stream-as-viewer", {"user_identity": ctx.identity(), "stream_name": name}
        )
        expect_ok(ctx, exchange, f"join-stream-as-viewer with a stream_name of {label}")


@check("IN-12")
def out_of_range_stream_references_are_refused(ctx: CheckContext) -> None:
    """stream_name: empty, over 128 characters, a control character, a lone surrogate or
    shaped like a Room SID answers 'invalid stream_name'; room_name: anything but such a
    name or a lower-case Room SID 'invalid room_name'; room_sid: anything but a lower-case
    Room SID 'invalid room_sid'. All 400.

    Passes: join-stream-as-viewer with stream_name "RM0123...ef" (a Room SID) answers 400
    'invalid stream_name'.
    Fails: send-speaker-invite with room_sid "friday-townhall" answers 404 'error finding
    room' instead of 400 'invalid room_sid'.
    """
    identity = ctx.identity()
    stream_endpoints = [
        e for e in client_endpoints(ctx) if "stream_name" in params_of(e) and e != "create-stream"
    ]
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


def _expect_room_field_checked(
    ctx: CheckContext,
    endpoint: str,
    field: str,
    identity: str,
    rejected: list[tuple[str, str]],
) -> None:
    """``endpoint`` refuses each of ``rejected`` (label, value) as ``field`` with 400
    'invalid <field>'."""
    for label, value in rejected:
        exchange = ctx.call(endpoint, {"user_identity": identity, field: value})
        expect_failure_message(
            ctx,
            exchange,
            f"invalid {field}",
            status=400,
            what=f"{endpoint} with a {field} of {label}",
        )
