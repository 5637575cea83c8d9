"""RetryingHttpClient (timeouts, which answers and errors are retried) and failure parsing."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.response import Response

from reference_backend.twilio_http import RetryingHttpClient, TwilioFailure, failure_from


class ScriptedClient(HttpClient):
    """Answers from a script: each item is a status code or an exception to raise."""

    def __init__(self, *script: int | Exception) -> None:
        super().__init__(logger=None, is_async=False)  # type: ignore[arg-type]
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, uri: str, **kwargs: Any) -> Response:  # type: ignore[override]
        self.calls.append({"method": method, "uri": uri, **kwargs})
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return Response(step, '{"code": 20429, "message": "slow down"}' if step >= 400 else "{}")


def client(
    *script: int | Exception, attempts: int = 3
) -> tuple[RetryingHttpClient, ScriptedClient, list[float]]:
    inner = ScriptedClient(*script)
    sleeps: list[float] = []
    retrying = RetryingHttpClient(
        inner, timeout=7.5, attempts=attempts, base_delay=0.1, sleep=sleeps.append
    )
    return retrying, inner, sleeps


def test_timeout_is_applied() -> None:
    retrying, inner, _ = client(200)
    retrying.request("GET", "https://video.twilio.com/v1/Rooms/x")
    assert inner.calls[0]["timeout"] == 7.5
    retrying, inner, _ = client(200)
    retrying.request("GET", "https://video.twilio.com/v1/Rooms/x", timeout=2)
    assert inner.calls[0]["timeout"] == 2


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("status", [429, 503])
def test_not_processed_answers_are_retried_for_every_method(method: str, status: int) -> None:
    retrying, inner, sleeps = client(status, status, 201)
    assert retrying.request(method, "https://sync.twilio.com/v1/Services").status_code == 201
    assert sleeps == [0.1, 0.2]
    assert len(inner.calls) == 3


def test_retries_stop_after_the_last_attempt() -> None:
    retrying, inner, sleeps = client(503, 503, 503, 200)
    assert retrying.request("POST", "https://video.twilio.com/v1/Rooms").status_code == 503
    assert (len(inner.calls), sleeps) == (3, [0.1, 0.2])


@pytest.mark.parametrize("status", [400, 404, 409, 500])
def test_other_errors_are_not_retried(status: int) -> None:
    retrying, inner, sleeps = client(status, 200)
    assert retrying.request("GET", "https://video.twilio.com/v1/Rooms/x").status_code == status
    assert (len(inner.calls), sleeps) == (1, [])


@pytest.mark.parametrize(
    "error", [requests.ConnectionError("reset"), requests.ConnectTimeout("slow")]
)
def test_connection_errors_are_retried_for_gets_only(error: Exception) -> None:
    retrying, inner, sleeps = client(error, 200)
    assert retrying.request("GET", "https://video.twilio.com/v1/Rooms/x").status_code == 200
    assert sleeps == [0.1]
    retrying, inner, sleeps = client(error, 200)
    with pytest.raises(type(error)):
        retrying.request("POST", "https://video.twilio.com/v1/Rooms")
    assert (len(inner.calls), sleeps) == (1, [])


def test_failures_keep_twilios_code_and_message() -> None:
    rest = TwilioRestException(404, "https://x", "Unable to fetch record: Room not found", 20404)
    failure = failure_from(rest)
    assert (failure.code, failure.status, failure.message) == (20404, 404, "Room not found")
    assert failure.not_found
    page = TwilioException(
        "Unable to fetch page", Response(500, '{"code": 20500, "message": "Internal Server Error"}')
    )
    failure = failure_from(page)
    assert (failure.code, failure.status, failure.message) == (20500, 500, "Internal Server Error")
    assert failure_from(requests.ReadTimeout()).message == "Twilio did not answer in time."
    assert failure_from(requests.ConnectionError()).message == "Twilio could not be reached."
    with pytest.raises(TypeError):
        failure_from(ValueError("not Twilio"))
    assert TwilioFailure(None, 404, "gone").not_found
