"""The Sync backend of one account: every mixin together, conveniences and the state dump.

Python-level methods never take the state lock themselves: callers (tests, the control
plane) wrap them in ``with state.locked():``. REST views already run under the lock.
"""

from __future__ import annotations

import copy
from typing import Any

from ...core.clock import format_datetime
from .clients import ClientsMixin
from .common import DOCUMENT, KINDS, LIST, MAP
from .entities import Document, SyncCollection, SyncObject, SyncStream
from .render import render_service
from .services import ServicesMixin


class SyncBackend(ClientsMixin, ServicesMixin):
    """Fake Twilio Sync v1 for one account (see the package docstring for the contract)."""

    # -- conveniences for tests and state views ---------------------------------------------
    def document_data(self, service_sid: str, document: str) -> dict[str, Any]:
        """A copy of the Document's data (by SID or unique name); 20404 when missing."""
        found = self.get_object(DOCUMENT, service_sid, document)
        assert isinstance(found, Document)
        return copy.deepcopy(found.data)

    def map_items(self, service_sid: str, map_ref: str) -> dict[str, dict[str, Any]]:
        """``{key: data}`` of a Map (by SID or unique name), keys ascending; 20404 if missing."""
        return self._collection_data(MAP, service_sid, map_ref)

    def list_items_data(self, service_sid: str, list_ref: str) -> dict[int, dict[str, Any]]:
        """``{index: data}`` of a List (by SID or unique name), ascending; 20404 if missing."""
        return self._collection_data(LIST, service_sid, list_ref)

    def _collection_data(self, kind: str, service_sid: str, ref: str) -> dict[Any, Any]:
        found = self.get_object(kind, service_sid, ref)
        assert isinstance(found, SyncCollection)
        return {key: copy.deepcopy(found.items[key].data) for key in found.order}

    # -- state dump ----------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        """JSON view of every Service with its objects, items, permissions and clients."""
        return {
            "services": {
                sid: {
                    **render_service(service),
                    **{
                        spec.list_key: {
                            obj.sid: _dump_object(obj) for obj in service.objects[kind].values()
                        }
                        for kind, spec in KINDS.items()
                    },
                    "clients": {
                        identity: sorted(endpoints)
                        for identity, endpoints in service.endpoints.items()
                    },
                    "pending_disconnects": sorted(service.pending_offline),
                }
                for sid, service in self._services.items()
            }
        }


def _dump_object(obj: SyncObject) -> dict[str, Any]:
    body: dict[str, Any] = {
        "unique_name": obj.unique_name,
        "created_by": obj.created_by,
        "date_expires": format_datetime(obj.date_expires),
    }
    if isinstance(obj, SyncStream):
        body["recent_messages"] = list(obj.messages)
        return body
    body["revision"] = str(obj.revision)
    if isinstance(obj, Document):
        body["data"] = copy.deepcopy(obj.data)
    if isinstance(obj, SyncCollection):
        body["items"] = {
            str(key): {
                "data": copy.deepcopy(obj.items[key].data),
                "revision": str(obj.items[key].revision),
                "date_expires": format_datetime(obj.items[key].date_expires),
                "created_by": obj.items[key].created_by,
            }
            for key in obj.order
        }
    body["permissions"] = {
        identity: {"read": p.read, "write": p.write, "manage": p.manage}
        for identity, p in obj.permissions.items()
    }
    return body
