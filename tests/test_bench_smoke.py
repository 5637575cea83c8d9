"""Smoke test of the benchmarks: ``python -m bench --quick`` runs and writes sane JSON.

No timing threshold anywhere: the figures of a shared CI machine say nothing; only the shape
of the output and the sanity of the values (positive, ordered quartiles, constant call counts)
are checked. The moto comparison is left out (it needs the ``bench`` extra).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHEAP = ("inprocess", "backend")
OPS = ("room_create", "map_item_create", "document_update", "participant_create")
STAT_KEYS = {"figure", "unit", "median", "q1", "q3", "min", "max", "n"}

pytestmark = pytest.mark.slow


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    done = _bench("--quick", "--only", ",".join(CHEAP), "--json", str(out))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8")), done.stdout


def _rows(data: dict, name: str) -> dict[str, dict]:
    return {row["figure"]: row for row in data["benchmarks"][name]["rows"]}


def test_meta_and_selection(report: tuple[dict, str]) -> None:
    data, _ = report
    meta = data["meta"]
    assert {"date", "python", "platform", "cores", "quick", "only"} <= set(meta)
    assert meta["quick"] is True
    assert meta["only"] == list(CHEAP)
    assert set(data["benchmarks"]) == set(CHEAP)
    for name in CHEAP:
        bench = data["benchmarks"][name]
        assert {"title", "description", "rows", "goals", "notes", "data"} <= set(bench)
        assert bench["skipped"] is None
        assert "crashed" not in bench["data"]
        assert bench["description"]


def test_every_row_has_sane_statistics(report: tuple[dict, str]) -> None:
    data, _ = report
    for name in CHEAP:
        for row in data["benchmarks"][name]["rows"]:
            assert set(row) >= STAT_KEYS, row
            values = [row[k] for k in ("min", "q1", "median", "q3", "max")]
            assert all(isinstance(v, int | float) and math.isfinite(v) for v in values), row
            assert values == sorted(values), row
            assert row["n"] >= 1
            assert row["min"] >= 0


def test_inprocess_figures(report: tuple[dict, str]) -> None:
    data, stdout = report
    rows = _rows(data, "inprocess")
    for op in (*OPS, "rooms_paged_list"):
        for kind in ("mock", "wsgi", "stubs", "floor"):
            assert rows[f"{op} [{kind}]"]["median"] > 0
        assert rows[f"{op} mock/stubs"]["unit"] == "x"
    overall = rows["overall mock/stubs (geomean)"]
    assert overall["median"] > 0
    assert isinstance(overall["met"], bool)
    goals = data["benchmarks"]["inprocess"]["goals"]
    assert any(goal["figure"] == overall["figure"] for goal in goals)
    assert "overall mock/stubs" in stdout


def test_backend_call_counts(report: tuple[dict, str]) -> None:
    data, _ = report
    rows = _rows(data, "backend")
    details = data["benchmarks"]["backend"]["data"]
    assert details["failures"] == []
    assert rows["verify-passcode: Twilio calls"]["max"] == 0
    create = rows["create-stream: Twilio calls"]
    assert create["min"] == create["max"] >= 1  # the same calls for every stream
    assert len(details["shapes"]["create-stream"]) == create["median"]
    for endpoint in ("join-stream-as-viewer", "raise-hand", "delete-stream"):
        assert rows[f"{endpoint}: Twilio calls"]["median"] >= 1
        assert rows[f"{endpoint}: latency"]["median"] > 0


def test_list_and_unknown_names() -> None:
    listed = _bench("--list")
    assert listed.returncode == 0
    for name in ("inprocess", "moto", "server", "scale", "suite", "backend"):
        assert name in listed.stdout
    unknown = _bench("--only", "nope")
    assert unknown.returncode == 2
    assert "nope" in unknown.stderr


def test_property_benchmark_runs_the_stateful_model(tmp_path: Path) -> None:
    out = tmp_path / "property.json"
    done = _bench("--quick", "--only", "property", "--json", str(out))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    bench = json.loads(out.read_text(encoding="utf-8"))["benchmarks"]["property"]
    assert "crashed" not in bench["data"], bench["data"].get("traceback")
    rows = {row["figure"]: row for row in bench["rows"]}
    assert rows["steps per second (empty fake)"]["median"] > 0
    sizes = bench["data"]["sizes"]
    assert sizes[0] == 0 and len(sizes) == 3
    for size in sizes[1:]:
        assert rows[f"step cost {size}/0 streams+users"]["median"] > 0
    steps_run = bench["data"]["steps_run"]
    assert all(count > 0 for runs in steps_run.values() for count in runs), steps_run
