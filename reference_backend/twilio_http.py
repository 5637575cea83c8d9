"""The HTTP layer under the Twilio SDK: timeouts, bounded retries, and failures as values.

:class:`RetryingHttpClient` wraps any SDK ``HttpClient`` (the real ``TwilioHttpClient``, or a
fake's in-process/URL-rewriting client) and adds:

* a timeout on every request (``Settings.twilio_timeout``);
* retries with exponential backoff (``base * 2**n``, at most ``attempts`` tries in all) of
  answers that mean "not processed, try later" -- HTTP 429 and 503 -- for every method, and of
  connection errors and timeouts for GET only. A create (POST) whose connection broke may
  have been processed, so it is never retried blindly.

:class:`TwilioFailure` is what every Twilio call of the backend raises: the Twilio error
``code`` (None when Twilio was not reached or answered without one), the HTTP ``status`` and
Twilio's own ``message`` (without the SDK's ``"Unable to create record: "`` prefix).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.response import Response

__all__ = [
    "NOT_FOUND_CODES",
    "RETRY_STATUSES",
    "RetryingHttpClient",
    "TwilioFailure",
    "failure_from",
]

log = logging.getLogger("reference_backend.twilio")

#: Answers that mean "the request was not processed": retried for every method.
RETRY_STATUSES = frozenset({429, 503})
#: Twilio codes meaning "no such resource" (generic, Sync service/document/map/item, unique
#: name, Conversations conversation/participant, Video room/participant).
NOT_FOUND_CODES = frozenset(
    {20404, 54050, 54100, 54150, 54151, 54200, 54201, 54300, 50350, 50432, 53106, 53204}
)

_SDK_PREFIX = re.compile(r"^Unable to [a-z ]+ (?:record|page)(?::\s*|$)")


class TwilioFailure(Exception):
    """A failed Twilio request: ``code`` (Twilio's, or None), ``status`` (HTTP, or None when
    Twilio was not reached) and ``message`` (Twilio's text, safe to show to clients)."""

    def __init__(self, code: int | None, status: int | None, message: str) -> None:
        super().__init__(f"Twilio error {code} (HTTP {status}): {message}")
        self.code = code
        self.status = status
        self.message = message or "Twilio request failed"

    @property
    def not_found(self) -> bool:
        """Whether Twilio said the resource does not exist."""
        return self.code in NOT_FOUND_CODES or (self.code is None and self.status == 404)


def failure_from(exc: BaseException) -> TwilioFailure:
    """Turn an SDK or transport exception into a :class:`TwilioFailure`."""
    if isinstance(exc, TwilioFailure):
        return exc
    if isinstance(exc, TwilioRestException):
        code = exc.code if isinstance(exc.code, int) else None
        message = _SDK_PREFIX.sub("", str(exc.msg or "")).strip()
        return TwilioFailure(code, exc.status, message or f"HTTP {exc.status}")
    if isinstance(exc, requests.Timeout):
        return TwilioFailure(None, None, "Twilio did not answer in time.")
    if isinstance(exc, requests.RequestException):
        return TwilioFailure(None, None, "Twilio could not be reached.")
    if not isinstance(exc, TwilioException):
        raise TypeError(f"not a Twilio failure: {exc!r}") from exc
    page_response = exc.args[1] if len(exc.args) > 1 else None
    if isinstance(page_response, Response):  # "Unable to fetch page": a list request failed
        return failure_from_response(page_response.status_code, page_response.text)
    code = getattr(exc, "code", None)  # TwilioServiceException (RFC 9457 body)
    detail = getattr(exc, "detail", None) or getattr(exc, "title", None)
    message = detail or _SDK_PREFIX.sub("", str(exc.args[0] if exc.args else "")).strip()
    return TwilioFailure(
        code if isinstance(code, int) else None, getattr(exc, "status", None), message
    )


def failure_from_response(status: int, text: str) -> TwilioFailure:
    """A failure from a Twilio error body (``{"code", "message", ...}``) and its status."""
    try:
        payload = json.loads(text) if text else {}
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    code = payload.get("code")
    return TwilioFailure(
        code if isinstance(code, int) else None,
        status,
        str(payload.get("message") or f"HTTP {status}"),
    )


class RetryingHttpClient(HttpClient):
    """An SDK ``HttpClient`` adding a timeout and bounded retries to ``inner``.

    ``sleep`` is injectable (tests). Every retry is logged at WARNING with method, URL and the
    reason -- never headers or bodies, which carry credentials and user data.
    """

    def __init__(
        self,
        inner: HttpClient,
        *,
        timeout: float,
        attempts: int,
        base_delay: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(inner.logger, False, timeout)
        self.inner = inner
        self.attempts = max(1, attempts)
        self.base_delay = base_delay
        self._sleep = sleep

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Send the request, retrying as the module docstring says; returns the last answer."""
        idempotent = method.upper() == "GET"
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                response = self.inner.request(
                    method,
                    uri,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=auth,
                    timeout=timeout or self.timeout,
                    allow_redirects=allow_redirects,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if not idempotent or last:
                    raise
                self._wait(attempt, method, uri, type(exc).__name__)
                continue
            if response.status_code in RETRY_STATUSES and not last:
                self._wait(attempt, method, uri, f"HTTP {response.status_code}")
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, attempt: int, method: str, uri: str, reason: str) -> None:
        delay = self.base_delay * (2 ** (attempt - 1))
        log.warning(
            "retrying %s %s after %s (attempt %d, in %.2fs)",
            method,
            uri,
            reason,
            attempt + 1,
            delay,
        )
        if delay > 0:
            self._sleep(delay)
