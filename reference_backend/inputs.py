"""Reading and validating a client endpoint's parameters, before any Twilio call.

Three ways in (docs/PROTOCOL.md 2.1 and 2.4):

* a JSON object body (always accepted; an empty body counts as ``{}``);
* capability ``form-body``: an ``application/x-www-form-urlencoded`` POST body;
* capability ``get-query``: a GET with the parameters in the query string.

Form and query values are strings; for the parameters the request schema declares boolean
(``hand_raised``), exactly ``"true"`` and ``"false"`` become JSON booleans and anything else
stays a string (and so is ``invalid``). A parameter given more than once is ``invalid``.
They are percent-decoded as UTF-8 here, not by Werkzeug (which keeps an undecodable ``%FF``
as the literal text ``"%FF"``): a value that is not UTF-8 is ``invalid <param>``, a key that
is not UTF-8 ``invalid request body`` (:func:`_decode_pairs`).

The decoded parameters are then checked with the endpoint's request schema, in the
catalogue's order (:func:`schemas.catalog.input_error`): ``invalid request body``, then per
parameter ``missing <param>`` / ``invalid <param>``. The schema also refuses strings that
are not Unicode text (a lone surrogate, which a ``\\udXXX`` JSON escape can spell and which
Twilio could not be sent) and numbers of any size where text or a boolean is expected.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Request

from schemas import catalog, validator

from .errors import ProtocolError, method_not_allowed

__all__ = ["FORM_CONTENT_TYPE", "read_params"]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@cache
def _boolean_params(endpoint: str) -> frozenset[str]:
    """Parameters whose request-schema type is boolean."""
    properties = validator(f"protocol/{endpoint}.request").schema.get("properties", {})
    return frozenset(name for name, schema in properties.items() if schema.get("type") == "boolean")


def _decode_pairs(raw: bytes) -> list[tuple[str, str]] | None:
    """The ``key=value`` pairs of a form body or query string, percent-decoded as UTF-8
    (``+`` is a space; a piece without ``=`` has the value ``""``).

    Not Werkzeug's parser: it keeps undecodable input as its literal ``%XX`` text, so
    ``user_identity=%FF`` would become the identity ``"%FF"``. Here a value that is not UTF-8
    once percent-decoded keeps its undecodable bytes as lone surrogates (``surrogateescape``),
    which the parameter schemas refuse: ``invalid <param>`` (docs/PROTOCOL.md 2.2, step 4), in
    the parameters' order, like a ``"\\udXXX"`` escape in JSON. A key that is not UTF-8 names
    no parameter: the whole input is ``None`` (``invalid request body``, as for a JSON body that
    is not UTF-8).
    """
    pairs: list[tuple[str, str]] = []
    for piece in raw.split(b"&"):
        if not piece:
            continue
        key, _, value = piece.replace(b"+", b" ").partition(b"=")
        try:
            name = unquote_to_bytes(key).decode("utf-8")
        except UnicodeDecodeError:
            return None
        pairs.append((name, unquote_to_bytes(value).decode("utf-8", "surrogateescape")))
    return pairs


def _from_strings(endpoint: str, raw: bytes) -> Any:
    """A form body or query string as parameters (``...``: not decodable, see
    :func:`_decode_pairs`).

    A repeated key becomes the list of its values, which no parameter schema accepts, so it is
    answered ``invalid <param>`` (and ignored if the endpoint does not define it).
    """
    pairs = _decode_pairs(raw)
    if pairs is None:
        return ...
    grouped: dict[str, list[str]] = {}
    for key, text in pairs:
        grouped.setdefault(key, []).append(text)
    booleans = _boolean_params(endpoint)
    result: dict[str, Any] = {}
    for key, values in grouped.items():
        value: Any = values[0] if len(values) == 1 else values
        if key in booleans and value in ("true", "false"):
            value = value == "true"
        result[key] = value
    return result


def _parse_int(text: str) -> int | float:
    """A JSON integer; one beyond Python's int-conversion limit (4300 digits) becomes a float
    (infinite), so it is still a number and answered ``invalid <param>``, not a 500."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def _body(request: Request, endpoint: str, form_body: bool) -> Any:
    """The decoded POST body (``...`` stands for "not JSON": invalid request body)."""
    raw = request.get_data(cache=True)
    if request.mimetype == FORM_CONTENT_TYPE:
        return _from_strings(endpoint, raw) if form_body else ...
    if not raw.strip():
        return {}
    try:
        return json.loads(raw.decode("utf-8"), parse_int=_parse_int)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return ...


def read_params(
    request: Request, endpoint: str, *, form_body: bool = True, get_query: bool = True
) -> dict[str, Any]:
    """The validated parameters of ``request`` for the client endpoint ``endpoint``.

    Raises :class:`ProtocolError`: 400 with the protocol's input error, or 405 for a GET when
    the get-query capability is switched off. Members the endpoint does not define are kept
    (and ignored by the caller).
    """
    if request.method == "GET":
        if not get_query:
            raise method_not_allowed("GET", ("POST",))
        params: Any = _from_strings(endpoint, request.query_string)
    else:
        params = _body(request, endpoint, form_body)
    problem = catalog.input_error(endpoint, None if params is ... else params)
    if problem is not None:
        raise ProtocolError(400, problem["error"]["message"], problem["error"]["explanation"])
    return params
