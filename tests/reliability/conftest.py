"""Fixtures of the reliability suite (see support.py for the machinery and the scale knobs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .support import Figures


@pytest.fixture
def figures(request: pytest.FixtureRequest, record_property: Any) -> Iterator[Figures]:
    """Figures of this test: recorded as junit properties and, with ``RELIABILITY_REPORT``,
    appended to that file as JSON lines (even when the test fails, with ``failed: true``)."""
    collected = Figures(request.node.nodeid)
    yield collected
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        collected.add(failed=True)
    collected.finish(record_property)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
