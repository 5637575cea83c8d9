"""Benchmark 5: wall time of the conformance suite, and the stateful model's speed.

The full deterministic conformance run (fixed seed) against the embedded reference backend:
``conformance.runner.run(SuiteConfig(seed=...))`` in this process (the suite's own work, the
interpreter already warm), and the CLI ``live-conformance run --seed N`` as a user starts it
(a new interpreter, imports included). Repeated; median and range. The run includes the
property checks (PROP-1, PROP-2) at their default budget; the stateful model's own speed is
benchmark 7 (:mod:`bench.property`).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .measure import BenchResult, Stats

NAME = "suite"
GOAL_SECONDS = 5.0
SEED = 20240601


def _property_modules() -> list[str]:
    spec = importlib.util.find_spec("conformance")
    if spec is None or not spec.submodule_search_locations:
        return []
    found: list[str] = []
    for location in spec.submodule_search_locations:
        found += sorted(p.name for p in Path(location).glob("property*"))
    return found


@contextmanager
def _counting_sleep() -> Iterator[list[float]]:
    """Count the seconds ``time.sleep`` is asked to sleep meanwhile (the checks' waits)."""
    total = [0.0]
    real = time.sleep

    def sleep(seconds: float) -> None:
        total[0] += max(0.0, seconds)
        real(seconds)

    time.sleep = sleep
    try:
        yield total
    finally:
        time.sleep = real


def _cli() -> list[str] | None:
    script = Path(sys.executable).parent / "live-conformance"
    if script.exists() and importlib.util.find_spec("conformance.cli") is not None:
        return [str(script)]
    return None


def run(quick: bool = False) -> BenchResult:
    repeats = 1 if quick else 3
    result = BenchResult(
        NAME,
        "Conformance suite wall time (embedded), stateful model speed",
        "Seconds of one full deterministic conformance run (fixed seed) against the embedded "
        "reference backend and in-process fake: in-process conformance.runner.run (warm "
        "interpreter; with its CPU time and the seconds the checks sleep) and the CLI "
        "'live-conformance run' (new process, imports included); median and range of "
        f"{repeats} run(s).",
    )
    from conformance.config import SuiteConfig
    from conformance.runner import run as run_suite

    in_process: list[float] = []
    cpu: list[float] = []
    slept: list[float] = []
    reports: list[Any] = []
    for _ in range(repeats):
        with _counting_sleep() as asleep:
            t0, c0 = time.perf_counter(), time.process_time()
            report = run_suite(SuiteConfig(seed=SEED, verbosity=-1))
            in_process.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        slept.append(asleep[0])
        reports.append(report)
    last = reports[-1]
    counts = last.counts()
    stats = Stats.of(in_process)
    result.add(
        "full run, in-process (runner.run)",
        stats,
        "s",
        goal=f"< {GOAL_SECONDS:g} s",
        met=stats.median < GOAL_SECONDS,
    )
    result.add("  of which CPU time (process)", Stats.of(cpu), "s")
    result.add("  of which sleeping (time.sleep in checks)", Stats.of(slept), "s")
    cli = _cli()
    cli_times: list[float] = []
    if cli is not None:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(min(repeats, 2)):
                t0 = time.perf_counter()
                done = subprocess.run(
                    [*cli, "run", "--seed", str(SEED), "--report-json", f"{tmp}/report.json"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                cli_times.append(time.perf_counter() - t0)
        cli_stats = Stats.of(cli_times)
        result.add(
            "full run, CLI (live-conformance run)",
            cli_stats,
            "s",
            goal=f"< {GOAL_SECONDS:g} s",
            met=cli_stats.median < GOAL_SECONDS,
            note=f"exit {done.returncode}",
        )
    else:
        result.notes.append("live-conformance CLI not installed: only the in-process run timed")
    executed = [r for r in last.results if r.status != "error" or "no check" not in r.summary]
    result.add("requirements in the run", Stats.of([float(len(last.results))]), "count")
    result.add(
        "checks per second (in-process)",
        Stats.of([len(last.results) / t for t in in_process if t > 0]),
        "checks/s",
    )
    property_modules = _property_modules()
    if property_modules:
        result.notes.append(
            "the run includes PROP-1 and PROP-2 at their default budget; steps/s of the "
            "stateful model: benchmark 'property'"
        )
        model = "included in the run; speed: bench property"
    else:
        result.notes.append("stateful model steps/s: not yet available (no conformance/property*)")
        model = "not yet available"
    if counts.get("error"):
        result.notes.append(
            f"the run had {counts['error']} check(s) in error (exit {last.exit_code}: "
            f"{last.reason[:160]}): the suite is still being written, so the time covers "
            f"{len(executed)} runnable requirement(s)"
        )
    result.data = {
        "seed": SEED,
        "counts": counts,
        "exit_code": last.exit_code,
        "reason": last.reason,
        "repeats": repeats,
        "in_process_s": in_process,
        "cpu_s": cpu,
        "sleep_s": slept,
        "cli_s": cli_times,
        "stateful_model": model,
    }
    return result
