"""Documents (``ET``), Maps (``MP``), Lists (``ES``) and Streams (``TO``) of a Service.

The four kinds share one life cycle, so one set of methods takes the ``kind`` (``"document"``,
``"map"``, ``"list"`` or ``"stream"``). Objects are addressed by SID or unique name (the
unique name is unique per kind and Service). A TTL makes the object expire on the fake clock:
it is then deleted exactly as by a REST delete (its items, permissions and deadlines go too).
Stream Messages are published here as well.
"""

from __future__ import annotations

from typing import Any

from ...core.errors import TwilioError
from ...core.sids import new_sid
from .base import BackendBase
from .common import (
    DOCUMENT,
    KINDS,
    MAX_MESSAGE_BYTES,
    REVISION_MISMATCH,
    STREAM,
    SYSTEM,
    Actor,
    check_data,
    check_if_match,
    check_ttl,
    check_unique_name,
    compact_json,
)
from .entities import OBJECT_CLASSES, Document, SyncObject, SyncStream


class ObjectsMixin(BackendBase):
    """Create, fetch, list, update and delete Documents, Maps, Lists and Streams."""

    def create_object(
        self,
        kind: str,
        service_sid: str,
        *,
        unique_name: str | None = None,
        ttl: int | None = None,
        data: dict[str, Any] | None = None,
        actor: Actor = SYSTEM,
    ) -> SyncObject:
        """Create an object of ``kind`` (``data`` only for Documents, default ``{}``).

        Raises 20404 (unknown Service), 54302 (bad unique name), 54301 (unique name taken,
        409), 54011 (bad TTL), 54008/54006 (bad data). Queues ``<kind>_created``.
        """
        service = self._service(service_sid)
        spec = KINDS[kind]
        if unique_name is not None:
            check_unique_name(unique_name, spec.prefix)
            if unique_name in service.names[kind]:
                raise TwilioError(54301, f"Unique name already exists: {unique_name}", 409)
        check_ttl(ttl)
        payload = check_data(data) if data is not None else {}
        now = self._ctx.now()
        cls = OBJECT_CLASSES[kind]
        obj = cls(
            sid=new_sid(spec.prefix),
            unique_name=unique_name,
            service=service,
            created_by=actor.identity,
            date_created=now,
            date_updated=now,
        )
        if isinstance(obj, Document):
            obj.data = payload
        service.objects[kind][obj.sid] = obj
        if unique_name is not None:
            service.names[kind][unique_name] = obj
        self._set_expiry(obj, ttl, now, self._expire_object(obj))
        self._emit(service, actor, f"{kind}_created", self._created_fields(obj))
        return obj

    def get_object(self, kind: str, service_sid: str, ref: str) -> SyncObject:
        """The object of ``kind`` whose SID or unique name is ``ref`` (20404 if none)."""
        return self._object(kind, service_sid, ref)

    def list_objects(self, kind: str, service_sid: str) -> list[SyncObject]:
        """Every object of ``kind`` in the Service, oldest first."""
        return list(self._service(service_sid).objects[kind].values())

    def update_object(
        self,
        kind: str,
        service_sid: str,
        ref: str,
        *,
        data: dict[str, Any] | None = None,
        ttl: int | None = None,
        if_match: str | None = None,
        actor: Actor = SYSTEM,
    ) -> SyncObject:
        """Replace a Document's data and/or set any object's TTL (0 removes the expiry).

        ``if_match`` is checked for Documents only (54103, HTTP 412). Nothing to change
        gives 54010. Bumps the revision; queues ``document_updated`` for Documents.
        """
        obj = self._object(kind, service_sid, ref)
        if data is not None and kind != DOCUMENT:
            raise TwilioError(20001, f"A {KINDS[kind].label} has no data", 400)
        if data is None and ttl is None:
            raise TwilioError(54010, "No parameters specified", 400)
        check_ttl(ttl)
        payload = check_data(data) if data is not None else None
        if kind == DOCUMENT:
            check_if_match(if_match, obj.revision, REVISION_MISMATCH[DOCUMENT])
        now = self._ctx.now()
        if isinstance(obj, Document) and payload is not None:
            obj.data = payload
        if ttl is not None:
            self._set_expiry(obj, ttl, now, self._expire_object(obj))
        obj.touch(now)
        if isinstance(obj, Document):
            self._emit(obj.service, actor, "document_updated", self._created_fields(obj))
        return obj

    def set_collection_ttl(self, obj: SyncObject, ttl: int) -> None:
        """Give a Map or List a new TTL from now (used by items' ``CollectionTtl``)."""
        self._set_expiry(obj, ttl, self._ctx.now(), self._expire_object(obj))

    def delete_object(
        self, kind: str, service_sid: str, ref: str, *, actor: Actor = SYSTEM
    ) -> None:
        """Delete an object with its items and permissions; queues ``<kind>_removed``."""
        self._remove_object(self._object(kind, service_sid, ref), actor)

    # -- streams ---------------------------------------------------------------------------
    def publish_message(
        self, service_sid: str, stream_ref: str, data: dict[str, Any], *, actor: Actor = SYSTEM
    ) -> dict[str, Any]:
        """Publish a Stream Message (``TZ``); returns ``{"sid", "data"}``.

        ``data`` is limited to 4 KiB (54006). Messages are not stored beyond the last few
        (kept for the state dump). Queues ``stream_message_published``.
        """
        stream = self._object(STREAM, service_sid, stream_ref)
        assert isinstance(stream, SyncStream)
        payload = check_data(data, MAX_MESSAGE_BYTES)
        message = {"sid": new_sid("TZ"), "data": payload}
        stream.messages.append({**message, "published_by": actor.identity})
        self._emit(
            stream.service,
            actor,
            "stream_message_published",
            [
                *self._object_fields(stream, with_revision=False),
                ("MessageSid", message["sid"]),
                ("MessageData", compact_json(payload)),
            ],
        )
        return message

    def _created_fields(self, obj: SyncObject) -> list[tuple[str, str]]:
        fields = self._object_fields(obj, with_revision=obj.kind != STREAM)
        if isinstance(obj, Document):
            fields.append(("DocumentData", compact_json(obj.data)))
        return fields
