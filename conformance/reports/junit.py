"""The JUnit XML report (``--junit``), for CI systems that render test results.

One ``<testsuite>`` per requirement group, one ``<testcase>`` per requirement (named
``"ID title"``, class ``live-conformance.GROUP``). A MUST failure is a ``<failure>`` of type
``MUST`` whose text is the full failure (requirement, exchange, curl repro); a harness error
is an ``<error>``; what must not turn CI red is a ``<skipped>`` with a ``type`` saying why:
``skip`` (not judged; ``not run`` when the run stopped first), ``blocked`` (stopped by another
requirement's failure, named in the message), ``warning`` (a SHOULD/MAY requirement not met),
``baseline`` (a known failure). A run that could not happen is one ``<error>`` carrying the
reason. The run's facts (exit code, reason, seed, versions) are the ``<properties>`` of the
first suite, where JUnit readers look for them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from ..outcomes import BLOCKED, ERROR, FAIL, SKIP, Result
from .evidence import report_redactor
from .terminal import failure_text

if TYPE_CHECKING:
    from ..exchange import Redactor
    from ..runner import RunReport

__all__ = ["to_xml"]

SUITE_NAME = "live-conformance"
# Characters XML 1.0 cannot carry at all (a backend may answer with any bytes).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def to_xml(report: RunReport) -> str:
    """The JUnit XML document of ``report`` (a string starting with the XML declaration)."""
    redactor = report_redactor(report)
    root = ET.Element("testsuites", name=SUITE_NAME)
    timestamp = report.started_at.replace(microsecond=0, tzinfo=None).isoformat()
    if report.aborted:
        suite = ET.SubElement(root, "testsuite", name=SUITE_NAME, timestamp=timestamp)
        case = ET.SubElement(suite, "testcase", name="run", classname=SUITE_NAME, time="0")
        error = ET.SubElement(case, "error", type="harness error")
        error.set("message", _clean(redactor.text(report.reason)))
        error.text = _clean(redactor.text(f"could not run: {report.reason}"))
        _totals(suite, tests=1, errors=1)
        _totals(root, tests=1, errors=1)
        return _serialise(root)
    groups: dict[str, list[Result]] = {}
    for result in report.results:
        groups.setdefault(result.group, []).append(result)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for group, results in groups.items():
        suite = ET.SubElement(root, "testsuite", name=group, timestamp=timestamp)
        counts = {"tests": len(results), "failures": 0, "errors": 0, "skipped": 0}
        for result in results:
            outcome = _testcase(suite, result, redactor)
            if outcome:
                counts[outcome] += 1
        seconds = sum(r.duration_s for r in results)
        _totals(suite, time=f"{seconds:.3f}", **counts)
        for key in totals:
            totals[key] += counts[key]
    _totals(root, time=f"{max(report.duration_s, 0.0):.3f}", **totals)
    properties = ET.Element("properties")
    for name, value in (
        ("exit_code", str(report.exit_code)),
        ("reason", report.reason),
        ("stopped", report.stopped or ""),
        ("seed", str(report.seed)),
        ("backend", "embedded" if report.embedded else report.backend_url or ""),
        *((f"version.{k}", v) for k, v in sorted(report.versions.items())),
    ):
        ET.SubElement(properties, "property", name=name, value=_clean(redactor.text(value)))
    first = root.find("testsuite")
    if first is not None:
        first.insert(0, properties)
    return _serialise(root)


def _testcase(suite: ET.Element, result: Result, redactor: Redactor) -> str | None:
    """Add ``result``'s testcase; return the counter it adds to (``None``: a pass)."""
    case = ET.SubElement(
        suite,
        "testcase",
        name=f"{result.id} {result.title}",
        classname=f"{SUITE_NAME}.{result.group}",
        time=f"{result.duration_s:.3f}",
    )
    summary = _clean(redactor.text(result.summary))
    text = _clean(redactor.text(failure_text(result)))
    counter: str | None = None
    if result.status == ERROR:
        element = ET.SubElement(case, "error", type="harness error", message=summary)
        element.text, counter = text, "errors"
    elif result.status == FAIL and result.baseline:
        message = f"known failure (baseline): {summary}"
        element = ET.SubElement(case, "skipped", type="baseline", message=message)
        element.text, counter = text, "skipped"
    elif result.counts_against:
        element = ET.SubElement(case, "failure", type=result.level, message=summary)
        element.text, counter = text, "failures"
    elif result.status == FAIL:
        message = f"{result.level} not met: {summary}"
        element = ET.SubElement(case, "skipped", type="warning", message=message)
        element.text, counter = text, "skipped"
    elif result.status == BLOCKED:
        element = ET.SubElement(case, "skipped", type="blocked", message=summary)
        element.text, counter = text, "skipped"
    elif result.status == SKIP:
        kind = "not run" if result.not_run else "skip"
        ET.SubElement(case, "skipped", type=kind, message=summary)
        counter = "skipped"
    out = [f"note: {note}" for note in result.notes]
    if result.baseline and result.status != FAIL:
        out.append("listed in the baseline but did not fail: remove it from the baseline")
    if out:
        ET.SubElement(case, "system-out").text = _clean(redactor.text("\n".join(out)))
    return counter


def _totals(element: ET.Element, **values: object) -> None:
    for key, value in values.items():
        element.set(key, str(value))
    for key in ("tests", "failures", "errors", "skipped"):
        element.attrib.setdefault(key, "0")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _serialise(root: ET.Element) -> str:
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
