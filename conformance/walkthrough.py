"""``live-conformance walkthrough``: the protocol as a story, told by running it.

One stream's life is played against the reference backend and a fake Twilio, both embedded
in this process (:func:`conformance.embedded.start`): the passcode check (wrong, then right),
the host creating the stream and going on air, a viewer joining, watching, raising a hand,
being invited, joining as a speaker and connecting to the room, being removed, the stream
ending, and an error answer. Each :class:`Step` records what was sent to the backend and what
came back (tokens decoded), the clients' moves at Twilio, the REST calls the backend made to
Twilio (the fake's journal), the webhooks Twilio delivered, and the Twilio state afterwards
(Sync maps and user documents, room, PlayerStreamer, MediaProcessor). Every step names the
requirements (``schemas/protocol/requirements.json``) it demonstrates.

The story is deterministic so that its Markdown rendering can be committed
(``docs/WALKTHROUGH.md``) and compared byte for byte: names and identities are fixed, the
passcode is shown as ``<passcode>``, tokens are shortened (their decoded claims are shown
instead, with the lifetime rather than the instants), timestamps are left out, and the fake's
random SIDs are renumbered in order of first appearance (``RM00000000000000000000000000000001``)
by :class:`SidRenumbering`. The fake's fixed default account and API key SIDs are kept.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from .walkthrough_recorder import Recorder, Step, WalkthroughFailed
from .walkthrough_story import STREAM, play

__all__ = ["STREAM", "SidRenumbering", "Step", "WalkthroughFailed", "run_walkthrough", "tell"]

_SID_RE = re.compile(r"\b([A-Z]{2})([0-9a-f]{32})\b")
_QUERY_TOKEN_RE = re.compile(r"([?&]token=)[^&\"\s]+")


class SidRenumbering:
    """Replaces random SIDs by ``<prefix>0...0<n>``, numbered per prefix in order of first
    appearance, so two runs of the same story print the same text. SIDs in ``keep`` stay."""

    def __init__(self, keep: set[str]) -> None:
        self._keep = keep
        self._aliases: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def text(self, value: str) -> str:
        return _SID_RE.sub(self._alias, _QUERY_TOKEN_RE.sub(r"\1<playback-token>", value))

    def data(self, value: Any) -> Any:
        """``value`` (JSON-like) with every string renumbered; dict keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        return value

    def _alias(self, match: re.Match[str]) -> str:
        sid = match.group(0)
        if sid in self._keep:
            return sid
        if sid not in self._aliases:
            prefix = match.group(1)
            self._counts[prefix] = self._counts.get(prefix, 0) + 1
            self._aliases[sid] = f"{prefix}{self._counts[prefix]:032d}"
        return self._aliases[sid]


def run_walkthrough() -> list[dict[str, Any]]:
    """Play the story against a fresh embedded pair; the steps as JSON-ready dicts.

    Raises :class:`WalkthroughFailed` when the backend breaks the story.
    """
    from .embedded import start

    embedded = start()
    try:
        recorder = Recorder(embedded)
        play(recorder)
        credentials = embedded.twilio.credentials
        renumbering = SidRenumbering({credentials.account_sid, credentials.api_key_sid})
        return [
            renumbering.data(step.as_dict(number))
            for number, step in enumerate(recorder.steps, start=1)
        ]
    finally:
        embedded.close()


def tell(
    fmt: str,
    output: str | None = None,
    *,
    no_color: bool = False,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """``live-conformance walkthrough``: play the story, render it in ``fmt``, print it or
    write it to ``output``. Colour only for ``text`` on a terminal, unless ``no_color`` or
    ``NO_COLOR`` is set. Exit code 0, 1 when the backend broke the story, 2 when the output
    cannot be written."""
    from .walkthrough_render import render

    environ = os.environ if environ is None else environ
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    for name in ("reference_backend", "fake_twilio", "werkzeug"):
        logging.getLogger(name).addHandler(logging.NullHandler())
    try:
        steps = run_walkthrough()
    except WalkthroughFailed as exc:
        print(f"live-conformance: walkthrough stopped at {exc}", file=stderr)
        return 1
    color = (
        fmt == "text"
        and output is None
        and not no_color
        and not environ.get("NO_COLOR")
        and stdout.isatty()
    )
    text = render(steps, fmt, color=color)
    if output is None:
        stdout.write(text)
        return 0
    try:
        with open(output, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        print(f"live-conformance: cannot write {output!r}: {exc.strerror}", file=stderr)
        return 2
    return 0
