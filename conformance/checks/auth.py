"""AUTH: the passcode (docs/PROTOCOL.md 2.3, 2.6, 7 and requirements AUTH-1..AUTH-6).

AUTH-1 owns an endpoint that does not check the passcode at all; AUTH-3 and AUTH-4 judge only
the endpoints that do (:func:`_passcode_checking_endpoints`), so that one missing check is
one failure. The exact explanations of the two refusals are AUTH-6's.
"""

from __future__ import annotations

from ..context import CheckContext
from ..outcomes import BackendNoAnswer
from ..registry import check
from ..transport import Exchange
from ._answers import describe_answer, error_fields
from ._parameters import client_endpoints, stream_params, valid_params
from ._passcodes import PASSCODE_EXPIRED, PASSCODE_INCORRECT, near_misses, refused_call
from ._twilio_state import participant_sid
from ._waiting import settle

_WHITESPACE_LABELS = ("a leading space", "a trailing space", "a trailing tab")
PASSCODE_INCORRECT_TEXTS = (PASSCODE_INCORRECT.message, PASSCODE_INCORRECT.explanation)
PASSCODE_EXPIRED_TEXTS = (PASSCODE_EXPIRED.message, PASSCODE_EXPIRED.explanation)


def _passcode(ctx: CheckContext) -> str:
    passcode = ctx.backend.passcode or ctx.config.passcode
    if not passcode:
        ctx.skip("the suite does not know the backend's passcode")
    return passcode


def _expect_401(ctx: CheckContext, exchange: Exchange, message: str, what: str) -> None:
    got_message, _ = error_fields(exchange)
    if exchange.status != 401 or got_message != message:
        ctx.fail(
            f"{what}: answered {describe_answer(exchange)}, expected 401 {message!r}",
            exchange=exchange,
            expected=f"401 {message}",
            actual=describe_answer(exchange),
        )


def _expect_explanation(
    ctx: CheckContext, exchange: Exchange, message: str, explanation: str, what: str
) -> None:
    """The explanation of a 401 with ``message`` (a wrong status or message is AUTH-1's or
    AUTH-3's failure, not this one's)."""
    got_message, got_explanation = error_fields(exchange)
    if exchange.status != 401 or got_message != message:
        return
    if got_explanation != explanation:
        ctx.fail(
            f"{what}: explanation {got_explanation!r}, expected byte for byte {explanation!r}",
            exchange=exchange,
            expected=explanation,
            actual=got_explanation,
        )


def _passcode_checking_endpoints(ctx: CheckContext) -> list[str]:
    """The client endpoints that refuse a wrong passcode on the live deployment (the others
    are AUTH-1's failure); a note names the ones left out."""
    found, unchecked = [], []
    for endpoint in client_endpoints(ctx):
        params = valid_params(ctx, endpoint)
        exchange = refused_call(ctx, endpoint, params, passcode="not-the-passcode", what="probe")
        (found if exchange.status == 401 else unchecked).append(endpoint)
    if unchecked:
        ctx.note(f"not judged: {', '.join(unchecked)} (no 401 for a wrong passcode at all: AUTH-1)")
    return found


@check("AUTH-1")
def rejects_missing_and_wrong_passcodes(ctx: CheckContext) -> None:
    """Every client endpoint answers 401 'passcode incorrect' unless the header is exactly
    the passcode: no header, a wrong value and near-misses (a 'Bearer ' prefix, leading or
    trailing whitespace, the last character missing, one appended, one changed).

    Passes: POST /remove-speaker with "Authorization: Bearer <passcode>" answers
    401 {"error": {"message": "passcode incorrect", "explanation": "..."}}.
    Fails: POST /remove-speaker without an Authorization header answers 404
    {"error": {"message": "error finding room", ...}} (the passcode was never checked).
    """
    passcode = _passcode(ctx)
    variants: list[tuple[str, str | None]] = [("no Authorization header", None)]
    variants += [(f"the passcode with {label}", value) for label, value in near_misses(passcode)]
    unsendable: set[str] = set()
    for endpoint in client_endpoints(ctx):
        params = valid_params(ctx, endpoint)
        for label, value in variants:
            what = f"{endpoint} with {label}"
            try:
                exchange = refused_call(ctx, endpoint, params, passcode=value, what=label)
            except BackendNoAnswer:
                if any(w in label for w in _WHITESPACE_LABELS):
                    unsendable.add(label)
                    continue
                raise
            _expect_401(ctx, exchange, PASSCODE_INCORRECT.message, what)
    if unsendable:
        ctx.note(
            f"not sent: {', '.join(sorted(unsendable))} (HTTP/1.1 clients refuse header values "
            "with leading or trailing whitespace, and servers strip it; judged in-process only)"
        )


@check("AUTH-2")
def accepts_the_exact_passcode(ctx: CheckContext) -> None:
    """With the header set to exactly the passcode, verify-passcode answers 200
    {"verified": true} and no client endpoint answers 401.

    Passes: POST /verify-passcode with "Authorization: <passcode>" answers 200
    {"verified": true}; POST /raise-hand with {} answers 400 'missing user_identity'.
    Fails: POST /verify-passcode with "Authorization: <passcode>" answers 401
    'passcode incorrect' (e.g. the backend expects "Bearer <passcode>").
    """
    _passcode(ctx)
    exchange = ctx.call("verify-passcode", {})
    body = exchange.json
    if exchange.status != 200 or not isinstance(body, dict) or body.get("verified") is not True:
        ctx.fail(
            f"verify-passcode with the passcode answered {describe_answer(exchange)}, "
            'expected 200 {"verified": true}',
            exchange=exchange,
            expected={"verified": True},
            actual=body,
            expected_success=True,
        )
    for endpoint in client_endpoints(ctx):
        for params in ({}, valid_params(ctx, endpoint)):
            exchange = ctx.call(endpoint, params)
            if exchange.status == 401:
                ctx.fail(
                    f"{endpoint} with exactly the passcode answered {describe_answer(exchange)}",
                    exchange=exchange,
                    expected="anything but 401",
                    actual=exchange.status,
                )


@check("AUTH-3", needs_expired=True)
def reports_an_expired_passcode_first(ctx: CheckContext) -> None:
    """On a deployment whose passcode has expired, every client endpoint that checks the
    passcode answers 401 'passcode expired' whatever the Authorization header holds.

    Passes: POST /create-stream to the expired deployment with a wrong passcode answers
    401 {"error": {"message": "passcode expired", "explanation": "..."}}.
    Fails: the same request answers 401 'passcode incorrect' (equality checked first).
    """
    expired = ctx.require_expired()
    passcode = expired.passcode or ctx.config.expired_passcode
    endpoints = _passcode_checking_endpoints(ctx)
    variants: list[tuple[str, object]] = [
        ("its own (expired) passcode", passcode),
        ("a wrong passcode", "not-the-passcode"),
        ("no Authorization header", None),
    ]
    for endpoint in endpoints:
        params = valid_params(ctx, endpoint)
        for label, value in variants:
            exchange = expired.call(endpoint, params, passcode=value)
            what = f"{endpoint} on the expired deployment with {label}"
            _expect_401(ctx, exchange, PASSCODE_EXPIRED.message, what)


_UNAUTHENTICATED_BODIES: tuple[tuple[str, dict], ...] = (
    ("a body that is not JSON", {"body": "{not json", "content_type": "application/json"}),
    ("a JSON array body", {"body": "[1, 2]", "content_type": "application/json"}),
    ("a JSON string body", {"body": '"text"', "content_type": "application/json"}),
    ("an empty object", {"params": {}}),
    (
        "ill-typed parameters",
        {
            "params": {
                "user_identity": 5,
                "stream_name": [],
                "room_sid": {},
                "room_name": None,
                "hand_raised": "yes",
            }
        },
    ),
)


@check("AUTH-4")
def authenticates_before_validating_input(ctx: CheckContext) -> None:
    """A request with a missing or wrong passcode answers 401 even when its body is not
    JSON, not an object, or lacks or has invalid parameters (never 400).

    Passes: POST /join-stream-as-viewer without Authorization and body "[1, 2]" answers 401.
    Fails: the same request answers 400 'invalid request body'.
    """
    for endpoint in _passcode_checking_endpoints(ctx):
        for label, spec in _UNAUTHENTICATED_BODIES:
            for passcode, who in ((None, "no passcode"), ("not-the-passcode", "a wrong passcode")):
                kwargs = dict(spec)
                params = kwargs.pop("params", None)
                exchange = refused_call(
                    ctx, endpoint, params, passcode=passcode, what=who, **kwargs
                )
                if exchange.status != 401:
                    ctx.fail(
                        f"{endpoint} with {who} and {label} answered "
                        f"{describe_answer(exchange)}, expected 401",
                        exchange=exchange,
                        expected=401,
                        actual=exchange.status,
                    )


@check("AUTH-5", needs_twilio=True)
def rejected_requests_have_no_effect(ctx: CheckContext) -> None:
    """A request answered 401 sends no write request to Twilio: on every endpoint, with
    parameters naming a live stream (create-stream: a new name), and in particular
    remove-speaker and delete-stream leave the room and its participants as they were.

    Passes: POST /remove-speaker {"user_identity": "<connected speaker>", "room_name":
    "<stream>"} with a wrong passcode answers 401 and the speaker is still connected.
    Fails: the same request answers 401 but the fake's journal shows
    POST /v1/Rooms/RM.../Participants/<speaker> (the participant was disconnected).
    """
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    stream.host_connects()
    speaker = stream.join_speaker()
    speaker.connect_room()
    viewer = stream.join_viewer()
    settle(ctx)
    refused_everywhere = {"remove-speaker": True, "delete-stream": True}
    for endpoint in client_endpoints(ctx):
        identity = speaker.identity if endpoint == "remove-speaker" else viewer.identity
        if endpoint == "create-stream":
            params = valid_params(ctx, endpoint, identity=identity)
        else:
            params = stream_params(ctx, endpoint, stream, identity)
        for passcode, who in ((None, "no passcode"), ("not-the-passcode", "a wrong passcode")):
            mark = view.mark()
            exchange = ctx.call(endpoint, params, passcode=passcode)
            settle(ctx)
            writes = view.writes_since(mark)
            refused = exchange.status in (401, 429)
            if endpoint in refused_everywhere:
                refused_everywhere[endpoint] &= refused
            if refused and writes:
                shown = ", ".join(f"{w.get('method')} {w.get('path')}" for w in writes[:4])
                ctx.fail(
                    f"{endpoint} with {who} answered {exchange.status} but wrote to Twilio: "
                    f"{shown}",
                    exchange=exchange,
                    actual=writes,
                )
            if refused and endpoint == "create-stream" and view.room(params["stream_name"]):
                ctx.fail(
                    f"create-stream with {who} answered {exchange.status} but the room "
                    f"{params['stream_name']!r} exists",
                    exchange=exchange,
                )
            ctx.call("verify-passcode", {})
    refused_remove = refused_everywhere["remove-speaker"]
    if refused_remove and participant_sid(ctx, stream.room_sid, speaker.identity) is None:
        ctx.fail("remove-speaker answered 401 but the speaker is no longer connected")
    room = view.room(stream.room_sid) or {}
    if refused_everywhere["delete-stream"] and room.get("status") != "in-progress":
        ctx.fail(
            f"after refused requests the stream's room is {room.get('status')!r}, "
            "expected in-progress"
        )


@check("AUTH-6")
def refusals_carry_the_documented_explanations(ctx: CheckContext) -> None:
    """The 401 answers for a wrong passcode, and on an expired deployment, carry the
    documented explanations byte for byte.

    Passes: POST /verify-passcode with a wrong passcode answers 401 {"error": {"message":
    "passcode incorrect", "explanation": "The passcode used to validate application users
    is incorrect."}}.
    Fails: the same request answers 401 {"error": {"message": "passcode incorrect",
    "explanation": "Wrong passcode"}}.
    """
    _passcode(ctx)
    for endpoint in client_endpoints(ctx):
        params = valid_params(ctx, endpoint)
        exchange = refused_call(ctx, endpoint, params, passcode="not-the-passcode", what="probe")
        what = f"{endpoint} with a wrong passcode"
        _expect_explanation(ctx, exchange, *PASSCODE_INCORRECT_TEXTS, what)
    expired = ctx.expired_backend
    if expired is None:
        ctx.note("the expired refusal not judged: no expired deployment (--expired-url)")
        return
    for endpoint in client_endpoints(ctx):
        exchange = expired.call(endpoint, valid_params(ctx, endpoint), passcode=None)
        what = f"{endpoint} on the expired deployment"
        _expect_explanation(ctx, exchange, *PASSCODE_EXPIRED_TEXTS, what)
