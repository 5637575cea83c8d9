"""What no answer may disclose: the run's secrets (passcode, API key secret, auth token) and
stack traces or source locations.

Private to :mod:`conformance.checks`; used by the SEC checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..transport import Exchange

if TYPE_CHECKING:
    from ..context import CheckContext

_TRACE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Python traceback", re.compile(r"Traceback \(most recent call last\)")),
    ("a Python source location", re.compile(r"File \"[^\"]+\.py\", line \d+")),
    (
        "a source file with a line number",
        re.compile(r"[\w./\\-]+\.(?:py|js|ts|java|rb|go|php|cs)[:(]\d+"),
    ),
    ("a JavaScript stack frame", re.compile(r"\n\s+at [\w.<>$]+ \([^)]*:\d+:\d+\)")),
    ("a Java stack frame", re.compile(r"\n\s+at [\w.$]+\([\w]+\.java:\d+\)")),
)


def leaks(exchange: Exchange, secrets: Mapping[str, str | None]) -> list[str]:
    """What ``exchange``'s answer (body and headers) discloses: secrets and stack traces."""
    texts = [exchange.text]
    texts += [f"{name}: {value}" for name, value in exchange.headers.multi_items()]
    blob = "\n".join(texts)
    found = [f"the {label}" for label, value in secrets.items() if value and value in blob]
    found += [label for label, pattern in _TRACE_PATTERNS if pattern.search(blob)]
    return found


def secrets_of(ctx: CheckContext) -> dict[str, str | None]:
    """The secrets no answer may contain, as far as this run knows them."""
    found: dict[str, str | None] = {"passcode": ctx.config.passcode or ctx.backend.passcode}
    found["API key secret"] = ctx.config.api_key_secret
    if ctx.twilio is not None:
        found["API key secret"] = found["API key secret"] or ctx.twilio.credentials.api_key_secret
        found["auth token"] = ctx.twilio.credentials.auth_token
    expired = ctx.config.expired_passcode
    if expired:
        found["expired deployment's passcode"] = expired
    return found
