"""The protocol's requirements as typed values, read from ``schemas/protocol/requirements.json``.

Every check of the suite enforces exactly one :class:`Requirement`. The list, its order (the
document order of docs/PROTOCOL.md section 8, which is also the order the runner follows) and
the IDs come from :func:`schemas.requirements`; nothing here is hand-maintained.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import schemas

__all__ = ["CAPABILITIES", "LEVELS", "Requirement", "all_requirements", "get", "groups"]

#: Requirement levels, strongest first.
LEVELS: tuple[str, ...] = ("MUST", "SHOULD", "MAY")
#: Optional behaviours a backend may declare (docs/PROTOCOL.md 2.4).
CAPABILITIES: tuple[str, ...] = ("form-body", "get-query", "chat")


@dataclass(frozen=True)
class Requirement:
    """One requirement: ``id`` (e.g. ``"AUTH-1"``), its ``group`` (``"AUTH"``), ``level``
    (``"MUST"``, ``"SHOULD"`` or ``"MAY"``), the ``capability`` it needs (``None``: none), a
    one-line ``title``, the normative ``text``, the ``rationale`` and the ``impact``: what
    breaks when it is not met (a client behaviour, a Twilio rule or a security property)."""

    id: str
    group: str
    level: str
    capability: str | None
    title: str
    text: str
    rationale: str
    impact: str = ""

    @property
    def index(self) -> int:
        """Position in document order (0-based)."""
        return _index()[self.id]


@cache
def _all() -> tuple[Requirement, ...]:
    return tuple(
        Requirement(
            id=item["id"],
            group=item["group"],
            level=item["level"],
            capability=item.get("capability"),
            title=item["title"],
            text=item["text"],
            rationale=item.get("rationale", ""),
            impact=item.get("impact", ""),
        )
        for item in schemas.requirements()
    )


@cache
def _index() -> dict[str, int]:
    return {requirement.id: position for position, requirement in enumerate(_all())}


def all_requirements() -> list[Requirement]:
    """Every requirement, in document order."""
    return list(_all())


def get(requirement_id: str) -> Requirement:
    """The requirement with that ID (case-insensitive); :class:`KeyError` if there is none."""
    wanted = requirement_id.strip().upper()
    for requirement in _all():
        if requirement.id == wanted:
            return requirement
    raise KeyError(requirement_id)


def groups() -> list[str]:
    """The requirement groups in document order (``AUTH``, ``ERR``, ``IN``...)."""
    seen: dict[str, None] = {}
    for requirement in _all():
        seen.setdefault(requirement.group, None)
    return list(seen)
