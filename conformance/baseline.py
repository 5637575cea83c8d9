"""Baselines: requirement IDs known to fail, so a run can be green while work is under way.

A baseline file is either JSON — a list of IDs, an object ``{"ID": "reason", ...}``, or an
object with an ``"ids"`` (or ``"known_failures"``) list — or plain text with one ID per line
(lines starting with ``#`` are comments; an ID may be followed by a reason, optionally after
``#``: ``AUTH-1  # the passcode is not checked``). A baselined failure is reported as
``fail (baseline)`` and does not change the exit code; a baselined requirement that now passes
is reported so the entry can be removed.

:func:`known_failures_text` writes such a file from a JSON report (``live-conformance
baseline REPORT.json``); :func:`load` reads it back with the same IDs and reasons.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .requirements import all_requirements

__all__ = ["REPORT_FORMAT", "Baseline", "BaselineError", "known_failures_text", "load"]

#: The JSON report format :func:`known_failures_text` reads (schemas/conformance/report.json).
REPORT_FORMAT = "2"

_ID_RE = re.compile(r"^[A-Za-z]+-\d+$")


class BaselineError(ValueError):
    """The baseline file cannot be read or names unknown requirements (one-line message)."""


@dataclass
class Baseline:
    """The baselined IDs with their reasons (``""`` when none given); ``path`` for reports."""

    reasons: dict[str, str] = field(default_factory=dict)
    path: str | None = None

    @property
    def ids(self) -> set[str]:
        return set(self.reasons)

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.reasons

    def __len__(self) -> int:
        return len(self.reasons)


def load(path: str | Path | None) -> Baseline:
    """Read a baseline file (see the module docstring); an empty baseline for ``None``."""
    if path is None:
        return Baseline()
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot read the baseline {str(file)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise BaselineError(f"the baseline {str(file)!r} is not UTF-8 text") from None
    reasons = _parse(text, str(file))
    known = {r.id for r in all_requirements()}
    unknown = sorted(set(reasons) - known)
    if unknown:
        raise BaselineError(
            f"the baseline {str(file)!r} names unknown requirements: {', '.join(unknown)}"
        )
    return Baseline(reasons, str(file))


def _parse(text: str, where: str) -> dict[str, str]:
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise BaselineError(f"the baseline {where!r} is not valid JSON: {exc}") from None
        return _from_json(data, where)
    reasons: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        identifier, _, reason = line.partition(" ")
        identifier = identifier.strip().rstrip(",:").upper()
        if not _ID_RE.match(identifier):
            raise BaselineError(
                f"the baseline {where!r} line {number}: {identifier!r} is not a requirement ID"
            )
        reason = reason.strip(" :-\t")
        if reason.startswith("#"):
            reason = reason[1:].strip()
        reasons[identifier] = reason
    return reasons


def _from_json(data: object, where: str) -> dict[str, str]:
    if isinstance(data, dict):
        listed = data.get("ids", data.get("known_failures"))
        if listed is not None:
            data = listed
        else:
            return {str(k).upper(): "" if v is None else str(v) for k, v in data.items()}
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        raise BaselineError(
            f"the baseline {where!r} must be a list of requirement IDs or an object of them"
        )
    return {item.strip().upper(): "" for item in data}


def known_failures_text(report: Mapping[str, Any], *, source: str | None = None) -> str:
    """A baseline file listing the requirements whose status is ``fail`` in ``report`` (a JSON
    report of format :data:`REPORT_FORMAT`), one line each: ``ID  # summary``, after one
    comment line saying where it comes from. Raises :class:`ValueError` (a one-line message)
    when ``report`` is not such a report."""
    if not isinstance(report, Mapping):
        raise ValueError("not a live-conformance JSON report (expected an object)")
    summary = report.get("summary")
    results = report.get("results")
    if not isinstance(summary, Mapping) or not isinstance(results, list):
        raise ValueError("not a live-conformance JSON report (no summary and results)")
    found = summary.get("format")
    if found != REPORT_FORMAT:
        raise ValueError(
            f"report format {found!r} is not supported (expected {REPORT_FORMAT!r}; "
            "write it again with live-conformance run --report-json)"
        )
    lines: list[str] = []
    for result in results:
        if not isinstance(result, Mapping) or not isinstance(result.get("id"), str):
            raise ValueError("a result without a requirement ID")
        if result.get("status") != "fail":
            continue
        identifier = result["id"].strip().upper()
        if not _ID_RE.match(identifier):
            raise ValueError(f"{identifier!r} is not a requirement ID")
        text = " ".join(str(result.get("summary") or "").split())
        lines.append(f"{identifier}  # {text}" if text else identifier)
    origin = f" in {source}" if source else ""
    seed = summary.get("seed")
    seeded = f" (seed {seed})" if seed is not None else ""
    count = len(lines)
    noun = "requirement" if count == 1 else "requirements"
    header = f"# live-conformance baseline: {count} {noun} failing{origin}{seeded}"
    return "\n".join([header, *lines]) + "\n"
