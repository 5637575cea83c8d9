"""pytest plugin of the conformance suite: one test item per requirement.

Installed for every pytest run (entry point ``live_conformance``) and inert unless
``--live-backend`` is given: it only adds options, imports nothing else and collects nothing.
With ``--live-backend URL`` (or ``embedded`` for the in-process reference backend), pytest
collects ``live-conformance::<ID>`` for every selected requirement, and nothing else (the
project's own tests, ``testpaths`` and path arguments are not collected), and runs each through
the same code as ``live-conformance run`` (:func:`conformance.runner.execute`, one check
context per item). The options are turned into a :class:`~conformance.config.SuiteConfig` by
the CLI's own :func:`conformance.cli_options.build_config`, so they are checked the same way;
a bad one is a pytest usage error (exit 4). The backend is prepared once, after collection and
before the first item (readiness, passcode preflight, capabilities); if that fails (backend
unreachable, passcode refused...), the session stops with one "could not run" usage error
(exit 4) and no item runs. The seed (``--live-seed``, else a fresh one) is in the header.

Outcomes: pass -> passed; skip -> skipped with the reason; a MUST failure -> failed, shown with
the same text as the terminal report (requirement, summary, exchange, curl repro); a SHOULD or
MAY requirement not met -> **xfail** ("SHOULD not met: ...") so that, as with the CLI's exit
code, warnings never fail the session while staying visible (``-rx``); a baselined failure
(``--live-baseline``) -> xfail too; a harness error -> failed with "harness error". Skip and
xfail reasons name the plugin's options (``--live-twilio``), not the CLI's (``--twilio``).

Options: ``--live-backend`` and, each the CLI option of the same name with ``--live-`` in
front: ``--live-passcode``, ``--live-twilio``, ``--live-capability`` /
``--live-no-capability`` (repeatable), ``--live-select`` (repeatable ID or group),
``--live-level``, ``--live-expired-url``, ``--live-expired-passcode``,
``--live-api-key-secret``, ``--live-timeout``, ``--live-consistency-timeout``, ``--live-wait``,
``--live-baseline``, ``--live-seed``, ``--live-property`` / ``--live-no-property`` and the
budgets ``--live-property-examples``, ``--live-property-steps``, ``--live-property-deadline``.
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

OPTION = "--live-backend"
_SUITE_KEY = pytest.StashKey[Any]()
_WORKER_SEED = "live_conformance_seed"

#: The plugin's options besides --live-backend: ``(name, kind, metavar, help)``; ``--live-``
#: + the name (dashes) is the flag, ``live_`` + the name its dest, and the name is that of the
#: CLI option (conformance.cli_options.OPTIONS) it stands for. Not imported from there: the
#: plugin imports nothing of the suite unless --live-backend is given.
_OPTIONS: tuple[tuple[str, str, str | None, str], ...] = (
    ("passcode", "str", "P", "the backend's passcode"),
    ("twilio", "str", "URL", "URL of the fake Twilio the backend talks to"),
    ("capability", "list", "NAME", "declare a capability present (repeatable)"),
    ("no_capability", "list", "NAME", "declare a capability absent (repeatable)"),
    ("select", "list", "ID|GROUP", "only these requirements (repeatable)"),
    ("level", "list", "LEVEL", "only these levels: MUST, SHOULD, MAY (repeatable)"),
    ("expired_url", "str", "URL", "a deployment whose passcode expired"),
    ("expired_passcode", "str", "P", "its passcode"),
    ("api_key_secret", "str", "S", "verify token signatures with this API key secret"),
    ("timeout", "float", "S", "seconds per HTTP request (default 10)"),
    ("consistency_timeout", "float", "S", "the consistency bound in seconds (default 5)"),
    ("wait", "float", "S", "wait up to S seconds for the backend to answer"),
    ("baseline", "str", "FILE", "requirement IDs known to fail (reported as xfail)"),
    ("seed", "int", "N", "seed of the suite's randomness (default: a fresh one, in the header)"),
    ("property", "flag", None, "only the property-based checks (PROP)"),
    ("no_property", "flag", None, "every check but the property-based ones (PROP)"),
    ("property_examples", "int", "N", "examples per property check"),
    ("property_steps", "int", "N", "steps per stateful example"),
    ("property_deadline", "float", "S", "seconds per property check"),
)
_NAMES = {name for name, *_ in _OPTIONS}
#: The CLI's alternative spellings, by the option they stand for.
_ALIASES = {
    "consistency-bound": "consistency-timeout",
    "max-examples": "property-examples",
    "stateful-steps": "property-steps",
}
_FLAG_RE = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("live-conformance", "Live Interactive Video conformance suite")
    group.addoption(
        OPTION,
        dest="live_backend",
        default=None,
        metavar="URL",
        help="run the conformance suite against this backend URL ('embedded': the "
        "in-process reference backend), and only it",
    )
    for name, kind, metavar, text in _OPTIONS:
        flag, dest = "--live-" + name.replace("_", "-"), "live_" + name
        if kind == "flag":
            group.addoption(flag, dest=dest, action="store_true", default=False, help=text)
        elif kind == "list":
            group.addoption(
                flag, dest=dest, action="append", default=[], metavar=metavar, help=text
            )
        else:
            group.addoption(flag, dest=dest, default=None, metavar=metavar, help=text)


def plugin_flags(text: str) -> str:
    """``text`` with the CLI's option names (``--twilio``) replaced by the plugin's
    (``--live-twilio``); other words are left alone."""

    def swap(match: re.Match[str]) -> str:
        name = _ALIASES.get(match.group(1), match.group(1))
        return f"--live-{name}" if name.replace("-", "_") in _NAMES else match.group(0)

    return _FLAG_RE.sub(swap, text.replace("(run BACKEND_URL ...)", f"({OPTION} URL)"))


def _live(config: pytest.Config) -> bool:
    return bool(config.getoption("live_backend", None))


def _suite_config(config: pytest.Config) -> Any:
    """The run's SuiteConfig, built (and checked) once per session by the CLI's code."""
    if _SUITE_KEY in config.stash:
        return config.stash[_SUITE_KEY]
    from argparse import Namespace

    from .cli_options import UsageError, build_config

    given: dict[str, Any] = {}
    backend = config.getoption("live_backend")
    if backend != "embedded":
        given["backend_url"] = backend
    for name, *_ in _OPTIONS:
        value = config.getoption("live_" + name)
        if value is not None and value is not False and value != []:
            given[name] = value
    try:
        # environ={}: the plugin reads its options only, not LIVE_CONFORMANCE_* variables
        suite = build_config(Namespace(**given), environ={})
    except UsageError as exc:
        message = plugin_flags(str(exc)).removeprefix("command line: ")
        raise pytest.UsageError(f"live-conformance: {message}") from None
    if suite.seed is None:
        worker = getattr(config, "workerinput", None)  # pytest-xdist: the controller's seed
        seed = worker.get(_WORKER_SEED) if isinstance(worker, dict) else None
        suite.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    config.stash[_SUITE_KEY] = suite
    return suite


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    if _live(session.config):
        _suite_config(session.config)  # a bad option stops the session before the header


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not _live(config):
        return []
    suite = _suite_config(config)
    backend = config.getoption("live_backend")
    return [
        f"live-conformance: backend {backend}, seed {suite.seed} (only the conformance "
        "items are collected)"
    ]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker runs with the controller's seed."""
    if _live(node.config):
        node.workerinput[_WORKER_SEED] = _suite_config(node.config).seed


@pytest.hookimpl(tryfirst=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport | None:
    """With --live-backend the session collects the conformance items and nothing else."""
    if not isinstance(collector, pytest.Session) or not _live(collector.config):
        return None
    node = LiveConformance.from_parent(
        collector, name="live-conformance", nodeid="live-conformance"
    )
    node.suite = _suite_config(collector.config)
    return pytest.CollectReport(collector.nodeid, "passed", None, [node])


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Prepare the backend before the first item; if it cannot be, stop with one message."""
    if not _live(session.config) or session.config.option.collectonly:
        return
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        return  # pytest's own loop reports the collection errors
    parents = {item.parent for item in session.items if isinstance(item, LiveCheckItem)}
    for parent in parents:
        if isinstance(parent, LiveConformance) and not parent.load_error:
            try:
                parent.session_state()
            except _HarnessUnavailable as exc:
                raise pytest.UsageError(
                    f"live-conformance could not run: {plugin_flags(str(exc))}"
                ) from None


class LiveConformance(pytest.Collector):
    """The parent node of every conformance item; owns the session's harness."""

    suite: Any = None
    load_error: str | None = None
    _session: Any = None

    def collect(self) -> list[Any]:
        from .causes import OWNERS
        from .registry import load_default
        from .requirements import all_requirements
        from .runner import select

        try:
            registry = load_default()
        except Exception as exc:  # reported on every item instead of breaking collection
            registry, self.load_error = None, f"{type(exc).__name__}: {exc}"
        owners = set(OWNERS.values())
        # the owners of the endpoints' success first: the causes they fail on block the others
        chosen = sorted(
            select(self.suite, all_requirements()), key=lambda r: (r.id not in owners, r.index)
        )
        return [
            LiveCheckItem.from_parent(
                self,
                name=requirement.id,
                requirement=requirement,
                check=registry.get(requirement.id) if registry is not None else None,
            )
            for requirement in chosen
        ]

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
        summary = plugin_flags(result.summary)
        if result.status in (SKIP, BLOCKED):
            pytest.skip(summary)
        if result.status == FAIL and result.baseline:
            pytest.xfail(f"known failure (baseline): {summary}")
        if result.status == FAIL and not result.counts_against:
            pytest.xfail(f"{result.level} not met: {summary}")
        if result.status in (FAIL, ERROR):
            raise LiveCheckFailed(result)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        from .reports.terminal import failure_text

        if isinstance(excinfo.value, LiveCheckFailed):
            return failure_text(excinfo.value.result)
        if isinstance(excinfo.value, _HarnessUnavailable):
            return f"live-conformance could not run: {plugin_flags(str(excinfo.value))}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return ("live-conformance", None, f"{self.requirement.id} {self.requirement.title}")
