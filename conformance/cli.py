"""``live-conformance`` (also ``python -m conformance``): run the suite and explore the protocol.

Subcommands:

* ``run [BACKEND_URL]``: run the suite against a backend, or, without a URL, against the
  reference backend embedded in-process. Exit 0 conforming, 1 a MUST requirement failed, 2 the
  run could not happen (bad usage, backend or fake unreachable, passcode refused).
* ``requirements [--group G] [--level L] [--json]``: list the requirements.
* ``explain ID``: a requirement's text, rationale and the check that enforces it.
* ``openapi``: print the protocol's OpenAPI document.
* ``walkthrough [--format text|markdown|json] [--output FILE] [--no-color]``: play one stream
  against the embedded reference backend and tell it step by step (docs/WALKTHROUGH.md).

Every ``run`` option can also be given as an environment variable ``LIVE_CONFORMANCE_<NAME>``
(e.g. ``LIVE_CONFORMANCE_PASSCODE``, ``LIVE_CONFORMANCE_CONSISTENCY_TIMEOUT``; lists
comma-separated) and in a TOML file named by ``--config`` (keys as the long options without
dashes, e.g. ``passcode = "..."``, ``capability = ["chat"]``, at the top level or under
``[tool.live-conformance]``). Flags win over the environment, which wins over the file, which
wins over the defaults. Usage errors print one line and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from .config import SuiteConfig, split_selection
from .requirements import CAPABILITIES, LEVELS, all_requirements
from .requirements import get as get_requirement
from .requirements import groups as requirement_groups

__all__ = ["OPTIONS", "UsageError", "build_config", "main"]

PROG = "live-conformance"
ENV_PREFIX = "LIVE_CONFORMANCE_"


class UsageError(Exception):
    """Bad usage or configuration: the message is printed as one line, exit code 2."""


@dataclass(frozen=True)
class Option:
    """One ``run`` setting: its flags, its type and its help."""

    name: str  # the key in files and, upper-cased, in the environment
    flags: tuple[str, ...]
    kind: str  # "str", "float", "int", "list", "flag", "count"
    help: str
    metavar: str | None = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


OPTIONS: tuple[Option, ...] = (
    Option("passcode", ("--passcode",), "str", "the backend's passcode", "P"),
    Option("twilio", ("--twilio",), "str", "URL of the fake Twilio the backend uses", "URL"),
    Option(
        "capability",
        ("--capability",),
        "list",
        f"declare a capability present (repeatable; {', '.join(CAPABILITIES)})",
        "NAME",
    ),
    Option("no_capability", ("--no-capability",), "list", "declare a capability absent", "NAME"),
    Option("no_auto_detect", ("--no-auto-detect",), "flag", "do not probe undeclared capabilities"),
    Option("select", ("--select",), "list", "run only these requirement IDs or groups", "ID|GROUP"),
    Option("level", ("--level",), "list", f"run only these levels ({', '.join(LEVELS)})", "LEVEL"),
    Option("expired_url", ("--expired-url",), "str", "a deployment whose passcode expired", "URL"),
    Option("expired_passcode", ("--expired-passcode",), "str", "its passcode", "P"),
    Option("api_key_secret", ("--api-key-secret",), "str", "verify token signatures", "S"),
    Option(
        "public_base_url",
        ("--public-base-url",),
        "str",
        "the URL Twilio calls the backend at (default: learned from the fake)",
        "URL",
    ),
    Option("timeout", ("--timeout",), "float", "seconds per HTTP request (default 10)", "S"),
    Option(
        "consistency_timeout",
        ("--consistency-timeout", "--consistency-bound"),
        "float",
        "seconds webhook effects may take (the consistency bound, default 5)",
        "S",
    ),
    Option("wait", ("--wait",), "float", "wait up to S seconds for the backend to answer", "S"),
    Option("baseline", ("--baseline",), "str", "file of requirement IDs known to fail", "FILE"),
    Option("name_prefix", ("--name-prefix",), "str", "prefix of the names the suite creates", "P"),
    Option("seed", ("--seed",), "int", "seed of the suite's randomness", "N"),
    Option("report_json", ("--report-json",), "str", "write the JSON report", "FILE"),
    Option("junit", ("--junit",), "str", "write a JUnit XML report", "FILE"),
    Option("html", ("--html",), "str", "write an HTML report", "FILE"),
    Option("property", ("--property",), "flag", "run only the property-based checks (PROP)"),
    Option("no_property", ("--no-property",), "flag", "run everything but the PROP checks"),
    Option(
        "property_examples",
        ("--property-examples", "--max-examples"),
        "int",
        "examples per property check (default 60)",
        "N",
    ),
    Option(
        "property_steps",
        ("--property-steps", "--stateful-steps"),
        "int",
        "steps per stateful example (default 20)",
        "N",
    ),
    Option(
        "property_deadline",
        ("--property-deadline",),
        "float",
        "seconds each property check may explore (default 30)",
        "S",
    ),
)
_BY_NAME = {option.name: option for option in OPTIONS}
_FILE_ONLY = {"backend_url"}


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line (exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Conformance suite for the Live Interactive Video backend protocol.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run = commands.add_parser(
        "run",
        help="run the suite against a backend (embedded reference backend without a URL)",
        description="Run the conformance suite. Without BACKEND_URL the reference backend "
        "and a fake Twilio run in-process.",
        argument_default=argparse.SUPPRESS,
    )
    run.add_argument("backend_url", nargs="?", metavar="BACKEND_URL", help="the backend's base URL")
    for option in OPTIONS:
        if option.kind == "flag":
            run.add_argument(*option.flags, dest=option.name, action="store_true", help=option.help)
        elif option.kind == "list":
            run.add_argument(
                *option.flags,
                dest=option.name,
                action="append",
                metavar=option.metavar,
                help=option.help,
            )
        else:
            run.add_argument(
                *option.flags, dest=option.name, metavar=option.metavar, help=option.help
            )
    run.add_argument("--config", dest="config", metavar="FILE", help="a TOML file of settings")
    run.add_argument("-q", "--quiet", dest="quiet", action="count", help="less output")
    run.add_argument("-v", "--verbose", dest="verbose", action="count", help="more output")

    listing = commands.add_parser("requirements", help="list the protocol's requirements")
    listing.add_argument("--group", action="append", help="only this group (repeatable)")
    listing.add_argument("--level", action="append", help="only this level (repeatable)")
    listing.add_argument("--json", action="store_true", help="print JSON")

    explain = commands.add_parser("explain", help="explain one requirement and its check")
    explain.add_argument("requirement_id", metavar="ID")

    commands.add_parser("openapi", help="print the protocol's OpenAPI document")

    walkthrough = commands.add_parser(
        "walkthrough", help="play one stream against the embedded reference, step by step"
    )
    walkthrough.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    walkthrough.add_argument("--output", metavar="FILE", help="write to FILE, not stdout")
    walkthrough.add_argument("--no-color", action="store_true", help="no colour (or NO_COLOR)")
    return parser


# -- configuration layering ------------------------------------------------------------------------
def _convert(option_name: str, kind: str, value: Any, where: str) -> Any:
    try:
        if kind in ("str",):
            if not isinstance(value, str):
                raise ValueError("expected a string")
            return value
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError("expected a number")
            return float(value)
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("expected an integer")
            return int(value)
        if kind == "flag":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError("expected true or false")
        if kind == "list":
            items = value if isinstance(value, list) else [value]
            result: list[str] = []
            for item in items:
                if not isinstance(item, str):
                    raise ValueError("expected a string or a list of strings")
                result += [part.strip() for part in item.replace(",", " ").split() if part.strip()]
            return result
    except ValueError as exc:
        raise UsageError(f"{where}: {option_name}: {value!r}: {exc}") from None
    raise AssertionError(kind)


def _from_file(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise UsageError(f"cannot read the config file {path!r}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"the config file {path!r} is not valid TOML: {exc}") from None
    table = (
        data.get("tool", {}).get("live-conformance") if isinstance(data.get("tool"), dict) else None
    )
    if table is None:
        table = data.get("live-conformance", data)
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name == "consistency_bound":
            name = "consistency_timeout"
        if name == "tool" and key not in _BY_NAME:
            continue
        if name in _FILE_ONLY:
            values[name] = _convert(name, "str", value, path)
        elif name in _BY_NAME:
            values[name] = _convert(key, _BY_NAME[name].kind, value, path)
        else:
            raise UsageError(f"the config file {path!r} has an unknown setting {key!r}")
    return values


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if environ.get(ENV_PREFIX + "BACKEND_URL"):
        values["backend_url"] = environ[ENV_PREFIX + "BACKEND_URL"]
    for option in OPTIONS:
        raw = environ.get(option.env)
        if raw is not None and raw != "":
            values[option.name] = _convert(option.env, option.kind, raw, "environment")
    return values


def _from_flags(namespace: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    given = vars(namespace)
    if given.get("backend_url"):
        values["backend_url"] = given["backend_url"]
    for option in OPTIONS:
        if option.name in given:
            values[option.name] = _convert(
                option.flags[0], option.kind, given[option.name], "command line"
            )
    return values


def build_config(
    namespace: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> SuiteConfig:
    """The :class:`SuiteConfig` of a parsed ``run`` command line (flags > env > file)."""
    environ = os.environ if environ is None else environ
    config_file = getattr(namespace, "config", None) or environ.get(ENV_PREFIX + "CONFIG")
    merged: dict[str, Any] = {}
    if config_file:
        merged.update(_from_file(config_file))
    merged.update(_from_env(environ))
    merged.update(_from_flags(namespace))
    ids, groups = split_selection(merged.get("select", []))
    if merged.get("property") and merged.get("no_property"):
        raise UsageError("--property and --no-property exclude each other")
    if merged.get("property"):
        groups.add("PROP")
    verbosity = (getattr(namespace, "verbose", None) or 0) - (
        getattr(namespace, "quiet", None) or 0
    )
    config = SuiteConfig(
        backend_url=merged.get("backend_url"),
        passcode=merged.get("passcode"),
        twilio_url=merged.get("twilio"),
        capabilities=set(merged["capability"]) if merged.get("capability") else None,
        absent_capabilities=set(merged.get("no_capability", [])),
        auto_detect=not merged.get("no_auto_detect", False),
        select_ids=ids,
        select_groups=groups,
        select_levels={level.upper() for level in merged.get("level", [])},
        exclude_groups={"PROP"} if merged.get("no_property") else set(),
        expired_url=merged.get("expired_url"),
        expired_passcode=merged.get("expired_passcode"),
        api_key_secret=merged.get("api_key_secret"),
        public_base_url=merged.get("public_base_url"),
        baseline_path=merged.get("baseline"),
        seed=merged.get("seed"),
        report_json=merged.get("report_json"),
        junit=merged.get("junit"),
        html=merged.get("html"),
        verbosity=max(-1, min(1, verbosity)),
    )
    for option, field_name in (
        ("timeout", "request_timeout"),
        ("consistency_timeout", "consistency_timeout"),
        ("wait", "wait_seconds"),
        ("name_prefix", "name_prefix"),
        ("property_examples", "max_examples"),
        ("property_steps", "stateful_steps"),
        ("property_deadline", "property_deadline"),
    ):
        if option in merged:
            setattr(config, field_name, merged[option])
    problems = config.problems()
    if problems:
        raise UsageError(problems[0])
    return config


# -- commands ----------------------------------------------------------------------------------
def _run(namespace: argparse.Namespace, registry: Any = None) -> int:
    from .reports import TerminalReporter, write_reports
    from .runner import run

    config = build_config(namespace)
    if config.embedded and config.verbosity <= 0:
        _quiet_embedded_logs()
    reporter = TerminalReporter(verbosity=config.verbosity)
    report = run(config, registry=registry, on_start=reporter.start, on_result=reporter.result)
    if report.aborted:
        print(f"{PROG}: {report.reason}", file=sys.stderr)
    else:
        reporter.finish(report)
    try:
        written = write_reports(report)
    except OSError as exc:
        print(f"{PROG}: cannot write a report: {exc}", file=sys.stderr)
        return 2
    if written and config.verbosity >= 0 and not report.aborted:
        print(f"reports: {', '.join(written)}")
    return report.exit_code


def _quiet_embedded_logs() -> None:
    """The in-process backend and fake log their warnings (refused webhooks, injected Twilio
    failures): expected during a run, noise in its output. ``-v`` shows them."""
    import logging

    for name in ("reference_backend", "fake_twilio", "werkzeug"):
        logging.getLogger(name).addHandler(logging.NullHandler())


def _requirements(namespace: argparse.Namespace) -> int:
    groups = {g.upper() for g in namespace.group or []}
    levels = {lv.upper() for lv in namespace.level or []}
    known_groups = set(requirement_groups())
    for group in groups - known_groups:
        raise UsageError(f"unknown group {group!r} (groups: {', '.join(requirement_groups())})")
    for level in levels - set(LEVELS):
        raise UsageError(f"unknown level {level!r} (levels: {', '.join(LEVELS)})")
    chosen = [
        r
        for r in all_requirements()
        if (not groups or r.group in groups) and (not levels or r.level in levels)
    ]
    if namespace.json:
        print(json.dumps([r.__dict__ for r in chosen], indent=2, ensure_ascii=False))
        return 0
    for r in chosen:
        print(f"{r.id:<9}{r.level:<7}{(r.capability or '-'):<14}{r.title}")
    return 0


def _explain(namespace: argparse.Namespace) -> int:
    from .registry import load_default

    try:
        requirement = get_requirement(namespace.requirement_id)
    except KeyError:
        raise UsageError(
            f"unknown requirement {namespace.requirement_id!r} (see {PROG} requirements)"
        ) from None
    capability = requirement.capability or "none"
    lines = [
        f"{requirement.id} ({requirement.level}, group {requirement.group}, "
        f"capability: {capability})",
        requirement.title,
        "",
        "Requirement:",
        textwrap.fill(
            requirement.text,
            96,
            initial_indent="  ",
            subsequent_indent="  ",
            break_on_hyphens=False,
        ),
        "",
        "Rationale:",
        textwrap.fill(
            requirement.rationale or "-",
            96,
            initial_indent="  ",
            subsequent_indent="  ",
            break_on_hyphens=False,
        ),
        "",
    ]
    try:
        registry = load_default()
    except Exception as exc:
        lines.append(f"Enforced by: unknown (the checks could not be loaded: {exc})")
    else:
        check = registry.get(requirement.id)
        if check is None:
            lines.append("Enforced by: no check is registered for it yet")
        else:
            needs = [
                text
                for flag, text in (
                    (check.needs_twilio, "a view of Twilio (--twilio)"),
                    (check.needs_expired, "an expired deployment (--expired-url)"),
                )
                if flag
            ]
            suffix = f" (needs {' and '.join(needs)})" if needs else ""
            lines.append(f"Enforced by: {check.name}{suffix}")
            if check.doc:
                lines.append(textwrap.indent(check.doc, "  "))
    print("\n".join(lines))
    return 0


def _openapi(namespace: argparse.Namespace) -> int:
    from schemas.openapi import build_openapi

    print(json.dumps(build_openapi(), indent=2, ensure_ascii=False))
    return 0


def _walkthrough(namespace: argparse.Namespace) -> int:
    from .walkthrough import tell

    return tell(namespace.format, namespace.output, no_color=namespace.no_color)


_COMMANDS = {
    "run": _run,
    "requirements": _requirements,
    "explain": _explain,
    "openapi": _openapi,
    "walkthrough": _walkthrough,
}


def main(argv: Sequence[str] | None = None, *, registry: Any = None) -> int:
    """Entry point; returns the exit code.

    ``registry`` replaces the suite's checks for ``run`` (tests and embedders).
    """
    parser = _parser()
    try:
        namespace = parser.parse_args(argv)
        if not namespace.command:
            parser.print_help(sys.stderr)
            return 2
        if namespace.command == "run":
            return _run(namespace, registry)
        return _COMMANDS[namespace.command](namespace)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _entry() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
