"""Parsing of Twilio's form-encoded PascalCase parameters, with Twilio's errors.

A :class:`Params` is built from a request's form (POST) or query (GET) and the set of names the
operation accepts; an unknown name is refused with 20001 before any state is touched. Each
accessor converts one parameter as the SDK encodes it (booleans as ``true``/``false``, integers
as decimal strings, objects as JSON strings, lists as repeated keys) and raises a
:class:`TwilioError` naming the parameter when the value is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import unquote_to_bytes

from werkzeug.datastructures import MultiDict

from .clock import parse_datetime
from .errors import TwilioError, invalid_param, missing_param
from .jsontext import loads

PAGING = frozenset({"PageSize", "Page", "PageToken"})
MAX_JSON_BYTES = 16 * 1024


def utf8_problem(encoded: bytes) -> str | None:
    """What is wrong with a form body or query string (``a=1&b=%C3%BC``) whose percent-decoded
    names or values are not valid UTF-8, or None when every one decodes.

    Werkzeug keeps such a value as its percent-encoded text (``%FF``) and would let the fake
    create a resource named ``%FF``; Twilio refuses the request instead. The answer names the
    parameter when only its value is wrong."""
    for pair in encoded.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        try:
            decoded_name = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return "a parameter name is not valid UTF-8"
        try:
            unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return f"the value of {decoded_name} is not valid UTF-8"
    return None


def check_utf8(encoded: bytes) -> None:
    """Refuse (20001, 400) a form body or query string that is not UTF-8 once decoded."""
    problem = utf8_problem(encoded)
    if problem is not None:
        raise TwilioError(20001, f"Invalid parameter encoding: {problem}", 400)


class Params:
    """Typed access to one operation's parameters."""

    def __init__(self, source: MultiDict[str, str], allowed: Iterable[str]) -> None:
        self._source = source
        allowed_set = set(allowed)
        unknown = sorted(key for key in source if key not in allowed_set)
        if unknown:
            raise TwilioError(20001, f"Unknown parameter(s): {', '.join(unknown)}", 400)

    def has(self, name: str) -> bool:
        return name in self._source

    def raw(self, name: str) -> str | None:
        return self._source.get(name)

    def str(
        self, name: str, *, required: bool = False, max_length: int | None = None
    ) -> str | None:
        value = self._source.get(name)
        if value is None:
            if required:
                raise missing_param(name)
            return None
        if required and value == "":
            raise missing_param(name)
        if max_length is not None and len(value) > max_length:
            raise invalid_param(name, f"must be at most {max_length} characters")
        return value

    def bool(self, name: str) -> bool | None:
        value = self._source.get(name)
        if value is None:
            return None
        lowered = value.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise invalid_param(name, f"{value!r} is not a boolean (true or false)")

    def int(
        self,
        name: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
        code: int = 20001,
    ) -> int | None:
        value = self._source.get(name)
        if value is None or value == "":
            if required:
                raise missing_param(name)
            return None
        try:
            number = int(value.strip())
        except ValueError:
            raise invalid_param(name, f"{value!r} is not an integer", code) from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise invalid_param(name, f"{number} is out of range [{minimum}, {maximum}]", code)
        return number

    def json(
        self,
        name: str,
        *,
        required: bool = False,
        code: int = 54008,
        max_bytes: int = MAX_JSON_BYTES,
        size_code: int = 54006,
        object_only: bool = True,
    ) -> Any:
        """A JSON-encoded parameter (Sync ``Data``, Media ``ExtensionEnvironment``...)."""
        value = self._source.get(name)
        if value is None:
            if required:
                raise missing_param(name)
            return None
        if len(value.encode("utf-8")) > max_bytes:
            raise TwilioError(size_code, f"{name} exceeds the maximum size of {max_bytes} bytes")
        try:
            parsed = loads(value)
        except ValueError:
            raise TwilioError(code, f"Invalid JSON in {name}") from None
        if object_only and not isinstance(parsed, dict):
            raise TwilioError(code, f"{name} must be a JSON object")
        return parsed

    def choice(
        self,
        name: str,
        choices: Iterable[str],
        *,
        code: int = 20001,
        ignore_case: bool = False,
        required: bool = False,
    ) -> str | None:
        value = self._source.get(name)
        if value is None:
            if required:
                raise missing_param(name)
            return None
        options = list(choices)
        probe = value.lower() if ignore_case else value
        for option in options:
            if (option.lower() if ignore_case else option) == probe:
                return option
        raise invalid_param(name, f"{value!r} is not one of {', '.join(options)}", code)

    def strings(self, name: str) -> list[str]:
        return self._source.getlist(name)

    def datetime(self, name: str) -> datetime | None:
        value = self._source.get(name)
        if value is None or value == "":
            return None
        try:
            return parse_datetime(value)
        except ValueError:
            raise invalid_param(name, f"{value!r} is not an ISO-8601 date-time") from None
