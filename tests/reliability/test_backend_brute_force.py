"""Brute force and secrets: passcode throttling, constant-time comparison, nothing leaked.

- After N wrong passcodes within the window from one client address, that address gets
  ``429 too many requests`` (error shape, ``Retry-After``) -- even with the right passcode --
  while other addresses are unaffected; after the window the right passcode works again; a
  refused request makes no Twilio request.
- Concurrent guesses from one address over the real threaded server are capped at N per
  window (the check and the count are atomic).
- The passcode, the auth token and the API key secret never appear in any log record
  (all loggers captured at DEBUG, tracebacks included) nor in any response body or header,
  whatever the outcome (success, wrong passcode, Twilio failure, unexpected exception).
- The comparison uses ``hmac.compare_digest`` (checked in the module's source and by spying
  on the call); no timing measurement.
"""

from __future__ import annotations

import inspect
import logging
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

import reference_backend.auth as auth_module
import schemas
from fake_twilio.server import FakeServer

from .support import PASSCODE, BackendRig, Figures, ServedWSGI, backend_settings, knob

MAX_FAILURES = 5
WINDOW = 60.0
GUESSES = knob("brute_force_guesses", 48, 400)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_wrong_passcodes_are_throttled_per_client(figures: Figures) -> None:
    clock = Clock()
    rig = BackendRig(now=clock, throttle_max_failures=MAX_FAILURES, throttle_window=WINDOW)
    attacker, neighbour = "198.51.100.1", "198.51.100.2"
    mark = rig.state.journal.mark()
    statuses = []
    for n in range(MAX_FAILURES + 3):
        answer = rig.call("verify-passcode", passcode=f"guess-{n}", remote_addr=attacker)
        statuses.append(answer.status)
        schemas.validate("protocol/error", answer.body)
    assert statuses == [401] * MAX_FAILURES + [429] * 3
    blocked = rig.call("create-stream", {"user_identity": "x", "stream_name": "y"},
                       remote_addr=attacker)  # fmt: skip
    assert blocked.status == 429  # even with the right passcode: throttling reveals nothing
    assert blocked.body["error"]["message"] == "too many requests"
    assert 1 <= int(blocked.headers["Retry-After"]) <= WINDOW
    # nothing reached Twilio
    assert rig.state.journal.entries(since=mark) == []

    # another address is not affected, and its own failures count separately
    assert rig.call("verify-passcode", remote_addr=neighbour).status == 200
    for _ in range(MAX_FAILURES - 1):
        assert rig.call("verify-passcode", passcode="nope", remote_addr=neighbour).status == 401
    assert rig.call("verify-passcode", remote_addr=neighbour).status == 200  # success resets
    for _ in range(MAX_FAILURES - 1):
        assert rig.call("verify-passcode", passcode="nope", remote_addr=neighbour).status == 401
    assert rig.call("verify-passcode", remote_addr=neighbour).status == 200

    # the attacker is let in again once the window has passed
    clock.now += timedelta(seconds=WINDOW - 1)
    assert rig.call("verify-passcode", remote_addr=attacker).status == 429
    clock.now += timedelta(seconds=2)
    assert rig.call("verify-passcode", remote_addr=attacker).status == 200
    figures.add(max_failures=MAX_FAILURES, window_s=WINDOW, guesses_refused=len(statuses))


def test_concurrent_guesses_are_capped_per_window(figures: Figures) -> None:
    """GUESSES wrong passcodes at once from one address: at most N are even compared."""
    with FakeServer() as fake, ServedWSGI() as served:
        settings = backend_settings(
            fake.credentials,
            public_url=served.url,
            twilio_url=fake.url,
            throttle_max_failures=MAX_FAILURES,
            throttle_window=WINDOW,
            trusted_proxies=1,
        )
        from reference_backend import create_app

        served.app = create_app(settings)
        barrier = threading.Barrier(min(GUESSES, 48))

        def guess(n: int) -> int:
            with requests.Session() as session:
                if n < barrier.parties:
                    barrier.wait(timeout=30)
                response = session.post(
                    f"{served.url}/verify-passcode",
                    json={},
                    headers={"Authorization": f"guess-{n}", "X-Forwarded-For": "203.0.113.9"},
                    timeout=30,
                )
                return response.status_code

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)  # switch threads often: widen any check-then-count race
        try:
            with ThreadPoolExecutor(max_workers=barrier.parties) as pool:
                statuses = list(pool.map(guess, range(GUESSES)))
        finally:
            sys.setswitchinterval(interval)
        evaluated = statuses.count(401)
        assert set(statuses) <= {401, 429}, statuses
        assert evaluated <= MAX_FAILURES, f"{evaluated} guesses were compared, cap {MAX_FAILURES}"
        other = requests.post(
            f"{served.url}/verify-passcode",
            json={},
            headers={"Authorization": PASSCODE, "X-Forwarded-For": "203.0.113.10"},
            timeout=30,
        )
        assert other.status_code == 200
        figures.add(concurrent_guesses=GUESSES, compared=evaluated, throttled=statuses.count(429))


# -- secrets --------------------------------------------------------------------------------
class Everything(logging.Handler):
    """Collects every record of every logger (formatted, with tracebacks)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


@pytest.fixture
def all_logs() -> Any:
    handler = Everything()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_secrets_never_reach_logs_or_answers(all_logs: Everything, figures: Figures,
                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    rig = BackendRig(throttle_max_failures=3)
    secrets = {
        "passcode": PASSCODE,
        "auth token": rig.credentials.auth_token,
        "API key secret": rig.credentials.api_key_secret,
    }
    close_guess = PASSCODE[:-1] + "0"  # a wrong guess must not be echoed either
    answers = []

    def call(endpoint: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        answer = rig.call(endpoint, body, **kwargs)
        answers.append(answer)
        return answer

    host = call("create-stream", {"user_identity": "alice", "stream_name": "s"})
    call("join-stream-as-viewer", {"user_identity": "bob", "stream_name": "s"})
    call("join-stream-as-speaker", {"user_identity": "bob", "stream_name": "s"})
    call("viewer-connected-to-player", {"user_identity": "bob", "stream_name": "s"})
    call("raise-hand", {"user_identity": "bob", "stream_name": "s", "hand_raised": True})
    call("send-speaker-invite", {"user_identity": "bob", "room_sid": host.body["room_sid"]})
    for guess in (close_guess, "", PASSCODE + " ", "Bearer " + PASSCODE, close_guess):
        call("verify-passcode", passcode=guess, remote_addr="192.0.2.99")
    call("verify-passcode", passcode=None, remote_addr="192.0.2.98")
    rig.control.add_fault("error", product="sync", method="POST", code=20500, times=1)
    call("create-stream", {"user_identity": "alice", "stream_name": "t"})  # Twilio failure
    rig.control.add_fault("drop", product="video", times=1)
    call("create-stream", {"user_identity": "alice", "stream_name": "u"})  # network failure

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(rig.app.extensions["reference_backend"].streams, "raise_hand", explode)
    crashed = call("raise-hand", {"user_identity": "bob", "stream_name": "s", "hand_raised": False})
    assert crashed.status == 500 and crashed.body["error"]["message"] == "internal error"
    call("delete-stream", {"stream_name": "s"})

    assert any("unexpected" in text for text in all_logs.texts), "the crash was not logged"
    leaks = []
    for name, secret in {**secrets, "wrong guess": close_guess}.items():
        for text in all_logs.texts:
            if secret in text:
                leaks.append(f"log: {name}: {text[:200]}")
        for answer in answers:
            if secret in answer.text or any(secret in str(v) for v in answer.headers.values()):
                leaks.append(f"answer {answer.status}: {name}")
    for answer in answers:
        assert "Traceback" not in answer.text and ".py" not in answer.text
    assert not leaks, leaks
    for name, secret in secrets.items():
        assert secret not in repr(rig.settings), name
    figures.add(log_records_checked=len(all_logs.texts), answers_checked=len(answers))


def test_passcode_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    source = inspect.getsource(auth_module)
    assert "hmac.compare_digest(" in source
    check = inspect.getsource(auth_module.PasscodeGuard.check)
    assert "compare_digest" in check
    for forbidden in ("== self._passcode", "self._passcode ==", "!= self._passcode",
                      ".startswith(", "in self._passcode"):  # fmt: skip
        assert forbidden not in check, forbidden

    seen: list[tuple[bytes, bytes]] = []
    real = auth_module.hmac

    class SpyHmac:
        @staticmethod
        def compare_digest(a: bytes, b: bytes) -> bool:
            seen.append((a, b))
            return real.compare_digest(a, b)

    monkeypatch.setattr(auth_module, "hmac", SpyHmac)
    rig = BackendRig()
    assert rig.call("verify-passcode", passcode="wrong").status == 401
    assert rig.call("verify-passcode").status == 200
    assert seen == [(b"wrong", PASSCODE.encode()), (PASSCODE.encode(), PASSCODE.encode())]
