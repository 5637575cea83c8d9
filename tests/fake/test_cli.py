"""``python -m fake_twilio`` / ``fake-twilio`` as real subprocesses on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from twilio.rest import Client

from fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_API_KEY_SID, DEFAULT_AUTH_TOKEN
from fake_twilio.http_client import FakeServerHttpClient

pytestmark = pytest.mark.server

START_TIMEOUT = 30.0
CUSTOM = {
    "FAKE_TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "FAKE_TWILIO_AUTH_TOKEN": "custom_token_0000000000000000001",
    "FAKE_TWILIO_API_KEY_SID": "SK" + "2" * 32,
    "FAKE_TWILIO_API_KEY_SECRET": "custom_secret_000000000000000001",
}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAKE_TWILIO_", "TWILIO_"))}
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fake_twilio", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env or clean_env(),
    )


class Served:
    """A ``fake-twilio serve`` subprocess and what its ready file says."""

    def __init__(self, process: subprocess.Popen[str], ready: dict[str, Any]) -> None:
        self.process = process
        self.ready = ready
        self.url: str = ready["url"]

    def client(self) -> Client:
        creds = self.ready["credentials"]
        return Client(
            creds["account_sid"],
            creds["auth_token"],
            http_client=FakeServerHttpClient(self.url),
        )

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str, str]:
        self.process.send_signal(signum)
        out, err = self.process.communicate(timeout=30)
        return self.process.returncode, out, err


def start_server(
    tmp_path: Path, *extra: str, command: list[str] | None = None, **env: str
) -> Served:
    ready_file = tmp_path / "ready.json"
    base = command or [sys.executable, "-m", "fake_twilio"]
    process = subprocess.Popen(
        [*base, "serve", "--port", "0", "--ready-file", str(ready_file), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(**env),
    )
    deadline = time.monotonic() + START_TIMEOUT
    while not ready_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _out, err = process.communicate(timeout=10)
            raise AssertionError(f"the server did not start: rc={process.returncode} {err}")
        time.sleep(0.05)
    return Served(process, json.loads(ready_file.read_text()))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    running = start_server(tmp_path)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.communicate(timeout=10)


def test_serve_answers_the_sdk_and_stops_on_sigterm(served: Served, tmp_path: Path) -> None:
    assert served.url.startswith("http://127.0.0.1:")
    assert served.ready["port"] == int(served.url.rsplit(":", 1)[1])
    assert served.ready["credentials"]["account_sid"] == DEFAULT_ACCOUNT_SID
    assert served.ready["pid"] == served.process.pid
    health = requests.get(f"{served.url}/_fake/health", timeout=5)
    assert (health.status_code, health.json()["status"]) == (200, "ok")

    client = served.client()
    conv = client.conversations.v1.conversations.create(unique_name="cli")
    client.conversations.v1.conversations("cli").participants.create(identity="alice")
    assert [
        p.identity for p in client.conversations.v1.conversations(conv.sid).participants.list()
    ] == ["alice"]
    room = client.video.v1.rooms.create(unique_name="cli-room")
    assert client.video.v1.rooms("cli-room").fetch().sid == room.sid

    code, out, err = served.stop(signal.SIGTERM)
    assert code == 0, err
    assert "Traceback" not in err
    assert served.url in out
    assert f"TWILIO_ACCOUNT_SID={DEFAULT_ACCOUNT_SID}" in out
    assert f"TWILIO_AUTH_TOKEN={DEFAULT_AUTH_TOKEN}" in out
    assert f"TWILIO_API_KEY_SID={DEFAULT_API_KEY_SID}" in out
    assert not (tmp_path / "ready.json").exists()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{served.url}/_fake/health", timeout=5)


def test_sigint_also_stops_cleanly(served: Served) -> None:
    code, _out, err = served.stop(signal.SIGINT)
    assert code == 0, err
    assert "Traceback" not in err


def test_environment_credentials_and_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "fake-twilio"
    command = [str(script)] if script.exists() else None
    running = start_server(tmp_path, "--webhook-mode", "async", command=command, **CUSTOM)
    try:
        creds = running.ready["credentials"]
        assert creds == {
            "account_sid": CUSTOM["FAKE_TWILIO_ACCOUNT_SID"],
            "auth_token": CUSTOM["FAKE_TWILIO_AUTH_TOKEN"],
            "api_key_sid": CUSTOM["FAKE_TWILIO_API_KEY_SID"],
            "api_key_secret": CUSTOM["FAKE_TWILIO_API_KEY_SECRET"],
        }
        conv = running.client().conversations.v1.conversations.create()
        assert conv.account_sid == CUSTOM["FAKE_TWILIO_ACCOUNT_SID"]
        keyed = Client(
            creds["api_key_sid"],
            creds["api_key_secret"],
            account_sid=creds["account_sid"],
            http_client=FakeServerHttpClient(running.url),
        )
        assert [c.sid for c in keyed.conversations.v1.conversations.list()] == [conv.sid]
    finally:
        code, _out, err = running.stop()
    assert code == 0, err


def test_flags_override_the_environment(tmp_path: Path) -> None:
    sid = "AC" + "3" * 32
    running = start_server(tmp_path, "--account-sid", sid, "--auth-token", "t" * 32, **CUSTOM)
    try:
        creds = running.ready["credentials"]
        assert (creds["account_sid"], creds["auth_token"]) == (sid, "t" * 32)
        assert creds["api_key_sid"] == CUSTOM["FAKE_TWILIO_API_KEY_SID"]
    finally:
        code, _out, _err = running.stop()
    assert code == 0


def assert_usage_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fake-twilio: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["serve", "--bogus"], {}, "unrecognized arguments: --bogus"),
        (["serve", "--port", "abc"], {}, "invalid port"),
        (["serve", "--port", "70000"], {}, "out of range"),
        (["serve", "--account-sid", "ACnot-a-sid"], {}, "account SID"),
        (["serve", "--api-key-sid", "XX" + "0" * 32], {}, "API key SID"),
        (["serve", "--webhook-mode", "later"], {}, "invalid choice"),
        (["serve"], {"FAKE_TWILIO_PORT": "eighty"}, "FAKE_TWILIO_PORT"),
        (["serve"], {"FAKE_TWILIO_ACCOUNT_SID": "AC123"}, "account SID"),
        (["serve"], {"FAKE_TWILIO_WEBHOOK_MODE": "later"}, "FAKE_TWILIO_WEBHOOK_MODE"),
        (["serve", "--ready-file", "/nonexistent-dir/ready.json"], {}, "does not exist"),
        (["serve", "--host", "host.invalid"], {}, "host.invalid"),
    ],
)
def test_bad_values_exit_2_with_one_line(
    args: list[str], env: dict[str, str], fragment: str
) -> None:
    assert_usage_error(run_cli(*args, env=clean_env(**env)), fragment)


def test_port_in_use_exits_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli("serve", "--host", "127.0.0.1", "--port", str(port))
    assert_usage_error(result, f"cannot listen on 127.0.0.1:{port}")


def test_credentials_command() -> None:
    result = run_cli("credentials")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "account_sid": DEFAULT_ACCOUNT_SID,
        "auth_token": DEFAULT_AUTH_TOKEN,
        "api_key_sid": DEFAULT_API_KEY_SID,
        "api_key_secret": "fake_api_key_secret_000000000001",
    }
    custom = run_cli("credentials", env=clean_env(**CUSTOM))
    assert json.loads(custom.stdout)["account_sid"] == CUSTOM["FAKE_TWILIO_ACCOUNT_SID"]


def test_main_in_process_reports_errors_without_raising(capsys: pytest.CaptureFixture[str]) -> None:
    from fake_twilio.cli import main

    assert main(["serve", "--account-sid", "nope"], environ={}) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert main(["credentials"], environ={}) == 0
    assert json.loads(capsys.readouterr().out)["account_sid"] == DEFAULT_ACCOUNT_SID
