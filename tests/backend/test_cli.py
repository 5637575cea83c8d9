"""``reference-backend serve`` as real subprocesses on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from twilio.rest import Client

from fake_twilio.http_client import FakeServerHttpClient
from fake_twilio.server import FakeServer

from .conftest import CREDENTIALS

pytestmark = pytest.mark.server

START_TIMEOUT = 30.0


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any Twilio or backend configuration."""
    prefixes = ("TWILIO_", "LIVE_BACKEND_", "FAKE_TWILIO_")
    names = {"ACCOUNT_SID", "AUTH_TOKEN", "PASSCODE", "APP_EXPIRY", "DOMAIN_NAME", "DISABLE_CHAT"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k not in names}
    return {**env, **extra}


class Served:
    def __init__(self, process: subprocess.Popen[str], info: dict[str, Any]) -> None:
        self.process = process
        self.info = info
        self.url = info["backend_url"]
        self.auth = {"Authorization": info["passcode"]}

    def post(self, endpoint: str, body: dict[str, Any] | None = None) -> requests.Response:
        return requests.post(f"{self.url}/{endpoint}", json=body, headers=self.auth, timeout=30)

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str]:
        self.process.send_signal(signum)
        out, _ = self.process.communicate(timeout=30)
        return self.process.returncode, out


def start(tmp_path: Path, *flags: str, env: dict[str, str] | None = None) -> Served:
    ready = tmp_path / "ready.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "reference_backend", "serve", "--port", "0",
         "--ready-file", str(ready), *flags],
        env=env or clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the backend did not start (exit {process.poll()})")
        time.sleep(0.05)
    return Served(process, json.loads(ready.read_text()))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    backend = start(tmp_path)
    yield backend
    if backend.process.poll() is None:
        backend.process.kill()
        backend.process.wait()


def test_serves_against_an_embedded_fake(served: Served, tmp_path: Path) -> None:
    info = served.info
    assert info["embedded_fake"] is True
    assert info["public_url"] == info["backend_url"]
    assert len(info["passcode"]) == 14 and info["passcode"].isdigit()
    assert served.post("verify-passcode").json() == {"verified": True}
    created = served.post("create-stream", {"user_identity": "alice", "stream_name": "cli"})
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    assert served.post("join-stream-as-viewer", {"user_identity": "b", "stream_name": "cli"}).ok
    assert served.post("delete-stream", {"stream_name": "cli"}).json() == {"deleted": True}
    fake = Client(
        CREDENTIALS.account_sid,
        CREDENTIALS.auth_token,
        http_client=FakeServerHttpClient(info["twilio_url"]),
    )
    streams = [s for s in fake.sync.v1.services.list() if "Stream" in s.friendly_name]
    assert streams == []  # the fake's room-ended webhook reached the backend over HTTP
    code, out = served.stop()
    assert code == 0
    assert f"listening on {info['backend_url']}" in out
    assert info["passcode"] in out and info["twilio_url"] in out
    assert out.rstrip().endswith("stopped")
    assert not (tmp_path / "ready.json").exists()


def test_waitress_and_sigint(tmp_path: Path) -> None:
    backend = start(tmp_path, "--server", "waitress", "--no-chat")
    try:
        assert backend.post("verify-passcode").json() == {"verified": True}
        created = backend.post("create-stream", {"user_identity": "alice", "stream_name": "w"})
        assert created.json()["chat_enabled"] is False
    finally:
        code, out = backend.stop(signal.SIGINT)
    assert code == 0
    assert "(waitress)" in out


def test_against_a_running_fake_server(tmp_path: Path) -> None:
    with FakeServer() as fake:
        backend = start(tmp_path, "--twilio", fake.url, "--passcode", "2468")
        try:
            assert backend.info["embedded_fake"] is False
            assert backend.info["passcode"] == "2468"
            created = backend.post("create-stream", {"user_identity": "al", "stream_name": "ext"})
            assert created.status_code == 200
            rooms = fake.client().video.v1.rooms.list()
            assert [(r.sid, r.unique_name) for r in rooms] == [(created.json()["room_sid"], "ext")]
        finally:
            assert backend.stop()[0] == 0


def test_expired_passcode_flag(tmp_path: Path) -> None:
    backend = start(tmp_path, "--passcode", "1", "--passcode-expires-at", "2001-01-01T00:00:00Z")
    try:
        response = backend.post("verify-passcode")
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "passcode expired"
    finally:
        backend.stop()


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["serve", "--bogus"], {}),
        (["serve", "--port", "70000"], {}),
        (["serve", "--server", "gunicorn"], {}),
        (["serve", "--passcode-expires-at", "soon"], {}),
        (["serve", "--public-url", "ftp://x"], {}),
        (["serve"], {"LIVE_BACKEND_ACCOUNT_SID": "AC123"}),
        ([], {}),
    ],
)
def test_bad_flags_or_configuration(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reference_backend", *args],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
