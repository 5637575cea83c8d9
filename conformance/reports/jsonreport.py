"""The machine-readable report: :func:`to_dict` builds what ``--report-json`` writes.

The shape is ``schemas/conformance/report.json`` exactly (``format`` "1"): a summary of the
run and one result per requirement run, in document order. Every string is redacted once more
with the run's secrets before it leaves (see :mod:`.evidence`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..exchange import Redactor
from ..outcomes import Result
from ..requirements import LEVELS, all_requirements
from ..requirements import get as get_requirement
from .evidence import report_redactor

if TYPE_CHECKING:
    from ..runner import RunReport

__all__ = ["FORMAT", "to_dict"]

#: Version of the report format (``summary.format``).
FORMAT = "2"


def to_dict(report: RunReport) -> dict[str, Any]:
    """The JSON report of ``report`` (plain data, ready for :func:`json.dumps`)."""
    redactor = report_redactor(report)
    data = {"summary": _summary(report), "results": [_result(r) for r in report.results]}
    return _redacted(data, redactor)


def _summary(report: RunReport) -> dict[str, Any]:
    config = report.config
    counts = report.counts()
    by_level = {
        level: report.counts([r for r in report.results if r.level == level])
        for level in LEVELS
        if any(r.level == level for r in report.results)
    }
    versions = {"suite": "unknown", "protocol": "unknown", "python": "unknown"}
    versions.update(report.versions)
    return {
        "format": FORMAT,
        "exit_code": report.exit_code,
        "reason": report.reason,
        "conforming": report.exit_code == 0,
        "counts": {**counts, "total": sum(counts.values())},
        "warnings": [r.id for r in report.warnings],
        "failures": [r.id for r in report.failures],
        "by_level": by_level,
        "by_group": report.by_group(),
        "capabilities": None if report.capabilities is None else report.capabilities.as_dict(),
        "seed": report.seed,
        "backend_url": report.backend_url,
        "twilio_url": report.twilio_url,
        "embedded": report.embedded,
        "started_at": _timestamp(report.started_at),
        "finished_at": None if report.finished_at is None else _timestamp(report.finished_at),
        "duration": round(max(report.duration_s, 0.0), 3),
        "versions": versions,
        "selection": {
            "ids": _document_order(config.select_ids),
            "groups": sorted(config.select_groups),
            "levels": [level for level in LEVELS if level in config.select_levels],
        },
        "baseline": {
            "path": report.baseline.path,
            "ids": _document_order(report.baseline.ids),
            "failed": [r.id for r in report.baselined_failures],
            "fixed": list(report.baseline_fixed),
        },
        "uncovered": list(report.uncovered),
        "blocked": [r.id for r in report.blocked],
        "causes": [
            {"cause": cause, "failure": owner.id, "blocked": [r.id for r in blocked]}
            for cause, owner, blocked in report.causes()
        ],
        "stopped": report.stopped,
    }


def _result(result: Result) -> dict[str, Any]:
    return {
        "id": result.id,
        "group": result.group,
        "level": result.level,
        "capability": result.requirement.capability,
        "title": result.title,
        "status": result.status,
        "label": result.label,
        "baseline": result.baseline,
        "summary": result.summary,
        "detail": result.detail,
        "notes": list(result.notes),
        "repro": list(result.repro),
        "duration": round(max(result.duration_s, 0.0), 4),
        "check": result.check,
        "requests": len(result.exchanges),
        "exchange": None if result.exchange is None else result.exchange.as_dict(),
        "cause": result.cause,
        "blocked_by": result.blocked_by,
    }


def _timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _document_order(ids: set[str]) -> list[str]:
    """Requirement IDs in document order (IDs the protocol does not define sort last)."""

    def position(requirement_id: str) -> tuple[int, str]:
        try:
            return get_requirement(requirement_id).index, requirement_id
        except KeyError:
            return len(all_requirements()), requirement_id

    return sorted(ids, key=position)


def _redacted(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, dict):
        return {key: _redacted(item, redactor) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item, redactor) for item in value]
    return value
