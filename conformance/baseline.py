"""Baselines: requirement IDs known to fail, so a run can be green while work is under way.

A baseline file is either JSON — a list of IDs, an object ``{"ID": "reason", ...}``, or an
object with an ``"ids"`` (or ``"known_failures"``) list — or plain text with one ID per line
(lines starting with ``#`` are comments; an ID may be followed by a reason). A baselined
failure is reported as ``fail (baseline)`` and does not change the exit code; a baselined
requirement that now passes is reported so the entry can be removed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .requirements import all_requirements

__all__ = ["Baseline", "BaselineError", "load"]

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
        reasons[identifier] = reason.strip(" :-\t")
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
