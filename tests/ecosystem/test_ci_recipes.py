"""The CI recipes stay in step with the commands: the YAML parses, flags exist, the action works.

- examples/github-actions/conformance.yml, examples/gitlab-ci.yml and action.yml parse (PyYAML;
  skipped when it is not installed), have the expected shape (reports kept on failure, JUnit
  for GitLab, the action's inputs and outputs);
- every ``fake-twilio serve``, ``reference-backend serve`` and ``live-conformance run`` command
  in them (and the Dockerfile's CMDs) only uses options the real command's ``--help`` lists;
- the composite action's bash script, run with a stub ``live-conformance``, builds the right
  command line, writes its outputs and a Markdown table of the results to the step summary
  (scripts/step_summary.py) and passes the suite's exit code on;
- the harness is installed from a git URL (placeholder owner/repo) or, by the action, from
  its own checkout: it is not published on PyPI.

The Dockerfile itself is not built: no Docker engine runs in this project's CI.
"""

from __future__ import annotations

import json
import os
import re
import runpy
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
STEP_SUMMARY = ROOT / "scripts" / "step_summary.py"
#: The placeholder install of the harness in the recipes (it is not on PyPI).
GIT_HARNESS = "git+https://github.com/<owner>/<repo>@<ref>"

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


def test_recipes_install_the_harness_from_git() -> None:
    """Not from PyPI (the package is not published there): from a marked placeholder URL."""
    workflow, pipeline = _load(WORKFLOW), _load(GITLAB)
    for where, variables, text in (
        (WORKFLOW, workflow["env"], WORKFLOW.read_text()),
        (GITLAB, pipeline["variables"], GITLAB.read_text()),
    ):
        assert variables["HARNESS"] == GIT_HARNESS, where
        assert "PLACEHOLDER" in text and "not published on PyPI" in text, where
        assert "live-video-conformance\n" not in text, where
    installs = [s for s in _scripts_of_workflow(workflow) if "pip install" in s]
    installs += [
        line
        for job in pipeline.values()
        if isinstance(job, dict)
        for line in job.get("script", [])
        if "pip install" in line
    ]
    assert installs and all('pip install "$HARNESS"' in s for s in installs), installs
    # git is needed by pip for a git+https requirement: no slim image without it
    images = [job["image"] for job in pipeline.values() if isinstance(job, dict) and "image" in job]
    assert images and not [image for image in images if image.endswith("-slim")], images
    (step,) = [s for s in workflow["jobs"]["node-backend"]["steps"] if s.get("id") == "conformance"]
    assert step["uses"] == "<owner>/<repo>@<ref>"


def test_action_installs_from_its_own_checkout() -> None:
    action = _load(ACTION)
    (step,) = [s for s in action["runs"]["steps"] if s.get("name") == "Install the harness"]
    assert step["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '"${HARNESS:-$ACTION_PATH}"' in step["run"]
    assert action["inputs"]["harness"]["default"] == ""
    assert (ROOT / "pyproject.toml").is_file()  # what pip installs from the checkout


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
# A stand-in for live-conformance: records its arguments, writes the reports it is asked for
# (the JSON one from $STUB_REPORT when set).
printf '%s\\n' "$@" > "$STUB_ARGS"
while [ $# -gt 0 ]; do
  case "$1" in
    --report-json)
      if [ -n "${STUB_REPORT:-}" ]; then cp "$STUB_REPORT" "$2"; else echo stub > "$2"; fi
      shift ;;
    --junit|--html) echo stub > "$2"; shift ;;
  esac
  shift
done
exit "${STUB_EXIT:-0}"
"""

#: A JSON report (format "2") of a run with a MUST failure, a blocked check and a pass.
REPORT: dict[str, Any] = {
    "summary": {
        "format": "2",
        "exit_code": 1,
        "conforming": False,
        "embedded": False,
        "backend_url": "http://127.0.0.1:3000",
        "seed": 7,
        "counts": {"pass": 1, "fail": 1, "blocked": 1, "skip": 0, "error": 0, "total": 3},
    },
    "results": [
        {
            "id": "RESP-1",
            "title": "Answers parse",
            "level": "MUST",
            "status": "fail",
            "label": "FAIL",
            "summary": "verify-passcode's 200 answer | does not match\nthe schema",
        },
        {
            "id": "AUTH-2",
            "title": "Right passcode",
            "level": "MUST",
            "status": "blocked",
            "label": "BLOCKED",
            "summary": "blocked: the schema; see RESP-1",
        },
        {
            "id": "AUTH-1",
            "title": "Wrong passcode",
            "level": "MUST",
            "status": "pass",
            "label": "PASS",
            "summary": "ok",
        },
    ],
}


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
        "ACTION_PATH": str(ROOT),
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
    # the stub's JSON report is not JSON: the summary says so in one line, the step passes
    assert ran["summary"].startswith("Live Interactive Video conformance: no report at")
    # Every option the action passes exists.
    _check_options("action.yml", "live-conformance " + shlex.join(ran["args"]))


def test_action_script_fails_with_the_suite_but_sets_outputs(tmp_path: Path) -> None:
    ran = _run_action(tmp_path, {}, exit_code=3)
    assert ran["code"] == 3
    assert ran["outputs"]["exit-code"] == "3"
    assert ran["outputs"]["junit"].endswith("/conformance.xml")
    # No backend URL: the embedded reference backend, so no positional argument and no --wait.
    assert ran["args"][:2] == ["run", "--report-json"] and "--wait" not in ran["args"]


def test_action_writes_a_results_table_to_the_step_summary(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(REPORT))
    ran = _run_action(tmp_path, {"STUB_REPORT": str(report)}, exit_code=1)
    assert ran["code"] == 1 and ran["outputs"]["exit-code"] == "1"
    lines = ran["summary"].splitlines()
    assert "**does not conform**" in ran["summary"]
    header = lines.index("| pass | fail | blocked | skip | error | total |")
    assert lines[header + 2] == "| 1 | 1 | 1 | 0 | 0 | 3 |"
    rows = [line for line in lines if line.startswith("| RESP-1") or line.startswith("| AUTH-")]
    assert rows == [
        "| RESP-1 Answers parse | MUST | FAIL | verify-passcode's 200 answer \\| does not match "
        "the schema |",
        "| AUTH-2 Right passcode | MUST | BLOCKED | blocked: the schema; see RESP-1 |",
    ]
    assert "conformance.html" in ran["summary"]


def test_step_summary_follows_the_json_report(tmp_path: Path) -> None:
    """The script's statuses and format are the suite's (it cannot import the suite: it runs
    with whatever python the step has)."""
    from conformance.outcomes import STATUSES
    from conformance.reports.jsonreport import FORMAT

    text = STEP_SUMMARY.read_text()
    assert f'format "{FORMAT}"' in text
    assert runpy.run_path(str(STEP_SUMMARY))["STATUSES"] == STATUSES
    assert "import conformance" not in text and "from conformance" not in text
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--select",
            "AUTH-1,AUTH-2",
            "--report-json",
            str(tmp_path / "r.json"),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    shown = subprocess.run(
        [sys.executable, str(STEP_SUMMARY), str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0 and shown.stderr == ""
    assert "**conforms**" in shown.stdout and "| 2 | 0 | 0 | 0 | 0 | 2 |" in shown.stdout
    assert "| Requirement |" not in shown.stdout  # nothing failed


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
