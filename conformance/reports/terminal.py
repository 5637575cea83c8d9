"""The terminal report: live progress while checks run, then what to act on.

:class:`TerminalReporter` is driven by the runner's hooks: :meth:`~TerminalReporter.start`
once the plan is known, :meth:`~TerminalReporter.result` as each check finishes,
:meth:`~TerminalReporter.finish` with the whole :class:`~conformance.runner.RunReport`.
On a terminal (or with ``-v``) each result is one line (ID, level, status label, duration,
what happened); elsewhere (CI logs) one character per result (see
:func:`~.evidence.status_char`). The finish prints every failure and harness error in detail
(:func:`failure_text`, which the pytest plugin uses too), after the root causes that
blocked other checks (each with the failure that owns it), the warnings, the baseline's known
failures and fixed entries, the skips by reason, a table by group and the final
``exit N: reason`` line. Quiet (``verbosity=-1``) prints one line per failure and harness
error (``FAIL AUTH-1 (MUST): summary``) and the exit line; verbose (1) a line per result even off
a terminal, full tracebacks and the warnings and known failures in detail; very verbose (2) also
every exchange each failing check made (:func:`failure_text` with ``exchanges=True``).
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ..outcomes import ERROR, FAIL, PASS, SKIP, STATUSES, Result
from .evidence import sections, status_char

if TYPE_CHECKING:
    from ..runner import RunReport

__all__ = ["TerminalReporter", "failure_text"]

_WRAP = 100
_DOTS_PER_LINE = 80
_TRACEBACK_LINES = 12
_STYLES = {
    "fail": "1;31",
    "error": "1;35",
    "pass": "32",
    "skip": "33",
    "warn": "33",
    "baseline": "36",
    "blocked": "36",
    "bold": "1",
    "dim": "2",
}


# -- one result in detail (also the pytest plugin's failure text) ----------------------------------
def failure_text(
    result: Result, *, traceback_lines: int | None = None, exchanges: bool = False
) -> str:
    """A failed or broken result as readable text: what the requirement says, what went
    wrong, expected/actual, the exchange that shows it and the curl lines that reproduce it.

    Everything shown is already redacted (by the runner and the exchange). ``traceback_lines``
    shortens a harness error's traceback to its last lines (``None``: all of it).
    ``exchanges``: also every exchange the check made, in order (``-vv``).
    """
    lines = [f"{_tag(result)} {result.id} ({result.level}) {result.title}"]
    lines += _wrapped("requirement: ", result.requirement.text)
    if result.summary:
        lines += _wrapped("summary: ", result.summary)
    if result.baseline and result.status == FAIL:
        lines.append(
            "  baseline: a known failure, listed in the baseline; it does not fail the run"
        )
    detail = result.detail
    if detail and traceback_lines is not None and result.status == ERROR:
        detail = _shorten(detail, traceback_lines)
    if detail:
        lines.append("  detail:" if "\n" in detail else f"  detail: {detail}")
        if "\n" in detail:
            lines += _indented(detail, 4)
    for note in result.notes:
        lines += _wrapped("note: ", note)
    if result.exchange is not None:
        lines.append("  exchange:")
        lines += _indented(result.exchange.describe(), 4)
    if exchanges and result.exchanges:
        lines.append(f"  every exchange of the check ({len(result.exchanges)}):")
        for number, exchange in enumerate(result.exchanges, start=1):
            lines.append(f"    #{number}")
            lines += _indented(exchange.describe(), 6)
    if result.repro:
        lines.append("  reproduce:")
        lines += ["    " + line for line in result.repro]
    if result.check:
        lines.append(f"  check: {result.check}")
    return "\n".join(lines)


def _tag(result: Result) -> str:
    if result.status == ERROR:
        return "ERROR"
    if result.status == FAIL and result.baseline:
        return "KNOWN FAIL"
    if result.warning:
        return "NOT MET"
    return result.status.upper()


def _wrapped(label: str, text: str) -> list[str]:
    return textwrap.wrap(
        text,
        _WRAP,
        initial_indent="  " + label,
        subsequent_indent="    ",
        break_on_hyphens=False,
        break_long_words=False,
    ) or ["  " + label.rstrip()]


def _indented(text: str, spaces: int) -> list[str]:
    return [" " * spaces + line if line else "" for line in text.splitlines()]


def _shorten(detail: str, keep: int) -> str:
    lines = detail.splitlines()
    if len(lines) <= keep:
        return detail
    return "\n".join([f"... ({len(lines) - keep} lines above; -v shows them)", *lines[-keep:]])


# -- the reporter ----------------------------------------------------------------------------------
class TerminalReporter:
    """Writes a run's progress and outcome to ``stream`` (default: standard output).

    ``tty``: one line per result (default: whether ``stream`` is a terminal). ``color``: ANSI
    colours (default: on a terminal unless ``NO_COLOR`` is set and not empty, or ``TERM=dumb``;
    the CLI passes ``--color``/``--no-color``, ``NO_COLOR`` and ``FORCE_COLOR`` in here).
    ``verbosity``: -1 quiet (one line per failure, and the exit line), 0 normal, 1 verbose (a
    line per result even off a terminal, full tracebacks, warnings in detail), 2 very verbose
    (also every exchange of each failing check).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        color: bool | None = None,
        verbosity: int = 0,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.tty = _isatty(self.stream) if tty is None else tty
        if color is None:
            color = (
                self.tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM", "") != "dumb"
            )
        self.color = color
        self.verbosity = verbosity
        self._planned: int | None = None
        self._seen = 0
        self._dots = 0

    # -- runner hooks ------------------------------------------------------------------------
    def start(self, report: RunReport, plan: Sequence[Any]) -> None:
        """The checks are about to run: say what runs against what."""
        self._planned = len(plan) + len(report.results)
        if self.verbosity < 0:
            return
        target = (
            "the embedded reference backend"
            if report.embedded
            else report.backend_url or "the backend"
        )
        suite = report.versions.get("suite", "")
        self._write(
            self._paint(f"live-conformance {suite}".rstrip(), "bold")
            + f": {_plural(self._planned, 'check')} against {target} (seed {report.seed})\n"
        )
        if report.capabilities is not None:
            shown = []
            for name in sorted(report.capabilities.details):
                info = report.capabilities.details[name]
                mark = "" if info["present"] else "no "
                shown.append(f"{mark}{name} ({info['source']})")
            self._write(f"capabilities: {', '.join(shown)}\n")
        if report.twilio_url and not report.embedded:
            self._write(f"fake Twilio: {report.twilio_url}\n")

    def result(self, result: Result) -> None:
        """One check finished: its line, or its character."""
        self._seen += 1
        if self.verbosity < 0:
            return
        if self.tty or self.verbosity > 0:
            self._write(self._line(result) + "\n")
            return
        char = status_char(result)
        self._write(self._paint(char, _char_style(char)))
        self._dots += 1
        if self._dots % _DOTS_PER_LINE == 0:
            self._write(f" {self._seen}\n")

    def finish(self, report: RunReport) -> None:
        """The run is over: details of what failed, the tables, and the exit line."""
        if self._dots % _DOTS_PER_LINE:
            self._write("\n")
        self._dots = 0
        if report.aborted:
            self._write(f"could not run: {report.reason}\n")
            return
        if not report.results:
            self._write(self._paint(f"exit {report.exit_code}: {report.reason}", "error") + "\n")
            return
        if report.stopped is not None:
            self._write(self._paint(f"stopped: {report.reason}", "error") + "\n")
        parts = sections(report.results)
        if self.verbosity < 0:
            for result in [*parts.failures, *parts.errors]:
                self._write(self._paint_tag(self._failure_line(result)) + "\n")
            self._write(
                self._paint(f"exit {report.exit_code}: {report.reason}", _exit_style(report))
            )
            self._write("\n")
            return
        self._causes(report)
        detailed = [*parts.failures, *parts.errors]
        if self.verbosity > 0:
            detailed += [*parts.known, *parts.warnings]
        keep = None if self.verbosity > 0 else _TRACEBACK_LINES
        for result in detailed:
            text = failure_text(result, traceback_lines=keep, exchanges=self.verbosity > 1)
            self._write("\n" + self._paint_tag(text) + "\n")
        if parts.warnings and self.verbosity <= 0:
            self._write("\nWarnings (SHOULD/MAY requirements not met):\n")
            for result in parts.warnings:
                self._write(f"  {result.id} ({result.level}) {result.title}\n")
                self._write("\n".join(_wrapped("  ", result.summary)) + "\n")
        elif parts.warnings:
            self._write(f"\nWarnings (SHOULD/MAY requirements not met): {_ids(parts.warnings)}\n")
        if parts.known:
            self._write(f"\nKnown failures (baseline): {_ids(parts.known)}\n")
        if report.baseline_fixed:
            fixed = ", ".join(report.baseline_fixed)
            self._write(
                f"Baselined requirements that pass now (remove from the baseline): {fixed}\n"
            )
        if self.verbosity == 0:
            self._optional_notes(report.results)
        if self.verbosity >= 0:
            self._skips(report.results)
            if report.uncovered:
                self._write(f"\nNo check registered for ({len(report.uncovered)}):\n")
                self._write("\n".join(_wrapped("", ", ".join(report.uncovered))) + "\n")
            self._table(report)
        self._write(self._paint(f"exit {report.exit_code}: {report.reason}", _exit_style(report)))
        self._write("\n")

    # -- pieces ------------------------------------------------------------------------------
    def _failure_line(self, result: Result) -> str:
        """A failure or harness error in one line (quiet output)."""
        text = " ".join((result.summary or result.title).split())
        return f"{_tag(result)} {result.id} ({result.level}): {text}"

    def _line(self, result: Result) -> str:
        counter = ""
        if self._planned:
            width = len(str(self._planned))
            counter = f"[{self._seen:>{width}}/{self._planned}] "
        label = result.label
        painted = self._paint(label, _label_style(result)) + " " * max(1, 16 - len(label))
        head = f"{counter}{result.id:<9}{result.level:<7}{painted}{result.duration_s:>6.2f}s  "
        text = result.title if result.status == PASS else result.summary
        room = max(20, _columns() - len(counter) - 41)
        if self.verbosity <= 0 and len(text) > room:
            text = text[: room - 3] + "..."
        line = head + text
        if self.verbosity > 0:
            line += "".join(f"\n{' ' * len(counter)}    note: {note}" for note in result.notes)
        return line

    def _causes(self, report: RunReport) -> None:
        """Root causes first: each failure that blocked other checks, and what it blocked."""
        causes = report.causes()
        if not causes:
            return
        self._write("\nRoot causes (one defect, one failure; the checks it stopped are blocked):\n")
        for cause, owner, blocked in causes:
            self._write("\n".join(_wrapped(f"{owner.id} ({owner.level}): ", cause)) + "\n")
            self._write("\n".join(_wrapped("  blocked: ", _ids(blocked))) + "\n")

    def _optional_notes(self, results: Sequence[Result]) -> None:
        """How the SHOULD/MAY requirements that passed are met (what their checks noted)."""
        noted = [r for r in results if r.level != "MUST" and r.status == PASS and r.notes]
        if not noted:
            return
        self._write("\nNotes on SHOULD/MAY requirements:\n")
        for result in noted:
            self._write("\n".join(_wrapped(f"{result.id}: ", "; ".join(result.notes))) + "\n")

    def _skips(self, results: Sequence[Result]) -> None:
        by_reason: dict[str, list[str]] = {}
        for result in results:
            if result.status == SKIP:
                by_reason.setdefault(result.summary or "no reason given", []).append(result.id)
        if not by_reason:
            return
        total = sum(len(ids) for ids in by_reason.values())
        self._write(f"\nSkipped ({total}):\n")
        for reason, ids in by_reason.items():
            self._write("\n".join(_wrapped(f"{', '.join(ids)}: ", reason)) + "\n")

    def _table(self, report: RunReport) -> None:
        header = f"{'group':<8}" + "".join(f"{s:>8}" for s in STATUSES) + f"{'time':>9}"
        self._write("\n" + self._paint(header, "bold") + "\n")
        for group, counts in report.by_group().items():
            seconds = sum(r.duration_s for r in report.results if r.group == group)
            self._write(_row(group, counts, seconds) + "\n")
        total = report.counts()
        seconds = sum(r.duration_s for r in report.results)
        self._write(self._paint(_row("total", total, seconds), "bold") + "\n")
        self._write(
            f"{report.duration_s:.1f}s in all; seed {report.seed} "
            f"(repeat with --seed {report.seed})\n"
        )

    def _paint(self, text: str, style: str | None) -> str:
        if not self.color or not style or style not in _STYLES:
            return text
        return f"\x1b[{_STYLES[style]}m{text}\x1b[0m"

    def _paint_tag(self, block: str) -> str:
        """Colour the first word of a failure block (FAIL, ERROR...)."""
        if not self.color:
            return block
        tag, _, rest = block.partition(" ")
        style = {"FAIL": "fail", "ERROR": "error", "NOT": "warn", "KNOWN": "baseline"}.get(tag)
        return self._paint(tag, style) + " " + rest

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def _row(name: str, counts: dict[str, int], seconds: float) -> str:
    cells = "".join(f"{counts.get(status, 0):>8}" for status in STATUSES)
    return f"{name:<8}{cells}{seconds:>8.1f}s"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _ids(results: Sequence[Result]) -> str:
    return ", ".join(r.id for r in results)


def _label_style(result: Result) -> str:
    if result.baseline and result.status == FAIL:
        return "baseline"
    if result.warning:
        return "warn"
    return result.status


def _char_style(char: str) -> str | None:
    styles = {".": "pass", "F": "fail", "E": "error", "s": "skip", "b": "baseline", "w": "warn"}
    return {**styles, "B": "blocked"}.get(char)


def _exit_style(report: RunReport) -> str:
    return {0: "pass", 1: "fail"}.get(report.exit_code, "error")


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _columns() -> int:
    return shutil.get_terminal_size((120, 24)).columns
