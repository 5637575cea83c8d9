"""``live-conformance`` (also ``python -m conformance``): run the suite and explore the protocol.

Subcommands:

* ``run [BACKEND_URL]``: run the suite against a backend, or, without a URL, against the
  reference backend embedded in-process. Its exit codes are :data:`EXIT_CODES` (also printed
  by ``run --help``): 0 conforming, 1 a MUST requirement failed, 2 the run could not happen or
  was stopped, 5 no check was executed, 130 interrupted.
* ``requirements [--group G] [--level L] [--json]``: list the requirements.
* ``explain ID``: a requirement's text, rationale, impact and the check that enforces it.
* ``openapi``: print the protocol's OpenAPI document.
* ``walkthrough [--format text|markdown|json] [--output FILE] [--no-color]``: play one stream
  against the embedded reference backend and tell it step by step (docs/WALKTHROUGH.md).
* ``baseline REPORT.json``: print a baseline (known-failures file, :mod:`.baseline`) listing
  the requirements that failed in a JSON report written by ``run --report-json``.
* ``--version``: print ``live-conformance <version>``.

Every ``run`` option can also be given as an environment variable ``LIVE_CONFORMANCE_<NAME>``
(e.g. ``LIVE_CONFORMANCE_PASSCODE``, ``LIVE_CONFORMANCE_CONSISTENCY_TIMEOUT``; lists
comma-separated) and in a TOML file named by ``--config`` (keys as the long options without
dashes, e.g. ``passcode = "..."``, ``capability = ["chat"]``, at the top level or under
``[tool.live-conformance]``). Flags win over the environment, which wins over the file, which
wins over the defaults. A ``LIVE_CONFORMANCE_*`` variable that names no setting is a usage
error. Usage errors print one line and exit 2, never a traceback; so does a report path that
cannot be written, found before the first request.

Output of ``run``: ``-q`` prints one line per failing requirement and the exit line; ``-v``
a line per result, full tracebacks and the warnings in detail; ``-vv`` also every exchange of
each failing check. Colour: ``--color``/``--no-color``, else ``NO_COLOR`` (off), else
``FORCE_COLOR`` (on unless ``0``), else on when standard output is a terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from .cli_options import ENV_PREFIX, ENV_VARIABLES, OPTIONS, TypedFlag, UsageError, build_config
from .requirements import LEVELS, all_requirements
from .requirements import get as get_requirement
from .requirements import groups as requirement_groups

__all__ = ["EXIT_CODES", "OPTIONS", "UsageError", "build_config", "main", "version"]

PROG = "live-conformance"
DISTRIBUTION = "live-video-conformance"


def version() -> str:
    """The installed version of the distribution (``unknown`` when it is not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


#: The exit codes of ``run``, as ``run --help`` prints them (README.md has the same table).
EXIT_CODES = """\
exit codes:
  0    every selected MUST requirement passed (or was skipped or baselined);
       SHOULD and MAY failures are warnings
  1    a MUST requirement failed
  2    the suite could not run or was stopped: bad flags, backend or fake Twilio
       unreachable, passcode refused, the backend stopped answering mid-run, a MUST
       check broke with a harness error
  5    no check was executed (nothing selected, or every selected check skipped)
  130  interrupted (Ctrl-C)
"""

#: ``run --help``: output, colour, and where settings come from.
RUN_EPILOG = f"""\
output:
  -q    one line per failing requirement, then the exit line
  -v    a line per result (also off a terminal), full tracebacks, warnings in detail,
        the embedded servers' logs
  -vv   as -v, plus every exchange (request and answer) of each failing check
  colour: --color / --no-color, else NO_COLOR set (off), else FORCE_COLOR set and
  not "0" (on, even off a terminal), else on when standard output is a terminal

stopping:
  -x is --maxfail 1; a MUST requirement that fails (or whose check breaks) counts,
  baselined failures and SHOULD/MAY warnings do not

settings:
  every option above (but --color/--no-color, -q and -v) can be set by an environment
  variable {ENV_PREFIX}<OPTION> (the long option upper-cased, dashes as underscores;
  lists comma-separated, flags true/false) or in the TOML file named by --config or
  {ENV_PREFIX}CONFIG (keys as the long options without dashes, at the top level or
  under [tool.live-conformance]); flags win over the environment, which wins over the
  file. Any other {ENV_PREFIX}* variable is an error. The variables:
{textwrap.fill(", ".join(ENV_VARIABLES), 88, initial_indent="  ", subsequent_indent="  ")}

{EXIT_CODES}"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line (exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Conformance suite for the Live Interactive Video backend protocol.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run = commands.add_parser(
        "run",
        help="run the suite against a backend (embedded reference backend without a URL)",
        description="Run the conformance suite. Without BACKEND_URL the reference backend\n"
        "and a fake Twilio run in-process.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    run.add_argument("backend_url", nargs="?", metavar="BACKEND_URL", help="the backend's base URL")
    for option in OPTIONS:
        run.add_argument(
            *option.flags,
            dest=option.name,
            action=TypedFlag,
            kind=option.kind,
            metavar=None if option.kind == "flag" else option.metavar,
            help=option.help,
        )
    run.add_argument("--config", dest="config", metavar="FILE", help="a TOML file of settings")
    run.add_argument(
        "-q", "--quiet", dest="quiet", action="count", help="one line per failing requirement"
    )
    run.add_argument(
        "-v", "--verbose", dest="verbose", action="count", help="more output (-vv: even more)"
    )
    colour = run.add_mutually_exclusive_group()
    colour.add_argument(
        "--color", dest="color", action="store_const", const=True, help="colour the output"
    )
    colour.add_argument(
        "--no-color", dest="color", action="store_const", const=False, help="no colour"
    )

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

    baseline = commands.add_parser(
        "baseline",
        help="print a baseline of the requirements that failed in a JSON report",
        description="Print a known-failures file (for run --baseline) listing the "
        "requirements whose status is 'fail' in REPORT (written by run --report-json), "
        "one per line as 'ID  # summary'.",
    )
    baseline.add_argument("report", metavar="REPORT.json", help="a report of run --report-json")
    return parser


# -- commands ----------------------------------------------------------------------------------
def _run(namespace: argparse.Namespace, registry: Any = None) -> int:
    config = build_config(namespace)
    for path in (config.report_json, config.junit, config.html):
        reason = _unwritable(path) if path else None
        if reason:
            print(f"{PROG}: cannot write {path}: {reason}", file=sys.stderr)
            return 2
    from .reports import TerminalReporter, write_reports
    from .runner import run

    if config.embedded and config.verbosity <= 0:
        _quiet_embedded_logs()
    color = _color(getattr(namespace, "color", None), os.environ)
    reporter = TerminalReporter(verbosity=config.verbosity, color=color)
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


def _color(flag: bool | None, environ: Mapping[str, str]) -> bool | None:
    """Whether to colour ``run``'s output: ``--color``/``--no-color``, else ``NO_COLOR`` (set
    and not empty: off), else ``FORCE_COLOR`` (set and not ``0``: on), else ``None`` (the
    reporter decides: on a terminal unless ``TERM=dumb``)."""
    if flag is not None:
        return flag
    if environ.get("NO_COLOR"):
        return False
    force = environ.get("FORCE_COLOR")
    if force is not None and force != "0":
        return True
    return None


def _unwritable(path: str) -> str | None:
    """Why a report cannot be written at ``path`` (``None``: it can), checked the way the
    report is written: its directory created, a temporary file made beside it."""
    target = Path(path)
    if target.is_dir():
        return "it is a directory"
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is a file, not a directory"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(descriptor)
        os.remove(temporary)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


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
        _paragraph(requirement.text),
        "",
        "Rationale:",
        _paragraph(requirement.rationale or "-"),
        "",
        "Impact (what breaks without it):",
        _paragraph(requirement.impact or "-"),
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


def _paragraph(text: str) -> str:
    """``text`` wrapped at 96 columns and indented by two spaces (explain's sections)."""
    return textwrap.fill(
        text, 96, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False
    )


def _openapi(namespace: argparse.Namespace) -> int:
    from schemas.openapi import build_openapi

    print(json.dumps(build_openapi(), indent=2, ensure_ascii=False))
    return 0


def _walkthrough(namespace: argparse.Namespace) -> int:
    from .walkthrough import tell

    return tell(namespace.format, namespace.output, no_color=namespace.no_color)


def _baseline(namespace: argparse.Namespace) -> int:
    from .baseline import known_failures_text

    path = namespace.report
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"no such report {path!r}") from None
    except IsADirectoryError:
        raise UsageError(f"the report {path!r} is a directory") from None
    except OSError as exc:
        raise UsageError(f"cannot read the report {path!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the report {path!r} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise UsageError(
            f"the report {path!r} is not JSON (write one with {PROG} run --report-json FILE)"
        ) from None
    try:
        output = known_failures_text(data, source=path)
    except ValueError as exc:
        raise UsageError(f"the report {path!r}: {exc}") from None
    sys.stdout.write(output)
    return 0


_COMMANDS = {
    "run": _run,
    "requirements": _requirements,
    "explain": _explain,
    "openapi": _openapi,
    "walkthrough": _walkthrough,
    "baseline": _baseline,
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
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0


def _entry() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
