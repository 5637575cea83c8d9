"""The pytest plugin (``--live-backend``), driven through pytester."""

from __future__ import annotations

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


def test_an_unreachable_backend_fails_every_item(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--live-backend",
        "http://127.0.0.1:1",
        "--live-passcode",
        "x",
        "--live-select",
        "AUTH-1",
        "--live-select",
        "AUTH-2",
    )
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*live-conformance could not run: backend unreachable at*"])


def test_bad_options_are_usage_errors(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--live-backend", "embedded", "--live-capability", "teleport")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown capability 'teleport'*"])


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
