"""Passcode (401), throttling (429) and "a refused request does nothing" (AUTH-1..5, SEC-2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from schemas import catalog

from .conftest import PASSCODE, Harness

ENDPOINTS = [endpoint.name for endpoint in catalog.CLIENT_ENDPOINTS]
INCORRECT = {
    "error": {
        "message": "passcode incorrect",
        "explanation": "The passcode used to validate application users is incorrect.",
    }
}
EXPIRED = {
    "error": {
        "message": "passcode expired",
        "explanation": "The passcode used to validate application users has expired. "
        "Re-deploy the application to refresh the passcode.",
    }
}
WRONG_PASSCODES = [None, "", f"Bearer {PASSCODE}", f" {PASSCODE}", f"{PASSCODE} ", PASSCODE[:-1],
                   PASSCODE + "0", PASSCODE.replace("3", "4")]  # fmt: skip


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("passcode", WRONG_PASSCODES)
def test_wrong_passcode_is_refused(shared: Harness, endpoint: str, passcode: str | None) -> None:
    harness = shared
    mark = harness.mark()
    response = harness.call(endpoint, {"user_identity": "a", "stream_name": "s"}, passcode=passcode)
    assert response.status_code == 401
    assert response.get_json() == INCORRECT
    assert response.mimetype == "application/json"
    assert harness.requests_since(mark) == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_authentication_comes_before_input_validation(shared: Harness, endpoint: str) -> None:
    harness = shared
    for bad in ("not json", "[1]", '{"user_identity": 5}'):
        response = harness.call(
            endpoint, data=bad, content_type="application/json", passcode="nope"
        )
        assert (response.status_code, response.get_json()) == (401, INCORRECT)


@pytest.fixture(scope="module")
def expired() -> Harness:
    """A deployment whose passcode expired a second ago."""
    harness = Harness()
    return Harness(passcode_expires_at=harness.clock - timedelta(seconds=1))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("passcode", [PASSCODE, "wrong", None])
def test_expired_passcode_is_reported_first(
    expired: Harness, endpoint: str, passcode: str | None
) -> None:
    harness = expired
    mark = harness.mark()
    response = harness.call(endpoint, data="not json", passcode=passcode)
    assert (response.status_code, response.get_json()) == (401, EXPIRED)
    assert harness.requests_since(mark) == []


def test_rejected_requests_leave_twilio_alone(harness: Harness) -> None:
    stream = harness.create_stream()
    harness.control.connect_to_room(stream.host_token, stream.name)
    mark = harness.mark()
    for endpoint, body in (
        ("create-stream", {"user_identity": "mallory", "stream_name": "other"}),
        ("remove-speaker", {"user_identity": "alice", "room_name": stream.name}),
        ("delete-stream", {"stream_name": stream.name}),
        ("raise-hand", {"user_identity": "m", "stream_name": stream.name, "hand_raised": True}),
    ):
        assert harness.call(endpoint, body, passcode="wrong").status_code == 401
    assert harness.requests_since(mark) == []
    assert [r.unique_name for r in harness.rooms()] == [stream.name]


def test_correct_passcode_is_accepted_verbatim(harness: Harness) -> None:
    response = harness.call("verify-passcode")
    assert (response.status_code, response.get_json()) == (200, {"verified": True})
    assert harness.call("verify-passcode", data="").status_code == 200


# -- throttling --------------------------------------------------------------------------------
def fail(harness: Harness, times: int, client: str = "192.0.2.1") -> None:
    for _ in range(times):
        assert harness.call("verify-passcode", passcode="bad", client=client).status_code == 401


def test_throttled_after_ten_failures_for_that_client_only(harness: Harness) -> None:
    fail(harness, 10)
    mark = harness.mark()
    for passcode in ("bad", PASSCODE):
        response = harness.call("create-stream", {}, passcode=passcode)
        assert response.status_code == 429
        assert response.get_json()["error"]["message"] == "too many requests"
        assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert harness.requests_since(mark) == []
    assert harness.call("verify-passcode", client="198.51.100.7").status_code == 200


def test_throttle_cools_down_within_the_window(harness: Harness) -> None:
    fail(harness, 10)
    harness.clock += timedelta(seconds=30)
    assert harness.call("verify-passcode").status_code == 429
    harness.clock += timedelta(seconds=30)
    assert harness.call("verify-passcode").status_code == 200


def test_throttle_counts_consecutive_failures(harness: Harness) -> None:
    fail(harness, 9)
    assert harness.call("verify-passcode").status_code == 200
    fail(harness, 9)
    assert harness.call("verify-passcode").status_code == 200


def test_throttle_applies_before_the_expiry(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    harness = make_harness(passcode_expires_at=harness.clock + timedelta(seconds=10))
    fail(harness, 10)
    harness.clock += timedelta(seconds=20)
    assert harness.call("verify-passcode").status_code == 429
    harness.clock += timedelta(seconds=60)
    assert harness.call("verify-passcode").get_json() == EXPIRED


def test_throttle_is_configurable(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(throttle_max_failures=2, throttle_window=5.0)
    fail(harness, 2)
    response = harness.call("verify-passcode")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "5"
    harness.clock += timedelta(seconds=5)
    assert harness.call("verify-passcode").status_code == 200
