"""Protocol errors as values, rendered in one place as ``{"error": {"message", "explanation"}}``.

Endpoint code raises :class:`ProtocolError`; :func:`render` turns it into the response. The
fixed texts (passcode, input, signature, throttle answers) come from :mod:`schemas.catalog`,
the machine-readable twin of docs/PROTOCOL.md, so they are written once for the whole project.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from flask import Response, jsonify

from schemas import catalog

from .twilio_http import TwilioFailure

__all__ = [
    "INTERNAL_ERROR",
    "TWILIO_FAILURE_STATUS",
    "ProtocolError",
    "documented",
    "from_case",
    "method_not_allowed",
    "not_found_route",
    "passcode_expired",
    "passcode_incorrect",
    "render",
    "signature_invalid",
    "step",
    "too_many_requests",
]

log = logging.getLogger("reference_backend")

#: Status of an answer whose cause is a failed Twilio request (the protocol allows any 5xx).
TWILIO_FAILURE_STATUS = 502


class ProtocolError(Exception):
    """An answer in the protocol's error shape: ``status`` plus ``message``/``explanation``."""

    def __init__(
        self,
        status: int,
        message: str,
        explanation: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}: {explanation}")
        self.status = status
        self.message = message
        self.explanation = explanation or message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, dict[str, str]]:
        return catalog.error_body(self.message, self.explanation)


def from_case(case: catalog.ErrorCase, status: int | None = None) -> ProtocolError:
    """The catalogue's answer ``case`` as an error (``status`` overrides ``"5XX"``)."""
    return ProtocolError(status or int(case.status), case.message, case.explanation)


def documented(endpoint: str, message: str, status: int = 404) -> ProtocolError:
    """The catalogue's answer ``message`` of ``endpoint`` (a 404, or a 5xx with fixed text)."""
    wanted = str(status) if status < 500 else "5XX"
    for case in catalog.endpoint(endpoint).errors:
        if case.message == message and case.status == wanted:
            return from_case(case, status)
    raise KeyError(f"{endpoint}: no documented {wanted} {message!r}")


@contextmanager
def step(message: str, *, fixed: str | None = None) -> Iterator[None]:
    """Run one Twilio step: a :class:`TwilioFailure` becomes a 502 ``message`` whose
    explanation is Twilio's message (or ``fixed`` where the protocol fixes it). Logged."""
    try:
        yield
    except TwilioFailure as failure:
        log.warning(
            "%s: Twilio error %s (HTTP %s): %s",
            message,
            failure.code,
            failure.status,
            failure.message,
        )
        raise ProtocolError(TWILIO_FAILURE_STATUS, message, fixed or failure.message) from failure


def _auth_case(message: str) -> catalog.ErrorCase:
    return next(case for case in catalog.AUTH_ERRORS if case.message == message)


def passcode_expired() -> ProtocolError:
    return from_case(_auth_case("passcode expired"))


def passcode_incorrect() -> ProtocolError:
    return from_case(_auth_case("passcode incorrect"))


def too_many_requests(retry_after: int) -> ProtocolError:
    error = from_case(_auth_case("too many requests"))
    error.headers["Retry-After"] = str(retry_after)
    return error


def signature_invalid() -> ProtocolError:
    return from_case(catalog.WEBHOOK_SIGNATURE_ERROR)


def not_found_route() -> ProtocolError:
    return ProtocolError(404, "not found", "This backend has no endpoint at that path.")


def method_not_allowed(method: str, allowed: Iterable[str]) -> ProtocolError:
    """The 405 for ``method``, with the ``Allow`` header RFC 9110 section 15.5.6 requires:
    ``allowed`` are the methods the route does accept (e.g. ``POST``, plus ``GET`` with the
    get-query capability)."""
    return ProtocolError(
        405,
        "method not allowed",
        f"This endpoint does not accept {method}.",
        headers={"Allow": ", ".join(allowed)},
    )


INTERNAL_ERROR = ProtocolError(500, "internal error", "An unexpected error occurred.")
"""The answer to an unexpected exception (details go to the log, never to the client)."""


def render(error: ProtocolError) -> Response:
    """The Flask response for ``error``."""
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    return response
