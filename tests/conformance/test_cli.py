"""``live-conformance`` as real subprocesses, plus its configuration layering in-process.

The full runs are acceptance tests of the whole suite: the embedded run, and a run over real
HTTP against the reference backend and a fake Twilio served on 127.0.0.1, must both exit 0
with every requirement passing and none skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.serving import make_server

import schemas
from conformance import cli
from conformance.registry import Registry
from conformance.requirements import all_requirements

TIMEOUT = 600


def live(*args: str, env: dict[str, str] | None = None, timeout: float = TIMEOUT) -> Any:
    """``python -m conformance ARGS`` with a clean LIVE_CONFORMANCE_* environment."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_CONFORMANCE_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environ,
    )


def assert_usage_error(result: Any, fragment: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("live-conformance: ") and fragment in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


# -- subcommands ---------------------------------------------------------------------------------


def test_requirements_explain_and_openapi() -> None:
    listing = live("requirements")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert len(lines) == len(all_requirements())
    assert lines[0].split()[:3] == ["AUTH-1", "MUST", "-"]
    assert any(line.split()[:3] == ["IN-9", "SHOULD", "form-body"] for line in lines)
    chosen = json.loads(
        live("requirements", "--group", "sec", "--level", "SHOULD", "--json").stdout
    )
    assert [r["id"] for r in chosen] == ["SEC-3"]
    keys = {"id", "group", "level", "capability", "title", "text", "rationale", "impact"}
    assert set(chosen[0]) == keys

    explained = live("explain", "auth-1")
    assert explained.returncode == 0
    text = explained.stdout
    assert text.startswith("AUTH-1 (MUST, group AUTH, capability: none)")
    assert "Rationale:" in text and "Enforced by: conformance.checks." in text
    assert "Impact (what breaks without it):" in text and "remove-speaker" in text
    assert "Passes:" in text and "Fails:" in text

    assert_usage_error(live("explain", "NOPE-1"), "unknown requirement 'NOPE-1'")

    openapi = live("openapi")
    assert openapi.returncode == 0
    document = json.loads(openapi.stdout)
    assert document["openapi"].startswith("3.1") and "/create-stream" in document["paths"]


def test_usage_errors_are_one_line_exit_two() -> None:
    assert_usage_error(live("run", "--bogus"), "unrecognized arguments: --bogus")
    assert_usage_error(live("run", "--timeout", "soon"), "--timeout: 'soon'")
    assert_usage_error(live("run", "http://127.0.0.1:1"), "passcode: required")
    assert_usage_error(live("run", "--capability", "teleport"), "unknown capability 'teleport'")
    assert_usage_error(live("run", "--select", "NOPE-1"), "unknown requirement ID 'NOPE-1'")
    assert_usage_error(
        live("run", env={"LIVE_CONFORMANCE_WAIT": "-1"}),
        "LIVE_CONFORMANCE_WAIT: -1.0 must be a number",
    )
    assert_usage_error(live("requirements", "--group", "XYZ"), "unknown group 'XYZ'")
    assert live().returncode == 2


def test_unreachable_backend_exits_two_with_a_reason(tmp_path: Any) -> None:
    report = tmp_path / "report.json"
    result = live("run", "http://127.0.0.1:1", "--passcode", "x", "--report-json", str(report))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(
        "live-conformance: backend unreachable at http://127.0.0.1:1"
    )
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    data = json.loads(report.read_text())
    schemas.validate("conformance/report", data)
    assert data["summary"]["exit_code"] == 2 and data["results"] == []


def test_a_selected_embedded_run_through_the_environment(tmp_path: Any) -> None:
    report = tmp_path / "report.json"
    result = live(
        "run",
        "-v",
        env={
            "LIVE_CONFORMANCE_SELECT": "AUTH-2,RESP-1",
            "LIVE_CONFORMANCE_REPORT_JSON": str(report),
            "LIVE_CONFORMANCE_SEED": "7",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(report.read_text())
    assert [r["id"] for r in data["results"]] == ["AUTH-2", "RESP-1"]
    assert {r["status"] for r in data["results"]} == {"pass"}
    assert data["summary"]["seed"] == 7
    assert "AUTH-2" in result.stdout and "exit 0:" in result.stdout


# -- configuration layering ------------------------------------------------------------------------


def _config(argv: list[str], environ: dict[str, str]) -> Any:
    namespace = cli._parser().parse_args(["run", *argv])
    return cli.build_config(namespace, environ)


def test_flags_win_over_environment_over_file_over_defaults(tmp_path: Any) -> None:
    file = tmp_path / "live.toml"
    file.write_text(
        "\n".join(
            [
                'backend-url = "http://file.example"',
                'passcode = "from-file"',
                "timeout = 3",
                'capability = ["chat"]',
                'select = ["AUTH"]',
                "consistency-bound = 9",
                'name_prefix = "file-"',
            ]
        )
    )
    config = _config(["--config", str(file)], {})
    assert config.backend_url == "http://file.example" and config.passcode == "from-file"
    assert config.request_timeout == 3.0 and config.capabilities == {"chat"}
    assert config.select_groups == {"AUTH"} and config.consistency_timeout == 9.0
    assert config.name_prefix == "file-" and config.wait_seconds == 0.0

    environ = {
        "LIVE_CONFORMANCE_CONFIG": str(file),
        "LIVE_CONFORMANCE_PASSCODE": "from-env",
        "LIVE_CONFORMANCE_TIMEOUT": "4",
        "LIVE_CONFORMANCE_CAPABILITY": "form-body, get-query",
        "LIVE_CONFORMANCE_NO_AUTO_DETECT": "true",
    }
    config = _config([], environ)
    assert config.passcode == "from-env" and config.request_timeout == 4.0
    assert config.capabilities == {"form-body", "get-query"} and config.auto_detect is False
    assert config.backend_url == "http://file.example"

    config = _config(
        ["http://flag.example", "--passcode", "from-flag", "--capability", "chat", "-q"],
        environ,
    )
    assert config.backend_url == "http://flag.example" and config.passcode == "from-flag"
    assert config.capabilities == {"chat"} and config.verbosity == -1
    assert config.request_timeout == 4.0


def test_tool_table_of_pyproject_and_bad_files(tmp_path: Any) -> None:
    file = tmp_path / "pyproject.toml"
    file.write_text('[project]\nname = "x"\n[tool.live-conformance]\nlevel = ["must"]\n')
    assert _config(["--config", str(file)], {}).select_levels == {"MUST"}
    file.write_text("wat = 1\n")
    with pytest.raises(cli.UsageError, match="unknown setting 'wat'"):
        _config(["--config", str(file)], {})
    file.write_text("passcode = [\n")
    with pytest.raises(cli.UsageError, match="not valid TOML"):
        _config(["--config", str(file)], {})
    with pytest.raises(cli.UsageError, match="cannot read the config file"):
        _config(["--config", str(tmp_path / "missing.toml")], {})


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--timeout", "nan"], "--timeout: nan must be"),
        (["--consistency-timeout", "inf"], "consistency-timeout: inf must be"),
        (["--wait", "nan"], "wait: nan must be"),  # a NaN deadline would wait forever
        (["--property-deadline", "inf"], "property-deadline: inf must be"),
        (["http://[::1", "--passcode", "p"], "backend-url: 'http://[::1' is not an http(s) URL"),
        (["http://host:99999", "--passcode", "p"], "'http://host:99999' is not an http(s) URL"),
    ],
)
def test_values_no_run_can_use_are_usage_errors(argv: list[str], fragment: str) -> None:
    with pytest.raises(cli.UsageError, match=re.escape(fragment)):
        _config(argv, {})


def test_config_and_baseline_files_that_are_not_text_are_one_line_errors(
    tmp_path: Any, capsys: Any
) -> None:
    file = tmp_path / "live.toml"
    for content, fragment in (
        (b"\xff\xfe", "is not valid TOML"),
        (b"live-conformance = 3\n", "live-conformance must be a table of settings"),
        (b"[tool]\nlive-conformance = 3\n", "live-conformance must be a table of settings"),
    ):
        file.write_bytes(content)
        assert cli.main(["run", "--config", str(file)]) == 2
        err = capsys.readouterr().err
        assert fragment in err and len(err.strip().splitlines()) == 1
    baseline = tmp_path / "baseline.txt"
    baseline.write_bytes(b"AUTH-1 \xff\n")
    argv = ["run", "http://127.0.0.1:1", "--passcode", "p", "--baseline", str(baseline)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "is not UTF-8 text" in err and len(err.strip().splitlines()) == 1


def test_main_with_toy_checks_prints_the_terminal_report(capsys: Any) -> None:
    reg = Registry()
    reg.add("AUTH-2", lambda ctx: None)
    reg.add("AUTH-1", lambda ctx: ctx.fail("toy failure", exchange=ctx.call("verify-passcode")))
    assert cli.main(["run", "--level", "MUST", "--select", "AUTH"], registry=reg) == 1
    out = capsys.readouterr().out
    assert "FAIL AUTH-1 (MUST)" in out and "summary: toy failure" in out
    assert "exit 1: 1 MUST requirement(s) failed: AUTH-1" in out


# -- full runs -------------------------------------------------------------------------------------


def _assert_everything_passed(report_path: Any, result: Any) -> dict[str, Any]:
    data = json.loads(report_path.read_text())
    schemas.validate("conformance/report", data)
    not_passed = {r["id"]: r["summary"] for r in data["results"] if r["status"] != "pass"}
    assert not_passed == {}, result.stdout[-4000:]
    assert len(data["results"]) == len(all_requirements())
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return data


@pytest.mark.slow
def test_full_embedded_run_passes_every_requirement(tmp_path: Any) -> None:
    report = tmp_path / "report.json"
    junit = tmp_path / "junit.xml"
    result = live("run", "--report-json", str(report), "--junit", str(junit))
    data = _assert_everything_passed(report, result)
    assert data["summary"]["embedded"] is True
    total = len(all_requirements())
    # pass, fail, blocked, skip, error
    assert re.search(rf"^total\s+{total}\s+0\s+0\s+0\s+0\s", result.stdout, re.M)
    assert result.stderr == ""


@contextlib.contextmanager
def _serve_backend(settings_for: Any) -> Iterator[tuple[str, Any]]:
    """Serve a reference backend on 127.0.0.1; ``settings_for(url)`` builds its Settings."""
    from reference_backend import create_app

    holder: dict[str, Any] = {}

    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    url = f"http://127.0.0.1:{server.port}"
    settings = settings_for(url)
    holder["app"] = create_app(settings)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield url, settings
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.server
@pytest.mark.slow
def test_real_server_run_against_the_reference_backend_and_a_fake(tmp_path: Any) -> None:
    from fake_twilio.server import FakeServer
    from reference_backend.settings import Settings, generate_passcode

    with FakeServer() as fake:
        credentials = fake.credentials.as_dict()
        fake_url = fake.url

        def settings(expired: bool) -> Any:
            def build(url: str) -> Any:
                extra = {}
                if expired:
                    extra["passcode_expires_at"] = datetime.now(UTC) - timedelta(days=1)
                return Settings(
                    **credentials,
                    public_url=url,
                    twilio_url=fake_url,
                    passcode=generate_passcode(),
                    throttle_window=2.0,
                    **extra,
                )

            return build

        with (
            _serve_backend(settings(False)) as (url, backend),
            _serve_backend(settings(True)) as (expired_url, expired),
        ):
            report = tmp_path / "report.json"
            html = tmp_path / "report.html"
            result = live(
                "run",
                url,
                "--passcode",
                backend.passcode,
                "--twilio",
                fake_url,
                "--expired-url",
                expired_url,
                "--expired-passcode",
                expired.passcode,
                "--report-json",
                str(report),
                "--html",
                str(html),
            )
    data = _assert_everything_passed(report, result)
    summary = data["summary"]
    assert summary["embedded"] is False and summary["twilio_url"] == fake_url
    assert summary["capabilities"]["detected"] == [
        "chat",
        "delete-stream",
        "form-body",
        "get-query",
    ]
    page = html.read_text()
    assert backend.passcode not in page and credentials["auth_token"] not in page
