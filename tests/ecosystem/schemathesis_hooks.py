"""Schemathesis hooks for the ``schemathesis`` tox env (``SCHEMATHESIS_HOOKS``).

Loaded by the Schemathesis CLI that :mod:`tests.ecosystem.run_schemathesis` starts:

* a serializer for ``application/x-www-form-urlencoded``: Schemathesis would hand ``requests``
  the generated dict, which sends the boolean ``hand_raised`` as ``True``/``False`` (and a
  nested object as its keys); the protocol's form encoding is ``true``/``false``
  (docs/PROTOCOL.md 2.4), so :func:`form_pairs` spells values that way and the body is encoded
  here;
* ``before_call``: a request to ``/rooms-webhook`` or ``/sync-webhook`` that carries an
  ``X-Twilio-Signature`` gets the real signature of what is sent, computed with the auth
  token (``LIVE_TWILIO_AUTH_TOKEN``) by the ``twilio`` SDK's ``RequestValidator``, the way
  Twilio signs: the URL (``LIVE_BACKEND_URL`` + path, query included) followed by the sorted
  form parameters. A request without the header (the ``ignored_auth`` check removes it)
  stays unsigned, and must be answered 403.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

FORM = "application/x-www-form-urlencoded"
SIGNATURE = "X-Twilio-Signature"
WEBHOOK_PATHS = ("/rooms-webhook", "/sync-webhook")


def _text(value: Any) -> str:
    """A form value as text: booleans as ``true``/``false``, ``null`` empty, objects as JSON,
    the rest as ``str``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def form_pairs(body: Any) -> list[tuple[str, str]]:
    """The ``(key, value)`` pairs sent for a form body (a list value repeats its key)."""
    pairs: list[tuple[str, str]] = []
    for key, value in body.items():
        values = value if isinstance(value, list) else [value]
        pairs += [(str(key), _text(item)) for item in values]
    return pairs


def form_bytes(value: Any) -> bytes | None:
    """The body sent for a form operation (``None``: no body); a non-object body is sent as
    JSON, as Schemathesis itself does."""
    if isinstance(value, dict):
        return urlencode(form_pairs(value)).encode("ascii")
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    return json.dumps(value).encode("utf-8")


def signature(url: str, body: Any, auth_token: str) -> str:
    """Twilio's ``X-Twilio-Signature`` for a form ``body`` (a dict, or anything else for no
    parameters) POSTed to ``url``, exactly as ``RequestValidator`` computes it."""
    params = MultiDict(form_pairs(body) if isinstance(body, dict) else [])
    return RequestValidator(auth_token).compute_signature(url, params)


def _sign(case: Any) -> None:
    """Replace a webhook case's generated ``X-Twilio-Signature`` by the real one."""
    headers = case.headers
    if not isinstance(headers, MutableMapping) or case.operation.path not in WEBHOOK_PATHS:
        return
    name = next((key for key in headers if key.lower() == SIGNATURE.lower()), None)
    if name is None:  # removed on purpose (check ignored_auth): stays unsigned
        return
    base = os.environ["LIVE_BACKEND_URL"].rstrip("/")
    query = dict(case.query) if isinstance(case.query, Mapping) and case.query else None
    url = requests.Request("POST", base + case.formatted_path, params=query).prepare().url
    assert url is not None
    headers[name] = signature(url, case.body, os.environ["LIVE_TWILIO_AUTH_TOKEN"])


try:
    import schemathesis
except ImportError:  # imported by the tests without Schemathesis installed
    schemathesis = None

if schemathesis is not None:

    @schemathesis.serializer(FORM)
    def form_serializer(context: Any, value: Any) -> bytes | None:
        return form_bytes(value)

    @schemathesis.hook
    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        _sign(case)
