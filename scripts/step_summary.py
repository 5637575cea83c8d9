"""The Markdown step summary of a conformance run, from its JSON report (format "2").

Run by the composite action (action.yml) after the suite, standard library only::

    python scripts/step_summary.py REPORT.json [HTML_REPORT] >> "$GITHUB_STEP_SUMMARY"

Prints a table of the counts by status (``summary.counts``) and one row per failing, broken or
blocked requirement with its summary. A missing or unreadable report gives one line saying so
(the suite could not run: its own output says why); the exit code is always 0, so the summary
never changes the step's outcome.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

STATUSES = ("pass", "fail", "blocked", "skip", "error")
LISTED = ("fail", "error", "blocked")  # the statuses that get a row of their own


def _cell(text: Any) -> str:
    """``text`` as one Markdown table cell."""
    return " ".join(str(text if text is not None else "").split()).replace("|", "\\|")


def summary(report: dict[str, Any], html: str | None = None) -> str:
    """The Markdown summary of a JSON report."""
    head = report.get("summary", {})
    counts = head.get("counts", {})
    verdict = "conforms" if head.get("conforming") else "does not conform"
    backend = "the embedded reference backend" if head.get("embedded") else head.get("backend_url")
    lines = [
        "## Live Interactive Video conformance",
        "",
        f"The backend ({_cell(backend)}) **{verdict}** (exit code {head.get('exit_code')}, "
        f"seed {head.get('seed')}).",
        "",
        "| " + " | ".join(STATUSES) + " | total |",
        "|" + "---:|" * (len(STATUSES) + 1),
        "| "
        + " | ".join(str(counts.get(status, 0)) for status in STATUSES)
        + f" | {counts.get('total', sum(counts.get(s, 0) for s in STATUSES))} |",
    ]
    listed = [r for r in report.get("results", []) if r.get("status") in LISTED]
    if listed:
        lines += ["", "| Requirement | Level | Status | Summary |", "|---|---|---|---|"]
        for result in listed:
            lines.append(
                f"| {_cell(result.get('id'))} {_cell(result.get('title'))} "
                f"| {_cell(result.get('level'))} | {_cell(result.get('label'))} "
                f"| {_cell(result.get('summary'))} |"
            )
    if html:
        lines += ["", f"Full report: `{html}` (in the uploaded reports)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: step_summary.py REPORT.json [HTML_REPORT]", file=sys.stderr)
        return 0
    path = Path(argv[0])
    html = argv[1] if len(argv) > 1 and Path(argv[1]).is_file() else None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(report, dict):
            raise ValueError("not a JSON object")
        text = summary(report, html)
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        text = f"Live Interactive Video conformance: no report at `{path}` ({reason}).\n"
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
