"""Rooms status callbacks: the form fields Twilio posts to a Room's ``StatusCallback``.

Every event carries AccountSid, RoomName, RoomSid, RoomStatus, RoomType,
StatusCallbackEvent, Timestamp (ISO 8601 UTC with milliseconds) and SequenceNumber (per room,
from 0). Participant events add ParticipantSid, ParticipantIdentity, ParticipantStatus and,
on disconnect, ParticipantDuration; ``room-ended`` adds RoomDuration.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..core.clock import format_date_and_time
from ..core.state import ProductContext
from .resources import Participant, Room

SOURCE = "video.room"

ROOM_CREATED = "room-created"
ROOM_ENDED = "room-ended"
PARTICIPANT_CONNECTED = "participant-connected"
PARTICIPANT_DISCONNECTED = "participant-disconnected"


def format_timestamp(value: datetime) -> str:
    """``2026-01-01T00:05:00.000Z``: ISO 8601 UTC with milliseconds."""
    value = value.astimezone(UTC)
    return f"{format_date_and_time(value)}.{value.microsecond // 1000:03d}Z"


def room_event(
    ctx: ProductContext,
    room: Room,
    event: str,
    at: datetime,
    participant: Participant | None = None,
) -> None:
    """Queue one status callback for ``room`` (nothing when it has no StatusCallback).

    The SequenceNumber is taken only when a callback is actually sent.
    """
    if not room.status_callback:
        return
    params: list[tuple[str, str]] = [
        ("AccountSid", room.account_sid),
        ("RoomName", room.unique_name),
        ("RoomSid", room.sid),
        ("RoomStatus", room.status),
        ("RoomType", room.type),
        ("StatusCallbackEvent", event),
        ("Timestamp", format_timestamp(at)),
    ]
    if participant is not None:
        params += [
            ("ParticipantSid", participant.sid),
            ("ParticipantIdentity", participant.identity),
            ("ParticipantStatus", participant.status),
        ]
        if participant.duration is not None:
            params.append(("ParticipantDuration", str(participant.duration)))
    if event == ROOM_ENDED and room.duration is not None:
        params.append(("RoomDuration", str(room.duration)))
    params.append(("SequenceNumber", str(room.next_sequence())))
    ctx.webhook(room.status_callback, room.status_callback_method, params, SOURCE)
