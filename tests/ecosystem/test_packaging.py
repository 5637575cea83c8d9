"""Packaging: build a wheel and an sdist from a copy of the tree, install the wheel in a fresh venv.

Checks, in that venv (created without ``--system-site-packages``; dependencies come from the
configured package index): the console scripts start, the JSON schemas and the Node module ship,
the pytest plugins are registered. Nothing is written into the working tree (the build runs on a
copy, as setuptools writes ``build/`` and ``*.egg-info`` beside the sources) and every temporary
directory is removed at the end. Marked ``slow``; about 30-50 s, mostly installing the dependencies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 600

pytestmark = pytest.mark.slow

# What must ship, as paths inside the wheel (and under <name>-<version>/ in the sdist).
SHIPPED = [
    "fake_twilio/node/index.js",
    "fake_twilio/node/preload.js",
    "fake_twilio/node/package.json",
    "fake_twilio/node/README.md",
    "fake_twilio/node/__init__.py",
    "fake_twilio/core/webhook_rewrite.py",
    "schemas/__init__.py",
]
IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv*",
    ".tox",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "node_modules",
    "reports",
)


def _clean_env() -> dict[str, str]:
    """The environment for the fresh venv: no trace of the venv running the tests."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
        and not key.startswith(("FAKE_TWILIO_", "LIVE_BACKEND_"))
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(
    args: list[str], *, cwd: Path | None = None, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, (
        f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-3000:]}"
    )
    return result


def _pip_supports_python_option() -> bool:
    """pip >= 22.3 can install into another interpreter (``pip --python``)."""
    try:
        import pip
    except ImportError:
        return False
    major, minor = (int(part) for part in pip.__version__.split(".")[:2])
    return (major, minor) >= (22, 3)


class FreshVenv:
    """A venv without system site-packages; packages go in with this interpreter's pip."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path, self.env = path, env
        own_pip = not _pip_supports_python_option()
        args = [sys.executable, "-m", "venv", str(path)]
        _run(args if own_pip else [*args, "--without-pip"], env=env)
        self.python = path / "bin" / "python"
        if not self.python.exists():  # Windows layout
            self.python = path / "Scripts" / "python.exe"
        self.bindir = self.python.parent
        self._pip = (
            [str(self.python), "-m", "pip"]
            if own_pip
            else [sys.executable, "-m", "pip", "--python", str(self.python)]
        )

    def pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _run([*self._pip, *args], env=self.env)

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        env["PATH"] = str(self.bindir) + os.pathsep + env.get("PATH", "")
        env["VIRTUAL_ENV"] = str(self.path)
        return _run(list(args), cwd=cwd, env=env)


BUILD = (
    "import sys\n"
    "from setuptools import build_meta as backend\n"
    "out = sys.argv[1]\n"
    "if sys.argv[2] == 'both':\n"
    "    print(backend.build_sdist(out))\n"
    "print(backend.build_wheel(out))\n"
)


def test_wheel_and_sdist_build_install_and_work() -> None:
    """One test (the steps share a costly venv; one test keeps pytest-xdist from repeating it)."""
    env = _clean_env()
    with tempfile.TemporaryDirectory(prefix="fake-twilio-packaging-") as directory:
        work = Path(directory)
        source = work / "src"
        shutil.copytree(ROOT, source, ignore=IGNORED, symlinks=True)
        venv = FreshVenv(work / "venv", env)
        # One resolver run for the build tools, pytest and the project's dependencies (read
        # from pyproject.toml); the wheel itself goes in later with --no-deps.
        project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
        try:
            venv.pip(
                "install",
                "--quiet",
                "--no-compile",
                "setuptools>=69",
                "wheel",
                "pytest",
                *project["dependencies"],
            )
        except AssertionError as exc:
            pytest.skip(f"cannot install from the package index (offline?): {exc}")

        # sdist and wheel through setuptools' PEP 517 backend (python -m build is not needed).
        dist = work / "dist"
        dist.mkdir()
        venv.run(str(venv.python), "-c", BUILD, str(dist), "both", cwd=source)
        (wheel,) = dist.glob("*.whl")
        (sdist,) = dist.glob("*.tar.gz")

        wheel_names = check_wheel(wheel)
        check_sdist(sdist, wheel_names, venv, work)

        venv.pip("install", "--quiet", "--no-compile", "--no-deps", str(wheel))
        check_console_scripts(venv, work)
        check_installed_data(venv, work)
        check_pytest_plugins(venv, work)
    assert not work.exists()


def check_wheel(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        entry_text = archive.read(entry_points).decode()
    missing = [path for path in SHIPPED if path not in names]
    assert not missing, f"missing from the wheel: {missing}"
    assert any(n.startswith("schemas/") and n.endswith(".json") for n in names)
    assert not any(n.startswith("tests/") for n in names)
    for script in ("fake-twilio", "reference-backend", "live-conformance"):
        assert f"{script} = " in entry_text
    assert "[pytest11]" in entry_text and "fake_twilio = fake_twilio.pytest_plugin" in entry_text
    return sorted(names)


def check_sdist(sdist: Path, wheel_names: list[str], venv: FreshVenv, work: Path) -> None:
    """The sdist holds the package data, and a wheel built from it has the same files."""
    unpacked = work / "sdist"
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        archive.extractall(unpacked, filter="data")
    prefix = names[0].split("/")[0]
    inside = {name[len(prefix) + 1 :] for name in names}
    assert "pyproject.toml" in inside
    missing = [path for path in SHIPPED if path not in inside]
    assert not missing, f"missing from the sdist: {missing}"

    rebuilt = work / "from-sdist"
    rebuilt.mkdir()
    venv.run(str(venv.python), "-c", BUILD, str(rebuilt), "wheel", cwd=unpacked / prefix)
    (wheel,) = rebuilt.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert sorted(archive.namelist()) == wheel_names


def check_console_scripts(venv: FreshVenv, work: Path) -> None:
    for script in ("fake-twilio", "reference-backend", "live-conformance"):
        result = venv.run(str(venv.bindir / script), "--help", cwd=work)
        assert "usage:" in result.stdout


def check_installed_data(venv: FreshVenv, work: Path) -> None:
    """Run outside any source tree, so that only the installed package can be imported."""
    code = (
        "import fake_twilio, schemas, fake_twilio.node as node\n"
        "assert 'site-packages' in fake_twilio.__file__, fake_twilio.__file__\n"
        "assert schemas.load('protocol/error')\n"
        "shipped = (node.INDEX_JS, node.PRELOAD_JS, node.README, node.DIRECTORY / 'package.json')\n"
        "for path in shipped:\n"
        "    assert path.is_file(), path\n"
        "from fake_twilio.core.webhook_rewrite import WebhookRewrites\n"
        "from importlib.metadata import entry_points\n"
        "plugins = {e.name for e in entry_points(group='pytest11')}\n"
        "assert {'fake_twilio', 'live_conformance'} <= plugins, plugins\n"
        "print(node.preload_path())\n"
    )
    result = venv.run(str(venv.python), "-c", code, cwd=work)
    preload = Path(result.stdout.strip().splitlines()[-1])
    assert str(venv.path) in str(preload)

    located = venv.run(str(venv.python), "-m", "fake_twilio.node", "preload", cwd=work)
    assert located.stdout.strip() == str(preload)

    node = shutil.which("node")
    if node is not None:  # the shipped module loads in node
        script = (
            f"const m = require({json.dumps(str(preload.parent))});"
            "console.log(typeof m.FakeTwilioHttpClient)"
        )
        assert venv.run(node, "-e", script, cwd=work).stdout.strip() == "function"


def check_pytest_plugins(venv: FreshVenv, work: Path) -> None:
    """Both entry points are registered (checked in check_installed_data); pytest loads them."""
    shown = venv.run(str(venv.python), "-m", "pytest", "--help", cwd=work).stdout
    assert "--live-backend" in shown, (
        "the live_conformance pytest plugin is registered but adds no --live-backend option"
    )
