"""What a check can conclude, and the record the runner keeps of each check.

A check passes by returning. It raises :class:`CheckFailed` when the implementation under test
broke its requirement (status ``fail``), :class:`CheckSkipped` when it cannot be judged in
this run (``skip``: a capability is absent, no expired backend was given...). Any other
exception means the harness itself broke (``error``): a bug in the suite, the fake or the
environment, never a verdict on the backend. :class:`Result` is what the runner records for
one requirement and what every report renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .requirements import Requirement
    from .transport import Exchange

__all__ = [
    "ERROR",
    "FAIL",
    "PASS",
    "SKIP",
    "STATUSES",
    "BackendNoAnswer",
    "CheckFailed",
    "CheckSkipped",
    "Result",
    "UnsendableRequest",
]

PASS = "pass"
FAIL = "fail"
SKIP = "skip"
ERROR = "error"
#: Every status, in the order reports list them.
STATUSES: tuple[str, ...] = (PASS, FAIL, SKIP, ERROR)


class CheckFailed(AssertionError):
    """The implementation under test does not meet the requirement.

    ``summary`` is one line saying what is wrong; ``exchange`` the HTTP exchange that shows
    it (the reports print it and its curl repro); ``expected`` / ``actual`` optional values
    the reports print side by side.
    """

    def __init__(
        self,
        summary: str,
        *,
        exchange: Exchange | None = None,
        expected: Any = None,
        actual: Any = None,
    ) -> None:
        super().__init__(summary)
        self.summary = summary
        self.exchange = exchange
        self.expected = expected
        self.actual = actual


class BackendNoAnswer(CheckFailed):
    """The backend gave no HTTP answer (connection refused or reset, timeout)."""


class UnsendableRequest(BackendNoAnswer):
    """The suite's HTTP client refused to send the request (e.g. a header value with leading
    or trailing whitespace, which HTTP/1.1 clients reject). Not the backend's fault: when a
    check lets it escape, the runner reports a harness ``error``, not a failure."""


class CheckSkipped(Exception):
    """The requirement cannot be judged in this run; ``reason`` says why and what would help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Result:
    """The outcome of one requirement's check.

    ``status`` is one of :data:`STATUSES`. ``summary`` is one line (the failure, the skip
    reason or the harness error); ``detail`` more lines (expected/actual, cleanup problems, a
    traceback for errors). ``exchanges`` are every HTTP exchange the check made with the
    backend, in order; ``exchange`` the one that shows the failure (when known); ``repro``
    curl command lines (secrets redacted) reproducing the failure. ``baseline`` is true when
    the requirement is listed in the baseline file: a baselined failure does not fail the run,
    and a baselined pass means the baseline can be trimmed. ``notes`` are informational lines
    a check reported (e.g. how a MAY requirement is met).
    """

    requirement: Requirement
    status: str
    summary: str = ""
    detail: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    repro: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    baseline: bool = False
    exchange: Exchange | None = None
    expected: Any = None
    actual: Any = None
    notes: list[str] = field(default_factory=list)
    check: str | None = None

    @property
    def id(self) -> str:
        return self.requirement.id

    @property
    def level(self) -> str:
        return self.requirement.level

    @property
    def group(self) -> str:
        return self.requirement.group

    @property
    def title(self) -> str:
        return self.requirement.title

    @property
    def label(self) -> str:
        """The status as reports print it: ``fail (baseline)``, ``pass (baseline)``..."""
        return f"{self.status} (baseline)" if self.baseline else self.status

    @property
    def counts_against(self) -> bool:
        """True when this result makes the run non-conforming (a MUST failure not baselined)."""
        return self.status == FAIL and self.level == "MUST" and not self.baseline

    @property
    def warning(self) -> bool:
        """A SHOULD or MAY requirement not met: reported, never fails the run."""
        return self.status == FAIL and self.level != "MUST"
