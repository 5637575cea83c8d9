"""One defect, one failure: a failure that stops other checks is their root cause, and they are
reported ``blocked`` by it (conformance.causes), never failed on their own."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, request

from conformance.outcomes import BLOCKED, FAIL
from reference_backend.app import Backend

from .faulty import _variant, outcome_table

#: Every group but PROP (whose model would only repeat the hand-picked findings).
_NO_PROP = {"PROP"}


def _endpoint_crashes(endpoint: str, crash: dict[str, str]) -> Any:
    """A variant whose ``endpoint`` throws after the passcode check, whatever it is sent,
    and answers as the Twilio Functions runtime does (500, the exception as JSON)."""

    def change(app: Flask, backend: Backend) -> None:
        def view() -> Response:
            backend.guard.check(request.headers.get("Authorization"), request.remote_addr or "")
            return Response(json.dumps(crash), status=500, mimetype="application/json")

        app.view_functions[endpoint] = view

    return _variant(change)


def test_a_crashing_endpoint_is_one_failure_and_blocks_the_rest(run_suite) -> None:
    crash = {"message": "Cannot read properties of undefined (reading 'sid')", "name": "TypeError"}
    report = run_suite(
        _endpoint_crashes("viewer-connected-to-player", crash), exclude_groups=_NO_PROP
    )
    failed = {r.id for r in report.results if r.status == FAIL}
    assert failed == {"RESP-1"}, outcome_table(report)
    owner = report.result("RESP-1")
    assert owner is not None and owner.cause is not None
    cause = owner.cause
    assert cause.startswith("viewer-connected-to-player answered 500 {")
    blocked = [r for r in report.results if r.status == BLOCKED]
    assert len(blocked) >= 5, outcome_table(report)
    for result in blocked:
        assert result.blocked_by == "RESP-1" and result.cause == cause
        assert result.summary == f"blocked: {cause}; see RESP-1"
        assert result.detail  # what the check itself saw is kept
    assert report.causes() == [(cause, owner, blocked)]
    assert report.exit_code == 1 and "RESP-1" in report.reason


def test_the_endpoints_owner_carries_a_shared_failure_and_the_report_lists_it() -> None:
    """Four checks failing on the same cause: RESP-1 (owner of verify-passcode's success)
    keeps the failure, SHOULD and MUST checks alike are blocked, the JSON report lists it."""
    from conformance import embedded, runner
    from conformance.config import SuiteConfig
    from conformance.registry import Registry
    from conformance.reports.jsonreport import to_dict
    from schemas import errors as schema_errors

    def broken(ctx: Any) -> None:
        ctx.fail("broke", exchange=ctx.call("verify-passcode"), expected_success=True)

    registry = Registry()
    for requirement_id in ("AUTH-2", "IN-1", "RESP-1", "SEC-3"):
        registry.add(requirement_id, broken)
    run = embedded.start()
    try:
        config = SuiteConfig(select_ids={"AUTH-2", "IN-1", "RESP-1", "SEC-3"}, seed=7)
        report = runner.run(config, registry=registry, embedded=run)
    finally:
        run.close()
    statuses = {r.id: (r.status, r.blocked_by) for r in report.results}
    assert statuses == {
        "AUTH-2": (BLOCKED, "RESP-1"),
        "IN-1": (BLOCKED, "RESP-1"),
        "RESP-1": (FAIL, None),
        "SEC-3": (BLOCKED, "RESP-1"),
    }
    assert report.exit_code == 1 and report.reason.startswith("1 MUST requirement(s) failed")
    data = to_dict(report)
    assert schema_errors("conformance/report", data) == []
    cause = "verify-passcode's 200 answer does not match protocol/verify-passcode.response"
    assert data["summary"]["causes"] == [
        {"cause": cause, "failure": "RESP-1", "blocked": ["AUTH-2", "IN-1", "SEC-3"]}
    ]
    assert data["summary"]["counts"]["blocked"] == 3


def test_a_later_owner_takes_the_cause_over_and_a_should_never_hides_a_must() -> None:
    from conformance.causes import CauseTracker
    from conformance.outcomes import Result
    from conformance.requirements import get

    def failed(requirement_id: str, *, strong: bool = True) -> Result:
        result = Result(get(requirement_id), FAIL, summary=f"{requirement_id} saw it")
        result.cause, result.expected_success = "create-stream answered 500 'boom'", strong
        return result

    should, must, weak, owner = (
        failed("SEC-3"),
        failed("AUTH-2"),
        failed("IN-2", strong=False),
        failed("RESP-1"),
    )
    tracker = CauseTracker()
    for result in (should, must, weak):
        tracker.observe(result)
    # a SHOULD owner gives way to a MUST; a weak cause waits for the endpoint's owner
    assert (should.status, should.blocked_by, must.status, weak.status) == (
        BLOCKED,
        "AUTH-2",
        FAIL,
        FAIL,
    )
    tracker.observe(owner)
    tracker.settle([should, must, weak, owner])
    assert owner.status == FAIL
    assert {r.id: r.blocked_by for r in (should, must, weak)} == dict.fromkeys(
        ("SEC-3", "AUTH-2", "IN-2"), "RESP-1"
    )
    assert must.summary == "blocked: create-stream answered 500 'boom'; see RESP-1"
    assert must.detail.startswith("AUTH-2 saw it")
