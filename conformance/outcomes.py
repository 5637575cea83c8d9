"""What a check can conclude, and the record the runner keeps of each check.

A check passes by returning. It raises :class:`CheckFailed` when the implementation under test
broke its requirement (status ``fail``), :class:`CheckSkipped` when it cannot be judged in
this run (``skip``: a capability is absent, no expired backend was given...). Any other
exception means the harness itself broke (``error``): a bug in the suite, the fake or the
environment, never a verdict on the backend; so is a request the backend did not answer
within the request timeout (:class:`RequestTimedOut`). :class:`Result` is what the runner
records for one requirement and what every report renders.

One more status is given by the runner, never by a check: ``blocked``. A failure whose cause
(the same endpoint giving the same answer, see :mod:`conformance.causes`) is already the
failure of the requirement that owns it is reported as ``blocked`` by that requirement: it
is neither a pass nor a failure, and it names the cause and the owner. And when the backend
stops answering mid-run (:class:`BackendGone`), the checks that could not run are ``skip``
with a summary starting "not run:".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .requirements import Requirement
    from .transport import Exchange

__all__ = [
    "BLOCKED",
    "ERROR",
    "FAIL",
    "PASS",
    "SKIP",
    "STATUSES",
    "BackendGone",
    "BackendNoAnswer",
    "CheckFailed",
    "CheckSkipped",
    "RequestTimedOut",
    "Result",
    "UnsendableRequest",
]

PASS = "pass"
FAIL = "fail"
SKIP = "skip"
ERROR = "error"
BLOCKED = "blocked"
#: Every status, in the order reports list them.
STATUSES: tuple[str, ...] = (PASS, FAIL, BLOCKED, SKIP, ERROR)
#: How a skipped result that never ran starts its summary (the backend went away, Ctrl-C).
NOT_RUN = "not run: "


class CheckFailed(AssertionError):
    """The implementation under test does not meet the requirement.

    ``summary`` is one line saying what is wrong; ``exchange`` the HTTP exchange that shows
    it (the reports print it and its curl repro); ``expected`` / ``actual`` optional values
    the reports print side by side. ``expected_success`` is true when the check expected the
    exchange to succeed (a set-up step, or a request the requirement says must be accepted):
    such a failure has a root cause that other checks may share (:mod:`conformance.causes`).
    ``cause`` names that root cause outright where no exchange shows it (Twilio refusing a
    token the backend issued).
    """

    def __init__(
        self,
        summary: str,
        *,
        exchange: Exchange | None = None,
        expected: Any = None,
        actual: Any = None,
        expected_success: bool = False,
        cause: str | None = None,
    ) -> None:
        super().__init__(summary)
        self.cause = cause
        self.summary = summary
        self.exchange = exchange
        self.expected = expected
        self.actual = actual
        self.expected_success = expected_success


class BackendNoAnswer(CheckFailed):
    """The backend gave no HTTP answer (connection refused or reset, timeout)."""

    def __init__(self, summary: str, *, exchange: Exchange | None = None) -> None:
        super().__init__(summary, exchange=exchange, expected_success=True)


class UnsendableRequest(BackendNoAnswer):
    """The suite's HTTP client refused to send the request (e.g. a header value with leading
    or trailing whitespace, which HTTP/1.1 clients reject). Not the backend's fault: when a
    check lets it escape, the runner reports a harness ``error``, not a failure."""


class RequestTimedOut(BackendNoAnswer):
    """The backend did not answer within the request timeout. Not a verdict (the backend may
    be slow, or the machine loaded): when a check lets it escape, its status is ``error``."""


class BackendGone(Exception):
    """The backend stopped answering (consecutive requests refused, reset or timed out, and
    verify-passcode no longer answers): the run stops. Deliberately not a
    :class:`CheckFailed`, so no check can take it for a verdict."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
    curl command lines (secrets redacted) reproducing the failure. ``cause`` is the root
    cause of a failure or a block when one is known ("join-stream-as-viewer answered 500
    'error updating user  document'"); ``blocked_by`` the ID of the requirement whose failure
    is that cause (for ``blocked`` results). ``baseline`` is true when
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
    cause: str | None = None
    blocked_by: str | None = None
    expected_success: bool = False

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
    def not_run(self) -> bool:
        """True for a check the run never got to (the backend went away, Ctrl-C)."""
        return self.status == SKIP and self.summary.startswith(NOT_RUN)

    @property
    def warning(self) -> bool:
        """A SHOULD or MAY requirement not met: reported, never fails the run."""
        return self.status == FAIL and self.level != "MUST"
