"""Fake Twilio Sync v1, pure domain (no Flask): :class:`SyncBackend` and its resources.

Modules: :mod:`.common` (limits, kinds, validation and the error-code policy), :mod:`.entities`
(the data), :mod:`.render` (REST JSON), :mod:`.base` (lookups, TTLs, webhooks),
:mod:`.services`, :mod:`.objects` (Documents, Maps, Lists, Streams), :mod:`.items` (Map and
List Items), :mod:`.permissions` (Permissions and the ACL check), :mod:`.clients` (simulated
SDK clients: reachability, ACL-checked reads and writes) and :mod:`.backend`.
"""

from __future__ import annotations

from .backend import SyncBackend
from .common import DOCUMENT, LIST, MAP, STREAM, SYSTEM, Actor
from .entities import (
    Document,
    Item,
    Permission,
    SyncCollection,
    SyncList,
    SyncMap,
    SyncObject,
    SyncService,
    SyncStream,
)

__all__ = [
    "DOCUMENT",
    "LIST",
    "MAP",
    "STREAM",
    "SYSTEM",
    "Actor",
    "Document",
    "Item",
    "Permission",
    "SyncBackend",
    "SyncCollection",
    "SyncList",
    "SyncMap",
    "SyncObject",
    "SyncService",
    "SyncStream",
]
