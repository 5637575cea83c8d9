"""A backend that dies or hangs mid-run stops the run (exit 2, one line), with reports of what
ran: never dozens of "connection refused" failures, never minutes of timeouts. Real HTTP
servers on 127.0.0.1 and the real CLI in a subprocess."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from conformance.outcomes import FAIL, NOT_RUN
from schemas import errors as schema_errors

from .test_cli import live

pytestmark = [pytest.mark.server]

#: Requests the backend answers before it goes away (a few checks' worth).
ANSWERED = 120


@contextmanager
def _mortal_backend(fake_url: str, credentials: dict[str, str], fate: str) -> Iterator[Any]:
    """A reference backend on 127.0.0.1 that, after :data:`ANSWERED` requests, ``"dies"``
    (closes its socket: connections are refused) or ``"hangs"`` (never answers again)."""
    from reference_backend import create_app
    from reference_backend.settings import Settings, generate_passcode

    count = {"requests": 0}
    lock = threading.Lock()
    release = threading.Event()
    holder: dict[str, Any] = {}

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with lock:
            count["requests"] += 1
            number = count["requests"]
        if number > ANSWERED:
            if fate == "hangs":
                release.wait(60)
            elif number == ANSWERED + 1:
                threading.Thread(target=_stop, args=(holder["server"],), daemon=True).start()
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    holder["server"] = server
    url = f"http://127.0.0.1:{server.port}"
    settings = Settings(
        **credentials,
        public_url=url,
        twilio_url=fake_url,
        passcode=generate_passcode(),
        throttle_window=2.0,
    )
    holder["app"] = create_app(settings)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield url, settings, count
    finally:
        release.set()
        _stop(server)
        thread.join(5)


def _stop(server: Any) -> None:
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("fate", "said"), [("dies", "connection refused"), ("hangs", "timed out")], ids=str
)
def test_a_backend_that_goes_away_stops_the_run(tmp_path: Path, fate: str, said: str) -> None:
    from fake_twilio.server import FakeServer

    report_path = tmp_path / "report.json"
    junit = tmp_path / "junit.xml"
    with (
        FakeServer() as fake,
        _mortal_backend(fake.url, fake.credentials.as_dict(), fate) as (url, settings, count),
    ):
        result = live(
            "run",
            url,
            "--passcode",
            settings.passcode,
            "--twilio",
            fake.url,
            "--timeout",
            "1",
            "--report-json",
            str(report_path),
            "--junit",
            str(junit),
        )
        sent = count["requests"]
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("exit 2: ")]
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith("exit 2: the backend stopped answering after ")
    assert lines[0].endswith(f" checks: {said}"), lines[0]
    # the run stopped at once: a handful of requests after the last answer, not one per check
    assert sent - ANSWERED <= 6, sent

    data = json.loads(report_path.read_text())
    assert schema_errors("conformance/report", data) == []
    summary = data["summary"]
    assert summary["exit_code"] == 2 and summary["stopped"]
    results = data["results"]
    not_run = [r for r in results if r["status"] == "skip" and r["summary"].startswith(NOT_RUN)]
    ran = [r for r in results if r not in not_run]
    assert ran and not_run, results
    assert f"after {len(ran)} of {len(results)} checks" in lines[0]
    assert len(results) == len({r["id"] for r in results})
    # nothing is failed for the backend's absence
    assert not [r for r in ran if r["status"] == FAIL and "no HTTP answer" in r["summary"]]
    assert 'type="not run"' in junit.read_text()


def test_ctrl_c_stops_the_run_and_writes_the_partial_reports(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    report_path = tmp_path / "report.json"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_CONFORMANCE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "run", "-v", "--report-json", str(report_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    try:
        assert process.stdout is not None
        finished = 0
        for line in process.stdout:
            if line.startswith("["):  # "[ 3/76] AUTH-1 ..." : a check finished
                finished += 1
                if finished == 3:
                    break
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, rest + errors
    assert "Traceback" not in rest + errors
    assert "exit 130: interrupted after " in rest
    data = json.loads(report_path.read_text())
    assert schema_errors("conformance/report", data) == []
    assert data["summary"]["exit_code"] == 130 and data["summary"]["stopped"] == "interrupted"
    statuses = [r["status"] for r in data["results"]]
    assert statuses.count("pass") >= 3
    assert any(r["summary"] == f"{NOT_RUN}interrupted" for r in data["results"])
