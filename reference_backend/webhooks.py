"""The two webhooks Twilio calls: ``rooms-webhook`` (Video status callbacks) and
``sync-webhook`` (Sync reachability).

Every delivery must carry a valid ``X-Twilio-Signature`` computed over the URL the backend
registered (``Settings.public_url`` + path + query), not the URL it was reached at (a proxy may
rewrite that); otherwise 403 ``invalid signature``. Handlers are idempotent and tolerate
resources that are already gone: an event for a stream this backend does not know (never
created, or already cleaned up) is acknowledged and changes nothing, so a late or replayed
event cannot resurrect state. Only Twilio failures other than "not found" produce an error
(5xx, so the failure shows in Twilio's debugger). Deliveries about one stream are handled one
at a time (:mod:`.stream_locks`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Request
from twilio.request_validator import RequestValidator

from .errors import signature_invalid, step
from .settings import Settings
from .storage import BackendStorage, StreamRecord
from .stream_locks import StreamLocks
from .streams import STREAM_SERVICE_PREFIX
from .sync_state import RAISED_HANDS, SPEAKERS, VIEWERS, SyncState
from .twilio_gateway import TwilioGateway

__all__ = ["COMPOSER_IDENTITY_PREFIX", "Webhooks"]

log = logging.getLogger("reference_backend")

COMPOSER_IDENTITY_PREFIX = "video-composer"
"""Identity prefix of the MediaProcessor's own participant, ignored by the rooms-webhook."""


class Webhooks:
    """Signature check and event handling of both webhooks."""

    def __init__(self, settings: Settings, gateway: TwilioGateway, storage: BackendStorage):
        self.settings = settings
        self.gateway = gateway
        self.storage = storage
        self.sync = SyncState(gateway)
        self._validator = RequestValidator(settings.auth_token)
        self.locks = StreamLocks()

    def verify(self, request: Request, path: str) -> None:
        """Raise 403 unless the request is signed by Twilio for ``<public_url>/<path>``."""
        url = self.settings.webhook_url(path)
        if request.query_string:
            url += "?" + request.query_string.decode("latin-1")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not self._validator.validate(url, request.form, signature):
            log.warning("refused an unsigned or forged %s delivery", path)
            raise signature_invalid()

    # -- rooms-webhook ----------------------------------------------------------------------
    def rooms(self, form: Mapping[str, str]) -> None:
        """Handle one Video room status callback (the form fields)."""
        event = form.get("StatusCallbackEvent", "")
        room_sid = form.get("RoomSid", "")
        identity = form.get("ParticipantIdentity", "")
        if not room_sid:
            return
        if event == "room-ended":
            with self.locks.hold(room_sid):
                self._room_ended(room_sid)
            return
        if event not in ("participant-connected", "participant-disconnected") or not identity:
            return
        if identity.startswith(COMPOSER_IDENTITY_PREFIX):
            return
        participant_sid = form.get("ParticipantSid") or None
        with self.locks.hold(room_sid):
            with step("error getting stream sync client"):
                record = self.storage.get_stream(room_sid)
            if record is None:
                return
            if event == "participant-connected":
                self._participant_connected(record, identity, participant_sid)
            else:
                self._participant_disconnected(record, identity, participant_sid)

    def _participant_connected(
        self, record: StreamRecord, identity: str, participant_sid: str | None
    ) -> None:
        """The user became a speaker: out of the audience, into ``speakers`` (the stream's
        host as ``{"host": true}`` again after reconnecting, FLOW-16), invitation consumed
        (optional, FLOW-4) -- unless the event is stale (IDEM-4): its participant is
        disconnected already and no other participant with that identity is connected."""
        service = record.sync_service_sid
        with step("error adding user to speakers map"):
            if self._stale_connect(record.room_sid, identity, participant_sid):
                return
        with step("error removing user from viewers map"):
            self.gateway.remove_map_item(service, VIEWERS.name, identity)
        with step("error removing user from raised hands map"):
            self.gateway.remove_map_item(service, RAISED_HANDS.name, identity)
        with step("error adding user to speakers map"):
            host = identity == record.host_identity
            self.gateway.add_map_item(service, SPEAKERS.name, identity, {"host": host})
        with step("error updating user document"):
            self.sync.merge_user_document(
                service, identity, {"speaker_invite": False}, skip_unchanged=True
            )

    def _stale_connect(self, room_sid: str, identity: str, participant_sid: str | None) -> bool:
        if self.gateway.connected_participants(room_sid, identity):
            return False
        if participant_sid is None:
            return False
        # Nobody with that identity is connected: stale if Twilio knows the participant (as
        # disconnected); a participant Twilio does not know is taken on the signature's word.
        return self.gateway.participant_status(room_sid, participant_sid) is not None

    def _participant_disconnected(
        self, record: StreamRecord, identity: str, participant_sid: str | None
    ) -> None:
        """The user left the room: out of ``speakers``, unless another participant with the
        same identity is connected (a reconnect whose events arrived out of order)."""
        with step("error removing user from speakers map"):
            others = [
                sid
                for sid in self.gateway.connected_participants(record.room_sid, identity)
                if sid != participant_sid
            ]
            if not others:
                self.gateway.remove_map_item(record.sync_service_sid, SPEAKERS.name, identity)

    def _room_ended(self, room_sid: str) -> None:
        """End the composer and the stream, delete the stream's Sync service and its record
        (in that order, so a failed cleanup can be completed by a replay)."""
        with step("error deleting stream"):
            record = self.storage.get_stream(room_sid)
            if record is None:
                return
            self.gateway.end_media_processor(record.media_processor_sid)
            self.gateway.end_player_streamer(record.player_streamer_sid)
            self.gateway.delete_sync_service(record.sync_service_sid)
            self.storage.delete_stream(room_sid)
        log.info("stream of room %s cleaned up", room_sid)

    # -- sync-webhook -----------------------------------------------------------------------
    def sync_event(self, form: Mapping[str, str]) -> None:
        """Handle one Sync service webhook: on ``endpoint_disconnected``, the user left."""
        if form.get("EventType") != "endpoint_disconnected":
            return
        service_sid = form.get("ServiceSid", "")
        identity = form.get("Identity", "")
        if not service_sid or not identity:
            return
        with step("error getting stream sync client"):
            name = self.gateway.sync_service_name(service_sid)
        if name is None or not name.startswith(STREAM_SERVICE_PREFIX):
            return
        room_sid = name[len(STREAM_SERVICE_PREFIX) :]
        with self.locks.hold(room_sid):
            with step("error removing user from speakers map"):
                if not self.gateway.connected_participants(room_sid, identity):
                    self.gateway.remove_map_item(service_sid, SPEAKERS.name, identity)
            with step("error removing user from raised hands map"):
                self.gateway.remove_map_item(service_sid, RAISED_HANDS.name, identity)
            with step("error removing user from viewers map"):
                self.gateway.remove_map_item(service_sid, VIEWERS.name, identity)
