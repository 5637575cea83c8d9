"""Twilio SIDs: a two-letter prefix and 32 lowercase hex digits (34 characters)."""

from __future__ import annotations

import re
import secrets

SID_RE = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")

# The prefixes the fake hands out, by resource (see docs/ARCHITECTURE.md).
PREFIXES = {
    "account": "AC",
    "api_key": "SK",
    "room": "RM",
    "participant": "PA",
    "player_streamer": "VJ",
    "media_processor": "ZX",
    "sync_service": "IS",
    "document": "ET",
    "map": "MP",
    "list": "ES",
    "stream": "TO",
    "stream_message": "TZ",
    "conversation_service": "IS",
    "conversation": "CH",
    "conversation_participant": "MB",
}


def new_sid(prefix: str) -> str:
    """Return a fresh random SID with ``prefix``."""
    return prefix + secrets.token_hex(16)


def is_sid(value: str, prefix: str | None = None) -> bool:
    """True when ``value`` is shaped like a SID (with ``prefix`` when given)."""
    if not SID_RE.match(value or ""):
        return False
    return prefix is None or value.startswith(prefix)
