"""The CI recipes stay in step with the commands: the YAML parses, flags exist, the action works.

- examples/github-actions/conformance.yml, examples/gitlab-ci.yml and action.yml parse (PyYAML;
  skipped when it is not installed), have the expected shape (reports kept on failure, JUnit
  for GitLab, the action's inputs and outputs);
- every ``fake-twilio serve``, ``reference-backend serve`` and ``live-conformance run`` command
  in them (and the Dockerfile's CMDs) only uses options the real command's ``--help`` lists;
- the composite action's bash script, run with a stub ``live-conformance``, builds the right
  command line, writes its outputs and passes the suite's exit code on.

The Dockerfile itself is not built: no Docker engine runs in this project's CI.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "github-actions" / "conformance.yml"
GITLAB = ROOT / "examples" / "gitlab-ci.yml"
ACTION = ROOT / "action.yml"
DOCKERFILE = ROOT / "Dockerfile"

# command -> (python -m module, subcommand)
COMMANDS = {
    "fake-twilio": ("fake_twilio", "serve"),
    "reference-backend": ("reference_backend", "serve"),
    "live-conformance": ("conformance", "run"),
}


def _yaml() -> Any:
    return pytest.importorskip("yaml", reason="PyYAML is not installed")


def _load(path: Path) -> Any:
    return _yaml().safe_load(path.read_text())


@cache
def _help(command: str) -> str:
    module, sub = COMMANDS[command]
    result = subprocess.run(
        [sys.executable, "-m", module, sub, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _commands_in(script: str) -> list[tuple[str, list[str]]]:
    """``(command, options)`` for each harness command line in a shell script."""
    text = script.replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        for command in COMMANDS:
            match = re.search(rf"(?:^|[\s;&|(]){re.escape(command)}\s+(\S+)(.*)$", line)
            if match is None:
                continue
            if match.group(1) != COMMANDS[command][1]:
                continue
            options = re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", match.group(2))
            found.append((command, options))
    return found


def _check_options(where: str, script: str) -> int:
    commands = _commands_in(script)
    for command, options in commands:
        listed = _help(command)
        for option in options:
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", listed), (
                f"{where}: `{command} {COMMANDS[command][1]}` has no option {option}"
            )
    return len(commands)


def _scripts_of_workflow(workflow: dict[str, Any]) -> list[str]:
    return [
        step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step
    ]


# -- GitHub Actions workflow -----------------------------------------------------------------
def test_github_workflow_shape() -> None:
    workflow = _load(WORKFLOW)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers
    assert set(workflow["jobs"]) == {"reference-backend", "node-backend"}
    for name, job in workflow["jobs"].items():
        assert job["runs-on"] == "ubuntu-latest"
        assert job["timeout-minutes"] <= 20
        steps = job["steps"]
        uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]
        assert len(uploads) == 1 and uploads[0]["if"] == "always()", name
        assert steps.index(uploads[0]) == len(steps) - 1, f"{name}: upload the reports last"
        text = json.dumps(job)
        assert "fake-twilio serve" in text and "--ready-file" in text


def test_github_workflow_commands_use_existing_options() -> None:
    workflow = _load(WORKFLOW)
    scripts = _scripts_of_workflow(workflow)
    assert _check_options(str(WORKFLOW), "\n".join(scripts)) >= 4
    suite = [s for s in scripts if "live-conformance run" in s]
    assert suite and all(
        flag in suite[0] for flag in ("--report-json", "--junit", "--html", "--wait")
    )
    node_job = workflow["jobs"]["node-backend"]
    started = "\n".join(s["run"] for s in node_job["steps"] if "run" in s)
    assert "python -m fake_twilio.node preload" in started
    assert "--rewrite-webhooks" in started
    uses_action = [s for s in node_job["steps"] if s.get("id") == "conformance"]
    assert uses_action, "the node job runs the suite through the composite action"
    action_inputs = set(_load(ACTION)["inputs"])
    assert set(uses_action[0]["with"]) <= action_inputs


# -- the composite action ---------------------------------------------------------------------
def test_action_shape() -> None:
    action = _load(ACTION)
    assert action["runs"]["using"] == "composite"
    assert {"backend-url", "passcode", "twilio-url", "capabilities", "extra-args"} <= set(
        action["inputs"]
    )
    assert {"report-json", "junit", "html", "exit-code"} <= set(action["outputs"])
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            # Inputs reach scripts through env:, never pasted into the script text.
            assert "${{" not in step["run"], step.get("name")
    script = _action_script(action)
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
        assert f"{name}=" in script


def _action_script(action: dict[str, Any]) -> str:
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    return step["run"]


STUB = """#!/usr/bin/env bash
# A stand-in for live-conformance: records its arguments, writes the reports it is asked for.
printf '%s\\n' "$@" > "$STUB_ARGS"
while [ $# -gt 0 ]; do
  case "$1" in
    --report-json|--junit|--html) echo stub > "$2"; shift ;;
  esac
  shift
done
exit "${STUB_EXIT:-0}"
"""


def _run_action(tmp_path: Path, inputs: dict[str, str], exit_code: int) -> dict[str, Any]:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir()
    stub = stub_dir / "live-conformance"
    stub.write_text(STUB)
    stub.chmod(0o755)
    script = tmp_path / "step.sh"
    script.write_text(_action_script(_load(ACTION)))
    outputs, summary, args = tmp_path / "out", tmp_path / "summary", tmp_path / "args"
    env = {
        "PATH": f"{stub_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "STUB_ARGS": str(args),
        "STUB_EXIT": str(exit_code),
        "BACKEND_URL": "",
        "PASSCODE": "",
        "TWILIO_URL": "",
        "CAPABILITIES": "",
        "EXTRA_ARGS": "",
        "WAIT": "60",
        "REPORTS": str(tmp_path / "reports"),
        **inputs,
    }
    # How GitHub runs `shell: bash` steps.
    result = subprocess.run(
        [bash, "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    written = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return {
        "code": result.returncode,
        "stderr": result.stderr,
        "args": args.read_text().splitlines(),
        "outputs": written,
        "summary": summary.read_text() if summary.exists() else "",
    }


def test_action_script_builds_the_command_and_sets_outputs(tmp_path: Path) -> None:
    ran = _run_action(
        tmp_path,
        {
            "BACKEND_URL": "http://127.0.0.1:3000",
            "PASSCODE": "12345678901234",
            "TWILIO_URL": "http://127.0.0.1:8080",
            "CAPABILITIES": "form-body, no-chat get-query",
            "EXTRA_ARGS": "--seed 7  --select AUTH",
        },
        exit_code=0,
    )
    assert ran["code"] == 0, ran["stderr"]
    reports = tmp_path / "reports"
    assert ran["args"] == [
        "run",
        "http://127.0.0.1:3000",
        "--passcode",
        "12345678901234",
        "--twilio",
        "http://127.0.0.1:8080",
        "--wait",
        "60",
        "--capability",
        "form-body",
        "--no-capability",
        "chat",
        "--capability",
        "get-query",
        "--seed",
        "7",
        "--select",
        "AUTH",
        "--report-json",
        f"{reports}/conformance.json",
        "--junit",
        f"{reports}/conformance.xml",
        "--html",
        f"{reports}/conformance.html",
    ]
    assert ran["outputs"] == {
        "report-json": f"{reports}/conformance.json",
        "junit": f"{reports}/conformance.xml",
        "html": f"{reports}/conformance.html",
        "reports-dir": str(reports),
        "exit-code": "0",
    }
    assert (reports / "conformance.xml").exists()
    assert "conformance.html" in ran["summary"]
    # Every option the action passes exists.
    _check_options("action.yml", "live-conformance " + shlex.join(ran["args"]))


def test_action_script_fails_with_the_suite_but_sets_outputs(tmp_path: Path) -> None:
    ran = _run_action(tmp_path, {}, exit_code=3)
    assert ran["code"] == 3
    assert ran["outputs"]["exit-code"] == "3"
    assert ran["outputs"]["junit"].endswith("/conformance.xml")
    # No backend URL: the embedded reference backend, so no positional argument and no --wait.
    assert ran["args"][:2] == ["run", "--report-json"] and "--wait" not in ran["args"]


# -- GitLab CI ---------------------------------------------------------------------------------
def test_gitlab_recipe() -> None:
    pipeline = _load(GITLAB)
    jobs = {name: job for name, job in pipeline.items() if name.startswith("conformance:")}
    assert set(jobs) == {"conformance:reference-backend", "conformance:node-backend"}
    template = pipeline[".conformance"]
    assert template["artifacts"]["when"] == "always"
    assert template["artifacts"]["reports"]["junit"] == "$REPORTS/conformance.xml"
    total = 0
    for name, job in jobs.items():
        assert job["extends"] == ".conformance"
        script = "\n".join(job["script"])
        for flag in ("--report-json", "--junit", "--html", "--wait"):
            assert flag in script, f"{name}: {flag}"
        total += _check_options(f"{GITLAB}:{name}", script)
    assert total >= 5


# -- Dockerfile (not built: no Docker engine in CI) --------------------------------------------
def test_dockerfile() -> None:
    text = DOCKERFILE.read_text()
    header = text.split("\nFROM", 1)[0]
    assert "UNTESTED" in header and "no Docker engine" in header
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.MULTILINE)
    assert stages[0][0] == "python:3.11-slim"
    assert "reference-backend" in [name for _, name in stages]
    commands = [json.loads(cmd) for cmd in re.findall(r"^CMD\s+(\[.*\])$", text, re.MULTILINE)]
    assert commands[-1] == ["fake-twilio", "serve", "--host", "0.0.0.0", "--port", "8080"]
    for command in commands:
        _check_options("Dockerfile", shlex.join(command))
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".git" in ignored and ".venv*" in ignored
