"""Map Items (by ``key``) and List Items (by server-assigned ``index``).

Map keys are unique (a duplicate is 54208, 409); List indexes are increasing integers
assigned by the fake (gaps remain after removals, as on Twilio). Listing is ordered by key or
index, ``asc`` (default) or ``desc``, optionally starting ``From`` a key/index with
``inclusive`` (default) or ``exclusive`` bounds -- a binary search over the collection's
sorted keys, so a page costs O(log n + page) rather than a scan.

Every item write bumps the item's revision and its collection's revision. ``ItemTtl`` (alias
``Ttl``) expires the item; ``CollectionTtl`` (re)sets the parent's TTL from now.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any, overload

from ...core.errors import TwilioError, not_found
from ...core.segments import resource_path
from .base import BackendBase
from .common import (
    ITEM_NOT_FOUND,
    LIST,
    MAP,
    REVISION_MISMATCH,
    SYSTEM,
    Actor,
    check_data,
    check_if_match,
    check_key,
    check_ttl,
)
from .entities import Item, SyncCollection

ORDERS = ("asc", "desc")
BOUNDS = ("inclusive", "exclusive")


class ItemView(Sequence[Item]):
    """A read-only ordered view of some of a collection's items (looked up lazily)."""

    def __init__(self, items: dict[Any, Item], keys: list[Any]) -> None:
        self._items = items
        self._keys = keys

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> list[Item]: ...

    def __getitem__(self, index: int | slice) -> Item | list[Item]:
        if isinstance(index, slice):
            return [self._items[key] for key in self._keys[index]]
        return self._items[self._keys[index]]


def parse_index(value: Any) -> int | None:
    """A List Item index from a path or parameter (None when not a non-negative integer)."""
    if isinstance(value, int):
        return value if value >= 0 else None
    text = str(value).strip()
    return int(text) if text.isdigit() else None


class ItemsMixin(BackendBase):
    """Items of Maps and Lists (``kind`` is ``"map"`` or ``"list"``)."""

    def create_item(
        self,
        kind: str,
        service_sid: str,
        collection_ref: str,
        *,
        data: dict[str, Any],
        key: str | None = None,
        item_ttl: int | None = None,
        collection_ttl: int | None = None,
        actor: Actor = SYSTEM,
    ) -> Item:
        """Add an item (Maps need ``key``; Lists assign the next index).

        Raises 20404 (unknown Service/collection), 54209 (bad key), 54208 (key exists, 409),
        54011 (bad TTL), 54008/54006 (bad data). Queues ``<kind>_item_added``.
        """
        parent = self._collection(kind, service_sid, collection_ref)
        payload = check_data(data)
        check_ttl(item_ttl)
        check_ttl(collection_ttl)
        if kind == MAP:
            if key is None:
                raise TwilioError(20001, "Missing required parameter Key in the post body", 400)
            check_key(key)
            if key in parent.items:
                raise TwilioError(54208, f"Map Item already exists: {key}", 409)
            item_key: Any = key
        else:
            item_key = parent.next_index
            parent.next_index += 1
        now = self._ctx.now()
        item = Item(
            key=item_key,
            collection=parent,
            data=payload,
            created_by=actor.identity,
            date_created=now,
            date_updated=now,
        )
        parent.add(item)
        parent.touch(now)
        self._set_expiry(item, item_ttl, now, self._expire_item(item))
        if collection_ttl is not None:
            self._set_expiry(parent, collection_ttl, now, self._expire_object(parent))
        self._emit(
            parent.service, actor, f"{kind}_item_added", self._item_fields(item, with_data=True)
        )
        return item

    def get_item(self, kind: str, service_sid: str, collection_ref: str, key: Any) -> Item:
        """The item ``key`` (Map key, or List index as int or digit string); 20404 if none."""
        return self._item(self._collection(kind, service_sid, collection_ref), key)

    def list_items(
        self,
        kind: str,
        service_sid: str,
        collection_ref: str,
        *,
        order: str = "asc",
        from_key: Any = None,
        bounds: str = "inclusive",
    ) -> Sequence[Item]:
        """The items in key/index ``order``, starting at ``from_key`` per ``bounds``.

        With ``asc`` the view holds keys >= ``from_key`` (> when exclusive); with ``desc``
        keys <= ``from_key`` (< when exclusive), largest first.
        """
        parent = self._collection(kind, service_sid, collection_ref)
        if order not in ORDERS:
            raise TwilioError(54451, f"Invalid 'Order' query parameter: {order!r}", 400)
        if bounds not in BOUNDS:
            raise TwilioError(54452, f"Invalid 'Bounds' query parameter: {bounds!r}", 400)
        keys = parent.order
        if from_key is None:
            selected = keys[::-1] if order == "desc" else list(keys)
        elif order == "asc":
            finder = bisect.bisect_left if bounds == "inclusive" else bisect.bisect_right
            selected = keys[finder(keys, from_key) :]
        else:
            finder = bisect.bisect_right if bounds == "inclusive" else bisect.bisect_left
            selected = keys[: finder(keys, from_key)][::-1]
        return ItemView(parent.items, selected)

    def update_item(
        self,
        kind: str,
        service_sid: str,
        collection_ref: str,
        key: Any,
        *,
        data: dict[str, Any] | None = None,
        item_ttl: int | None = None,
        collection_ttl: int | None = None,
        if_match: str | None = None,
        actor: Actor = SYSTEM,
    ) -> Item:
        """Replace an item's data and/or TTLs, honouring ``if_match`` (54205/54155, 412).

        Nothing to change gives 54010. Queues ``<kind>_item_updated``.
        """
        parent = self._collection(kind, service_sid, collection_ref)
        item = self._item(parent, key)
        if data is None and item_ttl is None and collection_ttl is None:
            raise TwilioError(54010, "No parameters specified", 400)
        payload = check_data(data) if data is not None else None
        check_ttl(item_ttl)
        check_ttl(collection_ttl)
        check_if_match(if_match, item.revision, REVISION_MISMATCH[kind])
        now = self._ctx.now()
        if payload is not None:
            item.data = payload
        if item_ttl is not None:
            self._set_expiry(item, item_ttl, now, self._expire_item(item))
        if collection_ttl is not None:
            self._set_expiry(parent, collection_ttl, now, self._expire_object(parent))
        item.revision += 1
        item.date_updated = now
        parent.touch(now)
        self._emit(
            parent.service, actor, f"{kind}_item_updated", self._item_fields(item, with_data=True)
        )
        return item

    def delete_item(
        self,
        kind: str,
        service_sid: str,
        collection_ref: str,
        key: Any,
        *,
        if_match: str | None = None,
        actor: Actor = SYSTEM,
    ) -> None:
        """Remove an item, honouring ``if_match``; 20404 when it does not exist."""
        parent = self._collection(kind, service_sid, collection_ref)
        item = self._item(parent, key)
        check_if_match(if_match, item.revision, REVISION_MISMATCH[kind])
        self._remove_item(item, actor)

    def _item(self, parent: SyncCollection, key: Any, *, client: bool = False) -> Item:
        lookup = parse_index(key) if parent.kind == LIST else key
        item = parent.items.get(lookup) if lookup is not None else None
        if item is None:
            if client:
                label = "Map Item" if parent.kind == MAP else "List Item"
                raise TwilioError(ITEM_NOT_FOUND[parent.kind], f"{label} not found: {key}", 404)
            raise not_found(parent.path + resource_path("Items", key))
        return item
