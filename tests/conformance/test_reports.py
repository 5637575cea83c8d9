"""Reports: JSON (validated against its schema), JUnit XML, HTML and the terminal."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest

import schemas
from conformance import embedded, runner
from conformance.config import SuiteConfig
from conformance.registry import Registry
from conformance.reports import TerminalReporter, to_dict, to_html, to_xml, write_reports


def _toy_registry() -> Registry:
    reg = Registry()

    @reg.check("AUTH-1")
    def leaks(ctx: Any) -> None:
        exchange = ctx.call("verify-passcode", passcode=ctx.backend.passcode + "x")
        ctx.fail(
            f"<script>alert(1)</script> & the passcode {ctx.backend.passcode} leaked",
            exchange=exchange,
            expected={"passcode": ctx.backend.passcode},
            actual=exchange.json,
        )

    @reg.check("AUTH-2")
    def passes(ctx: Any) -> None:
        ctx.expect_success(ctx.call("verify-passcode"))
        ctx.note("verified with the exact passcode")

    reg.add("AUTH-4", lambda ctx: ctx.skip("no reason & no <tags>"))
    reg.add("IN-1", lambda ctx: (_ for _ in ()).throw(RuntimeError("harness broke")))
    reg.add("SEC-3", lambda ctx: ctx.fail("no Cache-Control: no-store"))  # SHOULD
    reg.add("ERR-1", lambda ctx: ctx.fail("known bug"))  # baselined
    reg.add("ERR-2", lambda ctx: None)  # baselined, passes
    return reg


@pytest.fixture(scope="module")
def toy(tmp_path_factory: Any) -> Iterator[tuple[runner.RunReport, Any]]:
    run = embedded.start()
    directory = tmp_path_factory.mktemp("reports")
    baseline = directory / "baseline"
    baseline.write_text("ERR-1\nERR-2\n")
    config = SuiteConfig(
        baseline_path=str(baseline),
        report_json=str(directory / "report.json"),
        junit=str(directory / "junit.xml"),
        html=str(directory / "report.html"),
    )
    report = runner.run(config, registry=_toy_registry(), embedded=run)
    assert write_reports(report) == [config.report_json, config.junit, config.html]
    yield report, run
    run.close()


def test_json_report_validates_and_is_redacted(toy: Any) -> None:
    report, run = toy
    data = to_dict(report)
    schemas.validate("conformance/report", data)
    summary = data["summary"]
    assert summary["exit_code"] == 1 and summary["conforming"] is False
    assert summary["counts"] == {
        "pass": 2,
        "fail": 3,
        "blocked": 0,
        "skip": 1,
        "error": 1,
        "total": 7,
    }
    assert summary["failures"] == ["AUTH-1"] and summary["warnings"] == ["SEC-3"]
    assert summary["baseline"]["failed"] == ["ERR-1"] and summary["baseline"]["fixed"] == ["ERR-2"]
    assert summary["capabilities"]["declared"] == ["chat", "form-body", "get-query"]
    # delete-stream is no capability: every backend must have it, and it is always probed
    assert summary["capabilities"]["detected"] == ["delete-stream"]
    assert summary["embedded"] is True and summary["versions"]["protocol"] == "1.0.0"
    assert summary["by_group"]["AUTH"] == {
        "pass": 1,
        "fail": 1,
        "blocked": 0,
        "skip": 1,
        "error": 0,
    }
    by_id = {r["id"]: r for r in data["results"]}
    leaked = by_id["AUTH-1"]
    assert leaked["repro"] and leaked["exchange"]["response"]["status"] == 401
    assert leaked["exchange"]["request"]["headers"]["Authorization"] == "<passcode>x"
    assert by_id["ERR-1"]["label"] == "fail (baseline)"
    assert by_id["AUTH-2"]["notes"] == ["verified with the exact passcode"]
    text = json.dumps(data)
    assert run.passcode not in text and run.passcode[:-1] not in text
    assert run.twilio.credentials.auth_token not in text
    with open(report.config.report_json, encoding="utf-8") as handle:
        schemas.validate("conformance/report", json.load(handle))


def test_junit_report_parses_with_the_right_counts(toy: Any) -> None:
    report, run = toy
    root = ET.fromstring(to_xml(report))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "7",
        "1",
        "1",
        "3",
    )
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"AUTH", "ERR", "IN", "SEC"}
    auth = suites["AUTH"]
    assert (auth.get("tests"), auth.get("failures"), auth.get("skipped")) == ("3", "1", "1")
    cases = {c.get("name").split()[0]: c for c in root.iter("testcase")}
    assert cases["AUTH-1"].find("failure").get("type") == "MUST"
    assert "curl" in cases["AUTH-1"].find("failure").text
    assert cases["IN-1"].find("error") is not None
    assert cases["SEC-3"].find("skipped").get("type") == "warning"
    assert cases["ERR-1"].find("skipped").get("type") == "baseline"
    assert cases["AUTH-2"].find("failure") is None and cases["AUTH-2"].find("skipped") is None
    assert cases["AUTH-2"].get("classname") == "live-conformance.AUTH"
    assert run.passcode not in to_xml(report)
    ET.parse(report.config.junit)  # the file is well-formed too


def test_html_report_is_self_contained_escaped_and_redacted(toy: Any) -> None:
    report, run = toy
    page = to_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script|<link|\bsrc=|@import|url\(|href=\"?https?:", page, re.I)
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; the passcode &lt;passcode&gt; leaked" in page
    )
    assert run.passcode not in page and run.passcode[:-1] not in page
    assert (
        page.index("Failures and errors") < page.index("Warnings") < page.index("Everything else")
    )
    assert "curl -sS -i -X POST" in page and "Exit code 1 (not conforming)" in page
    with open(report.config.html, encoding="utf-8") as handle:
        assert handle.read() == page


def test_terminal_report_live_lines_dots_and_summary(toy: Any) -> None:
    report, run = toy
    tty = io.StringIO()
    reporter = TerminalReporter(tty, tty=True, color=False)
    for result in report.results:
        reporter.result(result)
    reporter.finish(report)
    text = tty.getvalue()
    assert re.search(r"AUTH-1\s+MUST\s+fail\s+\d+\.\d\ds", text)
    assert re.search(r"ERR-1\s+MUST\s+fail \(baseline\)", text)
    assert "FAIL AUTH-1 (MUST) Every client endpoint rejects" in text
    assert "requirement:" in text and "reproduce:" in text and "curl -sS" in text
    assert "ERROR IN-1 (MUST)" in text and "Warnings (SHOULD/MAY requirements not met):" in text
    assert "Known failures (baseline): ERR-1" in text
    assert "remove from the baseline): ERR-2" in text
    assert re.search(r"total\s+2\s+3\s+0\s+1\s+1", text)
    assert text.rstrip().splitlines()[-1].startswith("exit 1: 1 MUST requirement(s) failed: AUTH-1")
    assert run.passcode not in text

    dots = io.StringIO()
    reporter = TerminalReporter(dots, tty=False)
    for result in report.results:
        reporter.result(result)
    assert dots.getvalue() == "F.sb.Ew"  # in document order
    quiet = io.StringIO()
    reporter = TerminalReporter(quiet, verbosity=-1, tty=False)
    for result in report.results:
        reporter.result(result)
    reporter.finish(report)
    assert "group" not in quiet.getvalue() and "FAIL AUTH-1" in quiet.getvalue()


def test_reports_of_an_aborted_run(tmp_path: Any) -> None:
    config = SuiteConfig(
        backend_url="http://127.0.0.1:1",
        passcode="123",
        report_json=str(tmp_path / "r.json"),
        junit=str(tmp_path / "j.xml"),
        html=str(tmp_path / "r.html"),
    )
    report = runner.run(config, registry=Registry())
    assert report.aborted
    assert write_reports(report) == [config.report_json, config.junit, config.html]
    data = json.loads((tmp_path / "r.json").read_text())
    schemas.validate("conformance/report", data)
    assert data["summary"]["exit_code"] == 2 and data["summary"]["capabilities"] is None
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert root.get("errors") == "1"
    assert "backend unreachable" in root.find("testsuite/testcase/error").get("message")
    assert "could not run" in (tmp_path / "r.html").read_text()
    out = io.StringIO()
    TerminalReporter(out, tty=False).finish(report)
    assert out.getvalue().strip().startswith("could not run: backend unreachable")


def test_html_report_shows_a_failing_answers_token_decoded() -> None:
    reg = Registry()

    @reg.check("TOK-2")
    def token_failure(ctx: Any) -> None:
        exchange = ctx.call("create-stream", {"user_identity": "ada", "stream_name": "html-tok"})
        ctx.fail("toy token failure", exchange=exchange)

    run = embedded.start()
    try:
        report = runner.run(SuiteConfig(select_ids={"TOK-2"}), registry=reg, embedded=run)
    finally:
        run.close()
    page = to_html(report)
    assert "<h4>Token</h4>" in page and "Decoded (not verified)" in page
    assert "&quot;identity&quot;: &quot;ada&quot;" in page and "&quot;cty&quot;" in page
    assert ".&lt;signature&gt;" in page  # the raw JWT is shown, its signature redacted
