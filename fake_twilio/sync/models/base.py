"""What every part of the Sync backend shares: the Services, lookups, TTLs and webhooks.

:class:`BackendBase` is the root of the mixins that make up
:class:`~fake_twilio.sync.models.SyncBackend`. It owns ``self._services`` (SID -> Service) and
the helpers the mixins build on: resolving a Service / object / item (raising the REST or
client not-found codes described in :mod:`.common`), arming and cancelling TTL deadlines on
the fake clock, and queueing the Service's webhooks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ...core.clock import format_datetime
from ...core.errors import TwilioError, not_found
from ...core.scheduler import Scheduler
from ...core.segments import resource_path
from ...core.state import ProductContext
from .common import KINDS, MAP, STREAM, SYSTEM, Actor, compact_json, expiry
from .entities import Item, SyncCollection, SyncObject, SyncService

WEBHOOK_SOURCE = "sync.service"


class BackendBase:
    """State and shared helpers of the Sync backend (one per account)."""

    def __init__(self, ctx: ProductContext) -> None:
        self._ctx = ctx
        self._services: dict[str, SyncService] = {}

    # -- lookups -------------------------------------------------------------------------
    def _service(self, service_sid: str, *, client: bool = False) -> SyncService:
        """The live Service ``service_sid``; 20404 over REST, 54050 for client operations."""
        service = self._services.get(service_sid)
        if service is None:
            if client:
                raise TwilioError(54050, f"Service Instance not found: {service_sid}", 404)
            raise not_found(resource_path("Services", service_sid))
        return service

    def _object(self, kind: str, service_sid: str, ref: str, *, client: bool = False) -> SyncObject:
        """The live object of ``kind`` addressed by SID or unique name ``ref``."""
        service = self._service(service_sid, client=client)
        found = service.find(kind, ref)
        if found is None:
            spec = KINDS[kind]
            if client:
                raise TwilioError(spec.client_not_found, f"{spec.label} not found: {ref}", 404)
            raise not_found(service.path + resource_path(spec.segment, ref))
        return found

    def _collection(
        self, kind: str, service_sid: str, ref: str, *, client: bool = False
    ) -> SyncCollection:
        found = self._object(kind, service_sid, ref, client=client)
        assert isinstance(found, SyncCollection)
        return found

    # -- TTLs ----------------------------------------------------------------------------
    def _set_expiry(
        self,
        target: SyncObject | Item,
        ttl: int | None,
        now: datetime,
        on_expire: Callable[[], None],
    ) -> None:
        """Give ``target`` a TTL from ``now`` (0/None: no expiry), replacing any earlier one.

        When the deadline comes (on the fake clock) and ``target`` is still live with the same
        expiry, ``on_expire`` runs under the state lock.
        """
        Scheduler.cancel(target.deadline)
        target.deadline = None
        target.date_expires = expiry(now, ttl)
        if target.date_expires is None:
            return

        def fire(when: datetime) -> None:
            if not target.deleted and target.date_expires == when:
                target.deadline = None
                on_expire()

        target.deadline = self._ctx.schedule(target.date_expires, fire)

    @staticmethod
    def _cancel(target: SyncObject | Item) -> None:
        Scheduler.cancel(target.deadline)
        target.deadline = None

    # -- webhooks ------------------------------------------------------------------------
    def _emit(
        self,
        service: SyncService,
        actor: Actor,
        event_type: str,
        fields: list[tuple[str, str]],
        *,
        reachability: bool = False,
    ) -> None:
        """Queue a Service webhook if the Service asks for this kind of event.

        Object events go out for client writes always and for REST writes only with
        ``WebhooksFromRestEnabled``; reachability events only with
        ``ReachabilityWebhooksEnabled``. Nothing is sent without a ``WebhookUrl``.
        """
        url = service.webhook_url
        if not url or service.deleted:
            return
        if reachability:
            if not service.reachability_webhooks_enabled:
                return
        elif actor.via_rest and not service.webhooks_from_rest_enabled:
            return
        params: list[tuple[str, str]] = [
            ("AccountSid", service.account_sid),
            ("ServiceSid", service.sid),
            ("EventType", event_type),
            ("Identity", actor.identity),
        ]
        if actor.endpoint_id:
            params.append(("EndpointId", actor.endpoint_id))
        params.extend(fields)
        params.append(("DateCreated", format_datetime(self._ctx.now()) or ""))
        self._ctx.webhook(url, "POST", params, WEBHOOK_SOURCE)

    @staticmethod
    def _object_fields(obj: SyncObject, *, with_revision: bool = True) -> list[tuple[str, str]]:
        """``<Label>Sid``, ``<Label>UniqueName`` (when set) and ``<Label>Revision``."""
        label = obj.spec.label
        fields = [(f"{label}Sid", obj.sid)]
        if obj.unique_name is not None:
            fields.append((f"{label}UniqueName", obj.unique_name))
        if with_revision:
            fields.append((f"{label}Revision", str(obj.revision)))
        return fields

    def _item_fields(self, item: Item, *, with_data: bool) -> list[tuple[str, str]]:
        parent = item.collection
        fields = self._object_fields(parent)
        fields.append(("EventId", str(parent.next_event_id())))
        fields.append(("ItemKey" if parent.kind == MAP else "ItemIndex", str(item.key)))
        fields.append(("ItemRevision", str(item.revision)))
        if with_data:
            fields.append(("ItemData", compact_json(item.data)))
        return fields

    # -- removal ---------------------------------------------------------------------------
    def _remove_item(self, item: Item, actor: Actor) -> None:
        """Delete an item (REST, client or expiry) and announce ``<kind>_item_removed``."""
        parent = item.collection
        item.deleted = True
        self._cancel(item)
        parent.discard(item)
        parent.touch(self._ctx.now())
        self._emit(
            parent.service,
            actor,
            f"{parent.kind}_item_removed",
            self._item_fields(item, with_data=False),
        )

    def _remove_object(self, obj: SyncObject, actor: Actor, *, announce: bool = True) -> None:
        """Delete an object with its items and permissions, cancelling their deadlines."""
        service = obj.service
        obj.deleted = True
        self._cancel(obj)
        service.objects[obj.kind].pop(obj.sid, None)
        if obj.unique_name is not None and service.names[obj.kind].get(obj.unique_name) is obj:
            del service.names[obj.kind][obj.unique_name]
        if isinstance(obj, SyncCollection):
            for item in obj.items.values():
                item.deleted = True
                self._cancel(item)
        obj.permissions.clear()
        if announce:
            self._emit(
                service,
                actor,
                f"{obj.kind}_removed",
                self._object_fields(obj, with_revision=obj.kind != STREAM),
            )

    def _expire_object(self, obj: SyncObject) -> Callable[[], None]:
        """The expiry action of ``obj``: removed as by the system (REST-originated events)."""
        return lambda: self._remove_object(obj, SYSTEM)

    def _expire_item(self, item: Item) -> Callable[[], None]:
        return lambda: self._remove_item(item, SYSTEM)
