"""pytest plugin of the conformance suite: one test item per requirement.

Installed for every pytest run (entry point ``live_conformance``) and inert unless
``--live-backend`` is given: it only adds options, imports nothing else and collects nothing.
With ``--live-backend URL`` (or ``embedded`` for the in-process reference backend), pytest
collects ``live-conformance::<ID>`` for every selected requirement and runs each through the
same code as ``live-conformance run`` (:func:`conformance.runner.execute`, one check context
per item). The backend is prepared once per session (readiness, passcode preflight,
capabilities); if that fails, every item errors with the reason.

Outcomes: pass -> passed; skip -> skipped with the reason; a MUST failure -> failed, shown with
the same text as the terminal report (requirement, summary, exchange, curl repro); a SHOULD or
MAY requirement not met -> **xfail** ("SHOULD not met: ...") so that, as with the CLI's exit
code, warnings never fail the session while staying visible (``-rx``); a baselined failure
(``--live-baseline``) -> xfail too; a harness error -> failed with "harness error".

Options: ``--live-backend``, ``--live-passcode``, ``--live-twilio``, ``--live-capability``
(repeatable), ``--live-select`` (repeatable ID or group), ``--live-property`` /
``--live-no-property`` and the budgets ``--live-property-examples``, ``--live-property-steps``,
``--live-property-deadline``, ``--live-expired-url``,
``--live-expired-passcode``, ``--live-consistency-timeout``, ``--live-baseline``.
"""

from __future__ import annotations

from typing import Any

import pytest

OPTION = "--live-backend"
_STATE_KEY = "_live_conformance_session"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("live-conformance", "Live Interactive Video conformance suite")
    group.addoption(
        OPTION,
        dest="live_backend",
        default=None,
        metavar="URL",
        help="run the conformance suite against this backend URL ('embedded': the "
        "in-process reference backend)",
    )
    group.addoption("--live-passcode", dest="live_passcode", default=None, metavar="P")
    group.addoption(
        "--live-twilio",
        dest="live_twilio",
        default=None,
        metavar="URL",
        help="URL of the fake Twilio the backend talks to",
    )
    group.addoption(
        "--live-capability",
        dest="live_capability",
        action="append",
        default=[],
        metavar="NAME",
        help="declare a capability (repeatable)",
    )
    group.addoption(
        "--live-select",
        dest="live_select",
        action="append",
        default=[],
        metavar="ID|GROUP",
        help="only these requirements (repeatable)",
    )
    group.addoption("--live-expired-url", dest="live_expired_url", default=None, metavar="URL")
    group.addoption(
        "--live-expired-passcode", dest="live_expired_passcode", default=None, metavar="P"
    )
    group.addoption(
        "--live-consistency-timeout",
        dest="live_consistency_timeout",
        default=None,
        metavar="S",
        help="the consistency bound in seconds (default 5)",
    )
    group.addoption(
        "--live-property",
        dest="live_property",
        action="store_true",
        default=False,
        help="only the property-based checks (PROP)",
    )
    group.addoption(
        "--live-no-property",
        dest="live_no_property",
        action="store_true",
        default=False,
        help="every check but the property-based ones (PROP)",
    )
    for flag, dest, text in (
        ("--live-property-examples", "live_property_examples", "examples per property check"),
        ("--live-property-steps", "live_property_steps", "steps per stateful example"),
        ("--live-property-deadline", "live_property_deadline", "seconds per property check"),
    ):
        group.addoption(flag, dest=dest, default=None, metavar="N", help=text)
    group.addoption(
        "--live-baseline",
        dest="live_baseline",
        default=None,
        metavar="FILE",
        help="requirement IDs known to fail (reported as xfail)",
    )


def _suite_config(config: pytest.Config) -> Any:
    from .config import SuiteConfig, split_selection

    backend = config.getoption("live_backend")
    ids, groups = split_selection(config.getoption("live_select") or [])
    timeout = config.getoption("live_consistency_timeout")
    suite = SuiteConfig(
        backend_url=None if backend == "embedded" else backend,
        passcode=config.getoption("live_passcode"),
        twilio_url=config.getoption("live_twilio"),
        capabilities=set(config.getoption("live_capability")) or None,
        select_ids=ids,
        select_groups=groups,
        expired_url=config.getoption("live_expired_url"),
        expired_passcode=config.getoption("live_expired_passcode"),
        baseline_path=config.getoption("live_baseline"),
    )
    if timeout is not None:
        try:
            suite.consistency_timeout = float(timeout)
        except ValueError:
            raise pytest.UsageError(
                f"--live-consistency-timeout: {timeout!r} is not a number"
            ) from None
    _property_options(config, suite)
    problems = suite.problems()
    if problems:
        raise pytest.UsageError(f"live-conformance: {problems[0]}")
    return suite


def _property_options(config: pytest.Config, suite: Any) -> None:
    """--live-property / --live-no-property and the property budgets."""
    if config.getoption("live_property") and config.getoption("live_no_property"):
        raise pytest.UsageError("--live-property and --live-no-property exclude each other")
    if config.getoption("live_property"):
        suite.select_groups.add("PROP")
    if config.getoption("live_no_property"):
        suite.exclude_groups.add("PROP")
    for dest, field_name, kind in (
        ("live_property_examples", "max_examples", int),
        ("live_property_steps", "stateful_steps", int),
        ("live_property_deadline", "property_deadline", float),
    ):
        value = config.getoption(dest)
        if value is None:
            continue
        try:
            setattr(suite, field_name, kind(value))
        except ValueError:
            flag = "--" + dest.replace("_", "-")
            raise pytest.UsageError(f"{flag}: {value!r} is not a number") from None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not config.getoption("live_backend", None):
        return
    from .registry import load_default
    from .requirements import all_requirements
    from .runner import select

    suite = _suite_config(config)
    try:
        registry = load_default()
        load_error = None
    except Exception as exc:  # reported on every item instead of breaking collection
        registry, load_error = None, f"{type(exc).__name__}: {exc}"
    collector = LiveConformance.from_parent(
        session, name="live-conformance", nodeid="live-conformance"
    )
    collector.suite = suite
    collector.load_error = load_error
    from .causes import OWNERS

    owners = set(OWNERS.values())
    # the owners of the endpoints' success first: the causes they fail on block the others
    chosen = sorted(select(suite, all_requirements()), key=lambda r: (r.id not in owners, r.index))
    for requirement in chosen:
        check = registry.get(requirement.id) if registry is not None else None
        items.append(
            LiveCheckItem.from_parent(
                collector, name=requirement.id, requirement=requirement, check=check
            )
        )


class LiveConformance(pytest.Collector):
    """The parent node of every conformance item; owns the session's harness."""

    suite: Any = None
    load_error: str | None = None
    _session: Any = None

    def collect(self) -> list[Any]:  # items are added by the collection hook
        return []

    def session_state(self) -> Any:
        """The prepared harness (built on first use); raises _HarnessUnavailable."""
        if self._session is None:
            self._session = _SessionState.prepare(self.suite)
            self.config.add_cleanup(self._session.close)
        if self._session.error:
            raise _HarnessUnavailable(self._session.error)
        return self._session


class _HarnessUnavailable(Exception):
    """The session's backend could not be prepared (the runner's exit-2 reasons)."""


class _SessionState:
    def __init__(self) -> None:
        self.harness: Any = None
        self.capabilities: Any = None
        self.scope: Any = None
        self.baseline: Any = None
        self.error: str | None = None
        self.causes: Any = None
        self.liveness: Any = None

    @classmethod
    def prepare(cls, suite: Any) -> _SessionState:
        from .baseline import BaselineError
        from .baseline import load as load_baseline
        from .capabilities import resolve
        from .context import RunScope
        from .harness import Harness, HarnessError

        state = cls()
        try:
            state.baseline = load_baseline(suite.baseline_path)
            state.harness = Harness.open(suite)
            state.harness.wait_ready()
            state.harness.preflight()
        except (HarnessError, BaselineError) as exc:
            state.error = str(exc)
            return state
        from .causes import CauseTracker
        from .liveness import Liveness
        from .runner import _probe

        state.causes = CauseTracker()
        harness = state.harness
        state.liveness = Liveness(lambda: _probe(harness, suite))
        state.scope = RunScope(suite.seed or 0)
        state.capabilities = resolve(
            state.harness.declared_capabilities(),
            state.harness.backend(),
            twilio=state.harness.twilio,
            probe_name=lambda: f"{suite.name_prefix}capability-probe-{state.scope.run_id}",
        )
        return state

    def close(self) -> None:
        if self.harness is not None:
            self.harness.close()
            self.harness = None


class LiveCheckFailed(Exception):
    """A MUST requirement failed, or the check broke (``result`` holds the details)."""

    def __init__(self, result: Any) -> None:
        super().__init__(result.summary)
        self.result = result


class LiveCheckItem(pytest.Item):
    """One requirement's check, run through :func:`conformance.runner.execute`."""

    def __init__(self, *, requirement: Any, check: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requirement = requirement
        self.check = check
        self.user_properties.append(("level", requirement.level))

    def runtest(self) -> None:
        from .outcomes import BLOCKED, ERROR, FAIL, NOT_RUN, SKIP, Result
        from .runner import execute

        parent: LiveConformance = self.parent  # type: ignore[assignment]
        if parent.load_error:
            raise LiveCheckFailed(
                Result(self.requirement, ERROR, f"could not load the checks: {parent.load_error}")
            )
        if self.check is None:
            raise LiveCheckFailed(
                Result(self.requirement, ERROR, "no check is registered for this requirement")
            )
        state = parent.session_state()
        if state.liveness.gone is not None:
            pytest.skip(f"{NOT_RUN}the backend stopped answering ({state.liveness.gone})")
        harness = state.harness
        backend, expired = harness.backend(), harness.expired_backend()
        backend.liveness = state.liveness
        state.liveness.check = self.requirement.id
        try:
            result = execute(
                self.check,
                config=parent.suite.replace(seed=state.scope.seed),
                backend=backend,
                twilio=harness.twilio,
                expired_backend=expired,
                capabilities=state.capabilities.resolved,
                capability_report=state.capabilities,
                scope=state.scope,
                baseline=state.baseline,
            )
        finally:
            backend.liveness = None
            harness.release(backend, expired)
        state.causes.observe(result)
        self.user_properties.append(("status", result.label))
        if state.liveness.gone is not None:
            self.session.shouldstop = (
                f"live-conformance: the backend stopped answering ({state.liveness.gone})"
            )
        if result.status in (SKIP, BLOCKED):
            pytest.skip(result.summary)
        if result.status == FAIL and result.baseline:
            pytest.xfail(f"known failure (baseline): {result.summary}")
        if result.status == FAIL and not result.counts_against:
            pytest.xfail(f"{result.level} not met: {result.summary}")
        if result.status in (FAIL, ERROR):
            raise LiveCheckFailed(result)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        from .reports.terminal import failure_text

        if isinstance(excinfo.value, LiveCheckFailed):
            return failure_text(excinfo.value.result)
        if isinstance(excinfo.value, _HarnessUnavailable):
            return f"live-conformance could not run: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return ("live-conformance", None, f"{self.requirement.id} {self.requirement.title}")
