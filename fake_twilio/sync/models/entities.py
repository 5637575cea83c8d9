"""Sync resources as plain data: Service, Document, Map/List, Item, Stream and Permission.

Objects keep back-references to their parent (an Item to its collection, an object to its
Service) so that each can be rendered and addressed on its own. ``deleted`` is set when a
resource is removed, so deadlines and late callers can tell a stale reference from a live one.
Revisions are per-object counters rendered as decimal strings ("0" after creation).
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...core.segments import resource_path
from .common import DOCUMENT, KINDS, LIST, MAP, RECENT_MESSAGES, STREAM, KindSpec


@dataclass(eq=False)
class SyncService:
    """A Sync Service (``IS``): settings, the objects inside, and the connected clients."""

    sid: str
    account_sid: str
    friendly_name: str | None
    webhook_url: str | None
    reachability_webhooks_enabled: bool
    acl_enabled: bool
    reachability_debouncing_enabled: bool
    reachability_debouncing_window: int
    webhooks_from_rest_enabled: bool
    date_created: datetime
    date_updated: datetime
    unique_name: str | None = None
    deleted: bool = False
    #: kind -> SID -> object, and kind -> unique name -> object (O(1) lookups both ways).
    objects: dict[str, dict[str, SyncObject]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    names: dict[str, dict[str, SyncObject]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    #: identity -> endpoint id -> connection time, for connected Sync SDK clients.
    endpoints: dict[str, dict[str, datetime]] = field(default_factory=dict)
    #: identity -> pending debounced ``endpoint_disconnected`` deadline.
    pending_offline: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return resource_path("Services", self.sid)

    def find(self, kind: str, ref: str) -> SyncObject | None:
        """The live object of ``kind`` whose SID or unique name is ``ref``."""
        spec = KINDS[kind]
        if ref.startswith(spec.prefix) and ref in self.objects[kind]:
            return self.objects[kind][ref]
        return self.names[kind].get(ref)


@dataclass(eq=False)
class SyncObject:
    """What Documents, Maps, Lists and Streams share."""

    sid: str
    unique_name: str | None
    service: SyncService
    created_by: str
    date_created: datetime
    date_updated: datetime
    revision: int = 0
    date_expires: datetime | None = None
    deadline: Any = None
    deleted: bool = False
    permissions: dict[str, Permission] = field(default_factory=dict)

    kind = ""

    @property
    def spec(self) -> KindSpec:
        return KINDS[self.kind]

    @property
    def path(self) -> str:
        return self.service.path + resource_path(self.spec.segment, self.sid)

    def touch(self, now: datetime) -> None:
        """Record a write: bump the revision and the update time."""
        self.revision += 1
        self.date_updated = now


@dataclass(eq=False)
class Document(SyncObject):
    """A Sync Document (``ET``): one JSON object."""

    data: dict[str, Any] = field(default_factory=dict)

    kind = DOCUMENT


@dataclass(eq=False)
class Item:
    """A Map Item (``key`` is a string) or List Item (``key`` is the integer index)."""

    key: Any
    collection: SyncCollection
    data: dict[str, Any]
    created_by: str
    date_created: datetime
    date_updated: datetime
    revision: int = 0
    date_expires: datetime | None = None
    deadline: Any = None
    deleted: bool = False

    @property
    def path(self) -> str:
        return self.collection.path + resource_path("Items", self.key)


@dataclass(eq=False)
class SyncCollection(SyncObject):
    """A Map (``MP``, items by key) or List (``ES``, items by server-assigned index).

    ``order`` holds the item keys sorted ascending so that ordered, bounded listing is a
    binary search plus a slice.
    """

    items: dict[Any, Item] = field(default_factory=dict)
    order: list[Any] = field(default_factory=list)
    next_index: int = 0
    event_seq: int = 0

    def add(self, item: Item) -> None:
        self.items[item.key] = item
        if not self.order or self.order[-1] < item.key:
            self.order.append(item.key)
        else:
            bisect.insort(self.order, item.key)

    def discard(self, item: Item) -> None:
        if self.items.get(item.key) is item:
            del self.items[item.key]
            position = bisect.bisect_left(self.order, item.key)
            if position < len(self.order) and self.order[position] == item.key:
                del self.order[position]

    def next_event_id(self) -> int:
        self.event_seq += 1
        return self.event_seq


@dataclass(eq=False)
class SyncMap(SyncCollection):
    kind = MAP


@dataclass(eq=False)
class SyncList(SyncCollection):
    kind = LIST


@dataclass(eq=False)
class SyncStream(SyncObject):
    """A Message Stream (``TO``); keeps its most recent messages for the state dump."""

    messages: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_MESSAGES))

    kind = STREAM


@dataclass(eq=False)
class Permission:
    """An identity's access to one Document, Map or List."""

    target: SyncObject
    identity: str
    read: bool
    write: bool
    manage: bool

    @property
    def path(self) -> str:
        return self.target.path + resource_path("Permissions", self.identity)


OBJECT_CLASSES: dict[str, type[SyncObject]] = {
    DOCUMENT: Document,
    MAP: SyncMap,
    LIST: SyncList,
    STREAM: SyncStream,
}
