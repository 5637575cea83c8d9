"""How much a property may explore: examples, steps per example, a deadline, and the seed.

:class:`Budget` turns the suite's configuration into Hypothesis settings that are
deterministic (seeded from the suite's seed, no example database), quiet (no health-check
warnings or "Falsifying example" prints: the suite reports failures itself), run their
explicit examples first (PROP-2's 10 kB identities), and are bounded: once
the deadline has passed the next example stops the run (:class:`OutOfTime`). Shrinking a
failure already found may take :data:`SHRINK_ALLOWANCE` seconds more; if it has to stop,
the shortest failing example found so far is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import seed as hypothesis_seed

__all__ = ["DEFAULT_DEADLINE", "Budget", "OutOfTime"]

#: Seconds a property may explore when the configuration gives no deadline.
DEFAULT_DEADLINE = 30.0
#: Seconds shrinking a failure may take beyond the deadline.
SHRINK_ALLOWANCE = 10.0


class OutOfTime(BaseException):
    """The property's deadline passed (see :meth:`Budget.check_time`); never escapes the
    property's runner."""


@dataclass
class Budget:
    """``examples`` and ``steps`` per example, ``deadline`` seconds for the whole property
    (``None``: :data:`DEFAULT_DEADLINE`), ``seed`` of its randomness.

    ``steps`` is ``None`` for a property that is not a state machine (PROP-2's fuzzing: one
    request per example), so that its reports do not show a step budget it never uses.
    """

    examples: int
    steps: int | None
    deadline: float | None
    seed: int
    started: float = field(default_factory=time.monotonic)
    failing: bool = False
    examples_run: int = 0
    steps_run: int = 0

    @classmethod
    def of(cls, config: Any, salt: str, *, stateful: bool) -> Budget:
        """The budget of one property from a :class:`~conformance.config.SuiteConfig`;
        ``stateful``: whether it runs a state machine (and so has a step budget)."""
        seed = hash_seed(config.seed or 0, salt)
        return cls(
            examples=config.max_examples,
            steps=config.stateful_steps if stateful else None,
            deadline=getattr(config, "property_deadline", None),
            seed=seed,
        )

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def out_of_time(self) -> bool:
        """True once the deadline has passed; once a failure was found, once the deadline
        plus the shrinking allowance has passed."""
        limit = DEFAULT_DEADLINE if self.deadline is None else self.deadline
        if self.failing:
            limit += SHRINK_ALLOWANCE
        return self.elapsed > limit

    def check_time(self) -> None:
        """Stop the whole Hypothesis run (raise :class:`OutOfTime`) once out of time.

        A ``BaseException`` (like ``KeyboardInterrupt``) is not a test failure to Hypothesis:
        it ends the run at once, without shrinking or replaying, which is what a budget
        needs (rejecting examples instead would look like flaky data generation)."""
        if self.out_of_time():
            raise OutOfTime(self.describe())

    def settings(self) -> settings:
        steps = {} if self.steps is None else {"stateful_step_count": self.steps}
        return settings(
            max_examples=self.examples,
            **steps,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            print_blob=False,
            report_multiple_bugs=False,
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
        )

    def run(self, test: Callable[..., None]) -> None:
        """Run a Hypothesis test (already wrapped by ``@given``) with this budget's seed."""
        self.started = time.monotonic()
        hypothesis_seed(self.seed)(test)()

    def describe(self) -> str:
        """What ran and the budget it ran within: examples (and steps, for a state machine),
        seconds, deadline and seed."""
        limit = DEFAULT_DEADLINE if self.deadline is None else self.deadline
        if self.steps is None:
            ran, allowed = f"{self.examples_run} examples", f"{self.examples} examples"
        else:
            ran = f"{self.examples_run} examples, {self.steps_run} steps"
            allowed = f"{self.examples} examples x {self.steps} steps"
        return (
            f"{ran} in {self.elapsed:.1f} s "
            f"(budget: {allowed}, deadline {limit:g} s, seed {self.seed})"
        )


def hash_seed(seed: int, salt: str) -> int:
    """A stable 64-bit seed per property, derived from the suite's seed."""
    import hashlib

    digest = hashlib.sha256(f"{seed}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
