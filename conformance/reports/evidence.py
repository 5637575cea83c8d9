"""What every report shows of a run, decided once: how results are sorted into sections, how
expected/actual values are rendered, and the redactor that keeps secrets out of every report.

The runner already redacts each result's summary, detail, notes and repro lines, and
exchanges render themselves redacted. Two things are not redacted by then: the raw
``expected`` / ``actual`` values a check handed to ``ctx.fail`` (reports print them side by
side), and anything a writer adds itself. :func:`report_redactor` gathers every secret the run
knows (from the exchanges' redactors and the configuration) so the writers can redact those
too, and redact their whole output once more as a last line of defence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exchange import Redactor
from ..outcomes import BLOCKED, ERROR, FAIL, PASS, SKIP, Result

if TYPE_CHECKING:
    from ..runner import RunReport

__all__ = [
    "Sections",
    "detail_beyond_values",
    "exit_headline",
    "expected_actual",
    "report_redactor",
    "sections",
    "status_char",
]


def report_redactor(report: RunReport) -> Redactor:
    """A redactor knowing every secret of the run (exchange redactors and the configuration)."""
    labels_by_secret: dict[str, str] = {}
    redactors = {id(e.redactor): e.redactor for r in report.results for e in _exchanges_of(r)}
    for redactor in redactors.values():
        for label, secret in redactor.secrets.items():
            labels_by_secret.setdefault(secret, label)
    for label, secret in report.config.secrets().items():
        if secret:
            labels_by_secret.setdefault(secret, label)
    secrets: dict[str, str | None] = {}
    for secret, label in labels_by_secret.items():
        unique, number = label, 2
        while unique in secrets:  # two secrets under one label (e.g. two backends' passcodes)
            unique, number = f"{label.rstrip('>')} {number}>", number + 1
        secrets[unique] = secret
    return Redactor(secrets)


def _exchanges_of(result: Result) -> Iterable[Any]:
    yield from result.exchanges
    if result.exchange is not None:
        yield result.exchange


def expected_actual(result: Result, redactor: Redactor) -> tuple[str | None, str | None]:
    """The redacted texts of a failure's expected and actual values (``None`` when not given)."""
    return redactor.value(result.expected), redactor.value(result.actual)


def detail_beyond_values(result: Result, redactor: Redactor) -> str:
    """``result.detail`` without the leading expected/actual lines the runner wrote there, for
    reports that show those values side by side (the whole detail when it does not start so)."""
    expected, actual = expected_actual(result, redactor)
    pairs = (("expected", expected), ("actual", actual))
    shown = "\n".join(f"{label}: {text}" for label, text in pairs if text is not None)
    if shown and result.detail.startswith(shown):
        return result.detail[len(shown) :].lstrip("\n")
    return result.detail


@dataclass(frozen=True)
class Sections:
    """A run's results sorted the way readers act on them, each in document order.

    ``failures``: MUST failures that fail the run; ``errors``: checks the harness could not
    run; ``known``: baselined failures; ``warnings``: SHOULD/MAY requirements not met;
    ``blocked``: checks stopped by another requirement's failure; ``others``: everything
    else (passes and skips).
    """

    failures: list[Result]
    errors: list[Result]
    known: list[Result]
    warnings: list[Result]
    others: list[Result]
    blocked: list[Result]


def sections(results: Iterable[Result]) -> Sections:
    failures: list[Result] = []
    errors: list[Result] = []
    known: list[Result] = []
    warnings: list[Result] = []
    others: list[Result] = []
    blocked: list[Result] = []
    for result in results:
        if result.status == BLOCKED:
            blocked.append(result)
        elif result.status == ERROR:
            errors.append(result)
        elif result.status == FAIL and result.baseline:
            known.append(result)
        elif result.counts_against:
            failures.append(result)
        elif result.warning:
            warnings.append(result)
        else:
            others.append(result)
    return Sections(failures, errors, known, warnings, others, blocked)


def status_char(result: Result) -> str:
    """One character per result for compact progress: ``.`` pass, ``F`` fail, ``E`` error,
    ``B`` blocked, ``s`` skip, ``b`` failed but baselined, ``w`` a SHOULD/MAY requirement not
    met."""
    if result.status == FAIL:
        if result.baseline:
            return "b"
        return "w" if result.warning else "F"
    return {PASS: ".", ERROR: "E", SKIP: "s", BLOCKED: "B"}.get(result.status, "?")


def exit_headline(report: RunReport) -> str:
    """``Exit code N (what it means)``, the first thing a report says."""
    if report.aborted:
        return f"Exit code 2 (could not run: {report.reason})"
    if report.stopped is not None:
        return f"Exit code {report.exit_code} (stopped: {report.reason})"
    meaning = {
        0: "conforming",
        1: "not conforming",
        2: "harness error",
        5: "no check was executed",
        130: "interrupted",
    }
    return f"Exit code {report.exit_code} ({meaning.get(report.exit_code, 'unknown')})"
