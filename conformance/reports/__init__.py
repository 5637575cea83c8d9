"""The suite's reports of a :class:`~conformance.runner.RunReport`.

* :func:`to_dict`: the JSON report (``schemas/conformance/report.json``), :mod:`.jsonreport`;
* :func:`to_xml`: JUnit XML for CI, :mod:`.junit`;
* :func:`to_html`: one self-contained HTML page, :mod:`.html`;
* :class:`TerminalReporter`: live progress and the closing summary, :mod:`.terminal`.

:func:`write_reports` writes the files a configuration asks for. Every report is redacted: no
passcode, Twilio secret or token signature reaches one (see :mod:`.evidence`).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .html import to_html
from .jsonreport import to_dict
from .junit import to_xml
from .terminal import TerminalReporter

if TYPE_CHECKING:
    from ..runner import RunReport

__all__ = ["TerminalReporter", "to_dict", "to_html", "to_xml", "write_reports"]


def _json_text(report: RunReport) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"


_WRITERS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("report_json", _json_text),
    ("junit", to_xml),
    ("html", to_html),
)


def write_reports(report: RunReport) -> list[str]:
    """Write the reports ``report.config`` names (``report_json``, ``junit``, ``html``).

    Parent directories are created. Each file is written to a temporary file beside it and
    then renamed over the target, so a reader never sees half a report and a failed write
    leaves the previous file intact. Returns the written paths, in that order; raises
    :class:`OSError` when one cannot be written.
    """
    written = []
    for setting, render in _WRITERS:
        path = getattr(report.config, setting)
        if path:
            _write_atomically(Path(path), render(report))
            written.append(path)
    return written


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; a report is redacted, not secret
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
