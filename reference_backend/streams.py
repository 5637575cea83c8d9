"""What the client endpoints do (docs/PROTOCOL.md, "Endpoints"), in Twilio terms.

Each public method takes already-validated parameters, makes its Twilio calls in the documented
order, and returns the success body or raises :class:`~.errors.ProtocolError` naming the step
that failed (502 with Twilio's message). Nothing here knows about HTTP.

Per stream, Twilio holds: a group room (unique name = the stream name), a PlayerStreamer and a
MediaProcessor composing the room into it, a Sync service with the maps ``speakers``,
``raised_hands`` and ``viewers`` and one document ``user-<identity>`` per joined user (clients
may only read them), a conversation (unique name = the Room SID) when chat is on, and the
backend's ``streams`` record (:mod:`.storage`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .errors import documented, step
from .settings import Settings
from .storage import BackendStorage, StreamRecord
from .sync_state import MAPS, RAISED_HANDS, SPEAKERS, SyncState, user_document
from .tokens import TokenFactory
from .twilio_gateway import Room, TwilioGateway
from .twilio_http import TwilioFailure

__all__ = ["STREAM_SERVICE_PREFIX", "Streams"]

log = logging.getLogger("reference_backend")

STREAM_SERVICE_PREFIX = "Live Video Stream "
"""Friendly name of a stream's Sync service: this prefix + the Room SID."""

_CONVERSATION = "error creating conversation"
_PARTICIPANT = "error creating conversation participant"
_FIND_CONVERSATION = "error finding conversation"


def _fixed(message: str, endpoint: str = "create-stream") -> str:
    """The protocol's fixed explanation of a 5xx ``message``."""
    return documented(endpoint, message, 502).explanation


@dataclass
class _Created:
    """What create-stream made so far (torn down if a later step fails)."""

    room_sid: str | None = None
    player_streamer_sid: str | None = None
    media_processor_sid: str | None = None
    sync_service_sid: str | None = None
    record: bool = False
    conversation: tuple[str, str] | None = None


class Streams:
    """The client endpoints' logic, for one backend instance."""

    def __init__(
        self,
        settings: Settings,
        gateway: TwilioGateway,
        storage: BackendStorage,
        tokens: TokenFactory,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.storage = storage
        self.tokens = tokens
        self.sync = SyncState(gateway)

    # -- create-stream ----------------------------------------------------------------------
    def create(self, identity: str, stream_name: str) -> dict[str, Any]:
        """Create every resource of a new stream; ``identity`` becomes its host.

        On any failure, what was created is torn down before the error is raised.
        """
        created = _Created()
        try:
            room = self._create_room(stream_name)
            created.room_sid = room.sid
            chat_service = self._shared_services()
            with step("error creating stream"):
                max_duration = self.settings.media_max_duration
                created.player_streamer_sid = self.gateway.create_player_streamer(max_duration)
                created.media_processor_sid = self.gateway.create_media_processor(
                    room.sid, created.player_streamer_sid, max_duration
                )
            with step("error creating stream sync service"):
                created.sync_service_sid = self.gateway.create_sync_service(
                    STREAM_SERVICE_PREFIX + room.sid, self.settings.webhook_url("sync-webhook")
                )
            record = StreamRecord(
                room.sid,
                created.sync_service_sid,
                created.player_streamer_sid,
                created.media_processor_sid,
                identity,
            )
            with step("error adding stream to streams map"):
                self.storage.put_stream(record)
                created.record = True
            self._create_maps(record.sync_service_sid, identity)
            if chat_service is not None:
                with step(_CONVERSATION, fixed=_fixed(_CONVERSATION)):
                    if self.gateway.create_conversation(chat_service, room.sid):
                        created.conversation = (chat_service, room.sid)
                with step(_PARTICIPANT, fixed=_fixed(_PARTICIPANT)):
                    self.gateway.add_conversation_participant(chat_service, room.sid, identity)
            token = self.tokens.speaker(
                identity, stream_name, record.sync_service_sid, chat_service
            )
        except BaseException:
            self._tear_down(created)
            raise
        return {
            "token": token,
            "sync_object_names": self.sync.object_names(),
            "room_sid": room.sid,
            "chat_enabled": chat_service is not None,
        }

    def _shared_services(self) -> str | None:
        """Provision the storage service (and the Conversations service when chat is on).

        Done after the room exists, so a name conflict creates nothing at all (ERR-3).
        """
        with step("error adding stream to streams map"):
            self.storage.provision()
        if not self.settings.chat_enabled:
            return None
        with step(_CONVERSATION, fixed=_fixed(_CONVERSATION)):
            return self.storage.conversations_service()

    def _create_room(self, stream_name: str) -> Room:
        """The stream's room; 409 when an in-progress room has that name (Twilio 53113)."""
        with step("error creating room"):
            try:
                return self.gateway.create_room(
                    stream_name, self.settings.webhook_url("rooms-webhook")
                )
            except TwilioFailure as failure:
                if failure.code == 53113:
                    raise documented("create-stream", "error creating room", 409) from failure
                raise

    def _create_maps(self, service_sid: str, host: str) -> None:
        for sync_map in MAPS:
            with step(f"error creating {sync_map.label}"):
                self.gateway.create_map(service_sid, sync_map.name)
            if sync_map is SPEAKERS:
                with step("error adding host to speakers map"):
                    self.gateway.add_map_item(service_sid, SPEAKERS.name, host, {"host": True})
            with step(f"error adding read access to {sync_map.label}"):
                self.gateway.grant_map_read(service_sid, sync_map.name, host)

    def _tear_down(self, created: _Created) -> None:
        """Best effort: remove what a failed create-stream made, its record first (so a
        room-ended delivery caused by completing the room finds nothing to do)."""
        gateway = self.gateway
        undo: list[tuple[str, str | None, Callable[[str], Any]]] = [
            ("streams record", created.room_sid if created.record else None,
             self.storage.delete_stream),
            ("room", created.room_sid, gateway.complete_room),
            ("MediaProcessor", created.media_processor_sid, gateway.end_media_processor),
            ("PlayerStreamer", created.player_streamer_sid, gateway.end_player_streamer),
            ("Sync service", created.sync_service_sid, gateway.delete_sync_service),
        ]  # fmt: skip
        for what, sid, action in undo:
            if sid is not None:
                _best_effort(what, action, sid)
        if created.conversation is not None:
            _best_effort("conversation", gateway.delete_conversation, *created.conversation)

    # -- joining ----------------------------------------------------------------------------
    def join_as_speaker(self, identity: str, stream_name: str) -> dict[str, Any]:
        """A token that may join the stream's room (the speakers map changes on connect)."""
        room, record = self._live_stream(stream_name, "error finding stream map item")
        chat_service = self._join(identity, record)
        token = self.tokens.speaker(identity, stream_name, record.sync_service_sid, chat_service)
        return self._access(token, room, identity, chat_service)

    def join_as_viewer(self, identity: str, stream_name: str) -> dict[str, Any]:
        """A token that may play the stream; an existing user document is kept as it is."""
        room, record = self._live_stream(stream_name, "error fetching stream map item")
        chat_service = self._join(identity, record)
        with step("error getting playback grant"):
            grant = self.gateway.create_playback_grant(record.player_streamer_sid)
        token = self.tokens.viewer(identity, grant, record.sync_service_sid, chat_service)
        return self._access(token, room, identity, chat_service)

    def _join(self, identity: str, record: StreamRecord) -> str | None:
        """The user's document and read access, and chat membership; the chat service."""
        service_sid = record.sync_service_sid
        document = user_document(identity)
        with self._stream_step("error creating user document", record):
            self.gateway.create_document(service_sid, document, {"speaker_invite": False})
        with self._stream_step("error adding read access to user document", record):
            self.gateway.grant_document_read(service_sid, document, identity)
        for sync_map in MAPS:
            with self._stream_step(f"error adding read access to {sync_map.label}", record):
                self.gateway.grant_map_read(service_sid, sync_map.name, identity)
        if not self.settings.chat_enabled:
            return None
        with step(_FIND_CONVERSATION, fixed=_fixed(_FIND_CONVERSATION, "join-stream-as-viewer")):
            chat_service = self.storage.conversations_service()
        self._add_to_conversation(chat_service, record.room_sid, identity)
        return chat_service

    def _add_to_conversation(self, chat_service: str, room_sid: str, identity: str) -> None:
        """Add ``identity`` (idempotent); a conversation missing (e.g. the stream was created
        while chat was off) is created first."""
        with step(_PARTICIPANT, fixed=_fixed(_PARTICIPANT)):
            try:
                self.gateway.add_conversation_participant(chat_service, room_sid, identity)
                return
            except TwilioFailure as failure:
                if not failure.not_found:
                    raise
        with step(_FIND_CONVERSATION, fixed=_fixed(_FIND_CONVERSATION, "join-stream-as-viewer")):
            self.gateway.create_conversation(chat_service, room_sid)
        with step(_PARTICIPANT, fixed=_fixed(_PARTICIPANT)):
            self.gateway.add_conversation_participant(chat_service, room_sid, identity)

    def _access(
        self, token: str, room: Room, identity: str, chat_service: str | None
    ) -> dict[str, Any]:
        return {
            "token": token,
            "sync_object_names": self.sync.object_names(identity),
            "room_sid": room.sid,
            "chat_enabled": chat_service is not None,
        }

    def _live_stream(
        self, stream_name: str, record_step: str, endpoint: str = "join-stream-as-speaker"
    ) -> tuple[Room, StreamRecord]:
        """The in-progress room named ``stream_name`` (or with that SID) and its stream
        record; 404 ``error finding room`` when it is not a live stream of this backend."""
        with step("error finding room"):
            room = self.gateway.find_room(stream_name)
        record = None
        if room is not None and room.status == "in-progress":
            with step(record_step):
                record = self.storage.get_stream(room.sid)
        if room is None or record is None:
            raise documented(endpoint, "error finding room")
        return room, record

    @contextlib.contextmanager
    def _stream_step(
        self, message: str, record: StreamRecord, endpoint: str = "join-stream-as-speaker"
    ) -> Iterator[None]:
        """:func:`step` for a write into the stream's Sync service, which room-ended deletes:
        a call racing that cleanup gets Twilio's 'not found' (20404), which then means the
        stream has ended, the documented 404 'error finding room', not a 502."""
        with step(message):
            try:
                yield
            except TwilioFailure as failure:
                if failure.not_found and self._has_ended(record):
                    raise documented(endpoint, "error finding room") from failure
                raise

    def _has_ended(self, record: StreamRecord) -> bool:
        """Whether the stream's Sync service is gone or its room no longer in progress (a
        lookup that fails says no: the original failure is then reported)."""
        try:
            if self.gateway.sync_service_name(record.sync_service_sid) is None:
                return True
            room = self.gateway.find_room(record.room_sid)
        except TwilioFailure:
            return False
        return room is None or room.status != "in-progress"

    # -- audience ---------------------------------------------------------------------------
    def viewer_connected(self, identity: str, stream_name: str) -> dict[str, Any]:
        """Add ``identity`` to ``viewers`` (idempotent)."""
        _, record = self._live_stream(stream_name, "error getting stream sync client")
        with self._stream_step(
            "error adding user to viewers map", record, "viewer-connected-to-player"
        ):
            self.sync.add_viewer(record.sync_service_sid, identity)
        return {"success": True}

    def raise_hand(self, identity: str, stream_name: str, hand_raised: bool) -> dict[str, Any]:
        """Add ``identity`` to ``raised_hands`` or remove it (idempotent both ways)."""
        _, record = self._live_stream(stream_name, "error getting stream sync client")
        service = record.sync_service_sid
        with self._stream_step("error updating raised hands map", record, "raise-hand"):
            if hand_raised:
                self.sync.set_hand(service, identity, True)
            elif not self.gateway.remove_map_item(
                service, RAISED_HANDS.name, identity
            ) and self._has_ended(record):  # nothing removed: the map went with the service
                raise documented("raise-hand", "error finding room")
        return {"sent": True}

    def send_speaker_invite(self, identity: str, room_sid: str) -> dict[str, Any]:
        """Set ``speaker_invite`` true in the user's document (merged; 404 if never joined),
        as a new revision even when it is true already (FLOW-14: the clients learn of an
        invitation only from the document's updated event).

        The room is looked up like every other endpoint's: a stream record alone is not
        enough, since it outlives its room until the room-ended cleanup has run (ERR-9).
        """
        _, record = self._live_stream(room_sid, "error finding room", "send-speaker-invite")
        with self._stream_step("error updating user document", record, "send-speaker-invite"):
            found = self.sync.merge_user_document(
                record.sync_service_sid, identity, {"speaker_invite": True}
            )
        if not found:
            if self._has_ended(record):  # the document went with the stream's Sync service
                raise documented("send-speaker-invite", "error finding room")
            raise documented("send-speaker-invite", "error updating user document")
        return {"sent": True}

    def remove_speaker(self, identity: str, room_name: str) -> dict[str, Any]:
        """Disconnect ``identity`` from the room (the rooms-webhook updates ``speakers``)."""
        room, _ = self._live_stream(room_name, "error finding room", "remove-speaker")
        with step("error removing speaker"):
            removed = self.gateway.disconnect_participant(room.sid, identity)
        if not removed:
            raise documented("remove-speaker", "error removing speaker")
        return {"removed": True}

    def delete(self, stream_name: str) -> dict[str, Any]:
        """Complete the stream's room; the rooms-webhook's room-ended cleans up the rest."""
        room, _ = self._live_stream(stream_name, "error finding room", "delete-stream")
        with step("error deleting stream"):
            completed = self.gateway.complete_room(room.sid)
        if not completed:
            raise documented("delete-stream", "error finding room")
        return {"deleted": True}


def _best_effort(what: str, action: Callable[..., Any], *args: str) -> None:
    """Run one teardown step; a failure is logged, never raised."""
    try:
        action(*args)
    except Exception:
        log.exception("create-stream teardown: could not remove the %s", what)
