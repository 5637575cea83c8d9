"""PROP-2: request bodies generated from the request schemas, valid and invalid.

Valid parameters come from ``schemas/protocol/*.request.json`` through
``hypothesis-jsonschema`` (references into ``common.json`` inlined first); invalid bodies are
valid ones with one mutation (a member dropped, a wrong JSON type, an empty, over-long or
control-character string, a 10 kB identity; fixed cases: a 5,000-digit integer and a lone
surrogate escape), non-objects, malformed JSON, empty bodies and other content types. The
oracle of an invalid body is :func:`schemas.catalog.input_error`.
Properties (docs/PROTOCOL.md PROP-2): no 5xx for any generated input, the error envelope on
every non-2xx answer, valid input never answered 400, and no write to Twilio from a request
answered non-2xx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

import schemas
from schemas import catalog

from ..context import CheckContext
from ..outcomes import CheckFailed
from ..scenario import Stream
from ..transport import Exchange
from .budget import Budget, OutOfTime

__all__ = ["Case", "cases", "extreme_json_cases", "huge_identity_cases", "run_fuzz"]

HUGE = 10_240
_ENDPOINTS = tuple(e.name for e in catalog.CLIENT_ENDPOINTS if e.params)
_OTHER_TYPES = ("text/plain", "application/xml", "multipart/form-data; boundary=x", None)
_WRONG_VALUES: tuple[Any, ...] = (0, 1.5, True, None, [], {}, ["a"], {"a": 1})


@dataclass(frozen=True)
class Case:
    """One generated request: ``kind`` (valid, invalid, not-object, malformed, empty,
    content-type), the ``endpoint``, the raw ``body`` and its ``content_type``, and the
    decoded ``params`` when the body is JSON (None otherwise)."""

    kind: str
    endpoint: str
    body: bytes
    content_type: str | None
    params: Any = None


@cache
def _inlined(name: str) -> dict[str, Any]:
    """The request schema with every ``$ref`` replaced by what it points to."""
    common = schemas.load("protocol/common")

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            rest = {k: resolve(v) for k, v in node.items() if k not in ("$ref", "$id", "$schema")}
            if isinstance(ref, str):
                target = resolve(common["$defs"][ref.rsplit("/", 1)[-1]])
                return {"allOf": [target, rest]} if rest else target
            return rest
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    schema = resolve(schemas.load(name))
    schema.pop("examples", None)
    return schema


def _param_strategy(endpoint: str, param: str) -> st.SearchStrategy[Any]:
    schema = _inlined(catalog.endpoint(endpoint).request_schema)
    return from_schema(schema["properties"][param])


def _valid_params(endpoint: str) -> st.SearchStrategy[dict[str, Any]]:
    params = catalog.endpoint(endpoint).params
    fixed = st.fixed_dictionaries({p: _param_strategy(endpoint, p) for p in params})
    extra = st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in params), st.integers(), max_size=2
    )
    return st.tuples(fixed, extra).map(lambda pair: {**pair[1], **pair[0]})


def _mutated(endpoint: str, draw: Any) -> dict[str, Any]:
    params = dict(draw(_valid_params(endpoint)))
    names = list(catalog.endpoint(endpoint).params)
    target = draw(st.sampled_from(names))
    how = draw(st.sampled_from(("drop", "type", "empty", "control", "huge", "string")))
    if how == "huge":
        target = names[0]  # user_identity where there is one: the 10 kB identity
    if how == "drop":
        params.pop(target)
    elif how == "type":
        params[target] = draw(st.sampled_from(_WRONG_VALUES))
    elif how == "empty":
        params[target] = ""
    elif how == "control":
        char = draw(st.sampled_from(("\x00", "\n", "\t", "\x1f", "\x7f", "\x85", "\x9f")))
        text = params[target] if isinstance(params[target], str) else "x"
        at = draw(st.integers(0, len(text)))
        params[target] = text[:at] + char + text[at:]
    elif how == "huge":
        params[target] = draw(st.sampled_from(("a", "é", "🎥"))) * HUGE
    else:
        params[target] = json.dumps(params[target])
    return params


@st.composite
def cases(draw: Any, endpoints: tuple[str, ...] = _ENDPOINTS) -> Case:
    """Any generated request (see :class:`Case`)."""
    endpoint = draw(st.sampled_from(endpoints))
    kind = draw(
        st.sampled_from(("valid", "valid", "invalid", "invalid", "invalid", "not-object",
                         "malformed", "empty", "content-type"))
    )  # fmt: skip
    if kind == "valid":
        params = draw(_valid_params(endpoint))
        return Case(kind, endpoint, _encode(params), "application/json", params)
    if kind == "invalid":
        params = _mutated(endpoint, draw)
        return Case(kind, endpoint, _encode(params), "application/json", params)
    if kind == "not-object":
        value = draw(st.sampled_from(([], [1], "x", 3, 1.5, True, None)))
        return Case(kind, endpoint, _encode(value), "application/json", value)
    if kind == "malformed":
        text = draw(st.sampled_from(('{"user_identity": ', "{'a': 1}", "{,}", "nul", '{"a":1}}')))
        return Case(kind, endpoint, text.encode(), "application/json")
    if kind == "empty":
        return Case(kind, endpoint, b"", "application/json", {})
    params = draw(_valid_params(endpoint) | st.builds(lambda: {}))
    content_type = draw(st.sampled_from(_OTHER_TYPES))
    return Case(kind, endpoint, _encode(params), content_type, params)


def huge_identity_cases() -> list[Case]:
    """Every endpoint with a user_identity, its schema example carrying a
    :data:`HUGE`-character identity: run first, whatever the budget, because a random draw
    reaches the 'huge' mutation of the identity only once in a few hundred cases."""
    found = []
    for endpoint in _ENDPOINTS:
        if "user_identity" not in catalog.endpoint(endpoint).params:
            continue
        sample = schemas.load(catalog.endpoint(endpoint).request_schema)["examples"][0]
        for char in ("a", "🎥"):
            params = {**sample, "user_identity": char * HUGE}
            found.append(Case("invalid", endpoint, _encode(params), "application/json", params))
    return found


#: More digits than Python's int-to-text limit (4,300): a parser that builds native integers
#: may fail on such a number, yet it is only a number of the wrong type ('invalid <param>').
HUGE_INT_DIGITS = 5_000
_HUGE_INT_PLACEHOLDER = "<huge integer>"


def extreme_json_cases() -> list[Case]:
    """Every endpoint with its first parameter a :data:`HUGE_INT_DIGITS`-digit integer, or a
    string holding a lone surrogate escape (``"\\ud800"``): both must be answered 400
    'invalid <param>', never 500. Run first, whatever the budget: generated strings are
    Unicode text, and generated integers are small. ``params`` holds ``10**100`` in place
    of the huge integer: the oracle judges it by its type alone, and a report can print it."""
    found = []
    for endpoint in _ENDPOINTS:
        sample = schemas.load(catalog.endpoint(endpoint).request_schema)["examples"][0]
        first = catalog.endpoint(endpoint).params[0]
        huge = {**sample, first: 10**100}
        text = json.dumps({**sample, first: _HUGE_INT_PLACEHOLDER}).replace(
            json.dumps(_HUGE_INT_PLACEHOLDER), "1" + "0" * (HUGE_INT_DIGITS - 1), 1
        )
        found.append(Case("invalid", endpoint, text.encode(), "application/json", huge))
        if isinstance(sample[first], str):
            lone = {**sample, first: sample[first] + "\ud800"}
            found.append(Case("invalid", endpoint, _encode(lone), "application/json", lone))
    return found


def _encode(value: Any) -> bytes:
    """JSON in UTF-8; a lone surrogate, which UTF-8 cannot carry, is written as an escape."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value).encode("ascii")


def run_fuzz(ctx: CheckContext, budget: Budget) -> None:
    """Send generated cases within ``budget``; fail (CheckFailed) on the first broken rule."""
    view = ctx.require_twilio()
    stream = ctx.new_stream()

    def property_holds(case: Case, aim: bool) -> None:
        budget.check_time()
        budget.examples_run += 1
        ctx.exchanges.clear()
        case = _aimed(ctx, case, stream) if aim else _fresh(ctx, case)
        mark = view.mark()
        exchange = _send(ctx, case)
        _judge(ctx, case, exchange, mark)

    test = given(case=cases(), aim=st.booleans())(property_holds)
    for case in reversed(huge_identity_cases()):
        test = example(case=case, aim=True)(test)
    for case in reversed(extreme_json_cases()):
        test = example(case=case, aim=False)(test)  # aiming would re-encode the huge integer
    try:
        budget.run(budget.settings()(test))
    except OutOfTime:
        pass
    except CheckFailed as failure:
        failure.summary = f"{failure.summary} ({budget.describe()})"
        raise
    ctx.note(f"fuzzing: {budget.describe()}")


def _aimed(ctx: CheckContext, case: Case, stream: Stream) -> Case:
    """A JSON case whose stream parameter names the live stream (delete-stream aside)."""
    if not isinstance(case.params, dict) or case.endpoint in ("create-stream", "delete-stream"):
        return _fresh(ctx, case)
    params = dict(case.params)
    for name, value in (
        ("stream_name", stream.name),
        ("room_name", stream.name),
        ("room_sid", stream.room_sid),
    ):
        if isinstance(params.get(name), str):
            params[name] = value
    return Case(case.kind, case.endpoint, _encode(params), case.content_type, params)


def _fresh(ctx: CheckContext, case: Case) -> Case:
    """A create-stream that could succeed gets a name unique to this run (the generated
    name is kept as a suffix), so it cannot collide with other runs on a shared fake."""
    params = case.params
    if case.endpoint != "create-stream" or not isinstance(params, dict):
        return case
    name = params.get("stream_name")
    if not isinstance(name, str) or not name or len(name) > 128:
        return case
    if catalog.input_error("create-stream", params) is not None:
        return case
    params = {**params, "stream_name": (ctx.unique_name("fuzz") + "-" + name)[:128]}
    return Case(case.kind, case.endpoint, _encode(params), case.content_type, params)


def _send(ctx: CheckContext, case: Case) -> Exchange:
    exchange = ctx.call(case.endpoint, body=case.body, content_type=case.content_type)
    if exchange.ok and case.endpoint == "create-stream" and isinstance(case.params, dict):
        name = case.params.get("stream_name")
        ctx.unrecorded_backend.call("delete-stream", {"stream_name": name})
        if ctx.twilio is not None and isinstance(exchange.json, dict):
            room = exchange.json.get("room_sid")
            if isinstance(room, str) and (ctx.twilio.room(room) or {}).get("status") == (
                "in-progress"
            ):
                ctx.twilio.complete_room(room)
            ctx.twilio.flush_webhooks()
    return exchange


def _judge(ctx: CheckContext, case: Case, exchange: Exchange, mark: int) -> None:
    what = f"{case.kind} case: {case.endpoint} with {_shown(case)}"
    status = exchange.status or 0
    if status >= 500:
        ctx.fail(f"{what} answered {status}: generated input must never cause a 5xx",
                 exchange=exchange)  # fmt: skip
    if not exchange.ok:
        ctx.expect_error(exchange)
        writes = [
            w for w in ctx.require_twilio().writes_since(mark)
            if 200 <= int(w.get("status") or 0) < 300
        ]  # fmt: skip
        if writes:
            shown = ", ".join(f"{w.get('method')} {w.get('path')}" for w in writes[:3])
            ctx.fail(f"{what} answered {status} but changed Twilio: {shown}", exchange=exchange)
    if case.kind == "content-type":
        return
    expected = catalog.input_error(case.endpoint, case.params) if case.kind != "malformed" else (
        catalog.invalid_body_error().body()
    )  # fmt: skip
    if expected is None:
        if status == 400 and not _composer_identity(case.params, exchange):
            ctx.fail(f"{what} is valid but answered 400 {exchange.error_message!r}",
                     exchange=exchange)  # fmt: skip
        if exchange.ok:
            ctx.expect_success(exchange, case.endpoint)
        return
    message = expected["error"]["message"]
    ctx.expect_error(exchange, status=400, message=message)


def _composer_identity(params: Any, exchange: Exchange) -> bool:
    """A backend MAY reject identities starting with video-composer (PROTOCOL.md 2.2)."""
    identity = params.get("user_identity") if isinstance(params, dict) else None
    return (
        isinstance(identity, str)
        and identity.startswith("video-composer")
        and exchange.error_message == "invalid user_identity"
    )


def _shown(case: Case) -> str:
    text = case.body.decode("utf-8", "replace")
    if len(text) > 160:
        text = text[:160] + f"... ({len(case.body)} bytes)"
    return f"{text or 'an empty body'} ({case.content_type or 'no Content-Type'})"
