"""Video v1 resources as plain data: :class:`Room` and :class:`Participant`, and their JSON.

The JSON produced here is exactly what the REST API answers (field set and order of the wire
contract, Twilio's datetime format, absolute ``https://video.twilio.com`` URLs); ``dump_json``
adds the fake's own bookkeeping for the state dump.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..core.clock import format_datetime

BASE_URL = "https://video.twilio.com/v1"

IN_PROGRESS = "in-progress"
COMPLETED = "completed"
FAILED = "failed"
ROOM_STATUSES = (IN_PROGRESS, COMPLETED, FAILED)

CONNECTED = "connected"
DISCONNECTED = "disconnected"
RECONNECTING = "reconnecting"
PARTICIPANT_STATUSES = (CONNECTED, DISCONNECTED, RECONNECTING)


def room_url(room_sid: str) -> str:
    return f"{BASE_URL}/Rooms/{room_sid}"


def seconds_between(start: datetime, end: datetime) -> int:
    """Whole seconds from ``start`` to ``end`` (never negative)."""
    return max(0, int((end - start).total_seconds()))


@dataclass(eq=False)
class Participant:
    """One connection of a client to a Room (SID prefix ``PA``).

    ``disconnect_code`` is the Twilio error code the client saw when it was disconnected by the
    fake rather than by leaving: 53205 (duplicate identity), 53216 (MaxParticipantDuration).
    """

    sid: str
    room_sid: str
    account_sid: str
    identity: str
    date_created: datetime
    status: str = CONNECTED
    date_updated: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    disconnect_code: int | None = None
    deadline: Any = field(default=None, repr=False)  # MaxParticipantDuration scheduler entry

    def __post_init__(self) -> None:
        if self.date_updated is None:
            self.date_updated = self.date_created
        if self.start_time is None:
            self.start_time = self.date_created

    @property
    def duration(self) -> int | None:
        """Seconds connected; None until disconnected."""
        if self.end_time is None or self.start_time is None:
            return None
        return seconds_between(self.start_time, self.end_time)

    @property
    def url(self) -> str:
        return f"{room_url(self.room_sid)}/Participants/{self.sid}"

    def to_json(self) -> dict[str, Any]:
        """The REST representation (video.v1.room.room_participant)."""
        url = self.url
        return {
            "sid": self.sid,
            "room_sid": self.room_sid,
            "account_sid": self.account_sid,
            "status": self.status,
            "identity": self.identity,
            "date_created": format_datetime(self.date_created),
            "date_updated": format_datetime(self.date_updated),
            "start_time": format_datetime(self.start_time),
            "end_time": format_datetime(self.end_time),
            "duration": self.duration,
            "url": url,
            "links": {
                "published_tracks": f"{url}/PublishedTracks",
                "subscribed_tracks": f"{url}/SubscribedTracks",
                "subscribe_rules": f"{url}/SubscribeRules",
                "anonymize": f"{url}/Anonymize",
            },
        }

    def dump_json(self) -> dict[str, Any]:
        """The REST representation plus the fake's bookkeeping."""
        return {**self.to_json(), "disconnect_code": self.disconnect_code}


@dataclass(eq=False)
class Room:
    """A Video Room (SID prefix ``RM``) with its participants.

    ``participants`` holds every participant ever connected, by SID, in join order;
    ``connected`` the currently connected ones by identity (at most one per identity).
    ``sequence`` is the next status-callback ``SequenceNumber``. ``end_reason`` is
    ``"completed-via-api"``, ``"empty-room-timeout"``, ``"unused-room-timeout"`` or None.
    """

    sid: str
    account_sid: str
    unique_name: str
    type: str
    date_created: datetime
    seq: int
    status_callback: str | None = None
    status_callback_method: str = "POST"
    max_participants: int = 50
    max_participant_duration: int = 14400
    max_concurrent_published_tracks: int | None = None
    record_participants_on_connect: bool = False
    transcribe_participants_on_connect: bool = False
    transcriptions_configuration: dict[str, Any] | None = None
    recording_rules: dict[str, Any] | None = None
    video_codecs: list[str] = field(default_factory=list)
    media_region: str | None = "us1"
    audio_only: bool = False
    empty_room_timeout: int = 5
    unused_room_timeout: int = 5
    large_room: bool = False
    enable_turn: bool = True
    status: str = IN_PROGRESS
    date_updated: datetime | None = None
    end_time: datetime | None = None
    end_reason: str | None = None
    sequence: int = 0
    ever_joined: bool = False
    empty_since: datetime | None = None
    deadline: Any = field(default=None, repr=False)  # pending unused/empty timeout entry
    participants: dict[str, Participant] = field(default_factory=dict, repr=False)
    connected: dict[str, Participant] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.date_updated is None:
            self.date_updated = self.date_created

    @property
    def duration(self) -> int | None:
        """Seconds from creation to end; None while the room is in progress."""
        if self.end_time is None:
            return None
        return seconds_between(self.date_created, self.end_time)

    @property
    def url(self) -> str:
        return room_url(self.sid)

    def next_sequence(self) -> int:
        """Take the next status-callback SequenceNumber (0, 1, 2... per room)."""
        number = self.sequence
        self.sequence += 1
        return number

    def to_json(self) -> dict[str, Any]:
        """The REST representation (video.v1.room)."""
        url = self.url
        return {
            "sid": self.sid,
            "status": self.status,
            "date_created": format_datetime(self.date_created),
            "date_updated": format_datetime(self.date_updated),
            "account_sid": self.account_sid,
            "enable_turn": self.enable_turn,
            "unique_name": self.unique_name,
            "status_callback": self.status_callback,
            "status_callback_method": self.status_callback_method,
            "end_time": format_datetime(self.end_time),
            "duration": self.duration,
            "type": self.type,
            "max_participants": self.max_participants,
            "max_participant_duration": self.max_participant_duration,
            "max_concurrent_published_tracks": self.max_concurrent_published_tracks,
            "record_participants_on_connect": self.record_participants_on_connect,
            "video_codecs": list(self.video_codecs),
            "media_region": self.media_region,
            "audio_only": self.audio_only,
            "empty_room_timeout": self.empty_room_timeout,
            "unused_room_timeout": self.unused_room_timeout,
            "large_room": self.large_room,
            "url": url,
            "links": {
                "participants": f"{url}/Participants",
                "recordings": f"{url}/Recordings",
                "transcriptions": f"{url}/Transcriptions",
                "recording_rules": f"{url}/RecordingRules",
            },
        }

    def dump_json(self) -> dict[str, Any]:
        """The REST representation, the fake's bookkeeping and every participant."""
        return {
            **self.to_json(),
            "transcribe_participants_on_connect": self.transcribe_participants_on_connect,
            "transcriptions_configuration": self.transcriptions_configuration,
            "recording_rules": self.recording_rules,
            "end_reason": self.end_reason,
            "next_sequence_number": self.sequence,
            "participants": [p.dump_json() for p in self.participants.values()],
        }
