"""Twilio errors as values, rendered in one place in Twilio's legacy body.

Models raise :class:`TwilioError`; the app renders it as
``{"code", "message", "more_info", "status"}`` with the HTTP status. The body never carries
both ``type`` and ``title`` (the SDK would then read it as RFC 9457 and raise a different
exception class).
"""

from __future__ import annotations

from typing import Any

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

# Default HTTP status per Twilio error code, from Twilio's registry and observed behaviour.
STATUS_BY_CODE: dict[int, int] = {
    20001: 400,
    20003: 401,
    20004: 405,
    20007: 400,
    20101: 401,
    20102: 401,
    20103: 401,
    20104: 401,
    20105: 401,
    20106: 401,
    20107: 401,
    20151: 401,
    20157: 401,
    20404: 404,
    20409: 409,
    20422: 422,
    20429: 429,
    20500: 500,
    20503: 503,
    21620: 400,
    50100: 400,
    50350: 404,
    50353: 409,
    50416: 409,
    50432: 404,
    50433: 409,
    53100: 400,
    53103: 400,
    53106: 404,
    53107: 400,
    53108: 400,
    53110: 400,
    53111: 400,
    53112: 400,
    53113: 400,
    53118: 400,
    53124: 400,
    53125: 400,
    53204: 404,
    53205: 409,
    53209: 400,
    54006: 413,
    54007: 403,
    54008: 400,
    54009: 400,
    54011: 400,
    54050: 404,
    54100: 404,
    54103: 412,
    54150: 404,
    54151: 404,
    54155: 412,
    54200: 404,
    54201: 404,
    54205: 412,
    54208: 409,
    54250: 404,
    54300: 404,
    54301: 409,
}


class TwilioError(Exception):
    """An error the fake answers with, in Twilio's shape."""

    def __init__(self, code: int, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else STATUS_BY_CODE.get(code, 400)

    def to_body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.status,
        }

    def __repr__(self) -> str:
        return f"TwilioError({self.code}, {self.message!r}, status={self.status})"


class ResourceNotFound(TwilioError):
    """Twilio's generic 404 (code 20404), naming the resource path.

    The one rule for the path (wire contract §2.2, ``/Rooms/RMxxx``): the resource as the
    client addressed it, below the version and without the fake's ``/<product>`` routing
    prefix, each segment percent-encoded the way Twilio writes URLs. Over REST the app renders
    it with the request's path (:func:`fake_twilio.core.http.addressed_path`), so a not-found
    raised for a parent (an unknown Service under ``.../Items/k``) still names what the client
    asked for; Python-level callers keep the model's resource path.
    """

    def __init__(self, path: str) -> None:
        super().__init__(20404, f"The requested resource {path} was not found", 404)
        self.path = path

    def at(self, path: str) -> ResourceNotFound:
        """The same error naming ``path`` instead (the path the request addressed)."""
        return self if path == self.path else ResourceNotFound(path)


def not_found(path: str) -> ResourceNotFound:
    """Twilio's 20404 for ``path`` (see :class:`ResourceNotFound` for how to spell it)."""
    return ResourceNotFound(path)


def page_size_too_large(max_page_size: int) -> TwilioError:
    """Twilio's 20007 "Page size too large" for a ``PageSize`` above the list's maximum."""
    return TwilioError(20007, f"Page size too large: the maximum page size is {max_page_size}", 400)


def missing_param(name: str) -> TwilioError:
    return TwilioError(20001, f"Missing required parameter {name} in the post body", 400)


def invalid_param(name: str, detail: str, code: int = 20001) -> TwilioError:
    return TwilioError(code, f"Invalid parameter {name}: {detail}", STATUS_BY_CODE.get(code, 400))


def authentication_failed() -> TwilioError:
    return TwilioError(20003, "Authenticate", 401)
