"""Every Twilio call the backend makes, through the official ``twilio`` SDK.

One method per Twilio operation, each raising :class:`~.twilio_http.TwilioFailure` and nothing
else. Idempotency is decided here once: "already exists" answers of creates (Sync 54301/54208,
Conversations 50433) and "not found" answers of removals come back as ``False`` instead of an
error, and fetches of missing resources return ``None``.

Video, Sync and Conversations use the SDK's typed resources; Media v1 (PlayerStreamers,
MediaProcessors, PlaybackGrants) is reached with ``client.request`` on
``https://media.twilio.com/v1`` because current SDKs no longer ship it. Which Twilio answers
is decided only by the ``http_client`` given (real Twilio, a fake server, or a fake in-process).

The SDK formats path parameters into its URLs as they are, so every name, key or identity that
goes into a URL path passes through :func:`path_segment` first (SIDs are safe as they are).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from twilio.http import HttpClient
from twilio.rest import Client

from .twilio_http import TwilioFailure, failure_from, failure_from_response

__all__ = ["Document", "Room", "TwilioGateway", "path_segment"]

MEDIA_BASE = "https://media.twilio.com/v1"
MEDIA_EXTENSION = "video-composer-v2"
COMPOSER_RESOLUTION = "1920x1080"
CONVERSATION_CLOSE_TIMER = "P1D"

_EXISTS_CODES = frozenset({54301, 54208, 50433, 50353})
_ROOM_NOT_IN_PROGRESS = 53112
T = TypeVar("T")


@dataclass(frozen=True)
class Room:
    sid: str
    unique_name: str
    status: str


@dataclass(frozen=True)
class Document:
    data: dict[str, Any]
    revision: str


def path_segment(value: str) -> str:
    """``value`` as exactly one percent-encoded URL path segment, as Twilio decodes it.

    The twilio SDK puts path parameters into the URI unquoted, so an identity ``a/b`` would
    add a segment, ``?x`` and ``#`` would end the path, and ``requests`` would drop a ``.``
    or ``..`` segment (dot-segment removal). Everything but unreserved characters is
    encoded; a segment that is only dots gets ``%2E`` (``quote`` leaves dots alone).
    """
    encoded = quote(value, safe="")
    if encoded in (".", ".."):
        return encoded.replace(".", "%2E")
    return encoded


@contextmanager
def _twilio() -> Iterator[None]:
    """Convert whatever the SDK or the transport raises into a :class:`TwilioFailure`."""
    try:
        yield
    except TwilioFailure:
        raise
    except Exception as exc:
        try:
            failure = failure_from(exc)
        except TypeError:
            raise exc from None
        raise failure from exc


def _created(call: Callable[[], Any]) -> bool:
    """Run a create; ``False`` when the resource already existed."""
    try:
        with _twilio():
            call()
    except TwilioFailure as failure:
        if failure.code in _EXISTS_CODES:
            return False
        raise
    return True


def _removed(call: Callable[[], Any]) -> bool:
    """Run a removal; ``False`` when the resource was not there."""
    try:
        with _twilio():
            call()
    except TwilioFailure as failure:
        if failure.not_found:
            return False
        raise
    return True


def _found(call: Callable[[], T]) -> T | None:
    """Run a fetch; ``None`` when the resource does not exist."""
    try:
        with _twilio():
            return call()
    except TwilioFailure as failure:
        if failure.not_found:
            return None
        raise


def _sid_named(services: Any, friendly_name: str) -> str | None:
    """SID of the first service of the list resource ``services`` with that friendly name."""
    with _twilio():
        for service in services.stream(page_size=100):
            if service.friendly_name == friendly_name:
                return str(service.sid)
    return None


class TwilioGateway:
    """The backend's Twilio account, authenticated with its API key."""

    def __init__(
        self, account_sid: str, api_key_sid: str, api_key_secret: str, http_client: HttpClient
    ) -> None:
        self.client = Client(
            api_key_sid, api_key_secret, account_sid=account_sid, http_client=http_client
        )

    # -- Video ------------------------------------------------------------------------------
    def create_room(self, unique_name: str, status_callback: str) -> Room:
        with _twilio():
            room = self.client.video.v1.rooms.create(
                unique_name=unique_name,
                type="group",
                status_callback=status_callback,
                status_callback_method="POST",
            )
        return Room(room.sid, room.unique_name, room.status)

    def find_room(self, name_or_sid: str) -> Room | None:
        """The room (a name resolves only among in-progress rooms), or None."""
        room = _found(lambda: self.client.video.v1.rooms(path_segment(name_or_sid)).fetch())
        return None if room is None else Room(room.sid, room.unique_name, room.status)

    def complete_room(self, room_sid: str) -> bool:
        """Complete an in-progress room; ``False`` when it is unknown or already over."""
        try:
            with _twilio():
                self.client.video.v1.rooms(room_sid).update(status="completed")
        except TwilioFailure as failure:
            if failure.not_found or failure.code == _ROOM_NOT_IN_PROGRESS:
                return False
            raise
        return True

    def disconnect_participant(self, room: str, identity: str) -> bool:
        """Disconnect the connected participant ``identity``; ``False`` when there is none."""
        room_context = self.client.video.v1.rooms(path_segment(room))
        participant = room_context.participants(path_segment(identity))
        return _removed(lambda: participant.update(status="disconnected"))

    def connected_participants(self, room_sid: str, identity: str) -> list[str]:
        """SIDs of the participants with ``identity`` connected to the room now."""
        participants = self.client.video.v1.rooms(room_sid).participants
        found = _found(lambda: participants.list(identity=identity, status="connected"))
        return [str(p.sid) for p in found or []]

    def participant_status(self, room_sid: str, participant_sid: str) -> str | None:
        """Status of participant ``participant_sid`` (``connected``, ``disconnected``...), or
        None when Twilio does not know it."""
        participants = self.client.video.v1.rooms(room_sid).participants
        found = _found(lambda: participants(participant_sid).fetch())
        return None if found is None else str(found.status)

    # -- Media v1 ---------------------------------------------------------------------------
    def _media(self, method: str, path: str, data: dict[str, str] | None = None) -> dict[str, Any]:
        """A raw Media v1 call; ``path`` is built with :func:`path_segment` for every value."""
        url = MEDIA_BASE + path
        with _twilio():
            response = self.client.request(method, url, data=data)
        if response.status_code >= 400:
            raise failure_from_response(response.status_code, response.text)
        try:
            payload = json.loads(response.text) if response.text else {}
        except ValueError:
            payload = {}
        return payload if isinstance(payload, dict) else {}

    def create_player_streamer(self, max_duration: int) -> str:
        payload = self._media(
            "POST", "/PlayerStreamers", {"Video": "true", "MaxDuration": str(max_duration)}
        )
        return str(payload["sid"])

    def create_media_processor(
        self, room_sid: str, player_streamer_sid: str, max_duration: int
    ) -> str:
        context = {
            "room": {"name": room_sid},
            "outputs": [player_streamer_sid],
            "resolution": COMPOSER_RESOLUTION,
        }
        payload = self._media(
            "POST",
            "/MediaProcessors",
            {
                "Extension": MEDIA_EXTENSION,
                "ExtensionContext": json.dumps(context),
                "MaxDuration": str(max_duration),
            },
        )
        return str(payload["sid"])

    def end_player_streamer(self, sid: str) -> bool:
        path = f"/PlayerStreamers/{path_segment(sid)}"
        return _removed(lambda: self._media("POST", path, {"Status": "ended"}))

    def end_media_processor(self, sid: str) -> bool:
        path = f"/MediaProcessors/{path_segment(sid)}"
        return _removed(lambda: self._media("POST", path, {"Status": "ended"}))

    def create_playback_grant(self, player_streamer_sid: str) -> dict[str, Any]:
        """A PlaybackGrant for the stream; returns its opaque ``grant`` object."""
        payload = self._media(
            "POST",
            f"/PlayerStreamers/{path_segment(player_streamer_sid)}/PlaybackGrant",
            {"AccessControlAllowOrigin": "*"},
        )
        grant = payload.get("grant")
        if not isinstance(grant, dict):
            raise TwilioFailure(None, 200, "The PlaybackGrant answer has no grant object.")
        return grant

    # -- Sync services ----------------------------------------------------------------------
    def create_sync_service(self, friendly_name: str, webhook_url: str | None = None) -> str:
        """A Sync service with ACL on; with ``webhook_url``, reachability webhooks (debounced)."""
        options: dict[str, Any] = {"friendly_name": friendly_name, "acl_enabled": True}
        if webhook_url is not None:
            options.update(
                webhook_url=webhook_url,
                reachability_webhooks_enabled=True,
                reachability_debouncing_enabled=True,
            )
        with _twilio():
            return str(self.client.sync.v1.services.create(**options).sid)

    def find_sync_service_by_name(self, friendly_name: str) -> str | None:
        """The first Sync service with that friendly name (pages through the list), or None."""
        return _sid_named(self.client.sync.v1.services, friendly_name)

    def sync_service_name(self, sid: str) -> str | None:
        """The friendly name of Sync service ``sid``, or None when it does not exist."""
        service = _found(lambda: self.client.sync.v1.services(sid).fetch())
        return None if service is None else str(service.friendly_name or "")

    def delete_sync_service(self, sid: str) -> bool:
        return _removed(lambda: self.client.sync.v1.services(sid).delete())

    # -- Sync maps --------------------------------------------------------------------------
    def create_map(self, service_sid: str, name: str) -> bool:
        maps = self.client.sync.v1.services(service_sid).sync_maps
        return _created(lambda: maps.create(unique_name=name))

    def grant_map_read(self, service_sid: str, map_name: str, identity: str) -> None:
        sync_map = self.client.sync.v1.services(service_sid).sync_maps(path_segment(map_name))
        permission = sync_map.sync_map_permissions(path_segment(identity))
        with _twilio():
            permission.update(read=True, write=False, manage=False)

    def add_map_item(self, service_sid: str, map_name: str, key: str, data: dict[str, Any]) -> bool:
        """Create item ``key``; ``False`` (and no change) when it already exists."""
        sync_map = self.client.sync.v1.services(service_sid).sync_maps(path_segment(map_name))
        items = sync_map.sync_map_items
        return _created(lambda: items.create(key=key, data=data))

    def map_item(self, service_sid: str, map_name: str, key: str) -> dict[str, Any] | None:
        """The data of item ``key``, or None when it (or its map or service) does not exist."""
        sync_map = self.client.sync.v1.services(service_sid).sync_maps(path_segment(map_name))
        item = _found(lambda: sync_map.sync_map_items(path_segment(key)).fetch())
        return None if item is None else dict(item.data or {})

    def remove_map_item(self, service_sid: str, map_name: str, key: str) -> bool:
        sync_map = self.client.sync.v1.services(service_sid).sync_maps(path_segment(map_name))
        return _removed(lambda: sync_map.sync_map_items(path_segment(key)).delete())

    # -- Sync documents ---------------------------------------------------------------------
    def create_document(self, service_sid: str, name: str, data: dict[str, Any]) -> bool:
        """Create document ``name`` with ``data``; ``False`` (no change) when it exists."""
        documents = self.client.sync.v1.services(service_sid).documents
        return _created(lambda: documents.create(unique_name=name, data=data))

    def document(self, service_sid: str, name: str) -> Document | None:
        documents = self.client.sync.v1.services(service_sid).documents
        found = _found(lambda: documents(path_segment(name)).fetch())
        if found is None:
            return None
        return Document(dict(found.data or {}), str(found.revision))

    def update_document(
        self, service_sid: str, name: str, data: dict[str, Any], if_match: str
    ) -> None:
        """Replace the data if the revision is still ``if_match`` (else Twilio 54103)."""
        document = self.client.sync.v1.services(service_sid).documents(path_segment(name))
        with _twilio():
            document.update(data=data, if_match=if_match)

    def grant_document_read(self, service_sid: str, name: str, identity: str) -> None:
        document = self.client.sync.v1.services(service_sid).documents(path_segment(name))
        permission = document.document_permissions(path_segment(identity))
        with _twilio():
            permission.update(read=True, write=False, manage=False)

    # -- Conversations ----------------------------------------------------------------------
    def create_conversation_service(self, friendly_name: str) -> str:
        with _twilio():
            return str(
                self.client.conversations.v1.services.create(friendly_name=friendly_name).sid
            )

    def find_conversation_service_by_name(self, friendly_name: str) -> str | None:
        """The first Conversations service with that friendly name, or None."""
        return _sid_named(self.client.conversations.v1.services, friendly_name)

    def create_conversation(self, service_sid: str, unique_name: str) -> bool:
        """Create the stream's conversation (closes one day after its last activity)."""
        conversations = self.client.conversations.v1.services(service_sid).conversations
        return _created(
            lambda: conversations.create(
                unique_name=unique_name, timers_closed=CONVERSATION_CLOSE_TIMER
            )
        )

    def add_conversation_participant(
        self, service_sid: str, conversation: str, identity: str
    ) -> bool:
        """Add ``identity``; ``False`` when it already is a participant (50433)."""
        participants = (
            self.client.conversations.v1.services(service_sid)
            .conversations(path_segment(conversation))
            .participants
        )
        return _created(lambda: participants.create(identity=identity))

    def delete_conversation(self, service_sid: str, conversation: str) -> bool:
        conversations = self.client.conversations.v1.services(service_sid).conversations
        return _removed(lambda: conversations(path_segment(conversation)).delete())
