"""The README stays true: its Python examples run, its commands use options that exist, and
its quickstart is what CI runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .ecosystem.test_ci_recipes import _check_options

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def _quickstart() -> list[str]:
    section = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in _blocks_in(section, "sh")[0].strip().splitlines()]


def _blocks_in(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


@pytest.mark.parametrize(
    "block",
    [b for b in _blocks("python") if "def test_" not in b],
    ids=lambda b: b.strip().splitlines()[-1][:40],
)
def test_python_examples_run(block: str) -> None:
    exec(compile(block, "README.md", "exec"), {"__name__": "readme_example"})


def test_pytest_fixture_example_passes(tmp_path: Path) -> None:
    (example,) = [b for b in _blocks("python") if "def test_" in b]
    (tmp_path / "test_example.py").write_text(example, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_harness_commands_use_existing_options() -> None:
    assert _check_options("README.md", "\n".join(_blocks("sh"))) >= 2


def test_pytest_plugin_options_exist() -> None:
    used = set(re.findall(r"(?<![\w-])(--live-[a-z-]+)", README))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert used and result.returncode == 0
    missing = {option for option in used if option not in result.stdout}
    assert not missing, f"README names pytest options that do not exist: {sorted(missing)}"


def test_quickstart_is_what_ci_runs() -> None:
    commands = _quickstart()
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in commands:
        assert command in ci, f".ci/run does not run the README's {command!r}"
