"""Measuring on a shared, noisy machine: interleaved batches, medians, spreads and ratios.

Every figure the benchmarks report comes from here. Contenders are never measured one after the
other: each round runs one batch of every contender, in an order that rotates from round to
round, so a burst of load from a neighbour hits all of them alike. A ratio is computed per
round (contender A's batch against contender B's batch of the same round) and the median of
those ratios is reported, with the spread of the per-round ratios (IQR and min/max).
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The clock of the per-call benchmarks: CPU time of the calling thread. On a shared 2-core
#: machine a wall clock also counts the time other processes held the core; the calls timed
#: here are single-threaded and CPU-bound (nothing sleeps, no socket), so their CPU time is
#: what they cost. (Server throughput, latencies and the suite's wall time use wall clocks.)
clock = time.thread_time

__all__ = [
    "BenchResult",
    "Row",
    "Stats",
    "clock",
    "geomean",
    "interleave",
    "ratio_stats",
]


@dataclass(frozen=True)
class Stats:
    """Median and spread of samples: quartiles (IQR) and the extremes."""

    median: float
    q1: float
    q3: float
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stats:
        values = sorted(samples)
        if not values:
            nan = float("nan")
            return cls(nan, nan, nan, nan, nan, 0)
        if len(values) == 1:
            v = values[0]
            return cls(v, v, v, v, v, 1)
        q1, _median, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return cls(statistics.median(values), q1, q3, values[0], values[-1], len(values))

    def scaled(self, factor: float) -> Stats:
        return Stats(
            self.median * factor,
            self.q1 * factor,
            self.q3 * factor,
            self.min * factor,
            self.max * factor,
            self.n,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "median": self.median,
            "q1": self.q1,
            "q3": self.q3,
            "min": self.min,
            "max": self.max,
            "n": self.n,
        }


def geomean(values: Sequence[float]) -> float:
    """Geometric mean of positive values (NaN when empty)."""
    if not values:
        return float("nan")
    return math.exp(sum(math.log(v) for v in values) / len(values))


def ratio_stats(numerators: Sequence[float], denominators: Sequence[float]) -> Stats:
    """Stats of the per-round ratios ``numerators[i] / denominators[i]``."""
    return Stats.of([a / b for a, b in zip(numerators, denominators, strict=True) if b > 0])


def interleave(
    contenders: dict[Any, Callable[[int], float]],
    *,
    rounds: int,
    batch: int | dict[Any, int],
    warmup_batches: int = 1,
    collect: bool = True,
) -> dict[Any, list[float]]:
    """Per-call seconds of each contender, one sample per round.

    ``contenders[name](n)`` runs ``n`` calls and returns the seconds they took (the function
    times only the calls, not its own setup). Every contender first runs ``warmup_batches``
    untimed batches; then each round runs one batch of each, the order rotating by one
    contender per round. ``batch`` is one size for all, or a size per contender. With
    ``collect``, a full garbage collection runs before every batch so that one contender's
    garbage is not collected on another's clock (too slow with a very large heap).
    """
    names = list(contenders)
    sizes = {name: batch[name] if isinstance(batch, dict) else batch for name in names}
    for _ in range(warmup_batches):
        for name in names:
            contenders[name](sizes[name])
    samples: dict[Any, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            if collect:
                gc.collect()
            elapsed = contenders[name](sizes[name])
            samples[name].append(elapsed / sizes[name])
    return samples


def timed(func: Callable[[int], None]) -> Callable[[int], float]:
    """Wrap ``func(i)`` (one call) into a contender: ``n`` calls, timed as a whole."""
    counter = [0]

    def run(n: int) -> float:
        start = counter[0]
        counter[0] += n
        t0 = clock()
        for i in range(start, start + n):
            func(i)
        return clock() - t0

    return run


@dataclass
class Row:
    """One line of the table: a figure with its median and spread, and maybe a goal."""

    figure: str
    stats: Stats
    unit: str
    goal: str | None = None
    met: bool | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"figure": self.figure, "unit": self.unit, **self.stats.as_dict()}
        if self.goal is not None:
            data["goal"] = self.goal
            data["met"] = self.met
        if self.note:
            data["note"] = self.note
        return data


@dataclass
class BenchResult:
    """What one benchmark returns: a title, what its figures mean, rows, extra data."""

    name: str
    title: str
    description: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    seconds: float = 0.0

    def add(
        self,
        figure: str,
        stats: Stats,
        unit: str,
        *,
        goal: str | None = None,
        met: bool | None = None,
        note: str | None = None,
    ) -> Row:
        row = Row(figure, stats, unit, goal, met, note)
        self.rows.append(row)
        return row

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "rows": [row.as_dict() for row in self.rows],
            "goals": [
                {"figure": r.figure, "goal": r.goal, "value": r.stats.median, "met": r.met}
                for r in self.rows
                if r.goal is not None
            ],
            "notes": list(self.notes),
            "data": self.data,
        }
