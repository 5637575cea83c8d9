"""Each faulty variant of the reference backend is caught by the requirements that forbid its
fault, and by nothing else: the hand-picked suite (every group but PROP, whose model sees
every fault of the state) runs against it and exactly the expected requirement IDs fail
while every other one passes.
"""

from __future__ import annotations

import pytest

from conformance.requirements import all_requirements

from .faulty import FAULTY, Faulty, by_name, outcome_table

#: Every group but FLOW, for runs that judge one FLOW requirement's failure report.
_NOT_FLOW = {"AUTH", "ERR", "IDEM", "IN", "PROP", "RESP", "SEC", "STATE", "TOK", "WH"}


@pytest.mark.parametrize("variant", FAULTY, ids=str)
def test_fault_is_caught_by_its_requirements_only(run_suite, variant: Faulty) -> None:
    report = run_suite(variant.factory, exclude_groups={"PROP"}, **variant.overrides)
    statuses = {result.id: result.status for result in report.results}
    assert len(statuses) == len([r for r in all_requirements() if r.group != "PROP"])
    failed = {rid for rid, status in statuses.items() if status == "fail"}
    others = {rid: status for rid, status in statuses.items() if status not in ("pass", "fail")}
    assert not others, f"{variant.fault}: not judged:\n{outcome_table(report)}"
    assert failed == set(variant.expected), (
        f"{variant.fault}: expected exactly {sorted(variant.expected)} to fail, "
        f"got {sorted(failed)}:\n{outcome_table(report)}"
    )


def test_an_overwritten_invitee_document_is_reported_with_the_lost_member(run_suite) -> None:
    """FLOW-15 seeds user-<identity> with a member of its own; a backend whose invitation
    replaces the document is told which member it dropped, with the request that did it."""
    report = run_suite(by_name("invite-overwrites-document").factory, exclude_groups=_NOT_FLOW)
    result = report.result("FLOW-15")
    assert result is not None and result.status == "fail", outcome_table(report)
    assert "did not keep the other members ['lc_marker']" in result.summary
    assert result.exchange is not None and "send-speaker-invite" in result.exchange.describe()
    assert {r.id for r in report.results if r.status == "fail"} == {"FLOW-15"}


def test_the_benign_error_variant_really_adds_members_to_every_error() -> None:
    """extra-members-in-errors passes because clients ignore the extras, not because the
    extras are missing: a refusal, a 404 and a validation error all carry them."""
    from conformance import embedded

    from .conftest import TEST_SETTINGS

    run = embedded.start(
        backend_factory=by_name("extra-members-in-errors").factory, **TEST_SETTINGS
    )
    try:
        client = run.backend_client()
        answers = [
            client.call("create-stream", {"user_identity": "a", "stream_name": "s"}, passcode=None),
            client.call("no-such-endpoint", {}),
            client.call("create-stream", {"stream_name": "s"}),
        ]
        for answer in answers:
            assert answer.status >= 400, answer.text
            assert answer.json["status"] == "failed", answer.text
            error = answer.json["error"]
            assert error["code"] == 20001 and error["more_info"], answer.text
            assert isinstance(error["message"], str) and isinstance(error["explanation"], str)
    finally:
        run.close()
