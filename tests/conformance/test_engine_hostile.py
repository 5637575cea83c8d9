"""The engine against a hostile or broken backend: a small werkzeug app on 127.0.0.1.

The backend under test is someone else's code, so every way it can misbehave (huge or
trickling bodies, bytes that are not UTF-8, redirects, dropped connections, secrets echoed
back) must end as a readable fail or exit-2 line, within the configured timeout, with no
secret shown.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from conformance.config import SuiteConfig
from conformance.outcomes import ERROR, FAIL, BackendNoAnswer
from conformance.registry import Registry
from conformance.runner import run
from conformance.transport import BackendClient

PASSCODE = "12345678901234"
MIB = 1024 * 1024


def _trickle(seconds: float) -> Iterator[bytes]:
    """A JSON body that arrives one byte every 0.05 s for ``seconds``."""
    yield b"["
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.05)
        yield b" "
    yield b"]"


def _cut(connection: socket.socket) -> Iterator[bytes]:
    """A body that stops after one byte: the connection is shut down under the server."""
    yield b"{"
    connection.shutdown(socket.SHUT_RDWR)


@Request.application
def hostile(request: Request) -> Response:
    """Every path misbehaves its own way; ``verify-passcode`` accepts the passcode."""
    path = request.path.strip("/")
    if path == "verify-passcode":
        if request.headers.get("Authorization") != PASSCODE:
            body = {"error": {"message": f"{request.headers.get('Authorization')} is wrong"}}
            return Response(json.dumps(body), 401, content_type="application/json")
        return Response('{"ok": true}', content_type="application/json")
    if path == "huge":
        return Response((b"x" * MIB for _ in range(4)), content_type="application/json")
    if path == "trickle":
        return Response(_trickle(3.0), content_type="application/json")
    if path == "not-utf8":
        return Response(b'{"a": "\xff\xfe"}', content_type="application/json; charset=utf-8")
    if path == "unknown-charset":
        return Response(b'{"a": 1}', content_type="application/json; charset=no-such-codec")
    if path == "redirect":
        return Response("", 307, headers={"Location": "http://127.0.0.2:9/elsewhere"})
    if path == "cut":
        return Response(_cut(request.environ["werkzeug.socket"]), content_type="application/json")
    return Response("not found", 404)


@pytest.fixture(scope="module")
def backend_url() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, hostile, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_huge_body_is_not_read_past_the_bound(backend_url: str) -> None:
    client = BackendClient(backend_url, passcode=PASSCODE, timeout=10)
    with pytest.raises(BackendNoAnswer) as raised:
        client.call("huge")
    exchange = raised.value.exchange
    assert exchange.status is None and exchange.text == ""
    assert "larger than 1048576 bytes" in str(raised.value)
    assert "larger than 1048576 bytes" in exchange.describe()


def test_a_trickling_body_gives_up_at_the_timeout(backend_url: str) -> None:
    client = BackendClient(backend_url, passcode=PASSCODE, timeout=0.5)
    with pytest.raises(BackendNoAnswer) as raised:
        client.call("trickle")
    assert raised.value.exchange.status is None
    assert "still arriving after the timeout (0.5 s)" in str(raised.value)


def test_bodies_that_are_not_utf8_are_readable_text(backend_url: str) -> None:
    client = BackendClient(backend_url, passcode=PASSCODE)
    broken = client.call("not-utf8")
    assert broken.status == 200 and "\ufffd" in broken.text and broken.json == {"a": "\ufffd\ufffd"}
    assert client.call("unknown-charset").json == {"a": 1}


def test_redirects_are_recorded_not_followed(backend_url: str) -> None:
    client = BackendClient(backend_url, passcode=PASSCODE)
    exchange = client.call("redirect")
    assert exchange.status == 307 and exchange.url == f"{backend_url}/redirect"
    assert "Location: http://127.0.0.2:9/elsewhere" in exchange.describe()


def test_a_cut_connection_is_no_answer(backend_url: str) -> None:
    client = BackendClient(backend_url, passcode=PASSCODE)
    with pytest.raises(BackendNoAnswer, match="got no HTTP answer: RemoteProtocolError"):
        client.call("cut")


def test_a_run_reports_each_misbehaviour_and_a_timeout_as_no_verdict(backend_url: str) -> None:
    """An oversized body and a cut connection are failures; a body still arriving at the
    timeout is an error (no verdict: the backend may be slow); no abort, since the backend
    still answers verify-passcode between them."""
    registry = Registry()
    registry.add("AUTH-1", lambda ctx: ctx.call("huge"))
    registry.add("AUTH-2", lambda ctx: ctx.expect_json(ctx.call("trickle")))
    registry.add("AUTH-4", lambda ctx: ctx.expect_json(ctx.call("cut")))
    config = SuiteConfig(
        backend_url=backend_url,
        passcode=PASSCODE,
        request_timeout=0.5,
        select_ids={"AUTH-1", "AUTH-2", "AUTH-4"},
        auto_detect=False,
    )
    report = run(config, registry=registry)
    assert report.exit_code == 1, report.reason
    assert {r.id: r.status for r in report.results} == {
        "AUTH-1": FAIL,
        "AUTH-2": ERROR,
        "AUTH-4": FAIL,
    }
    assert all("got no" in r.summary and "Traceback" not in r.detail for r in report.results)
    assert report.result("AUTH-2").summary.startswith("no verdict: the backend did not answer")
    assert report.stopped is None


def test_a_passcode_echoed_by_a_refusing_backend_is_not_printed(backend_url: str) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_CONFORMANCE_")}
    wrong = "98765432109876"
    result: Any = subprocess.run(
        [sys.executable, "-m", "conformance", "run", backend_url, "--passcode", wrong],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "the passcode was refused by the backend (401" in lines[0]
    assert "<passcode> is wrong" in lines[0]
    assert wrong not in result.stderr + result.stdout
