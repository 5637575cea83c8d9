"""ISO-8601 durations as Conversations timers take them (``P1D``, ``PT10M``, ``P1DT12H``).

Supported designators: years (``Y``, counted as 365 days), months (``M`` before ``T``,
counted as 30 days), weeks (``W``), days (``D``), hours (``H``), minutes (``M`` after ``T``)
and seconds (``S``, fractions allowed). Anything else is not a duration.
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION_RE = re.compile(
    r"^P(?!$)"
    r"(?:(?P<years>\d+)Y)?"
    r"(?:(?P<months>\d+)M)?"
    r"(?:(?P<weeks>\d+)W)?"
    r"(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)"
    r"(?:(?P<hours>\d+)H)?"
    r"(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?"
    r")?$"
)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration; raise ``ValueError`` when ``text`` is not one."""
    match = _DURATION_RE.match(text.strip().upper())
    if match is None:
        raise ValueError(f"{text!r} is not an ISO-8601 duration")
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    if not parts:
        raise ValueError(f"{text!r} is not an ISO-8601 duration")
    try:
        return timedelta(
            days=parts.get("years", 0) * 365
            + parts.get("months", 0) * 30
            + parts.get("weeks", 0) * 7
            + parts.get("days", 0),
            hours=parts.get("hours", 0),
            minutes=parts.get("minutes", 0),
            seconds=parts.get("seconds", 0),
        )
    except OverflowError:  # beyond timedelta's 999,999,999 days
        raise ValueError(f"{text!r} is too long a duration") from None
