"""The backend's own record of its streams, kept in Twilio Sync like the original's.

A "backend storage" Sync service (ACL on, no client is ever granted access) holds the map
``streams``: key = the stream's Room SID, data = :class:`StreamRecord`. The record exists from
create-stream until the room-ended cleanup, so "is there a record" is "is this a live stream of
this backend".

The storage service and the Conversations service (when chat is on) are given by settings or
provisioned when the first stream is created: an existing service with the well-known friendly
name is reused (so a restarted backend finds its streams again), else one is created.
Provisioning runs once per app under a lock, so racing first requests provision once. Reads
never provision: before the first stream, every lookup simply finds no stream (and makes no
write request to Twilio).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .twilio_gateway import TwilioGateway

__all__ = [
    "CONVERSATIONS_SERVICE_NAME",
    "STORAGE_SERVICE_NAME",
    "STREAMS_MAP",
    "BackendStorage",
    "StreamRecord",
]

STORAGE_SERVICE_NAME = "Live Video Backend Storage"
CONVERSATIONS_SERVICE_NAME = "Twilio Live Interactive Video Conversations Service"
STREAMS_MAP = "streams"


@dataclass(frozen=True)
class StreamRecord:
    """What the backend remembers of one stream (the ``streams`` item of its room).

    ``host_identity`` is this backend's addition to the original's three SIDs: it lets the
    rooms-webhook give a host who reconnects ``{"host": true}`` again.
    """

    room_sid: str
    sync_service_sid: str
    player_streamer_sid: str
    media_processor_sid: str
    host_identity: str | None = None

    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sync_service_sid": self.sync_service_sid,
            "player_streamer_sid": self.player_streamer_sid,
            "media_processor_sid": self.media_processor_sid,
        }
        if self.host_identity is not None:
            data["host_identity"] = self.host_identity
        return data

    @classmethod
    def from_data(cls, room_sid: str, data: dict[str, Any]) -> StreamRecord:
        return cls(
            room_sid=room_sid,
            sync_service_sid=str(data["sync_service_sid"]),
            player_streamer_sid=str(data["player_streamer_sid"]),
            media_processor_sid=str(data["media_processor_sid"]),
            host_identity=data.get("host_identity"),
        )


class BackendStorage:
    """The ``streams`` map and the shared services, provisioned lazily and cached."""

    def __init__(
        self,
        gateway: TwilioGateway,
        *,
        storage_service_sid: str | None = None,
        conversations_service_sid: str | None = None,
    ) -> None:
        self._gateway = gateway
        self._lock = threading.RLock()
        self._storage_sid = storage_service_sid
        self._streams_map_ready = False
        self._conversations_sid = conversations_service_sid

    def _storage_service(self, *, create: bool) -> str | None:
        """The storage service SID; with ``create``, provisioned (service and ``streams``
        map) if needed, else None when there is none yet (reads never write to Twilio)."""
        if self._streams_map_ready or (self._storage_sid and not create):
            return self._storage_sid
        with self._lock:
            if self._storage_sid is None:
                self._storage_sid = self._gateway.find_sync_service_by_name(STORAGE_SERVICE_NAME)
                if self._storage_sid is None and create:
                    self._storage_sid = self._gateway.create_sync_service(STORAGE_SERVICE_NAME)
            if create and self._storage_sid and not self._streams_map_ready:
                self._gateway.create_map(self._storage_sid, STREAMS_MAP)
                self._streams_map_ready = True
            return self._storage_sid

    def provision(self) -> None:
        """Make sure the storage service and its ``streams`` map exist (raises TwilioFailure)."""
        self._storage_service(create=True)

    def conversations_service(self) -> str:
        """The Conversations service SID the streams' conversations live in."""
        if self._conversations_sid:
            return self._conversations_sid
        with self._lock:
            if self._conversations_sid is None:
                self._conversations_sid = self._gateway.find_conversation_service_by_name(
                    CONVERSATIONS_SERVICE_NAME
                ) or self._gateway.create_conversation_service(CONVERSATIONS_SERVICE_NAME)
            return self._conversations_sid

    def get_stream(self, room_sid: str) -> StreamRecord | None:
        """The record of the stream whose room is ``room_sid``, or None (read-only)."""
        service = self._storage_service(create=False)
        if service is None:
            return None
        data = self._gateway.map_item(service, STREAMS_MAP, room_sid)
        if data is None:
            return None
        return StreamRecord.from_data(room_sid, data)

    def put_stream(self, record: StreamRecord) -> None:
        service = self._storage_service(create=True)
        assert service is not None
        self._gateway.add_map_item(service, STREAMS_MAP, record.room_sid, record.data())

    def delete_stream(self, room_sid: str) -> bool:
        service = self._storage_service(create=False)
        if service is None:
            return False
        return self._gateway.remove_map_item(service, STREAMS_MAP, room_sid)
