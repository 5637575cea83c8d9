"""The runner: selects checks, prepares the run, executes each check, decides the exit code.

:func:`run` does, in order: validate the configuration; load the checks; open the harness (the
embedded pair, or the backend URL plus, with ``twilio_url``, a view of the fake); wait for the
backend to answer (``wait_seconds``); preflight (the passcode must be accepted by
verify-passcode); resolve the capabilities; then run every selected check with a fresh
:class:`~conformance.context.CheckContext`, in requirement order, timing it and running its
cleanups; then apply the baseline. :func:`execute` runs one check and is shared with the
pytest plugin.

Failures with one root cause are one failure, the rest ``blocked`` (:mod:`.causes`). When the
backend stops answering mid-run (:mod:`.liveness`) the run stops: the checks it did not get to
are skipped as "not run", and so are those that ran after the backend's last answer.

Exit codes: ``0`` every selected MUST requirement passed (or is baselined); ``1`` some MUST
requirement failed; ``2`` the harness could not run (bad configuration, backend or fake
unreachable, passcode refused, checks not loadable, a MUST check broke with a harness
error) or the backend stopped answering mid-run; ``5`` no check was executed (nothing
selected, or every selected check skipped); ``130`` interrupted (Ctrl-C). SHOULD and MAY
failures are warnings and never change the exit code.
"""

from __future__ import annotations

import platform
import random
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .baseline import Baseline, BaselineError
from .baseline import load as load_baseline
from .capabilities import CapabilityReport, resolve
from .causes import OWNERS, CauseTracker, cause_of
from .config import SuiteConfig
from .context import NEEDS_EXPIRED, NEEDS_TWILIO, CheckContext, RunScope
from .harness import Harness, HarnessError, config_redactor
from .liveness import Liveness
from .outcomes import (
    BLOCKED,
    ERROR,
    FAIL,
    NOT_RUN,
    PASS,
    SKIP,
    STATUSES,
    BackendGone,
    CheckFailed,
    CheckSkipped,
    RequestTimedOut,
    Result,
    UnsendableRequest,
)
from .registry import REGISTRY, Check, Registry, load_default
from .requirements import Requirement, all_requirements
from .transport import BackendClient, Exchange, Redactor
from .twilio_view import TwilioView

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_NOTHING_RAN",
    "Harness",
    "HarnessError",
    "RunReport",
    "execute",
    "run",
    "select",
]

_REPRO_LIMIT = 8
#: Exit code of a run that executed no check (as pytest's "no tests ran").
EXIT_NOTHING_RAN = 5
#: Exit code of a run stopped with Ctrl-C.
EXIT_INTERRUPTED = 130


# -- the report ----------------------------------------------------------------------------------
@dataclass
class RunReport:
    """Everything a run produced; reports render it, the CLI exits with ``exit_code``."""

    config: SuiteConfig
    results: list[Result] = field(default_factory=list)
    exit_code: int = 2
    reason: str = ""
    capabilities: CapabilityReport | None = None
    backend_url: str | None = None
    twilio_url: str | None = None
    embedded: bool = False
    seed: int = 0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    baseline: Baseline = field(default_factory=Baseline)
    uncovered: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    #: Why the run stopped before its end (the backend went away, Ctrl-C), else ``None``.
    stopped: str | None = None
    #: Set when ``--maxfail`` ended the run early (the exit code is still the results').
    maxfail_stop: str | None = None

    @property
    def duration_s(self) -> float:
        end = self.finished_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()

    @property
    def aborted(self) -> bool:
        """True when the harness could not run the checks at all."""
        return self.exit_code == 2 and not self.results

    def counts(self, results: Iterable[Result] | None = None) -> dict[str, int]:
        found = {status: 0 for status in STATUSES}
        for result in self.results if results is None else results:
            found[result.status] += 1
        return found

    def by_group(self) -> dict[str, dict[str, int]]:
        groups: dict[str, list[Result]] = {}
        for result in self.results:
            groups.setdefault(result.group, []).append(result)
        return {group: self.counts(items) for group, items in groups.items()}

    @property
    def failures(self) -> list[Result]:
        """MUST failures that are not baselined (what makes the run fail)."""
        return [r for r in self.results if r.counts_against]

    @property
    def warnings(self) -> list[Result]:
        """SHOULD/MAY requirements not met."""
        return [r for r in self.results if r.warning]

    @property
    def baselined_failures(self) -> list[Result]:
        return [r for r in self.results if r.status == FAIL and r.baseline]

    @property
    def baseline_fixed(self) -> list[str]:
        """Baselined requirements that passed: remove them from the baseline."""
        return [r.id for r in self.results if r.baseline and r.status == PASS]

    @property
    def errors(self) -> list[Result]:
        return [r for r in self.results if r.status == ERROR]

    @property
    def blocked(self) -> list[Result]:
        return [r for r in self.results if r.status == BLOCKED]

    def causes(self) -> list[tuple[str, Result, list[Result]]]:
        """``(cause, failure, blocked)`` for every root cause that blocked other checks, in
        the order of the failures that own them."""
        found = []
        for owner in self.results:
            if owner.status != FAIL or owner.cause is None:
                continue
            stopped = [r for r in self.results if r.status == BLOCKED and r.blocked_by == owner.id]
            if stopped:
                found.append((owner.cause, owner, stopped))
        return found

    def result(self, requirement_id: str) -> Result | None:
        return next((r for r in self.results if r.id == requirement_id), None)


# -- selection and execution ---------------------------------------------------------------------
def select(config: SuiteConfig, requirements: Iterable[Requirement]) -> list[Requirement]:
    """The requirements the configuration selects (by ID or group, and by level)."""
    chosen = []
    for requirement in requirements:
        by_name = not (config.select_ids or config.select_groups) or (
            requirement.id in config.select_ids or requirement.group in config.select_groups
        )
        by_level = not config.select_levels or requirement.level in config.select_levels
        excluded = requirement.group in config.exclude_groups
        excluded = excluded or requirement.id in config.deselect_ids
        if by_name and by_level and not excluded:
            chosen.append(requirement)
    return chosen


def execute(
    check: Check,
    *,
    config: SuiteConfig,
    backend: BackendClient,
    twilio: TwilioView | None = None,
    expired_backend: BackendClient | None = None,
    capabilities: set[str] | None = None,
    capability_report: CapabilityReport | None = None,
    scope: RunScope | None = None,
    baseline: Baseline | None = None,
) -> Result:
    """Run one check and return its :class:`Result` (baseline applied)."""
    requirement = check.requirement
    capabilities = set(capabilities or ())
    started = time.perf_counter()
    result = Result(requirement, SKIP, check=check.name)
    reason = _prerequisite(check, capabilities, capability_report, twilio, expired_backend)
    if reason is not None:
        result.summary = reason
    else:
        ctx = CheckContext(
            config=config,
            requirement=requirement,
            backend=backend,
            twilio=twilio,
            capabilities=capabilities,
            expired_backend=expired_backend,
            scope=scope,
        )
        failing: Exchange | None = None
        repro: list[str] | None = None
        try:
            check.func(ctx)
        except KeyboardInterrupt:
            ctx.run_cleanups()
            raise
        except BackendGone as gone:
            result.status = SKIP
            result.summary = f"{NOT_RUN}the backend stopped answering ({gone.reason})"
        except UnsendableRequest as unsent:
            result.status, result.summary = ERROR, f"harness error: {unsent.summary}"
            failing = unsent.exchange
        except RequestTimedOut as slow:
            result.status = ERROR
            result.summary = (
                f"no verdict: the backend did not answer within the request timeout "
                f"({config.request_timeout:g} s): {slow.summary}"
            )
            failing = slow.exchange
        except CheckFailed as failure:
            result.status, result.summary = FAIL, failure.summary
            result.expected, result.actual = failure.expected, failure.actual
            failing = failure.exchange
            cause = cause_of(failure, failing)
            result.cause = backend.redactor.text(cause) if cause else None
            result.expected_success = failure.expected_success
            result.detail = _expected_actual(failure, backend.redactor)
            # a property failure carries its whole sequence (conformance.property.script)
            sequence = getattr(failure, "detail", None)
            if isinstance(sequence, str) and sequence:
                text = backend.redactor.text(sequence)
                result.detail = text + ("\n" + result.detail if result.detail else "")
            repro = getattr(failure, "repro", None)
        except CheckSkipped as skipped:
            result.status, result.summary = SKIP, skipped.reason
        except Exception as exc:
            result.status = ERROR
            result.summary = f"harness error: {type(exc).__name__}: {exc}"
            result.detail = backend.redactor.text(traceback.format_exc())
        else:
            result.status = PASS
        problems = ctx.run_cleanups()
        liveness = getattr(backend, "liveness", None)
        if liveness is not None and liveness.gone is not None and not result.not_run:
            # whatever the check concluded, it concluded it without a backend
            result.status = SKIP
            result.summary = f"{NOT_RUN}the backend stopped answering ({liveness.gone})"
            problems = []
        if problems:
            text = "\n".join(problems)
            if result.status == PASS:
                result.status = ERROR
                result.summary = f"the check passed but its {problems[0]}"
            result.detail = (result.detail + "\n" if result.detail else "") + text
        result.exchanges = list(ctx.exchanges)
        result.notes = [backend.redactor.text(note) for note in ctx.notes]
        if result.status in (FAIL, ERROR):
            result.exchange = failing or (ctx.exchanges[-1] if ctx.exchanges else None)
            result.repro = repro or _repro(ctx.exchanges, result.exchange)
        result.summary = backend.redactor.text(result.summary)
    result.duration_s = time.perf_counter() - started
    result.baseline = bool(baseline is not None and requirement.id in baseline)
    return result


def _prerequisite(
    check: Check,
    capabilities: set[str],
    report: CapabilityReport | None,
    twilio: TwilioView | None,
    expired_backend: BackendClient | None,
) -> str | None:
    capability = check.requirement.capability
    if capability and capability not in capabilities:
        evidence = ""
        if report is not None and capability in report.details:
            evidence = f" ({report.details[capability]['evidence']})"
        return f"capability {capability} not declared/detected{evidence}"
    if check.needs_twilio and twilio is None:
        return NEEDS_TWILIO
    if check.needs_expired and expired_backend is None:
        return NEEDS_EXPIRED
    return None


def _expected_actual(failure: CheckFailed, redactor: Redactor) -> str:
    lines = []
    for label, value in (("expected", failure.expected), ("actual", failure.actual)):
        text = redactor.value(value)
        if text is not None:
            lines.append(f"{label}: {text}")
    return "\n".join(lines)


def _repro(exchanges: list[Exchange], failing: Exchange | None) -> list[str]:
    if failing is None:
        return []
    position = next((i for i, e in enumerate(exchanges) if e is failing), None)
    chain = [*exchanges] if position is None else exchanges[: position + 1]
    if position is None:
        chain.append(failing)
    lines = []
    if len(chain) > _REPRO_LIMIT:
        lines.append(f"# ({len(chain) - _REPRO_LIMIT} earlier requests of this check omitted)")
        chain = chain[-_REPRO_LIMIT:]
    return lines + [exchange.curl() for exchange in chain]


# -- the run -------------------------------------------------------------------------------------
def run(
    config: SuiteConfig,
    *,
    registry: Registry | None = None,
    embedded: Any = None,
    on_result: Callable[[Result], None] | None = None,
    on_start: Callable[[RunReport, list[Check]], None] | None = None,
) -> RunReport:
    """Run the suite (see the module docstring) and return the :class:`RunReport`.

    ``registry``: the checks (default: ``conformance.checks``). ``embedded``: an
    :class:`~conformance.embedded.EmbeddedRun` to run against (default: a fresh one when
    ``config.backend_url`` is ``None``). ``on_start(report, plan)`` is called once the
    checks are about to run, ``on_result(result)`` after each check (live progress).
    """
    seed = config.seed if config.seed is not None else random.SystemRandom().randrange(2**31)
    config = config.replace(seed=seed)
    report = RunReport(
        config=config,
        seed=seed,
        backend_url=config.backend_url,
        twilio_url=config.twilio_url,
        embedded=config.backend_url is None,
        versions=versions(),
    )
    try:
        _run(report, config, registry, embedded, on_result, on_start)
    except HarnessError as exc:  # a last defence: the reason may quote the backend
        report.exit_code, report.reason = 2, config_redactor(config).text(str(exc))
    report.finished_at = datetime.now(UTC)
    return report


def _run(
    report: RunReport,
    config: SuiteConfig,
    registry: Registry | None,
    embedded: Any,
    on_result: Callable[[Result], None] | None,
    on_start: Callable[[RunReport, list[Check]], None] | None,
) -> None:
    problems = config.problems()
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise HarnessError(f"bad configuration: {problems[0]}{more}")
    try:
        report.baseline = load_baseline(config.baseline_path)
    except BaselineError as exc:
        raise HarnessError(str(exc)) from exc
    if registry is None:
        try:
            registry = load_default()
        except Exception as exc:
            raise HarnessError(
                f"could not load the checks (conformance.checks): {type(exc).__name__}: {exc}"
            ) from exc
    selected = select(config, all_requirements())
    selected_ids = {r.id for r in selected}
    plan = [c for c in registry.registered().values() if c.id in selected_ids]
    missing = [r for r in selected if r.id not in registry]
    if not selected:
        report.exit_code, report.reason = exit_status([])
        return
    harness = Harness.open(config, embedded)
    try:
        report.backend_url = harness.backend_url
        report.embedded = harness.embedded is not None
        if harness.twilio is not None and harness.twilio.url:
            report.twilio_url = harness.twilio.url
        harness.wait_ready()
        harness.preflight()
        scope = RunScope(config.seed or 0)
        report.capabilities = resolve(
            harness.declared_capabilities(),
            harness.backend(),
            twilio=harness.twilio,
            probe_name=lambda: f"{config.name_prefix}capability-probe-{scope.run_id}",
        )
        if registry is REGISTRY:
            report.results.extend(_unregistered(missing))
        else:
            report.uncovered = [r.id for r in missing]
        if on_start is not None:
            on_start(report, plan)
        for result in report.results:
            if on_result is not None:
                on_result(result)
        _execute_plan(report, config, harness, plan, scope, on_result)
    finally:
        harness.close()
    report.results.sort(key=lambda r: r.requirement.index)
    if report.stopped is None:
        report.exit_code, report.reason = exit_status(report.results)
        if report.maxfail_stop:
            report.reason += f"; {report.maxfail_stop}"


def _execute_plan(
    report: RunReport,
    config: SuiteConfig,
    harness: Harness,
    plan: list[Check],
    scope: RunScope,
    on_result: Callable[[Result], None] | None,
) -> None:
    """Run ``plan``: the checks owning an endpoint's success first (they become the owners of
    the causes they show), then the others in requirement order."""
    owners = set(OWNERS.values())
    order = sorted(plan, key=lambda c: (c.id not in owners, c.requirement.index))
    liveness = Liveness(lambda: _probe(harness, config))
    causes = CauseTracker()
    assert report.capabilities is not None
    done: list[str] = []
    try:
        for position, check in enumerate(order):
            if _run_one(report, config, harness, check, scope, liveness, causes, on_result):
                done.append(check.id)
                failed = sum(1 for r in report.results if r.counts_against)
                if config.max_failures is not None and failed >= config.max_failures:
                    why = (
                        f"stopped after {failed} MUST failure(s) (--maxfail {config.max_failures})"
                    )
                    # not a stop of its own: the exit code is the results', as pytest -x
                    _record_not_run(report, order[position + 1 :], why, on_result)
                    report.maxfail_stop = why
                    break
                continue
            first = liveness.streak_started or check.id
            ran = done[: done.index(first)] if first in done else done
            why = f"the backend stopped answering ({liveness.gone})"
            for earlier in report.results:
                if earlier.id in done[len(ran) :]:
                    _not_run(earlier, why)
            _record_not_run(report, order[position + 1 :], why, on_result)
            report.stopped, report.exit_code = why, 2
            report.reason = (
                f"the backend stopped answering after {len(ran)} of {len(order)} checks: "
                f"{liveness.gone}"
            )
            return
    except KeyboardInterrupt:
        seen = {r.id for r in report.results}
        _record_not_run(report, [c for c in order if c.id not in seen], "interrupted", on_result)
        report.stopped, report.exit_code = "interrupted", EXIT_INTERRUPTED
        report.reason = f"interrupted after {len(done)} of {len(order)} checks"
        return
    causes.settle(report.results)


def _run_one(
    report: RunReport,
    config: SuiteConfig,
    harness: Harness,
    check: Check,
    scope: RunScope,
    liveness: Liveness,
    causes: CauseTracker,
    on_result: Callable[[Result], None] | None,
) -> bool:
    """Run ``check`` and record its result; ``False`` when the backend went away."""
    liveness.check = check.id
    backend, expired = harness.backend(), harness.expired_backend()
    backend.liveness = liveness
    try:
        result = execute(
            check,
            config=config,
            backend=backend,
            twilio=harness.twilio,
            expired_backend=expired,
            capabilities=report.capabilities.resolved if report.capabilities else set(),
            capability_report=report.capabilities,
            scope=scope,
            baseline=report.baseline,
        )
    finally:
        backend.liveness = None
        harness.release(backend, expired)
    causes.observe(result)
    report.results.append(result)
    if on_result is not None:
        on_result(result)
    return liveness.gone is None


def _probe(harness: Harness, config: SuiteConfig) -> str | None:
    """verify-passcode once more, outside any check: ``None`` when it answers 200."""
    client = harness.backend()
    try:
        exchange = client.probe(min(config.request_timeout, 5.0))
    finally:
        harness.release(client)
    if exchange.status == 200:
        return None
    if exchange.status is None:
        return "timed out" if exchange.response.timed_out else (exchange.response.error or "")
    return f"verify-passcode answered {exchange.status}"


def _not_run(result: Result, why: str) -> None:
    result.status, result.summary, result.cause, result.blocked_by = SKIP, NOT_RUN + why, None, None
    result.detail = ""


def _record_not_run(
    report: RunReport,
    remaining: list[Check],
    why: str,
    on_result: Callable[[Result], None] | None,
) -> None:
    """Record every check of ``remaining`` as not run (``why``)."""
    for check in remaining:
        result = Result(check.requirement, SKIP, summary=NOT_RUN + why, check=check.name)
        report.results.append(result)
        if on_result is not None:
            on_result(result)


def _unregistered(missing: list[Requirement]) -> list[Result]:
    return [
        Result(
            requirement,
            ERROR,
            summary="no check is registered for this requirement (conformance.checks is "
            "incomplete)",
        )
        for requirement in missing
    ]


def exit_status(results: list[Result]) -> tuple[int, str]:
    """``(exit code, one-line reason)`` for a completed run's results."""
    executed = [r for r in results if r.status != SKIP]
    if not executed:
        if not results:
            return EXIT_NOTHING_RAN, (
                "no check was executed: the selection matched no requirement "
                "(see live-conformance requirements)"
            )
        return EXIT_NOTHING_RAN, (
            f"no check was executed: all {len(results)} selected checks were skipped "
            "(see their reasons)"
        )
    failed = [r.id for r in results if r.counts_against]
    if failed:
        return 1, f"{len(failed)} MUST requirement(s) failed: {', '.join(failed)}"
    broken = [r.id for r in results if r.status == ERROR and r.level == "MUST"]
    if broken:
        return 2, f"{len(broken)} MUST check(s) could not run (harness error): {', '.join(broken)}"
    passed = sum(1 for r in results if r.status == PASS)
    warnings = [r.id for r in results if r.warning]
    baselined = [r.id for r in results if r.status == FAIL and r.baseline]
    reason = f"every selected MUST requirement passed or was skipped ({passed} passed)"
    blocked = [r.id for r in results if r.status == BLOCKED]
    if blocked:
        reason += f"; {len(blocked)} blocked: {', '.join(blocked)}"
    if baselined:
        reason += f"; {len(baselined)} baselined failure(s): {', '.join(baselined)}"
    if warnings:
        reason += f"; {len(warnings)} warning(s): {', '.join(warnings)}"
    other_errors = [r.id for r in results if r.status == ERROR]
    if other_errors:
        reason += f"; {len(other_errors)} SHOULD/MAY check(s) broke: {', '.join(other_errors)}"
    return 0, reason


def versions() -> dict[str, str]:
    """Versions printed in reports: the suite, the protocol, Python and key libraries."""
    from importlib import metadata

    from schemas.openapi import PROTOCOL_VERSION

    found = {"protocol": PROTOCOL_VERSION, "python": platform.python_version()}
    for label, distribution in (
        ("suite", "live-video-conformance"),
        ("httpx", "httpx"),
        ("twilio", "twilio"),
    ):
        try:
            found[label] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            found[label] = "unknown"
    return found
