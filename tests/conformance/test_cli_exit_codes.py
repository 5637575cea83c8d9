"""``live-conformance run`` exits 2, before the first request, when it cannot test what it was
asked to test, and ``run --help`` and the README say what every exit code means.

Real subprocesses (``live`` of :mod:`.test_cli`); the expired-deployment test serves the
reference backend and a fake Twilio on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest

import schemas
from conformance import cli
from conformance.cli_options import OPTIONS

from .test_cli import _serve_backend, assert_usage_error, live

ROOT = Path(__file__).resolve().parents[2]
BACKEND_ONLY = [option for option in OPTIONS if option.backend_only]


def _closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound once by the OS, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- settings that need a backend URL --------------------------------------------------------------


def test_the_backend_only_settings() -> None:
    assert [option.flags[0] for option in BACKEND_ONLY] == [
        "--passcode",
        "--twilio",
        "--expired-url",
        "--expired-passcode",
        "--api-key-secret",
        "--public-base-url",
        "--wait",
    ]


@pytest.mark.parametrize("option", BACKEND_ONLY, ids=lambda option: option.flags[0])
def test_each_backend_only_flag_without_a_backend_url_is_a_usage_error(option: Any) -> None:
    value = "1" if option.kind == "float" else "http://127.0.0.1:9"
    argv = [option.flags[0], value]
    if option.name == "expired_url":  # alone it needs --expired-passcode first
        argv += ["--expired-passcode", "x"]
    namespace = cli._parser().parse_args(["run", *argv])
    with pytest.raises(cli.UsageError, match=re.escape(option.flags[0])) as raised:
        cli.build_config(namespace, {})
    assert "the backend URL" in str(raised.value)
    # With a backend URL (here from the environment) the same flag is fine.
    environ = {"LIVE_CONFORMANCE_BACKEND_URL": "http://127.0.0.1:9"}
    cli.build_config(cli._parser().parse_args(["run", "--passcode", "p", *argv]), environ)


def _assert_nothing_ran(result: Any, *names: str) -> None:
    assert_usage_error(result, "need")
    line = result.stderr.strip()
    assert "the backend URL" in line and all(name in line for name in names), line
    assert result.stdout == ""  # no progress lines, no summary: the embedded run never started


def test_passcode_and_twilio_without_the_backend_url() -> None:
    result = live("run", "--passcode", "P", "--twilio", "http://127.0.0.1:9")
    _assert_nothing_ran(result, "--passcode and --twilio need")


def test_backend_only_settings_from_the_environment_are_named_as_given() -> None:
    result = live(
        "run",
        "--api-key-secret",
        "s",
        env={"LIVE_CONFORMANCE_WAIT": "30", "LIVE_CONFORMANCE_SELECT": "AUTH-2"},
    )
    _assert_nothing_ran(result, "--api-key-secret", "LIVE_CONFORMANCE_WAIT")
    assert "SELECT" not in result.stderr


def test_backend_only_settings_from_a_config_file_are_named_as_given(tmp_path: Path) -> None:
    file = tmp_path / "live.toml"
    file.write_text('[tool.live-conformance]\nexpired-url = "http://127.0.0.1:9"\n')
    result = live("run", "--config", str(file), "--expired-passcode", "x")
    _assert_nothing_ran(result, f"expired-url (in {file})", "--expired-passcode")


def test_a_backend_url_from_the_environment_allows_them() -> None:
    result = live(
        "run",
        "--passcode",
        "x",
        env={"LIVE_CONFORMANCE_BACKEND_URL": "http://127.0.0.1:1"},
    )
    assert result.returncode == 2
    assert result.stderr.startswith("live-conformance: backend unreachable at http://127.0.0.1:1")


# -- report paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--report-json", "--junit", "--html"])
def test_a_report_path_under_a_file_stops_the_run_before_it_starts(
    tmp_path: Path, flag: str
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    target = blocker / "reports" / "report.out"
    result = live("run", "--select", "AUTH-2", flag, str(target))
    assert result.returncode == 2, result
    assert result.stderr.strip() == (
        f"live-conformance: cannot write {target}: {blocker} is a file, not a directory"
    )
    assert result.stdout == ""  # not one check started
    assert blocker.read_text() == "not a directory\n"


def test_a_report_path_that_is_a_directory_is_found_before_the_first_request(
    tmp_path: Path,
) -> None:
    report = tmp_path / "report.json"
    result = live(
        "run",
        "http://127.0.0.1:1",
        "--passcode",
        "x",
        "--report-json",
        str(report),
        "--html",
        str(tmp_path),
    )
    assert result.returncode == 2, result
    # Not "backend unreachable": the paths are checked before the backend is asked anything.
    assert result.stderr.strip() == f"live-conformance: cannot write {tmp_path}: it is a directory"
    assert result.stdout == "" and not report.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # the probe file was removed


# -- the expired deployment ------------------------------------------------------------------------


@pytest.mark.server
def test_an_unreachable_expired_deployment_exits_two_before_any_check(tmp_path: Path) -> None:
    from fake_twilio.server import FakeServer
    from reference_backend.settings import Settings, generate_passcode

    with FakeServer() as fake:
        fake_url = fake.url

        def settings(url: str) -> Any:
            return Settings(
                **fake.credentials.as_dict(),
                public_url=url,
                twilio_url=fake_url,
                passcode=generate_passcode(),
            )

        with _serve_backend(settings) as (url, backend):
            expired_url = f"http://127.0.0.1:{_closed_port()}"
            report = tmp_path / "report.json"
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
                "expired-passcode",
                "--select",
                "AUTH-3",
                "--report-json",
                str(report),
            )
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(
        f"live-conformance: the expired deployment did not answer at {expired_url}: "
    )
    assert "AUTH-3" not in result.stdout
    data = json.loads(report.read_text())
    schemas.validate("conformance/report", data)
    assert data["summary"]["exit_code"] == 2 and data["results"] == []


# -- documentation -------------------------------------------------------------------------------


def _codes(text: str, pattern: str) -> list[str]:
    return re.findall(pattern, text, re.M)


def test_run_help_and_the_readme_list_the_same_exit_codes() -> None:
    result = live("run", "--help")
    assert result.returncode == 0 and result.stderr == ""
    help_text = result.stdout.split("exit codes:", 1)[1]
    assert _codes(help_text, r"^  (\d+) ") == ["0", "1", "2", "5", "130"]
    for fragment in (
        "every selected MUST requirement passed",
        "a MUST requirement failed",
        "the backend stopped answering mid-run",
        "no check was executed",
        "interrupted (Ctrl-C)",
    ):
        assert fragment in " ".join(help_text.split()), fragment
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Exit codes**", 1)[1].split("\n\n**", 1)[0]
    assert _codes(section, r"^\| (\d+) \|") == ["0", "1", "2", "5", "130"]


# -- runs that execute nothing ------------------------------------------------------------------
def test_a_selection_that_matches_nothing_exits_five(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = live("run", "--select", "AUTH", "--level", "MAY", "--report-json", str(report))
    assert result.returncode == 5, result.stdout + result.stderr
    assert result.stdout.strip().splitlines() == [
        "exit 5: no check was executed: the selection matched no requirement "
        "(see live-conformance requirements)",
        f"reports: {report}",
    ]
    data = json.loads(report.read_text())
    assert schemas.errors("conformance/report", data) == []
    assert data["summary"]["exit_code"] == 5 and data["results"] == []


def test_a_run_whose_checks_all_skip_exits_five() -> None:
    from conformance.config import SuiteConfig
    from conformance.registry import Registry
    from conformance.runner import EXIT_NOTHING_RAN, run

    registry = Registry()
    registry.add("AUTH-1", lambda ctx: ctx.skip("toy reason"))
    registry.add("AUTH-2", lambda ctx: ctx.skip("toy reason"))
    report = run(SuiteConfig(select_ids={"AUTH-1", "AUTH-2"}), registry=registry)
    assert report.exit_code == EXIT_NOTHING_RAN
    assert report.reason == (
        "no check was executed: all 2 selected checks were skipped (see their reasons)"
    )
