"""The HTML report (``--html``): one self-contained page a person can act on.

The page has no scripts, no links to anything outside itself and no external resources (the
style sheet is inline), so it can be attached to a CI run or mailed. It opens with the verdict
and the run's facts, then three sections in the order a reader acts on them: "Failures and
errors" (each with the requirement's text, the message, expected and actual side by side, the
exchange and its curl repro), "Warnings" (SHOULD/MAY requirements not met) and "Everything
else". Every piece of text is redacted with the run's secrets and then HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..outcomes import ERROR, FAIL, PASS, STATUSES, Result
from .evidence import (
    detail_beyond_values,
    exit_headline,
    expected_actual,
    report_redactor,
    sections,
)
from .jsonreport import FORMAT

if TYPE_CHECKING:
    from ..exchange import Exchange, Redactor
    from ..runner import RunReport

__all__ = ["to_html"]

_STYLE = """
:root { --fail: #b3261e; --error: #8e24aa; --pass: #1e7a34; --skip: #8a6d00; --base: #00707a;
  --line: #d8dbe0; --soft: #f4f5f7; --text: #1d1f23; --muted: #5c6370; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--text);
  margin: 0 auto; max-width: 1200px; padding: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; border-bottom: 2px solid var(--line); padding-bottom: .25rem;
  margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 0 0 .5rem; }
h4 { font-size: .85rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
  margin: .9rem 0 .3rem; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 4px;
  padding: .6rem .8rem; margin: 0; overflow-x: auto; white-space: pre-wrap;
  word-break: break-word; font: 13px/1.4 ui-monospace, "SF Mono", Menlo, Consolas, monospace; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .6rem;
  border-bottom: 1px solid var(--line); }
th { background: var(--soft); }
#groups table { width: auto; min-width: 28rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
nav a { margin-right: 1.2rem; }
.verdict { font-size: 1.2rem; font-weight: 600; padding: .6rem .9rem; border-radius: 4px;
  color: #fff; display: inline-block; margin: .25rem 0; }
.verdict.exit-0 { background: var(--pass); } .verdict.exit-1 { background: var(--fail); }
.verdict.exit-2 { background: var(--error); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 1rem 0; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; }
.card { border: 1px solid var(--line); border-left: 5px solid var(--fail); border-radius: 4px;
  padding: .9rem 1.1rem; margin: 1rem 0; }
.card.error { border-left-color: var(--error); } .card.warn { border-left-color: var(--skip); }
.card.baseline { border-left-color: var(--base); }
.pill { display: inline-block; border-radius: 999px; padding: 0 .55rem; font-size: .8rem;
  font-weight: 600; color: #fff; background: var(--muted); white-space: nowrap; }
.pill.pass { background: var(--pass); } .pill.fail { background: var(--fail); }
.pill.error { background: var(--error); } .pill.skip, .pill.warn { background: var(--skip); }
.pill.baseline { background: var(--base); } .pill.blocked { background: var(--base); }
.level { font-weight: 600; color: var(--muted); font-size: .85rem; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: .8rem; }
.muted { color: var(--muted); } .empty { color: var(--muted); font-style: italic; }
@media (max-width: 800px) { .side { grid-template-columns: 1fr; } }
"""


def to_html(report: RunReport) -> str:
    """The HTML page of ``report`` (a complete document starting with ``<!DOCTYPE html>``)."""
    return _Page(report).render()


class _Page:
    """Renders one report; ``_t`` redacts and escapes every piece of text it is given."""

    def __init__(self, report: RunReport) -> None:
        self.report = report
        self.redactor: Redactor = report_redactor(report)

    def _t(self, text: object) -> str:
        return html.escape(self.redactor.text(str(text)), quote=True)

    def render(self) -> str:
        report = self.report
        parts = sections(report.results)
        acting = [*parts.failures, *parts.errors, *parts.known]
        body = [self._header(report, len(acting), len(parts.warnings), len(parts.others))]
        if report.aborted:
            body.append(
                f'<section id="aborted"><h2>The suite could not run</h2>'
                f"<p>could not run: {self._t(report.reason)}</p>"
                "<p>No requirement was checked; fix the cause above and run again.</p></section>"
            )
        if report.stopped is not None:
            body.append(
                f'<section id="stopped"><h2>The run stopped early</h2>'
                f"<p>{self._t(report.reason)}</p><p>The checks it did not get to are listed as "
                "skipped, 'not run'.</p></section>"
            )
        body.append(self._facts(report))
        if not report.aborted:
            body.append(self._groups(report))
            causes = report.causes()
            if causes:
                body.append(self._causes(causes))
            body.append(self._section("failures", "Failures and errors", acting, self._failures))
            body.append(self._section("warnings", "Warnings", parts.warnings, self._warnings))
            body.append(self._section("others", "Everything else", parts.others, self._others))
        suite = report.versions.get("suite", "")
        body.append(
            f'<footer class="muted"><p>live-conformance {self._t(suite)}, '
            f"report format {FORMAT}.</p></footer>"
        )
        title = self._t(f"Conformance report: {exit_headline(report)}")
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body)
            + "\n</body>\n</html>\n"
        )

    # -- top of the page ---------------------------------------------------------------------
    def _header(self, report: RunReport, acting: int, warnings: int, others: int) -> str:
        nav = ""
        if not report.aborted:
            nav = (
                f'<nav><a href="#failures">Failures and errors ({acting})</a>'
                f'<a href="#warnings">Warnings ({warnings})</a>'
                f'<a href="#others">Everything else ({others})</a></nav>'
            )
        return (
            "<header><h1>Live Interactive Video backend: conformance report</h1>"
            f'<p class="verdict exit-{report.exit_code}">{self._t(exit_headline(report))}</p>'
            f"<p>{self._t(report.reason)}</p>{nav}</header>"
        )

    def _facts(self, report: RunReport) -> str:
        counts = report.counts()
        rows = [
            (
                "results",
                ", ".join(f"{counts[s]} {s}" for s in STATUSES) + f" ({len(report.results)})",
            ),
            ("backend", "embedded reference backend" if report.embedded else report.backend_url),
            ("fake Twilio", report.twilio_url or ("embedded" if report.embedded else "none")),
            ("seed", f"{report.seed} (repeat the run with --seed {report.seed})"),
            ("started", report.started_at.isoformat(timespec="seconds")),
            ("duration", f"{report.duration_s:.1f} s"),
            ("capabilities", self._capabilities(report)),
            ("baseline", self._baseline(report)),
            ("versions", ", ".join(f"{k} {v}" for k, v in sorted(report.versions.items()))),
        ]
        config = report.config
        chosen = [*sorted(config.select_ids), *sorted(config.select_groups)]
        chosen += sorted(config.select_levels)
        if chosen:
            rows.append(("selection", ", ".join(chosen)))
        if report.uncovered:
            rows.append(("no check registered", ", ".join(report.uncovered)))
        cells = "".join(f"<dt>{self._t(k)}</dt><dd>{self._t(v or '-')}</dd>" for k, v in rows)
        return f'<section id="run"><h2>The run</h2><dl class="facts">{cells}</dl></section>'

    def _capabilities(self, report: RunReport) -> str:
        if report.capabilities is None:
            return "not resolved"
        details = report.capabilities.details
        return "; ".join(
            f"{name}: {'present' if d['present'] else 'absent'} ({d['evidence']})"
            for name, d in sorted(details.items())
        )

    def _baseline(self, report: RunReport) -> str:
        if not report.baseline.path:
            return "none"
        known = ", ".join(r.id for r in report.baselined_failures) or "none"
        fixed = ", ".join(report.baseline_fixed) or "none"
        return (
            f"{report.baseline.path}: known failures {known}; "
            f"passing now, remove from the baseline: {fixed}"
        )

    def _groups(self, report: RunReport) -> str:
        head = "".join(f'<th class="num">{s}</th>' for s in STATUSES)
        rows = []
        for name, counts in [*report.by_group().items(), ("total", report.counts())]:
            cells = "".join(f'<td class="num">{counts[s]}</td>' for s in STATUSES)
            rows.append(f"<tr><th>{self._t(name)}</th>{cells}</tr>")
        return (
            '<section id="groups"><h2>By group</h2><table>'
            f"<thead><tr><th>group</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
            "</table></section>"
        )

    def _causes(self, causes: list[tuple[str, Result, list[Result]]]) -> str:
        items = "".join(
            f'<li><a href="#{self._t(owner.id)}">{self._t(owner.id)}</a> fails on: '
            f"{self._t(cause)}; it blocked "
            + ", ".join(f'<a href="#{self._t(r.id)}">{self._t(r.id)}</a>' for r in blocked)
            + "</li>"
            for cause, owner, blocked in causes
        )
        return (
            '<section id="causes"><h2>Root causes</h2><p>One defect, one failure: the checks '
            "a failure stopped are <i>blocked</i> (neither passed nor failed).</p>"
            f"<ul>{items}</ul></section>"
        )

    # -- the three sections ------------------------------------------------------------------
    def _section(
        self, anchor: str, title: str, results: list[Result], render: Callable[[list[Result]], str]
    ) -> str:
        inner = render(results) if results else '<p class="empty">None.</p>'
        return f'<section id="{anchor}"><h2>{title}</h2>{inner}</section>'

    def _failures(self, results: list[Result]) -> str:
        return "".join(self._card(r) for r in results)

    def _warnings(self, results: list[Result]) -> str:
        intro = (
            "<p>SHOULD and MAY requirements the backend does not meet. They never change the "
            "exit code.</p>"
        )
        return intro + "".join(self._card(r) for r in results)

    def _others(self, results: list[Result]) -> str:
        rows = []
        for result in results:
            said = [result.summary] if result.summary else []
            said += result.notes
            if result.baseline and result.status == PASS:
                said.append("listed in the baseline but passes: remove it from the baseline")
            text = "<br>".join(self._t(line) for line in said)
            if text:
                text = f'<br><span class="muted">{text}</span>'
            rows.append(
                f'<tr id="{self._t(result.id)}"><td>{self._t(result.id)}</td>'
                f'<td class="level">{self._t(result.level)}</td>'
                f"<td>{self._pill(result)}</td>"
                f'<td class="num">{result.duration_s:.2f}s</td>'
                f"<td>{self._t(result.title)}{text}</td></tr>"
            )
        return (
            "<table><thead><tr><th>ID</th><th>level</th><th>status</th>"
            '<th class="num">time</th><th>requirement</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
        )

    def _card(self, result: Result) -> str:
        kind = _kind(result)
        parts = [
            f'<article class="card {kind}" id="{self._t(result.id)}">',
            f"<h3>{self._pill(result)} {self._t(result.id)} "
            f'<span class="level">{self._t(result.level)}</span> {self._t(result.title)}</h3>',
            f"<p><b>Requirement:</b> {self._t(result.requirement.text)}</p>",
            f"<h4>Message</h4><pre>{self._t(result.summary or '(none)')}</pre>",
        ]
        if result.baseline and result.status == FAIL:
            parts.append(
                "<p><i>A known failure listed in the baseline: it does not fail the run.</i></p>"
            )
        expected, actual = expected_actual(result, self.redactor)
        if expected is not None or actual is not None:
            parts.append(
                '<div class="side">'
                f"<div><h4>Expected</h4><pre>{self._t(_or_dash(expected))}</pre></div>"
                f"<div><h4>Actual</h4><pre>{self._t(_or_dash(actual))}</pre></div></div>"
            )
        if result.exchange is not None:
            parts.append(f"<h4>Exchange</h4><pre>{self._t(result.exchange.describe())}</pre>")
            parts.append(self._token(result.exchange))
        if result.repro:
            commands = "\n\n".join(result.repro)  # one blank line between commands
            parts.append(f"<h4>Reproduce</h4><pre>{self._t(commands)}</pre>")
        detail = detail_beyond_values(result, self.redactor)
        if detail:
            opened = " open" if result.status == ERROR else ""
            label = "Traceback and detail" if result.status == ERROR else "Detail"
            parts.append(
                f"<details{opened}><summary>{label}</summary><pre>{self._t(detail)}</pre></details>"
            )
        parts += [f'<p class="muted">note: {self._t(n)}</p>' for n in result.notes]
        parts.append(self._more_exchanges(result))
        meta = f"{len(result.exchanges)} request(s), {result.duration_s:.2f}s"
        if result.check:
            meta += f", check {result.check}"
        parts.append(f'<p class="muted">{self._t(meta)}</p></article>')
        return "".join(parts)

    def _token(self, exchange: Exchange) -> str:
        """The access token of an answer, decoded beside the raw JWT (header and claims)."""
        body = exchange.json
        token = body.get("token") if isinstance(body, dict) else None
        decoded = decode_jwt(token) if isinstance(token, str) else None
        if decoded is None:
            return ""
        header, claims = (json.dumps(part, indent=2, ensure_ascii=False) for part in decoded)
        return (
            '<h4>Token</h4><div class="side">'
            f"<div><h4>Raw</h4><pre>{self._t(token)}</pre></div>"
            f"<div><h4>Decoded (not verified)</h4><pre>{self._t(header)}\n{self._t(claims)}"
            "</pre></div></div>"
        )

    def _more_exchanges(self, result: Result) -> str:
        others = [e for e in result.exchanges if e is not result.exchange]
        if not others:
            return ""
        shown = "\n\n".join(e.describe(limit=600) for e in others[-20:])
        omitted = len(others) - min(len(others), 20)
        note = f" (the last 20; {omitted} earlier omitted)" if omitted else ""
        return (
            f"<details><summary>The check's other {len(others)} request(s){note}</summary>"
            f"<pre>{self._t(shown)}</pre></details>"
        )

    def _pill(self, result: Result) -> str:
        return f'<span class="pill {_kind(result)}">{self._t(result.label)}</span>'


def _kind(result: Result) -> str:
    """The CSS class of a result: its status, or ``warn`` / ``baseline`` for failures that do
    not fail the run."""
    if result.status == FAIL and result.baseline:
        return "baseline"
    if result.warning:
        return "warn"
    return result.status


def decode_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """``(header, claims)`` of a JWT, read without verifying it (``None``: not a JWT)."""
    pieces = token.split(".")
    if len(pieces) != 3:
        return None
    decoded = []
    for piece in pieces[:2]:
        try:
            value = json.loads(base64.urlsafe_b64decode(piece + "=" * (-len(piece) % 4)))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(value, dict):
            return None
        decoded.append(value)
    return decoded[0], decoded[1]


def _or_dash(text: str | None) -> str:
    return "-" if text is None else text
