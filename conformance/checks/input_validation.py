"""IN, the parameters as a whole: missing ones named, checked in order, wrong JSON types
refused, and rejected input without effect (docs/PROTOCOL.md 2.1, 2.2 and requirements IN-2,
IN-3, IN-4, IN-8).
"""

from __future__ import annotations

import json
from typing import Any

from schemas import catalog

from ..context import CheckContext
from ..registry import check
from ._answers import (
    describe_answer,
    error_fields,
    expect_failure_message,
)
from ._parameters import SID_HEX, client_endpoints, params_of, stream_params, valid_params
from ._twilio_state import sync_snapshot
from ._waiting import settle


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
    non-empty explanation; a number of 5,000 digits too (never a 500).

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
            exchange = ctx.call(
                endpoint, body=_with_huge_integer(full, name), content_type="application/json"
            )
            expect_failure_message(
                ctx,
                exchange,
                f"invalid {name}",
                status=400,
                what=f"{endpoint} with {name} = an integer of {HUGE_INTEGER_DIGITS:,} digits",
            )


#: More digits than Python's int-to-text limit (4,300): a JSON parser that turns every
#: integer into a native one may fail on it, and a 500 is no answer to a wrong type.
HUGE_INTEGER_DIGITS = 5_000
_PLACEHOLDER = "<huge integer>"


def _with_huge_integer(params: dict[str, Any], name: str) -> str:
    """``params`` as JSON text with ``name`` set to a :data:`HUGE_INTEGER_DIGITS`-digit
    integer (written by hand: Python's own json module cannot write such a number)."""
    text = json.dumps({**params, name: _PLACEHOLDER})
    return text.replace(json.dumps(_PLACEHOLDER), "9" * HUGE_INTEGER_DIGITS, 1)


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
        "stream_name": "RM" + SID_HEX,
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
