"""Each faulty variant of the reference backend is caught by the requirements that forbid its
fault, and by nothing else: the hand-picked suite (every group but PROP, whose model sees
every fault of the state) runs against it and exactly the expected requirement IDs fail
while every other one passes.
"""

from __future__ import annotations

import pytest

from .faulty import FAULTY, Faulty, outcome_table


@pytest.mark.parametrize("variant", FAULTY, ids=str)
def test_fault_is_caught_by_its_requirements_only(run_suite, variant: Faulty) -> None:
    report = run_suite(variant.factory, exclude_groups={"PROP"}, **variant.overrides)
    statuses = {result.id: result.status for result in report.results}
    assert len(statuses) == 62
    failed = {rid for rid, status in statuses.items() if status == "fail"}
    others = {rid: status for rid, status in statuses.items() if status not in ("pass", "fail")}
    assert not others, f"{variant.fault}: not judged:\n{outcome_table(report)}"
    assert failed == set(variant.expected), (
        f"{variant.fault}: expected exactly {sorted(variant.expected)} to fail, "
        f"got {sorted(failed)}:\n{outcome_table(report)}"
    )
