"""The Redactor: long secrets (8+ characters) are redacted wherever they occur, short ones
only where they stand as a whole value, so a passcode ``3092`` on port 3092 or an expired
passcode ``1`` does not turn addresses into ``http://<expired-passcode>27.0.0...``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from conformance.exchange import Exchange, ReceivedResponse, Redactor, SentRequest

LONG = "12345678901234"


def _exchange(url: str, headers: dict[str, str], body: bytes, redactor: Redactor) -> Exchange:
    return Exchange(
        SentRequest("POST", url, httpx.Headers(headers), body),
        ReceivedResponse(
            401,
            httpx.Headers({"content-type": "application/json"}),
            '{"error": {"message": "bad passcode"}, "port": 3092}',
            0.01,
        ),
        endpoint="create-stream",
        redactor=redactor,
    )


def test_a_short_passcode_equal_to_the_port_leaves_the_url_alone() -> None:
    redactor = Redactor({"<passcode>": "3092"})
    exchange = _exchange(
        "http://127.0.0.1:3092/create-stream",
        {"Authorization": "3092", "Content-Type": "application/json"},
        b'{"passcode": "3092", "user_identity": "a3092"}',
        redactor,
    )
    curl = exchange.curl()
    assert curl.startswith("curl -sS -i -X POST http://127.0.0.1:3092/create-stream -H")
    assert "-H 'Authorization: <passcode>'" in curl
    assert '"passcode": "<passcode>"' in curl and '"user_identity": "a3092"' in curl
    described = exchange.describe()
    assert "sent: POST http://127.0.0.1:3092/create-stream" in described
    assert "Authorization: <passcode>" in described and '"port": 3092' in described
    data = exchange.as_dict()
    assert data["request"]["url"] == "http://127.0.0.1:3092/create-stream"
    assert data["request"]["headers"]["Authorization"] == "<passcode>"
    assert json.loads(data["request"]["body"])["passcode"] == "<passcode>"
    assert "<passcode>" not in data["response"]["body"]


def test_an_expired_passcode_of_one_character_leaves_addresses_alone() -> None:
    redactor = Redactor({"<passcode>": LONG, "<expired-passcode>": "1"})
    for text in (
        "http://127.0.0.1:3999",
        "curl -sS -i 'http://127.0.0.1:3999/verify-passcode'",
        "1 of 10 checks; HTTP/1.1; 0.1 s",
        '{"count": 1, "items": [1, 2]}',
    ):
        assert redactor.text(text) == text
    exchange = _exchange(
        "http://127.0.0.1:3999/verify-passcode", {"Authorization": "1"}, b"", redactor
    )
    assert exchange.curl() == (
        "curl -sS -i -X POST http://127.0.0.1:3999/verify-passcode "
        "-H 'Authorization: <expired-passcode>'"
    )
    assert redactor.value(1) == "1"  # an actual value of 1 is not the passcode
    assert redactor.value("1") == "<expired-passcode>"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("3092", "<passcode>"),
        ("  3092 ", "  <passcode> "),
        ("Bearer 3092", "Bearer <passcode>"),
        ('{"passcode": "3092"}', '{"passcode": "<passcode>"}'),
        ('{"3092": "x"}', '{"3092": "x"}'),  # a JSON key is not a value
        ("passcode '3092' refused", "passcode '<passcode>' refused"),
        ("passcode=3092&x=1", "passcode=<passcode>&x=1"),
        ("http://h:3092/x?passcode=3092#f", "http://h:3092/x?passcode=<passcode>#f"),
        ("http://h/x?a=1&passcode=3092", "http://h/x?a=1&passcode=<passcode>"),
        ("http://user:3092@h:3092/", "http://user:<passcode>@h:3092/"),
        ("http://127.0.0.1:3092/create-stream", "http://127.0.0.1:3092/create-stream"),
        ("a3092 30920 3092.5 port 3092", "a3092 30920 3092.5 port 3092"),
    ],
)
def test_where_a_short_secret_is_redacted(text: str, shown: str) -> None:
    assert Redactor({"<passcode>": "3092"}).text(text) == shown


def test_long_secrets_are_still_redacted_everywhere() -> None:
    secret = "fake_api_key_secret_000000000001"
    redactor = Redactor({"<passcode>": LONG, "<api-key-secret>": secret})
    for text in (
        f"http://127.0.0.1:3000/x?p={LONG}",
        f"prefix{LONG}suffix",
        f"Basic {secret}:{LONG}",
        f'{{"nested": "a-{LONG}-b"}}',
        f"http://user:{LONG}@host/",
    ):
        shown = redactor.text(text)
        assert LONG not in shown and secret not in shown
        assert "<passcode>" in shown
    assert redactor.text(f"echo {LONG[:-2]}") == "echo <first 12 characters of passcode>"
    exchange = _exchange(
        f"http://127.0.0.1:3000/create-stream?passcode={LONG}",
        {"Authorization": LONG, "X-Twilio-Signature": f"sig{secret}"},
        f'{{"passcode": "{LONG}"}}'.encode(),
        redactor,
    )
    everything = exchange.curl() + exchange.describe() + json.dumps(exchange.as_dict())
    assert LONG not in everything and secret not in everything
    assert "X-Twilio-Signature: sig<api-key-secret>" in exchange.describe()


def test_near_misses_and_the_public_methods() -> None:
    redactor = Redactor({"<passcode>": LONG}).with_secrets({"<expired-passcode>": "1"})
    assert redactor.secrets == {"<passcode>": LONG, "<expired-passcode>": "1"}
    assert redactor.authorization(LONG[:-1] + "0") == "<passcode with 1 character changed>"
    assert redactor.authorization(LONG[:6]) == "<first 6 characters of passcode>"
    assert redactor.authorization("1") == "<expired-passcode>"
    assert redactor.authorization("Bearer 1") == "Bearer <expired-passcode>"
    assert redactor.value({"passcode": "1", "n": 1}) == (
        '{\n  "passcode": "<expired-passcode>",\n  "n": 1\n}'
    )
    assert redactor.value(None) is None
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlMTIzNDU2"
    assert redactor.text(token) == "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.<signature>"


# -- end to end: the CLI against a backend whose passcode is its port --------------------------

_TOY_RUN = textwrap.dedent(
    """
    import sys
    from conformance import cli
    from conformance.registry import Registry

    registry = Registry()
    registry.add(
        "AUTH-1", lambda ctx: ctx.fail("toy failure", exchange=ctx.call("verify-passcode"))
    )
    sys.exit(cli.main(["run", "--select", "AUTH-1", *sys.argv[1:]], registry=registry))
    """
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.server
def test_a_run_against_a_backend_whose_passcode_is_its_port(tmp_path: Path) -> None:
    port = _free_port()
    ready = tmp_path / "ready.json"
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIVE_CONFORMANCE_", "LIVE_BACKEND_", "FAKE_TWILIO_", "TWILIO_"))
    }
    serve = ["serve", "--port", str(port), "--passcode", str(port), "--ready-file", str(ready)]
    backend = subprocess.Popen(
        [sys.executable, "-m", "reference_backend", *serve],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environ,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert backend.poll() is None and time.monotonic() < deadline, "backend did not start"
            time.sleep(0.05)
        report = tmp_path / "report.json"
        url = f"http://127.0.0.1:{port}"
        run = [url, "--passcode", str(port), "--report-json", str(report), "-vv", "--no-color"]
        result = subprocess.run(
            [sys.executable, "-c", _TOY_RUN, *run],
            capture_output=True,
            text=True,
            timeout=120,
            env=environ,
        )
    finally:
        backend.terminate()
        backend.wait(timeout=30)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{url}/verify-passcode" in result.stdout
    assert "127.0.0.1:<passcode>" not in result.stdout
    assert "Authorization: <passcode>" in result.stdout
    data = json.loads(report.read_text())
    (failed,) = data["results"]
    assert failed["repro"] and all(f"{url}/verify-passcode" in line for line in failed["repro"])
    assert failed["exchange"]["request"]["headers"]["Authorization"] == "<passcode>"
    assert data["summary"]["backend_url"] == url
