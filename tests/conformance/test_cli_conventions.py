"""Command-line conventions of the three CLIs, as real subprocesses: ``--version``, colour
(``--color``/``--no-color``, ``NO_COLOR``, ``FORCE_COLOR``), ``-q``/``-vv``, ``-x``/
``--maxfail``/``--deselect``, messages that name what the user typed (flag, variable or key),
unknown ``LIVE_CONFORMANCE_*`` variables, ``fake-twilio`` without a command,
``reference-backend serve --twilio`` where nothing answers, and ``live-conformance baseline``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from conformance import baseline as baseline_file
from conformance import cli

from .test_cli import assert_usage_error, live

VERSION = version("live-video-conformance")


def _module(module: str, *args: str, env: dict[str, str] | None = None) -> Any:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_CONFORMANCE_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
    )


#: A toy suite run through the real CLI in a subprocess: AUTH-1 and AUTH-3 fail (each after two
#: exchanges), AUTH-2 passes. ``sys.argv[1:]`` are the ``run`` arguments.
_TOY = textwrap.dedent(
    """
    import sys
    from conformance import cli
    from conformance.registry import Registry

    def failing(ctx):
        ctx.call("verify-passcode")
        ctx.fail("toy failure", exchange=ctx.call("verify-passcode"))

    registry = Registry()
    registry.add("AUTH-1", failing)
    registry.add("AUTH-2", lambda ctx: None)
    registry.add("AUTH-3", failing)
    sys.exit(cli.main(["run", "--select", "AUTH", *sys.argv[1:]], registry=registry))
    """
)


def _toy(*args: str, env: dict[str, str] | None = None) -> Any:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_CONFORMANCE_")}
    for name in ("NO_COLOR", "FORCE_COLOR"):
        environ.pop(name, None)
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", _TOY, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
    )


# -- --version ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "prog"),
    [
        ("conformance", "live-conformance"),
        ("fake_twilio", "fake-twilio"),
        ("reference_backend", "reference-backend"),
    ],
)
def test_every_cli_prints_its_version(module: str, prog: str) -> None:
    result = _module(module, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{prog} {VERSION}"
    assert result.stderr == ""


# -- run --help ----------------------------------------------------------------------------------


def test_run_help_documents_environment_config_output_and_exit_codes() -> None:
    result = live("run", "--help")
    assert result.returncode == 0
    text = result.stdout
    for fragment in (
        "LIVE_CONFORMANCE_<OPTION>",
        "--config",
        "[tool.live-conformance]",
        "NO_COLOR",
        "FORCE_COLOR",
        "-vv",
        "--maxfail",
        "--deselect",
        "-x, --exitfirst",
        "--color",
        "--no-color",
        "exit codes:",
        "130  interrupted",
    ):
        assert fragment in text, fragment
    flat = " ".join(text.split())
    for variable in cli.ENV_VARIABLES:
        assert variable in flat, variable
    assert "LIVE_CONFORMANCE_MAXFAIL" in flat and "LIVE_CONFORMANCE_DESELECT" in flat


# -- colour ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ([], {}, False),  # not a terminal
        ([], {"FORCE_COLOR": "1"}, True),
        ([], {"FORCE_COLOR": "0"}, False),
        ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # NO_COLOR wins over FORCE_COLOR
        (["--no-color"], {"FORCE_COLOR": "1"}, False),  # the flag wins over both
        (["--color"], {"NO_COLOR": "1"}, True),
        (["--color"], {}, True),
    ],
)
def test_colour_flags_and_environment(args: list[str], env: dict[str, str], coloured: bool) -> None:
    result = _toy(*args, env=env)
    assert result.returncode == 1, result.stderr
    assert ("\x1b[" in result.stdout) is coloured, result.stdout


def test_color_and_no_color_exclude_each_other() -> None:
    assert_usage_error(live("run", "--color", "--no-color"), "not allowed with argument")


# -- -q / -v / -vv ------------------------------------------------------------------------------


def test_quiet_prints_one_line_per_failure_and_the_exit_line() -> None:
    result = _toy("-q")
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        "FAIL AUTH-1 (MUST): toy failure",
        "FAIL AUTH-3 (MUST): toy failure",
        "exit 1: 2 MUST requirement(s) failed: AUTH-1, AUTH-3",
    ]


def test_very_verbose_prints_every_exchange_of_a_failing_check() -> None:
    normal, verbose, very = _toy(), _toy("-v"), _toy("-vv")
    assert {normal.returncode, verbose.returncode, very.returncode} == {1}
    assert "every exchange of the check" not in normal.stdout + verbose.stdout
    assert very.stdout.count("every exchange of the check (2):") == 2
    assert very.stdout.count("    #2") == 2
    assert len(very.stdout.splitlines()) > len(verbose.stdout.splitlines())
    assert "AUTH-2" in verbose.stdout and "AUTH-2" in very.stdout  # a line per result


# -- -x / --maxfail / --deselect -----------------------------------------------------------------


def _config(argv: list[str], environ: dict[str, str]) -> Any:
    return cli.build_config(cli._parser().parse_args(["run", *argv]), environ)


def test_exitfirst_maxfail_and_deselect_from_flags_environment_and_file(tmp_path: Path) -> None:
    assert _config([], {}).max_failures is None and _config([], {}).deselect_ids == set()
    assert _config(["-x"], {}).max_failures == 1
    assert _config(["--exitfirst", "--maxfail", "3"], {}).max_failures == 1
    assert _config(["--maxfail", "3"], {}).max_failures == 3
    config = _config(["--deselect", "auth-1", "--deselect", "AUTH-2,STATE-3"], {})
    assert config.deselect_ids == {"AUTH-1", "AUTH-2", "STATE-3"}
    environ = {"LIVE_CONFORMANCE_MAXFAIL": "2", "LIVE_CONFORMANCE_DESELECT": "AUTH-1, AUTH-2"}
    config = _config([], environ)
    assert config.max_failures == 2 and config.deselect_ids == {"AUTH-1", "AUTH-2"}
    assert _config([], {"LIVE_CONFORMANCE_EXITFIRST": "true"}).max_failures == 1
    # flags win over the environment: --maxfail 5 over LIVE_CONFORMANCE_EXITFIRST, -x over
    # LIVE_CONFORMANCE_MAXFAIL
    assert _config(["--maxfail", "5"], {"LIVE_CONFORMANCE_EXITFIRST": "1"}).max_failures == 5
    assert _config(["-x"], {"LIVE_CONFORMANCE_MAXFAIL": "5"}).max_failures == 1
    file = tmp_path / "live.toml"
    file.write_text('maxfail = 4\ndeselect = ["AUTH-3"]\n')
    config = _config(["--config", str(file)], {})
    assert config.max_failures == 4 and config.deselect_ids == {"AUTH-3"}
    assert _config(["--config", str(file), "--maxfail", "5"], {}).max_failures == 5


def test_deselected_requirements_do_not_run(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = live(
        "run", "--select", "AUTH-1,AUTH-2", "--deselect", "auth-1", "--report-json", str(report)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert [r["id"] for r in json.loads(report.read_text())["results"]] == ["AUTH-2"]


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["--deselect", "NOPE-1"], {}, "--deselect: unknown requirement ID 'NOPE-1'"),
        (["--deselect", "AUTH"], {}, "--deselect: 'AUTH' is not a requirement ID"),
        (["--maxfail", "0"], {}, "--maxfail: 0 must be a positive whole number"),
        (["--maxfail", "two"], {}, "--maxfail: 'two' is not a whole number"),
        ([], {"LIVE_CONFORMANCE_MAXFAIL": "0"}, "LIVE_CONFORMANCE_MAXFAIL: 0 must be"),
        ([], {"LIVE_CONFORMANCE_EXITFIRST": "maybe"}, "LIVE_CONFORMANCE_EXITFIRST: 'maybe'"),
    ],
)
def test_bad_stopping_and_deselection_values(
    args: list[str], env: dict[str, str], fragment: str
) -> None:
    assert_usage_error(live("run", *args, env=env), fragment)


# -- messages name what the user typed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["--seed", "abc"], {}, "--seed: 'abc' is not a whole number"),
        (["--consistency-timeout", "abc"], {}, "--consistency-timeout: 'abc' is not a number"),
        (["--consistency-bound", "abc"], {}, "--consistency-bound: 'abc' is not a number"),
        (["--timeout", "0"], {}, "--timeout: 0.0 must be a number above 0"),
        (["--property-examples", "0"], {}, "--property-examples: 0 must be a positive"),
        (["--max-examples", "0"], {}, "--max-examples: 0 must be a positive"),
        (["--property-steps", "1.5"], {}, "--property-steps: '1.5' is not a whole number"),
        ([], {"LIVE_CONFORMANCE_SEED": "abc"}, "LIVE_CONFORMANCE_SEED: 'abc' is not a whole"),
        ([], {"LIVE_CONFORMANCE_TIMEOUT": "0"}, "LIVE_CONFORMANCE_TIMEOUT: 0.0 must be"),
        (
            [],
            {"LIVE_CONFORMANCE_PROPERTY_EXAMPLES": "0"},
            "LIVE_CONFORMANCE_PROPERTY_EXAMPLES: 0 must be",
        ),
    ],
)
def test_messages_name_the_flag_or_variable_as_given(
    args: list[str], env: dict[str, str], fragment: str
) -> None:
    result = live("run", *args, env=env)
    assert_usage_error(result, fragment)
    for internal in ("invalid literal", "could not convert", "request-timeout", "max-examples:"):
        if internal not in fragment:
            assert internal not in result.stderr


def test_messages_name_the_key_of_the_config_file(tmp_path: Path) -> None:
    file = tmp_path / "live.toml"
    for content, fragment in (
        ('seed = "abc"\n', "seed (in "),
        ("timeout = 0\n", "timeout (in "),
        ("property-examples = 0\n", "property-examples (in "),
        ("max_examples = 0\n", "max_examples (in "),
        ("consistency-timeout = true\n", "is not a number"),
    ):
        file.write_text(content)
        result = live("run", "--config", str(file))
        assert_usage_error(result, fragment)
        assert "request-timeout" not in result.stderr and "invalid literal" not in result.stderr
    file.write_text('selct = ["AUTH"]\n')
    assert_usage_error(live("run", "--config", str(file)), "did you mean 'select'?")


def test_an_unknown_environment_variable_is_a_usage_error_with_a_suggestion() -> None:
    result = live("run", env={"LIVE_CONFORMANCE_SELCT": "AUTH"})
    assert_usage_error(result, "LIVE_CONFORMANCE_SELCT")
    assert "did you mean LIVE_CONFORMANCE_SELECT?" in result.stderr
    assert_usage_error(live("run", env={"LIVE_CONFORMANCE_ZZZZZZZZZZZZ": "1"}), "ZZZZZZZZZZZZ")
    known = live("run", "--select", "AUTH-2", env={"LIVE_CONFORMANCE_SEED": "3"})
    assert known.returncode == 0, known.stderr


# -- fake-twilio and reference-backend -------------------------------------------------------------


def test_fake_twilio_without_a_command_prints_its_usage() -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_TWILIO_")}
    result = subprocess.run(
        [sys.executable, "-m", "fake_twilio"], capture_output=True, text=True, env=environ
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: fake-twilio") and "serve" in result.stderr
    assert "credentials" in result.stderr and "Traceback" not in result.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_reference_backend_refuses_a_twilio_url_where_nothing_answers(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    ready = tmp_path / "ready.json"
    result = _module(
        "reference_backend", "serve", "--port", "0", "--twilio", url, "--ready-file", str(ready)
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        f"reference-backend: error: nothing answers at the fake Twilio {url}"
    )
    assert "fake-twilio serve" in lines[0] and "Traceback" not in result.stderr
    assert "listening" not in result.stdout and not ready.exists()
    env_only = _module(
        "reference_backend", "serve", "--port", "0", env={"LIVE_BACKEND_TWILIO_URL": url}
    )
    assert env_only.returncode == 2 and "fix LIVE_BACKEND_TWILIO_URL" in env_only.stderr


# -- live-conformance baseline -------------------------------------------------------------------


def test_baseline_from_a_json_report_round_trips(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    run = _toy("-q", "--report-json", str(report))
    assert run.returncode == 1, run.stderr
    result = live("baseline", str(report))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# live-conformance baseline: 2 requirements failing")
    assert lines[1:] == ["AUTH-1  # toy failure", "AUTH-3  # toy failure"]
    known = tmp_path / "known.txt"
    known.write_text(result.stdout)
    assert baseline_file.load(known).reasons == {"AUTH-1": "toy failure", "AUTH-3": "toy failure"}
    again = _toy("-q", "--baseline", str(known))
    assert again.returncode == 0, again.stdout + again.stderr


def test_baseline_of_a_passing_run_lists_nothing(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    assert live("run", "--select", "AUTH-2", "--report-json", str(report)).returncode == 0
    result = live("baseline", str(report))
    assert result.returncode == 0
    assert result.stdout.splitlines() == [result.stdout.splitlines()[0]]
    assert result.stdout.startswith("# live-conformance baseline: 0 requirements failing")


def test_baseline_of_a_missing_or_invalid_report_is_one_line(tmp_path: Path) -> None:
    assert_usage_error(live("baseline", str(tmp_path / "nope.json")), "no such report")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert_usage_error(live("baseline", str(bad)), "is not JSON")
    bad.write_text('{"summary": {"format": "1"}, "results": []}')
    assert_usage_error(live("baseline", str(bad)), "report format '1' is not supported")
    bad.write_text("[1, 2]")
    assert_usage_error(live("baseline", str(bad)), "not a live-conformance JSON report")
    bad.write_bytes(b"\xff\xfe")
    assert_usage_error(live("baseline", str(bad)), "not UTF-8")
    assert_usage_error(live("baseline", str(tmp_path)), "is a directory")
    assert_usage_error(live("baseline"), "REPORT.json")
