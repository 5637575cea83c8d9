"""Strict parsing of the control API's inputs: a JSON object body, or a query string.

Like Twilio's own parameter handling, an unknown field is refused before anything happens,
and every wrong value is a 400 with code 20001 whose message names the field. A field given
as the empty string is never taken as absent: ``{"account": ""}`` is refused, not a reset of
every account (absent means absent or JSON ``null``). Only free text (:data:`MAY_BE_EMPTY`)
may be empty. A query string that is not UTF-8 once percent-decoded is refused too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import request

from ..core.errors import TwilioError
from ..core.jsontext import loads
from ..core.params import utf8_problem

#: String fields whose empty value means something (free text); every other must be non-empty.
MAY_BE_EMPTY = frozenset({"friendly_name", "message"})


def _error(message: str) -> TwilioError:
    return TwilioError(20001, message, 400)


class Fields:
    """Typed, validated access to one request's fields (JSON body or query string)."""

    def __init__(self, values: Mapping[str, Any], allowed: Iterable[str], *, query: bool) -> None:
        allowed_set = set(allowed)
        unknown = sorted(name for name in values if name not in allowed_set)
        if unknown:
            raise _error(f"Unknown field(s): {', '.join(unknown)}")
        self._values = values
        self._query = query

    @classmethod
    def body(cls, *allowed: str) -> Fields:
        """The request's JSON body (absent or empty: no fields); must be a JSON object."""
        raw = request.get_data(cache=True)
        if not raw.strip():
            return cls({}, allowed, query=False)
        try:
            payload = loads(raw)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise _error("The request body must be a JSON object")
        return cls(payload, allowed, query=False)

    @classmethod
    def args(cls, *allowed: str) -> Fields:
        """The request's query string."""
        problem = utf8_problem(request.query_string)
        if problem is not None:
            raise _error(f"Invalid query string: {problem}")
        return cls(request.args, allowed, query=True)

    def has(self, name: str) -> bool:
        return self._values.get(name) is not None

    def raw(self, name: str) -> Any:
        return self._values.get(name)

    def str(self, name: str, *, required: bool = False) -> str | None:
        value = self._values.get(name)
        if value is None:
            if required:
                raise _error(f"Missing required field {name}")
            return None
        if not isinstance(value, str):
            raise _error(f"Invalid field {name}: must be a string")
        if value == "" and name not in MAY_BE_EMPTY:
            raise _error(f"Invalid field {name}: must not be empty")
        return value

    def int(self, name: str, *, required: bool = False, minimum: int | None = None) -> int | None:
        return self._numeric(name, int, (int,), "an integer", required=required, minimum=minimum)

    def number(
        self,
        name: str,
        *,
        required: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float | None:
        return self._numeric(
            name,
            float,
            (int, float),
            "a number",
            required=required,
            minimum=minimum,
            maximum=maximum,
        )

    def _numeric(
        self,
        name: str,
        parse: Callable[[str], Any],
        kinds: tuple[type, ...],
        noun: str,
        *,
        required: bool,
        minimum: float | None,
        maximum: float | None = None,
    ) -> Any:
        """The one rule for numbers: in a query string parsed from text with ``parse``, in JSON
        one of ``kinds`` (never a boolean); at least ``minimum`` when given."""
        value = self._values.get(name)
        if value is None:
            if required:
                raise _error(f"Missing required field {name}")
            return None
        if self._query and isinstance(value, str):
            try:
                value = parse(value)
            except ValueError:
                raise _error(f"Invalid field {name}: {value!r} is not {noun}") from None
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise _error(f"Invalid field {name}: must be {noun}")
        if isinstance(value, float) and not math.isfinite(value):  # JSON's NaN passes any limit
            raise _error(f"Invalid field {name}: must be a finite number")
        if minimum is not None and value < minimum:
            raise _error(f"Invalid field {name}: must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise _error(f"Invalid field {name}: must be at most {maximum}")
        return value

    def bool(self, name: str) -> bool | None:
        value = self._values.get(name)
        if value is None:
            return None
        if self._query and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise _error(f"Invalid field {name}: {value!r} is not a boolean")
        if not isinstance(value, bool):
            raise _error(f"Invalid field {name}: must be true or false")
        return value

    def object(self, name: str, *, required: bool = False) -> dict[str, Any] | None:
        value = self._values.get(name)
        if value is None:
            if required:
                raise _error(f"Missing required field {name}")
            return None
        if not isinstance(value, dict):
            raise _error(f"Invalid field {name}: must be a JSON object")
        return value

    def choice(self, name: str, choices: Iterable[str], *, required: bool = False) -> str | None:
        value = self.str(name, required=required)
        options = list(choices)
        if value is not None and value not in options:
            raise _error(f"Invalid field {name}: {value!r} is not one of {', '.join(options)}")
        return value

    def datetime_like(self, name: str) -> Any:
        """A date-time given as an ISO-8601 string or a Unix timestamp (validated later)."""
        value = self._values.get(name)
        if value is None:
            return None
        if value == "":
            raise _error(f"Invalid field {name}: must not be empty")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _error(f"Invalid field {name}: must be an ISO-8601 date-time or a timestamp")
        return value
