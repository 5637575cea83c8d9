"""A property example as a readable, replayable script.

Every move of an example is a :class:`Step`: a request to the backend (with its exchange, so
that its curl line can be printed) or a client's move at Twilio (connecting to the room,
dropping a Sync connection...), which has no curl line and is described in words. When the
example fails, :class:`SequenceFailed` carries the numbered script (rendered into the
result's ``detail``) and the curl lines of its requests (the result's ``repro``), so every
report format shows the whole sequence, not only the last request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..outcomes import CheckFailed
from ..transport import Exchange

__all__ = ["Script", "SequenceFailed", "Step"]

_BODY_LIMIT = 300


@dataclass
class Step:
    """One move: ``text`` describes it; ``exchange`` is set for requests to the backend."""

    text: str
    exchange: Exchange | None = None


@dataclass
class Script:
    """The moves of one example, in order."""

    steps: list[Step] = field(default_factory=list)

    def request(self, exchange: Exchange) -> Step:
        """Record a request to the backend; its line shows the JSON sent and the status."""
        sent = exchange.request.text if exchange.request.body else ""
        shown = sent if len(sent) <= _BODY_LIMIT else sent[:_BODY_LIMIT] + "..."
        answer = exchange.status if exchange.status is not None else "no answer"
        message = exchange.error_message
        suffix = f" ({message})" if message else ""
        step = Step(
            f"POST /{exchange.endpoint or exchange.request.path.strip('/')} {shown}"
            f" -> {answer}{suffix}",
            exchange,
        )
        self.steps.append(step)
        return step

    def twilio(self, text: str) -> Step:
        """Record a client's move at Twilio (made through the fake's control plane)."""
        step = Step(f"(Twilio) {text}")
        self.steps.append(step)
        return step

    @property
    def requests(self) -> int:
        return sum(1 for step in self.steps if step.exchange is not None)

    def __len__(self) -> int:
        return len(self.steps)

    def render(self, redact: object = None) -> str:
        """The numbered script, one move per line."""
        lines = [f"{n:>2}. {step.text}" for n, step in enumerate(self.steps, 1)]
        text = "\n".join(lines) if lines else "(no move)"
        return redact.text(text) if redact is not None else text  # type: ignore[attr-defined]

    def curl_lines(self) -> list[str]:
        """One curl line per request, each preceded by its step number as a comment."""
        lines: list[str] = []
        for number, step in enumerate(self.steps, 1):
            if step.exchange is not None:
                lines.append(f"# step {number}")
                lines.append(step.exchange.curl())
            elif step.text.startswith("(Twilio)"):
                lines.append(f"# step {number}: {step.text}")
        return lines


class SequenceFailed(CheckFailed):
    """A property failed: the failure of the last (shrunk) example plus its script.

    ``detail`` and ``repro`` are picked up by the runner (result detail and curl lines).
    """

    def __init__(self, failure: CheckFailed, script: Script, *, header: str) -> None:
        super().__init__(
            f"{failure.summary} (after a sequence of {len(script)} moves, "
            f"{script.requests} requests)",
            exchange=failure.exchange,
            expected=failure.expected,
            actual=failure.actual,
        )
        self.script = script
        self.detail = f"{header}\n{script.render()}"
        self.repro = script.curl_lines()


def describe_params(params: object) -> str:
    """Parameters as compact JSON (for step texts)."""
    return json.dumps(params, ensure_ascii=False, separators=(", ", ": "))
