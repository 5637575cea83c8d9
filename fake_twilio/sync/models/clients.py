"""Simulated Sync SDK clients: reachability (connect/disconnect) and ACL-checked reads/writes.

Reachability. A client endpoint (one SDK instance of an identity) connects and disconnects.
With ``ReachabilityWebhooksEnabled`` (and a ``WebhookUrl``) each connect queues
``endpoint_connected`` and each disconnect ``endpoint_disconnected``, with the fields Twilio
documents for Sync webhooks (AccountSid, ServiceSid, EventType, Identity, EndpointId,
DateCreated). With ``ReachabilityDebouncingEnabled`` a disconnect only counts once the
identity has no endpoint left, and its webhook is held for the debouncing window on the fake
clock; if the identity reconnects within the window the pending ``endpoint_disconnected`` is
dropped and the reconnect sends no ``endpoint_connected`` either (the identity never went
offline as far as the webhook receiver can tell).

Reads and writes. ``client_read`` / ``client_write`` act as the identity's client would: with
``AclEnabled`` they need a Permission (read / write; manage implies both), else 54007 (HTTP
403). They use the client-side not-found codes (54050, 54100, 54150, 54151, 54200, 54201) and
their writes always fire the Service's webhooks (with the identity and its endpoint).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ...core.errors import TwilioError
from ...core.scheduler import Scheduler
from ...core.sids import is_sid
from .base import BackendBase
from .common import (
    DOCUMENT,
    KINDS,
    LIST,
    MAP,
    Actor,
    check_data,
    check_identity,
    check_key,
)
from .entities import Document, SyncCollection, SyncObject, SyncService
from .items import ItemsMixin
from .objects import ObjectsMixin
from .permissions import READ, WRITE, PermissionsMixin
from .render import render_item, render_object

CLIENT_KINDS = (DOCUMENT, MAP, LIST)


class ClientsMixin(ObjectsMixin, ItemsMixin, PermissionsMixin, BackendBase):
    """Python-level operations of simulated Sync SDK clients."""

    # -- reachability ------------------------------------------------------------------------
    def client_connect(self, service_sid: str, identity: str, endpoint_id: str) -> None:
        """A Sync SDK client (``endpoint_id``) of ``identity`` comes online.

        Raises 54050 (unknown Service), 54351 (bad identity), 20001 (empty endpoint id).
        Connecting an endpoint that is already connected changes nothing.
        """
        service = self._service(service_sid, client=True)
        check_identity(identity)
        if not endpoint_id:
            raise TwilioError(20001, "An endpoint id is required", 400)
        endpoints = service.endpoints.setdefault(identity, {})
        if endpoint_id in endpoints:
            return
        endpoints[endpoint_id] = self._ctx.now()
        pending = service.pending_offline.pop(identity, None)
        if pending is not None:
            Scheduler.cancel(pending)  # back within the debouncing window: no events at all
            return
        actor = Actor(identity, endpoint_id, via_rest=False)
        self._emit(service, actor, "endpoint_connected", [], reachability=True)

    def client_disconnect(self, service_sid: str, identity: str, endpoint_id: str) -> None:
        """A Sync SDK client goes away (unknown endpoints are ignored).

        Without debouncing ``endpoint_disconnected`` is queued at once; with debouncing it is
        delivered after the Service's window if ``identity`` has no endpoint by then.
        """
        service = self._service(service_sid, client=True)
        endpoints = service.endpoints.get(identity)
        if not endpoints or endpoint_id not in endpoints:
            return
        del endpoints[endpoint_id]
        if not endpoints:
            del service.endpoints[identity]
        actor = Actor(identity, endpoint_id, via_rest=False)
        if not service.reachability_debouncing_enabled:
            self._emit(service, actor, "endpoint_disconnected", [], reachability=True)
            return
        if endpoints:
            return  # still online through another endpoint
        window = timedelta(milliseconds=service.reachability_debouncing_window)
        self._schedule_offline(service, actor, self._ctx.now() + window)

    def _schedule_offline(self, service: SyncService, actor: Actor, when: datetime) -> None:
        identity = actor.identity

        def fire(_when: datetime) -> None:
            if service.deleted or service.pending_offline.get(identity) is not entry:
                return
            del service.pending_offline[identity]
            if not service.endpoints.get(identity):
                self._emit(service, actor, "endpoint_disconnected", [], reachability=True)

        entry = self._ctx.schedule(when, fire)
        service.pending_offline[identity] = entry

    def connected_clients(self, service_sid: str) -> dict[str, list[str]]:
        """``{identity: [endpoint ids]}`` of the clients connected to the Service now."""
        service = self._service(service_sid, client=True)
        return {identity: list(eps) for identity, eps in service.endpoints.items()}

    # -- reads and writes ------------------------------------------------------------------
    def client_read(
        self,
        service_sid: str,
        kind: str,
        name_or_sid: str,
        identity: str,
        key: str | None = None,
    ) -> dict[str, Any]:
        """Read as ``identity``'s client would; returns the REST JSON of what was read.

        ``kind`` is ``"document"``, ``"map"`` or ``"list"``. Without ``key``: the Document,
        or the Map/List with an extra ``"items"`` list (ascending key/index); with ``key``:
        that Map Item / List Item (index as a string or int). Raises the client not-found
        codes, 54007 (403) when ACL forbids reading, 20001 for a bad ``kind``/``key``.
        """
        target = self._client_target(service_sid, kind, name_or_sid)
        self.check_access(target, identity, READ)
        if isinstance(target, Document):
            if key is not None:
                raise TwilioError(20001, "Documents have no items", 400)
            return render_object(target)
        assert isinstance(target, SyncCollection)
        if key is None:
            body = render_object(target)
            body["items"] = [render_item(target.items[k]) for k in target.order]
            return body
        return render_item(self._item(target, key, client=True))

    def client_write(
        self,
        service_sid: str,
        kind: str,
        name_or_sid: str,
        identity: str,
        data: dict[str, Any],
        key: str | None = None,
    ) -> dict[str, Any]:
        """Write as ``identity``'s client would; returns the REST JSON of what was written.

        Document: replace its data. Map: set item ``key`` (added or updated). List: append
        an item (no ``key``) or replace item ``key``. A missing Document/Map/List is created
        (``created_by`` = identity) when the Service has ACL disabled, as the SDK's
        open-or-create does; with ACL enabled that is 54007. Raises 54007 (403) without
        write permission, 54008/54006 for bad data, client not-found codes otherwise.
        """
        service = self._service(service_sid, client=True)
        if kind not in CLIENT_KINDS:
            raise TwilioError(20001, f"Clients cannot write a {kind!r}", 400)
        check_identity(identity)
        payload = check_data(data)
        if kind == DOCUMENT and key is not None:
            raise TwilioError(20001, "Documents have no items", 400)
        if kind == MAP:
            if key is None:
                raise TwilioError(20001, "A Map write needs a key", 400)
            check_key(key)
        actor = Actor(identity, self._endpoint_of(service, identity), via_rest=False)
        target = service.find(kind, name_or_sid)
        if target is None:
            target = self._client_create(service, kind, name_or_sid, actor)
        self.check_access(target, identity, WRITE)
        if isinstance(target, Document):
            self.update_object(DOCUMENT, service.sid, target.sid, data=payload, actor=actor)
            return render_object(target)
        assert isinstance(target, SyncCollection)
        if kind == LIST and key is None:
            item = self.create_item(LIST, service.sid, target.sid, data=payload, actor=actor)
        elif kind == LIST:
            found = self._item(target, key, client=True)
            item = self.update_item(
                LIST, service.sid, target.sid, found.key, data=payload, actor=actor
            )
        elif key in target.items:
            item = self.update_item(MAP, service.sid, target.sid, key, data=payload, actor=actor)
        else:
            item = self.create_item(
                MAP, service.sid, target.sid, key=key, data=payload, actor=actor
            )
        return render_item(item)

    def _client_target(self, service_sid: str, kind: str, ref: str) -> SyncObject:
        if kind not in CLIENT_KINDS:
            raise TwilioError(20001, f"Clients cannot read a {kind!r}", 400)
        return self._object(kind, service_sid, ref, client=True)

    def _client_create(self, service: SyncService, kind: str, ref: str, actor: Actor) -> SyncObject:
        spec = KINDS[kind]
        if is_sid(ref, spec.prefix):
            raise TwilioError(spec.client_not_found, f"{spec.label} not found: {ref}", 404)
        if service.acl_enabled:
            raise TwilioError(
                54007,
                f"Access forbidden for identity {actor.identity!r}: cannot create "
                f"{spec.label} {ref!r} with ACL enabled",
                403,
            )
        return self.create_object(kind, service.sid, unique_name=ref, actor=actor)

    @staticmethod
    def _endpoint_of(service: SyncService, identity: str) -> str | None:
        """The identity's most recently connected endpoint, if any."""
        endpoints = service.endpoints.get(identity)
        if not endpoints:
            return None
        return next(reversed(endpoints))
