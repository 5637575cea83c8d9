"""Media v1 (Twilio Live) resources as plain data, and the limits the API enforces.

- :class:`PlayerStreamer` (``VJ``): the livestream a Player SDK plays. ``created`` on create,
  ``started`` once a MediaProcessor sends media to it, then ``ended`` or ``failed`` for good.
- :class:`IssuedGrant`: one PlaybackGrant the streamer issued (the ``grant`` object a viewer's
  access token carries as its ``player`` grant), kept so a forged grant can be told apart.
- :class:`Viewer`: a Player SDK client recorded as connected to a streamer.
- :class:`MediaProcessor` (``ZX``): a running Media Extension (``video-composer-v2``...).
  ``started`` on create, then ``ended`` or ``failed``.

Facts from the archived Media v1 spec (twilio-oai 1.55.2) and Twilio Live's docs: MaxDuration
is 1..90000 s (default 300); a PlaybackGrant's Ttl is 1..60 s (default 15); the only status an
update may set is ``ended``; each ``ended_reason`` implies the final status below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DEFAULT_MAX_DURATION = 300
MIN_MAX_DURATION = 1
MAX_MAX_DURATION = 90_000
DEFAULT_GRANT_TTL = 15
MIN_GRANT_TTL = 1
MAX_GRANT_TTL = 60
CALLBACK_METHODS = ("HEAD", "GET", "POST", "PATCH", "PUT", "DELETE")
DEFAULT_CALLBACK_METHOD = "POST"
ORDERS = ("asc", "desc")
UPDATE_STATUSES = ("ended",)

STREAMER_STATUSES = ("created", "started", "ended", "failed")
PROCESSOR_STATUSES = ("started", "ended", "failed")

#: ended_reason -> the final status it implies (Twilio Live docs, "Ended Reason" tables).
STREAMER_ENDED_REASONS: dict[str, str] = {
    "ended-via-api": "ended",
    "max-duration-exceeded": "ended",
    "stream-disconnected-by-source": "ended",
    "unexpected-failure": "failed",
}
PROCESSOR_ENDED_REASONS: dict[str, str] = {
    "ended-via-api": "ended",
    "max-duration-exceeded": "ended",
    "error-loading-extension": "failed",
    "error-streaming-media": "failed",
    "internal-service-error": "failed",
}

#: Extensions that compose a Video Room into PlayerStreamers: their ExtensionContext names
#: ``room.name`` and ``outputs``, and they join the room as a participant whose identity starts
#: with the prefix (the original backend ignores ``video-composer*`` participants).
ROOM_EXTENSION_PREFIXES = ("video-composer", "audio-mixer")


def room_extension_family(extension: str) -> str | None:
    """The room-composing family of ``extension`` (``"video-composer"``...), or None."""
    for prefix in ROOM_EXTENSION_PREFIXES:
        if extension == prefix or extension.startswith(prefix + "-"):
            return prefix
    return None


@dataclass(eq=False)
class IssuedGrant:
    """A PlaybackGrant as issued: valid for starting playback until ``expires_at``."""

    playback_url: str
    player_streamer_sid: str
    date_created: datetime
    ttl: int
    expires_at: datetime
    access_control_allow_origin: str | None = None

    def grant(self) -> dict[str, Any]:
        """The ``grant`` object, exactly as the REST answer and the access token carry it."""
        return {
            "playbackUrl": self.playback_url,
            "playerStreamerSid": self.player_streamer_sid,
            "requestCredentials": None,
        }


@dataclass(eq=False)
class Viewer:
    """A player connected (or once connected) to a PlayerStreamer."""

    identity: str
    date_connected: datetime
    date_disconnected: datetime | None = None
    connections: int = 1

    @property
    def status(self) -> str:
        return "connected" if self.date_disconnected is None else "disconnected"


@dataclass(eq=False)
class PlayerStreamer:
    """A PlayerStreamer (``VJ``). ``sources`` holds the started MediaProcessors feeding it."""

    sid: str
    account_sid: str
    seq: int
    video: bool
    max_duration: int
    status_callback: str | None
    status_callback_method: str
    date_created: datetime
    date_updated: datetime
    status: str = "created"
    ended_reason: str | None = None
    grants: list[IssuedGrant] = field(default_factory=list)
    viewers: dict[str, Viewer] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)

    @property
    def active(self) -> bool:
        """``created`` or ``started`` (what MaxDuration counts, and what may still start)."""
        return self.status in ("created", "started")


@dataclass(eq=False)
class MediaProcessor:
    """A MediaProcessor (``ZX``). ``extension_context`` is the string exactly as sent."""

    sid: str
    account_sid: str
    seq: int
    extension: str
    extension_context: str
    extension_environment: dict[str, Any] | None
    max_duration: int
    status_callback: str | None
    status_callback_method: str
    date_created: datetime
    date_updated: datetime
    status: str = "started"
    ended_reason: str | None = None
    error_message: str | None = None
    room_sid: str | None = None
    participant_sid: str | None = None
    participant_identity: str | None = None
    outputs: list[str] = field(default_factory=list)
