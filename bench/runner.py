"""``python -m bench``: run the benchmarks, print one table, optionally write JSON.

    python -m bench                      # everything (a few minutes)
    python -m bench --quick              # short runs of everything (~30 s)
    python -m bench --only inprocess,scale --json out.json
    python -m bench --list

Every figure is a median with its spread (IQR, and min/max in the JSON); ratios are measured
side by side in the same run (see ``bench/measure.py``). The exit status is 0 when every
benchmark ran (goals missed included: they are findings, not failures), 1 when a benchmark
crashed, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import json
import logging
import math
import os
import platform
import sys
import time
import traceback
from typing import Any

from .measure import BenchResult, Row

#: name -> module (each has ``run(quick: bool) -> BenchResult``), in running order.
BENCHMARKS: dict[str, str] = {
    "inprocess": "bench.inprocess",
    "moto": "bench.moto_peer",
    "server": "bench.server",
    "scale": "bench.scale",
    "suite": "bench.suite",
    "backend": "bench.backend_calls",
    "property": "bench.property",
}
DESCRIPTIONS = {
    "inprocess": "(1) fake per SDK call via mock()/WSGI client vs canned responses stubs",
    "moto": "(2) the fake vs moto (DynamoDB via boto3), per call",
    "server": "(3) server mode: req/s, p50/p99 at 1/8/32 clients vs a bare Flask route",
    "scale": "(4) per-call time with 10 / 1,000 / 10,000 streams; memory per stream",
    "suite": "(5) conformance suite wall time (embedded), PROP-1 and PROP-2 included",
    "backend": "(6) reference backend: Twilio calls and latency per endpoint and webhook",
    "property": "(7) stateful model (PROP-1): steps/s, step cost at 0/100/1,000 streams+users",
}


def machine() -> dict[str, Any]:
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "loadavg_at_start": [round(x, 2) for x in load] if load else None,
    }


def _fmt(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if unit in ("calls", "count"):
        return f"{value:.0f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _spread(row: Row) -> str:
    s = row.stats
    if s.n <= 1:
        return ""
    if row.unit in ("calls", "count") and s.min == s.max:
        return "(constant)"
    return f"IQR {_fmt(s.q1, row.unit)}-{_fmt(s.q3, row.unit)}"


def table(results: list[BenchResult]) -> str:
    """One plain-text table of every row of every benchmark."""
    header = ("bench", "figure", "median", "spread", "unit", "goal", "met")
    lines: list[tuple[str, ...]] = []
    for result in results:
        if result.skipped:
            lines.append((result.name, f"skipped: {result.skipped}", "", "", "", "", ""))
            continue
        for row in result.rows:
            met = "" if row.met is None else ("yes" if row.met else "NO")
            unit = "" if row.unit == "x" else row.unit
            lines.append(
                (
                    result.name,
                    row.figure,
                    _fmt(row.stats.median, row.unit),
                    _spread(row),
                    unit,
                    row.goal or "",
                    met,
                )
            )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    previous = None
    for line in lines:
        if previous is not None and line[0] != previous:
            out.append("")
        previous = line[0]
        cells = [
            cell.rjust(w) if i == 2 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def parse_only(values: list[str] | None) -> list[str]:
    """The benchmarks named by ``--only`` (all when none), in running order.

    Raises ValueError naming an unknown benchmark.
    """
    if not values:
        return list(BENCHMARKS)
    names = {name.strip() for value in values for name in value.split(",") if name.strip()}
    unknown = sorted(names - set(BENCHMARKS))
    if unknown:
        raise ValueError(
            f"unknown benchmark(s) {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})"
        )
    return [name for name in BENCHMARKS if name in names]


def run_one(name: str, quick: bool) -> BenchResult:
    module = importlib.import_module(BENCHMARKS[name])
    t0 = time.perf_counter()
    try:
        result: BenchResult = module.run(quick=quick)
    except Exception as exc:
        result = BenchResult(name, DESCRIPTIONS[name], "", skipped=None)
        result.notes.append("crashed: " + "".join(traceback.format_exception_only(exc)).strip())
        result.data["traceback"] = traceback.format_exc()
        result.data["crashed"] = True
    result.seconds = time.perf_counter() - t0
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of the fake, the reference backend and the conformance suite.",
    )
    parser.add_argument("--quick", action="store_true", help="short runs (~30 s in all)")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME[,NAME]",
        help=f"run only these benchmarks ({', '.join(BENCHMARKS)}); repeatable",
    )
    parser.add_argument("--json", metavar="FILE", help="write every figure as JSON to FILE")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name in BENCHMARKS:
            print(f"{name:10} {DESCRIPTIONS[name]}")
        return 0
    try:
        names = parse_only(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    logging.disable(logging.CRITICAL)  # the backend's and the fake's logs are not figures
    info = machine()
    print(
        f"bench: {', '.join(names)}{' (quick)' if args.quick else ''} on {info['platform']}, "
        f"{info['cores']} cores, Python {info['python']}",
        file=sys.stderr,
        flush=True,
    )
    results: list[BenchResult] = []
    started = time.perf_counter()
    for name in names:
        print(f"bench: running {name} ...", file=sys.stderr, flush=True)
        result = run_one(name, args.quick)
        print(f"bench: {name} done in {result.seconds:.1f} s", file=sys.stderr, flush=True)
        results.append(result)
    total = time.perf_counter() - started
    print(table(results))
    for result in results:
        for note in result.notes:
            print(f"note [{result.name}]: {note}")
    print(f"total {total:.1f} s")
    if args.json:
        payload = {
            "meta": {**info, "quick": args.quick, "only": names, "total_seconds": round(total, 2)},
            "benchmarks": {result.name: result.as_dict() for result in results},
        }
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(_finite(payload), handle, indent=2, default=str, allow_nan=False)
            handle.write("\n")
    crashed = [r.name for r in results if r.data.get("crashed")]
    return 1 if crashed else 0


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
