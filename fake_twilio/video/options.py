"""Room creation options: what ``POST /v1/Rooms`` accepts, Twilio's defaults and limits.

:class:`RoomOptions` carries the already type-converted form fields (None = not given);
:func:`resolve_options` checks them against each other and the room type's limits and
returns the final settings, raising the Video error Twilio gives for the first problem. It
never touches state, so a rejected creation changes nothing.

Limits per type (Twilio's Programmable Video limits): ``group`` up to 50 participants,
``group-small`` 4, ``peer-to-peer`` 10, ``go`` 2; AudioOnly and recording need a Group type
(``group`` / ``group-small``); LargeRoom needs ``group``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..core.errors import TwilioError

ROOM_TYPES = ("group", "go", "peer-to-peer", "group-small")
DEFAULT_TYPE = "group"
VIDEO_CODECS = ("VP8", "H264")
CALLBACK_METHODS = ("GET", "POST")
MEDIA_REGIONS = ("us1", "us2", "au1", "br1", "ie1", "jp1", "sg1", "in1", "de1", "gll")
DEFAULT_MEDIA_REGION = "us1"

MAX_UNIQUE_NAME = 128
MIN_PARTICIPANT_DURATION, MAX_PARTICIPANT_DURATION = 600, 86400
DEFAULT_PARTICIPANT_DURATION = 14400
MIN_TIMEOUT, MAX_TIMEOUT, DEFAULT_TIMEOUT = 1, 60, 5  # minutes


@dataclass(frozen=True)
class TypeRules:
    """What one room type allows."""

    max_participants: int
    published_tracks: int
    group: bool  # AudioOnly and recording are Group-room features


TYPE_RULES: dict[str, TypeRules] = {
    "group": TypeRules(50, 170, True),
    "group-small": TypeRules(4, 170, True),
    "peer-to-peer": TypeRules(10, 0, False),
    "go": TypeRules(2, 0, False),
}
LARGE_ROOM_PUBLISHED_TRACKS = 16


@dataclass
class RoomOptions:
    """The form fields of ``POST /v1/Rooms``, converted but not yet checked (None = absent)."""

    type: str | None = None
    unique_name: str | None = None
    status_callback: str | None = None
    status_callback_method: str | None = None
    max_participants: int | None = None
    record_participants_on_connect: bool | None = None
    transcribe_participants_on_connect: bool | None = None
    transcriptions_configuration: dict[str, Any] | None = None
    video_codecs: list[str] | None = None
    media_region: str | None = None
    recording_rules: dict[str, Any] | None = None
    audio_only: bool | None = None
    max_participant_duration: int | None = None
    empty_room_timeout: int | None = None
    unused_room_timeout: int | None = None
    large_room: bool | None = None
    enable_turn: bool | None = None


def is_callback_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check_recording_rules(rules: Any) -> None:
    """Twilio's Recording Rules: ``{"rules": [{"type": "include"|"exclude", <filter>...}]}``."""
    filters = ("all", "kind", "publisher", "track")
    ok = isinstance(rules, dict) and isinstance(rules.get("rules"), list)
    if ok:
        for rule in rules["rules"]:
            if (
                not isinstance(rule, dict)
                or rule.get("type") not in ("include", "exclude")
                or not any(name in rule for name in filters)
                or any(name not in (*filters, "type") for name in rule)
            ):
                ok = False
                break
    if not ok:
        raise TwilioError(53120, "Invalid Recording Rule(s)")


def resolve_options(options: RoomOptions) -> dict[str, Any]:
    """Check ``options`` and return the room's final settings (keyword arguments of Room).

    Errors: 53108 unknown Type; 53100 empty UniqueName, 53101 UniqueName over 128 characters;
    53111 StatusCallback not an absolute http(s) URL; 53110 StatusCallbackMethod not GET/POST;
    53107 MaxParticipants outside 1..limit of the type; 53123 MaxParticipantDuration outside
    600..86400; 53109 EmptyRoomTimeout/UnusedRoomTimeout outside 1..60 minutes; 53124
    AudioOnly on a non-Group type; 53122 RecordParticipantsOnConnect on a non-Group type;
    53103 LargeRoom on another type than ``group``, unknown MediaRegion or VideoCodecs value;
    53120 malformed RecordingRules.
    """
    room_type = options.type if options.type is not None else DEFAULT_TYPE
    if room_type not in TYPE_RULES:
        raise TwilioError(53108, f"RoomType is not valid: {room_type!r}")
    rules = TYPE_RULES[room_type]

    name = options.unique_name
    if name is not None:
        if name == "":
            raise TwilioError(53100, "Room name is invalid")
        if len(name) > MAX_UNIQUE_NAME:
            raise TwilioError(53101, f"Room name is too long (max {MAX_UNIQUE_NAME} characters)")

    callback = options.status_callback or None
    if callback is not None and not is_callback_url(callback):
        raise TwilioError(53111, "StatusCallback is invalid")
    method = (options.status_callback_method or "POST").upper()
    if method not in CALLBACK_METHODS:
        raise TwilioError(53110, "StatusCallbackMethod is invalid")

    max_participants = options.max_participants
    if max_participants is None:
        max_participants = rules.max_participants
    elif not 1 <= max_participants <= rules.max_participants:
        raise TwilioError(
            53107,
            f"MaxParticipants is out of range: must be between 1 and {rules.max_participants} "
            f"for {room_type} rooms",
        )

    duration = options.max_participant_duration
    if duration is None:
        duration = DEFAULT_PARTICIPANT_DURATION
    elif not MIN_PARTICIPANT_DURATION <= duration <= MAX_PARTICIPANT_DURATION:
        raise TwilioError(
            53123,
            f"MaxParticipantDuration is out of range: must be between "
            f"{MIN_PARTICIPANT_DURATION} and {MAX_PARTICIPANT_DURATION} seconds",
        )

    timeouts: dict[str, int] = {}
    for label, value in (
        ("EmptyRoomTimeout", options.empty_room_timeout),
        ("UnusedRoomTimeout", options.unused_room_timeout),
    ):
        if value is not None and not MIN_TIMEOUT <= value <= MAX_TIMEOUT:
            raise TwilioError(
                53109,
                f"Timeout is out of range: {label} must be between {MIN_TIMEOUT} and "
                f"{MAX_TIMEOUT} minutes",
            )
        timeouts[label] = DEFAULT_TIMEOUT if value is None else value

    audio_only = bool(options.audio_only)
    if audio_only and not rules.group:
        raise TwilioError(53124, "The AudioOnly flag is not supported for the Room type")
    record = bool(options.record_participants_on_connect)
    if record and not rules.group:
        raise TwilioError(
            53122, "The recording operation requested is not supported for the Room type"
        )
    large_room = bool(options.large_room)
    if large_room and room_type != "group":
        raise TwilioError(53103, "Unable to create Room: LargeRoom requires a group Room")

    region = options.media_region if options.media_region is not None else DEFAULT_MEDIA_REGION
    if region not in MEDIA_REGIONS:
        raise TwilioError(53103, f"Unable to create Room: unknown MediaRegion {region!r}")

    codecs = options.video_codecs or ["VP8"]
    for codec in codecs:
        if codec not in VIDEO_CODECS:
            raise TwilioError(53103, f"Unable to create Room: unknown VideoCodecs value {codec!r}")
    codecs = list(dict.fromkeys(codecs))

    if options.recording_rules is not None:
        _check_recording_rules(options.recording_rules)

    tracks = LARGE_ROOM_PUBLISHED_TRACKS if large_room else rules.published_tracks
    return {
        "type": room_type,
        "unique_name": name,
        "status_callback": callback,
        "status_callback_method": method,
        "max_participants": max_participants,
        "max_participant_duration": duration,
        "max_concurrent_published_tracks": tracks,
        "record_participants_on_connect": record,
        "transcribe_participants_on_connect": bool(options.transcribe_participants_on_connect),
        "transcriptions_configuration": options.transcriptions_configuration,
        "recording_rules": options.recording_rules,
        "video_codecs": [] if audio_only else codecs,
        "media_region": region,
        "audio_only": audio_only,
        "empty_room_timeout": timeouts["EmptyRoomTimeout"],
        "unused_room_timeout": timeouts["UnusedRoomTimeout"],
        "large_room": large_room,
        "enable_turn": True,  # deprecated: always considered true
    }
