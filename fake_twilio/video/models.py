"""The Video v1 backend of one account: Rooms, their Participants, timeouts and status callbacks.

Pure domain code (no Flask). Every public method expects the caller to hold the state lock
(``with state.locked():``); REST views already do. Lookups are dict-based: rooms by SID, the
in-progress rooms by unique name, rooms by status and by unique name for lists, participants
by SID and the connected ones by identity within their room.

Time comes from the fake's clock (``ctx.now()``); deadlines go through ``ctx.schedule``:
UnusedRoomTimeout (no participant ever joined) and EmptyRoomTimeout (after the last
participant left) complete a room, MaxParticipantDuration disconnects a participant. Status
callbacks are queued with ``ctx.webhook`` (see :mod:`.callbacks`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ..core.errors import TwilioError, not_found
from ..core.scheduler import Scheduler
from ..core.segments import resource_path
from ..core.sids import new_sid
from ..core.state import ProductContext
from . import callbacks
from .options import RoomOptions, resolve_options
from .resources import (
    COMPLETED,
    CONNECTED,
    DISCONNECTED,
    IN_PROGRESS,
    PARTICIPANT_STATUSES,
    ROOM_STATUSES,
    Participant,
    Room,
)

__all__ = ["Participant", "Room", "RoomOptions", "VideoBackend"]

MAX_IDENTITY = 121
DUPLICATE_IDENTITY = 53205
SESSION_LENGTH_EXCEEDED = 53216


def _room_not_found(key: str) -> TwilioError:
    return not_found(resource_path("Rooms", key))


def _in_window(when: datetime, after: datetime | None, before: datetime | None) -> bool:
    """``after`` is inclusive, ``before`` exclusive."""
    return (after is None or when >= after) and (before is None or when < before)


class VideoBackend:
    """Rooms and Participants of one account (see the module docstring for the contract)."""

    def __init__(self, ctx: ProductContext) -> None:
        self.ctx = ctx
        self._rooms: dict[str, Room] = {}
        self._active_by_name: dict[str, Room] = {}
        self._by_status: dict[str, dict[str, Room]] = {status: {} for status in ROOM_STATUSES}
        self._by_name: dict[str, dict[str, Room]] = {}
        self._seq = itertools.count()

    # -- rooms ---------------------------------------------------------------------------
    def create_room(self, options: RoomOptions | None = None, **fields: Any) -> Room:
        """Create an in-progress room as ``POST /v1/Rooms`` does; queue ``room-created``.

        Takes a :class:`RoomOptions` or its fields as keywords (``type="group"``,
        ``unique_name=...``, ``status_callback=...``...). Raises the errors of
        :func:`~.options.resolve_options`, and 53113 "Room exists" when an in-progress room
        already has that unique name. ``unique_name`` defaults to the room SID. Schedules the
        UnusedRoomTimeout.
        """
        settings = resolve_options(options if options is not None else RoomOptions(**fields))
        name = settings.pop("unique_name")
        if name is not None and name in self._active_by_name:
            raise TwilioError(53113, "Room exists", 400)
        now = self.ctx.now()
        sid = new_sid("RM")
        room = Room(
            sid=sid,
            account_sid=self.ctx.account_sid,
            unique_name=name if name is not None else sid,
            date_created=now,
            seq=next(self._seq),
            **settings,
        )
        self._rooms[sid] = room
        self._active_by_name[room.unique_name] = room
        self._by_status[IN_PROGRESS][sid] = room
        self._by_name.setdefault(room.unique_name, {})[sid] = room
        room.deadline = self.ctx.schedule(
            now + timedelta(minutes=room.unused_room_timeout),
            lambda when: self._unused_timeout(room, when),
        )
        callbacks.room_event(self.ctx, room, callbacks.ROOM_CREATED, now)
        return room

    def get_room(self, sid_or_name: str) -> Room:
        """The room with that SID (any status) or in-progress unique name; 20404 otherwise."""
        room = self._rooms.get(sid_or_name) or self._active_by_name.get(sid_or_name)
        if room is None:
            raise _room_not_found(sid_or_name)
        return room

    def find_room(self, sid_or_name: str) -> Room | None:
        """Like :meth:`get_room` but None instead of raising."""
        return self._rooms.get(sid_or_name) or self._active_by_name.get(sid_or_name)

    def list_rooms(
        self,
        status: str | None = IN_PROGRESS,
        unique_name: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> list[Room]:
        """Rooms newest first, as ``GET /v1/Rooms`` filters them (``status=None``: all).

        ``created_after`` is inclusive, ``created_before`` exclusive. Cost is proportional
        to the rooms of that status (or of that unique name), never to all rooms.
        """
        candidates: Iterable[Room]
        if status == IN_PROGRESS and unique_name is None:
            # rooms enter in-progress only when created: this dict is in creation order
            candidates = reversed(self._by_status[IN_PROGRESS].values())
            if created_after is None and created_before is None:
                return list(candidates)
            return [
                r for r in candidates if _in_window(r.date_created, created_after, created_before)
            ]
        if unique_name is not None:
            candidates = self._by_name.get(unique_name, {}).values()
            if status is not None:
                candidates = [room for room in candidates if room.status == status]
        elif status is not None:
            candidates = self._by_status.get(status, {}).values()
        else:
            candidates = self._rooms.values()
        if created_after is not None or created_before is not None:
            candidates = [
                room
                for room in candidates
                if _in_window(room.date_created, created_after, created_before)
            ]
        return sorted(candidates, key=lambda room: room.seq, reverse=True)

    def update_room(self, sid_or_name: str, status: str) -> Room:
        """``POST /v1/Rooms/{Sid}``: only ``Status=completed`` of an in-progress room.

        20404 unknown room; 53112 for any other status or a room that is not in progress.
        Completing disconnects every participant (``participant-disconnected`` each) and then
        queues ``room-ended``.
        """
        room = self.get_room(sid_or_name)
        if status != COMPLETED:
            raise TwilioError(53112, f"Status is invalid: {status!r} (only completed)", 400)
        if room.status != IN_PROGRESS:
            raise TwilioError(53112, f"Status is invalid: the Room is already {room.status}", 400)
        self._end(room, self.ctx.now(), "completed-via-api")
        return room

    def complete_room(self, room: str) -> Room:
        """Complete a room by SID or in-progress name, exactly as REST ``Status=completed``."""
        return self.update_room(room, COMPLETED)

    # -- participants --------------------------------------------------------------------
    def connect_participant(self, room: str, identity: str) -> Participant:
        """A client joins ``room`` (SID or in-progress unique name) as ``identity``.

        Errors: 53106 unknown room, 53118 room not in progress, 53200 empty identity, 53201
        identity over 121 characters, 53105 room already at MaxParticipants. A connected
        participant with the same identity is disconnected first (its ``disconnect_code`` is
        53205, ``participant-disconnected`` is queued). Returns the new connected PA
        participant, queues ``participant-connected`` and schedules its
        MaxParticipantDuration.
        """
        target = self.find_room(room)
        if target is None:
            raise TwilioError(53106, "Room not found", 404)
        if target.status != IN_PROGRESS:
            raise TwilioError(53118, "Room completed", 400)
        if not identity:
            raise TwilioError(53200, "Participant identity is invalid", 400)
        if len(identity) > MAX_IDENTITY:
            raise TwilioError(53201, "Participant identity is too long", 400)
        existing = target.connected.get(identity)
        others = len(target.connected) - (1 if existing is not None else 0)
        if others >= target.max_participants:
            raise TwilioError(53105, "Room contains too many Participants", 400)
        now = self.ctx.now()
        if existing is not None:
            self._disconnect(target, existing, now, code=DUPLICATE_IDENTITY, check_empty=False)
        participant = Participant(
            sid=new_sid("PA"),
            room_sid=target.sid,
            account_sid=target.account_sid,
            identity=identity,
            date_created=now,
        )
        target.participants[participant.sid] = participant
        target.connected[identity] = participant
        target.ever_joined = True
        target.empty_since = None
        Scheduler.cancel(target.deadline)
        target.deadline = None
        participant.deadline = self.ctx.schedule(
            now + timedelta(seconds=target.max_participant_duration),
            lambda when: self._participant_expired(target, participant, when),
        )
        callbacks.room_event(self.ctx, target, callbacks.PARTICIPANT_CONNECTED, now, participant)
        return participant

    def disconnect_participant(self, room: str, identity_or_sid: str) -> Participant:
        """A connected client leaves: by identity or PA SID; queues ``participant-disconnected``.

        20404 unknown room; 53204 when no connected participant matches. The last one leaving
        starts the EmptyRoomTimeout.
        """
        target = self.get_room(room)
        participant = self._connected_participant(target, identity_or_sid)
        if participant is None:
            raise TwilioError(53204, "Participant not found", 404)
        self._disconnect(target, participant, self.ctx.now())
        return participant

    def participants(self, room: str, status: str | None = CONNECTED) -> list[Participant]:
        """Participants of a room in join order; ``status=None`` gives all. 20404 unknown room."""
        target = self.get_room(room)
        if status == CONNECTED:
            return list(target.connected.values())
        return [p for p in target.participants.values() if status is None or p.status == status]

    def list_participants(
        self,
        room: str,
        status: str | None = None,
        identity: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> list[Participant]:
        """``GET /v1/Rooms/{RoomSid}/Participants`` in join order.

        Without ``status``: connected ones for an in-progress room, disconnected ones for a
        completed room. ``created_after`` inclusive, ``created_before`` exclusive.
        """
        target = self.get_room(room)
        if status is None:
            status = CONNECTED if target.status == IN_PROGRESS else DISCONNECTED
        if status not in PARTICIPANT_STATUSES:
            raise TwilioError(20001, f"Invalid parameter Status: {status!r}", 400)
        found = self.participants(target.sid, status)
        return [
            p
            for p in found
            if (identity is None or p.identity == identity)
            and _in_window(p.date_created, created_after, created_before)
        ]

    def get_participant(self, room: str, sid_or_identity: str) -> Participant:
        """A participant by PA SID (any status) or identity (connected ones only); 20404."""
        target = self.get_room(room)
        participant = target.participants.get(sid_or_identity) or target.connected.get(
            sid_or_identity
        )
        if participant is None:
            raise not_found(resource_path("Rooms", room, "Participants", sid_or_identity))
        return participant

    def update_participant(
        self, room: str, sid_or_identity: str, status: str | None
    ) -> Participant:
        """``POST .../Participants/{Sid}``: only ``Status=disconnected`` (else 53209).

        Disconnecting a connected participant queues ``participant-disconnected``; one that is
        already disconnected is returned unchanged.
        """
        target = self.get_room(room)
        participant = self.get_participant(target.sid, sid_or_identity)
        if status != DISCONNECTED:
            raise TwilioError(53209, f"Participant status is invalid: {status!r}", 400)
        if participant.status == CONNECTED:
            self._disconnect(target, participant, self.ctx.now())
        return participant

    # -- state dump ----------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        """Every room (REST fields plus bookkeeping) with all its participants."""
        return {"rooms": [room.dump_json() for room in self._rooms.values()]}

    # -- internals -----------------------------------------------------------------------
    @staticmethod
    def _connected_participant(room: Room, identity_or_sid: str) -> Participant | None:
        participant = room.connected.get(identity_or_sid)
        if participant is None:
            candidate = room.participants.get(identity_or_sid)
            if candidate is not None and candidate.status == CONNECTED:
                participant = candidate
        return participant

    def _disconnect(
        self,
        room: Room,
        participant: Participant,
        at: datetime,
        *,
        code: int | None = None,
        check_empty: bool = True,
    ) -> None:
        participant.status = DISCONNECTED
        participant.end_time = at
        participant.date_updated = at
        participant.disconnect_code = code
        if room.connected.get(participant.identity) is participant:
            del room.connected[participant.identity]
        Scheduler.cancel(participant.deadline)
        participant.deadline = None
        callbacks.room_event(self.ctx, room, callbacks.PARTICIPANT_DISCONNECTED, at, participant)
        if check_empty and not room.connected and room.status == IN_PROGRESS:
            room.empty_since = at
            Scheduler.cancel(room.deadline)
            room.deadline = self.ctx.schedule(
                at + timedelta(minutes=room.empty_room_timeout),
                lambda when: self._empty_timeout(room, at, when),
            )

    def _end(self, room: Room, at: datetime, reason: str) -> None:
        for participant in list(room.connected.values()):
            self._disconnect(room, participant, at, check_empty=False)
        room.status = COMPLETED
        room.end_time = at
        room.date_updated = at
        room.end_reason = reason
        room.empty_since = None
        Scheduler.cancel(room.deadline)
        room.deadline = None
        if self._active_by_name.get(room.unique_name) is room:
            del self._active_by_name[room.unique_name]
        self._by_status[IN_PROGRESS].pop(room.sid, None)
        self._by_status[COMPLETED][room.sid] = room
        callbacks.room_event(self.ctx, room, callbacks.ROOM_ENDED, at)

    def _unused_timeout(self, room: Room, when: datetime) -> None:
        if room.status == IN_PROGRESS and not room.ever_joined:
            self._end(room, when, "unused-room-timeout")

    def _empty_timeout(self, room: Room, empty_since: datetime, when: datetime) -> None:
        if room.status == IN_PROGRESS and not room.connected and room.empty_since == empty_since:
            self._end(room, when, "empty-room-timeout")

    def _participant_expired(self, room: Room, participant: Participant, when: datetime) -> None:
        if participant.status == CONNECTED and room.connected.get(participant.identity) is (
            participant
        ):
            self._disconnect(room, participant, when, code=SESSION_LENGTH_EXCEEDED)
