"""The pytest plugin (``--live-backend``), driven through pytester."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.requirements import all_requirements

pytest_plugins = ["pytester"]

#: A conftest that replaces the suite's checks with toy ones (for the outcome mapping).
TOY_CONFTEST = """
import conformance.registry as registry

toy = registry.Registry()
toy.add("AUTH-1", lambda ctx: ctx.fail("toy MUST failure", exchange=ctx.call("verify-passcode")))
toy.add("AUTH-2", lambda ctx: None)
toy.add("AUTH-4", lambda ctx: ctx.skip("toy skip reason"))
toy.add("SEC-3", lambda ctx: ctx.fail("toy SHOULD failure"))
toy.add("ERR-1", lambda ctx: ctx.fail("toy known failure"))
toy.add("IN-1", lambda ctx: 1 / 0)
registry.load_default = lambda module="conformance.checks": toy
"""


def test_inert_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_nothing_of_the_suite_was_imported():
            loaded = {m for m in sys.modules if m.startswith("conformance")}
            assert loaded <= {"conformance", "conformance.pytest_plugin"}, loaded
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "live-conformance" not in result.stdout.str()
    help_text = pytester.runpytest_subprocess("--help").stdout.str()
    assert "--live-backend=URL" in help_text and "--live-capability" in help_text


def test_selected_requirements_run_embedded(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--live-backend", "embedded", "--live-select", "AUTH-2", "--live-select", "resp", "-v"
    )
    result.assert_outcomes(passed=3)
    # RESP-1 owns the endpoints' success, so it runs first (its failure blocks the others)
    result.stdout.fnmatch_lines(
        [
            "*live-conformance::RESP-1 PASSED*",
            "*live-conformance::AUTH-2 PASSED*",
            "*live-conformance::RESP-2 PASSED*",
        ]
    )


def test_outcomes_map_to_pytest(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(TOY_CONFTEST)
    baseline = pytester.path / "baseline.txt"
    baseline.write_text("ERR-1\n")
    result = pytester.runpytest_subprocess(
        "--live-backend",
        "embedded",
        "--live-select",
        "AUTH,SEC-3,ERR-1,IN-1",
        "--live-baseline",
        str(baseline),
        "-rsx",
    )
    # AUTH-3, AUTH-5 and AUTH-6 have no toy check: errors like the runner's
    result.assert_outcomes(passed=1, failed=5, skipped=1, xfailed=2)
    out = result.stdout.str()
    assert "FAIL AUTH-1 (MUST) Every client endpoint rejects" in out
    assert "summary: toy MUST failure" in out and "reproduce:" in out and "curl -sS" in out
    assert "ERROR IN-1 (MUST)" in out and "harness error: ZeroDivisionError" in out
    assert "no check is registered for this requirement" in out
    assert "toy skip reason" in out
    assert "SHOULD not met: toy SHOULD failure" in out
    assert "known failure (baseline): toy known failure" in out


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _assert_could_not_run(result: Any, reason: str) -> None:
    """The session stopped before any item, with exactly one usage error."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.assert_outcomes()
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1, errors
    assert errors[0].startswith("ERROR: live-conformance could not run: "), errors
    assert reason in errors[0], errors
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_an_unreachable_backend_is_one_usage_error(pytester: pytest.Pytester) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = pytester.runpytest(
        "--live-backend", url, "--live-passcode", "x", "--live-select", "AUTH-1,AUTH-2"
    )
    _assert_could_not_run(result, f"backend unreachable at {url}")
    # the CLI's advice, in the plugin's option names
    assert "--live-wait" in result.stderr.str() and " --wait" not in result.stderr.str()
    result.stdout.fnmatch_lines(["collected 2 items", "*no tests ran*"])


@contextlib.contextmanager
def _served_backend() -> Iterator[tuple[str, str]]:
    """A reference backend over HTTP on 127.0.0.1: ``(url, passcode)``."""
    from werkzeug.serving import make_server

    from fake_twilio.server import FakeServer
    from reference_backend import create_app
    from reference_backend.settings import Settings, generate_passcode

    with FakeServer() as fake:
        holder: dict[str, Any] = {}
        server = make_server(
            "127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True
        )
        url = f"http://127.0.0.1:{server.port}"
        settings = Settings(
            **fake.credentials.as_dict(),
            public_url=url,
            twilio_url=fake.url,
            passcode=generate_passcode(),
        )
        holder["app"] = create_app(settings)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        try:
            yield url, settings.passcode
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)


@pytest.mark.server
def test_a_refused_passcode_is_one_usage_error(pytester: pytest.Pytester) -> None:
    with _served_backend() as (url, passcode):
        wrong = "0" * len(passcode) if passcode != "0" * len(passcode) else "1" * len(passcode)
        result = pytester.runpytest(
            "--live-backend", url, "--live-passcode", wrong, "--live-select", "AUTH-1,AUTH-2"
        )
    _assert_could_not_run(result, "the passcode was refused by the backend")
    assert wrong not in result.stderr.str()


def test_backend_only_options_need_a_backend_url(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--live-backend", "embedded", "--live-passcode", "x", "--live-wait", "5"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: live-conformance: --live-passcode and --live-wait need the backend URL "
            "(--live-backend URL)*"
        ]
    )


def test_skip_reasons_name_the_plugin_options(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import conformance.registry as registry
        from conformance.context import NEEDS_EXPIRED, NEEDS_TWILIO

        toy = registry.Registry()
        toy.add("AUTH-1", lambda ctx: ctx.skip(NEEDS_TWILIO))
        toy.add("AUTH-2", lambda ctx: ctx.skip(NEEDS_EXPIRED))
        registry.load_default = lambda module="conformance.checks": toy
        """
    )
    result = pytester.runpytest_subprocess(
        "--live-backend", "embedded", "--live-select", "AUTH-1,AUTH-2", "-rs"
    )
    result.assert_outcomes(skipped=2)
    out = result.stdout.str()
    assert "run with --live-twilio URL" in out
    assert "run with --live-expired-url URL --live-expired-passcode P" in out
    assert not re.search(r"(?<![\w-])--(twilio|expired-url|expired-passcode)\b", out), out


@pytest.mark.server
def test_a_capability_declared_absent_skips_with_the_plugin_option(
    pytester: pytest.Pytester,
) -> None:
    # against a backend by URL: the embedded one declares its own capabilities
    with _served_backend() as (url, passcode):
        result = pytester.runpytest(
            "--live-backend",
            url,
            "--live-passcode",
            passcode,
            "--live-select",
            "TOK-7",
            "--live-no-capability",
            "chat",
            "-rs",
        )
    result.assert_outcomes(skipped=1)
    out = result.stdout.str()
    assert "capability chat not declared/detected (declared with --live-no-capability)" in out


#: Prints the SuiteConfig the plugin built (collect-only: no backend is contacted).
SHOW_CONFIG = """
from conformance.pytest_plugin import _SUITE_KEY

def pytest_collection_finish(session):
    suite = session.config.stash[_SUITE_KEY]
    for name in SHOWN:
        print(f"config {name}={getattr(suite, name)!r}")
"""


def test_options_map_to_the_suite_config(pytester: pytest.Pytester) -> None:
    shown = (
        "seed",
        "select_levels",
        "absent_capabilities",
        "api_key_secret",
        "wait_seconds",
        "request_timeout",
        "consistency_timeout",
        "passcode",
    )
    pytester.makeconftest(f"SHOWN = {shown!r}\n" + SHOW_CONFIG)
    result = pytester.runpytest_subprocess(
        "--live-backend",
        "http://127.0.0.1:1",
        "--live-passcode",
        "p",
        "--live-seed",
        "7",
        "--live-level",
        "should",
        "--live-no-capability",
        "chat",
        "--live-api-key-secret",
        "s3cret",
        "--live-wait",
        "2.5",
        "--live-timeout",
        "3",
        "--live-consistency-timeout",
        "4",
        "--live-select",
        "AUTH",
        "--collect-only",
        "-q",
        "-s",
    )
    assert result.ret == pytest.ExitCode.OK, result.stderr.str()
    result.stdout.fnmatch_lines_random(
        [
            "config seed=7",
            "config select_levels={'SHOULD'}",
            "config absent_capabilities={'chat'}",
            "config api_key_secret='s3cret'",
            "config wait_seconds=2.5",
            "config request_timeout=3.0",
            "config consistency_timeout=4.0",
            "config passcode='p'",
        ]
    )
    should = [r.id for r in all_requirements() if r.group == "AUTH" and r.level == "SHOULD"]
    listed = [line for line in result.stdout.lines if line.startswith("live-conformance::")]
    assert sorted(listed) == sorted(f"live-conformance::{i}" for i in should)


def test_the_seed_is_in_the_header(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--live-backend", "embedded", "--live-seed", "1234", "--live-select", "AUTH-2"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["live-conformance: backend embedded, seed 1234*"])
    fresh = pytester.runpytest("--live-backend", "embedded", "--live-select", "AUTH-2")
    fresh.stdout.re_match_lines([r"live-conformance: backend embedded, seed \d+"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--live-seed", "x"], "--live-seed: 'x'"),
        (["--live-timeout", "soon"], "--live-timeout: 'soon'"),
        (["--live-level", "NEVER"], "level: 'NEVER' is not one of"),
        (["--live-property", "--live-no-property"], "--live-property and --live-no-property"),
        (["--live-capability", "teleport"], "unknown capability 'teleport'"),
    ],
)
def test_bad_options_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    result = pytester.runpytest("--live-backend", "embedded", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    (line,) = [line for line in result.stderr.lines if line.strip()]
    assert line.startswith("ERROR: live-conformance: ") and message in line, line


def test_the_collected_count_is_the_number_of_items(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--live-backend", "embedded", "--live-select", "AUTH-2", "--live-select", "resp"
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["collected 3 items"])
    assert "collected 0 items" not in result.stdout.str()


def test_only_the_live_items_are_collected(pytester: pytest.Pytester) -> None:
    """The project's own tests (testpaths, path arguments) are not collected."""
    pytester.makeini("[pytest]\ntestpaths = tests\n")
    tests = pytester.mkdir("tests")
    (tests / "test_project.py").write_text(
        "import does_not_exist\n\n\ndef test_of_the_project():\n    assert False\n"
    )
    result = pytester.runpytest("--live-backend", "embedded", "--live-select", "AUTH-2")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["collected 1 item", "*1 passed*"])
    assert "test_project" not in result.stdout.str() and "error" not in result.stdout.str()
    explicit = pytester.runpytest(
        "--live-backend", "embedded", "--live-select", "AUTH-2", "tests/test_project.py"
    )
    explicit.assert_outcomes(passed=1)
    # without --live-backend the project's tests are collected as usual
    plain = pytester.runpytest()
    assert plain.ret == pytest.ExitCode.INTERRUPTED  # its import error


@pytest.mark.slow
def test_every_requirement_passes_against_the_embedded_reference(pytester: Any) -> None:
    result = pytester.runpytest("--live-backend", "embedded", "-q")
    result.assert_outcomes(passed=len(all_requirements()))


BLOCKING_CONFTEST = """
import conformance.registry as registry

def broken(ctx):
    exchange = ctx.call("verify-passcode")
    ctx.fail("verify-passcode broke", exchange=exchange, expected_success=True)

toy = registry.Registry()
toy.add("AUTH-2", broken)
toy.add("RESP-1", broken)
registry.load_default = lambda module="conformance.checks": toy
"""


def test_a_shared_root_cause_fails_once_and_blocks_the_other_item(pytester: Any) -> None:
    pytester.makeconftest(BLOCKING_CONFTEST)
    result = pytester.runpytest_subprocess(
        "--live-backend", "embedded", "--live-select", "AUTH-2,RESP-1", "-rs", "-v"
    )
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*live-conformance::RESP-1 FAILED*"])
    cause = "verify-passcode's 200 answer does not match protocol/verify-passcode.response"
    assert f"blocked: {cause}; see RESP-1" in result.stdout.str()
