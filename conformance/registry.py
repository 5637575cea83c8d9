"""The check registry: exactly one check function per requirement ID.

Checks register with the :func:`check` decorator into the default :data:`REGISTRY`, which
:func:`load_default` fills by importing ``conformance.checks``. Tests register toy checks into
their own :class:`Registry` (``reg = Registry(); @reg.check("AUTH-1") ...``) and hand it to the
runner. Registering an ID twice, or an ID that ``requirements.json`` does not define, raises
:class:`RegistrationError` at import time, so a broken checks package cannot go unnoticed
(the same function registering again, because its module was imported anew, replaces
itself).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .requirements import Requirement, all_requirements
from .requirements import get as get_requirement

if TYPE_CHECKING:
    from .context import CheckContext

__all__ = [
    "REGISTRY",
    "Check",
    "CheckFunction",
    "RegistrationError",
    "Registry",
    "check",
    "load_default",
    "registered",
]

CheckFunction = Callable[["CheckContext"], None]


class RegistrationError(ValueError):
    """A check was registered twice for one ID, or for an ID that is not a requirement."""


@dataclass(frozen=True)
class Check:
    """A registered check: the ``requirement`` it enforces and the function ``func(ctx)``.

    ``needs_twilio``: the check reads or drives the fake Twilio (skipped without one).
    ``needs_expired``: the check needs a twin backend whose passcode has expired (skipped
    without one). ``order``: checks run in requirement order, then by ``order`` moved as a
    block (a check with ``order=1`` runs after every ``order=0`` check; use it for checks
    with lasting effects on the backend, such as throttling).
    """

    requirement: Requirement
    func: CheckFunction
    needs_twilio: bool = False
    needs_expired: bool = False
    order: int = 0

    @property
    def id(self) -> str:
        return self.requirement.id

    @property
    def name(self) -> str:
        """``module:function`` of the check function."""
        return f"{self.func.__module__}:{self.func.__qualname__}"

    @property
    def doc(self) -> str:
        """The check function's docstring, dedented (empty when it has none)."""
        return inspect.getdoc(self.func) or ""

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.order, self.requirement.index)


class Registry:
    """Checks by requirement ID. The runner iterates them in :attr:`Check.sort_key` order."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def check(
        self,
        requirement_id: str,
        *,
        needs_twilio: bool = False,
        needs_expired: bool = False,
        order: int = 0,
    ) -> Callable[[CheckFunction], CheckFunction]:
        """Decorator registering ``func(ctx)`` as the check of ``requirement_id``.

        The function is returned unchanged (it stays importable and callable in tests).
        """

        def register(func: CheckFunction) -> CheckFunction:
            self.add(
                requirement_id,
                func,
                needs_twilio=needs_twilio,
                needs_expired=needs_expired,
                order=order,
            )
            return func

        return register

    def add(
        self,
        requirement_id: str,
        func: CheckFunction,
        *,
        needs_twilio: bool = False,
        needs_expired: bool = False,
        order: int = 0,
    ) -> Check:
        """Register ``func`` for ``requirement_id`` (see :meth:`check`)."""
        try:
            requirement = get_requirement(requirement_id)
        except KeyError:
            raise RegistrationError(
                f"{requirement_id!r} is not a requirement ID of schemas/protocol/"
                f"requirements.json (check {func.__module__}:{func.__qualname__})"
            ) from None
        if requirement.id != requirement_id:
            raise RegistrationError(
                f"write requirement IDs as in requirements.json: {requirement.id!r}, "
                f"not {requirement_id!r}"
            )
        existing = self._checks.get(requirement.id)
        reloaded = (
            existing is not None and existing.name == f"{func.__module__}:{func.__qualname__}"
        )
        if existing is not None and not reloaded:
            raise RegistrationError(
                f"{requirement.id} already has a check ({existing.name}); "
                f"cannot register {func.__module__}:{func.__qualname__} too"
            )
        if not callable(func):
            raise RegistrationError(f"the check of {requirement.id} is not callable")
        registered_check = Check(requirement, func, needs_twilio, needs_expired, order)
        self._checks[requirement.id] = registered_check
        return registered_check

    def get(self, requirement_id: str) -> Check | None:
        return self._checks.get(requirement_id)

    def registered(self) -> dict[str, Check]:
        """Every check by ID, in run order."""
        ordered = sorted(self._checks.values(), key=lambda c: c.sort_key)
        return {c.id: c for c in ordered}

    def missing(self) -> list[Requirement]:
        """Requirements without a check, in document order."""
        return [r for r in all_requirements() if r.id not in self._checks]

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self._checks

    def __len__(self) -> int:
        return len(self._checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(self.registered().values())

    def __repr__(self) -> str:
        return f"<Registry of {len(self._checks)} checks>"


#: The suite's own registry, filled by ``conformance.checks``.
REGISTRY = Registry()


def check(
    requirement_id: str,
    *,
    needs_twilio: bool = False,
    needs_expired: bool = False,
    order: int = 0,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check into the default registry (see :meth:`Registry.check`)."""
    return REGISTRY.check(
        requirement_id, needs_twilio=needs_twilio, needs_expired=needs_expired, order=order
    )


def registered() -> dict[str, Check]:
    """The checks of the default registry by ID, in run order (imports the checks first)."""
    return load_default().registered()


def load_default(module: str = "conformance.checks") -> Registry:
    """Import the checks package (registering its checks) and return :data:`REGISTRY`.

    Import errors propagate: the runner reports them as a harness failure (exit 2).
    """
    importlib.import_module(module)
    return REGISTRY


def describe(found: Check | None) -> dict[str, Any]:
    """A JSON-friendly view of a check (used by ``live-conformance explain``)."""
    if found is None:
        return {"check": None, "doc": ""}
    return {
        "check": found.name,
        "doc": found.doc,
        "needs_twilio": found.needs_twilio,
        "needs_expired": found.needs_expired,
        "order": found.order,
    }
