"""Benchmark 7: the stateful model's speed (PROP-1) against the embedded reference backend.

One embedded run (reference backend + fake Twilio, in this process) per size: the fake
already holds 0, 100 or 1,000 streams (what create-stream leaves in Twilio, seeded as in
benchmark 4) and as many users (a ``user-*`` document and a ``viewers`` item in each
seeded stream's Sync service). Each round runs one batch of examples of the state machine
(the same seed for every size within a round, a new seed per round) on every size, in an
order that rotates from round to round; a sample is wall seconds per step (a step is one
move plus the invariant that compares the model with the fake). The figures: steps/s and
examples/s on the empty fake, and the per-round ratio of the cost of a step at N to its
cost at 0.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import fake_twilio

from .measure import BenchResult, Stats, ratio_stats
from .scale import seed_streams

NAME = "property"
SEED = 20240601
#: A step may cost this much more with 1,000 streams and users in the fake than with none.
GOAL_RATIO = 1.5


def seed_users(app: Any, count: int) -> None:
    """Give each of the first ``count`` seeded streams one user (document + viewers item)."""
    state = fake_twilio.state_of(app)
    sync = state.backend(state.default_credentials.account_sid, "sync")
    with state.locked():
        services = [s.sid for s in sync.list_services()][:count]
        for i, service in enumerate(services):
            sync.create_object(
                "document", service, unique_name=f"user-u{i}", data={"speaker_invite": False}
            )
            sync.create_item("map", service, "viewers", key=f"u{i}", data={})


class _Contender:
    """One embedded run holding ``size`` streams and users, and a way to run the model."""

    def __init__(self, size: int) -> None:
        from conformance import embedded

        self.size = size
        self.run = embedded.start(throttle_window=1.0)
        seed_streams(self.run.fake_app, size)
        seed_users(self.run.fake_app, size)

    def batch(self, examples: int, steps: int, seed: int) -> tuple[float, int, int]:
        """Run ``examples`` examples of ``steps`` steps; (seconds, steps run, examples run)."""
        from conformance.config import SuiteConfig
        from conformance.context import CheckContext
        from conformance.property.budget import Budget
        from conformance.property.stateful import run_stateful
        from conformance.requirements import get as get_requirement

        ctx = CheckContext(
            config=SuiteConfig(seed=seed, consistency_timeout=1.0),
            requirement=get_requirement("PROP-1"),
            backend=self.run.backend_client(),
            twilio=self.run.twilio,
            capabilities=self.run.capabilities,
        )
        budget = Budget(examples=examples, steps=steps, deadline=600.0, seed=seed)
        t0 = time.perf_counter()
        run_stateful(ctx, budget)
        return time.perf_counter() - t0, budget.steps_run, budget.examples_run

    def close(self) -> None:
        self.run.close()


def run(quick: bool = False) -> BenchResult:
    sizes = (0, 10, 100) if quick else (0, 100, 1_000)
    rounds, examples, steps = (2, 3, 10) if quick else (5, 10, 20)
    result = BenchResult(
        NAME,
        "Stateful model (PROP-1) speed, cost of a step vs streams already in the fake",
        "Wall seconds per step of the PROP-1 state machine (one move + the invariant reading "
        "Sync maps, documents and room participants) against the embedded reference backend, "
        f"{examples} examples x {steps} steps per batch, with N streams and N users already "
        "in the fake; sizes interleaved round by round (same seed across sizes within a "
        "round); ratio = cost of a step at N / at 0 per round.",
    )
    logging.getLogger("reference_backend").setLevel(logging.CRITICAL)
    contenders = {size: _Contender(size) for size in sizes}
    per_step: dict[int, list[float]] = {size: [] for size in sizes}
    per_example: dict[int, list[float]] = {size: [] for size in sizes}
    steps_run: dict[int, list[int]] = {size: [] for size in sizes}
    try:
        for contender in contenders.values():  # warm-up (imports, first requests)
            contender.batch(1, 3, SEED)
        for r in range(rounds):
            shift = r % len(sizes)
            for size in sizes[shift:] + sizes[:shift]:
                seconds, done, ran = contenders[size].batch(examples, steps, SEED + r)
                per_step[size].append(seconds / max(done, 1))
                per_example[size].append(seconds / max(ran, 1))
                steps_run[size].append(done)
    finally:
        for contender in contenders.values():
            contender.close()
    base = sizes[0]
    result.add("steps per second (empty fake)", Stats.of([1 / s for s in per_step[base]]),
               "steps/s")  # fmt: skip
    result.add("examples per second (empty fake)",
               Stats.of([1 / s for s in per_example[base]]), "examples/s")  # fmt: skip
    for size in sizes:
        result.add(f"ms per step @{size} streams+users", Stats.of(per_step[size]).scaled(1e3),
                   "ms")  # fmt: skip
    for size in sizes[1:]:
        last = size == sizes[-1]
        result.add(
            f"step cost {size}/{base} streams+users",
            ratio_stats(per_step[size], per_step[base]),
            "x",
            goal=f"<= {GOAL_RATIO}x" if last and not quick else None,
            met=(ratio_stats(per_step[size], per_step[base]).median <= GOAL_RATIO)
            if last and not quick
            else None,
        )
    result.data = {
        "sizes": list(sizes),
        "rounds": rounds,
        "examples_per_batch": examples,
        "steps_per_example": steps,
        "steps_run": {str(k): v for k, v in steps_run.items()},
        "seconds_per_step": {str(k): v for k, v in per_step.items()},
    }
    if quick:
        result.notes.append("quick run: sizes up to 100 only (the full run goes to 1,000)")
    return result
