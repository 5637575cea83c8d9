"""The REST JSON of Sync resources (field set and order of Twilio's OpenAPI examples).

Shared by the routes, the Python-level client reads and the state dump, so every view of a
resource is the same. Datetimes use Twilio's ``YYYY-MM-DDTHH:MM:SSZ``; every ``url`` and
``links`` value is an absolute ``https://sync.twilio.com/v1`` URL.
"""

from __future__ import annotations

import copy
from typing import Any

from ...core.clock import format_datetime
from .common import KINDS, LIST, MAP, STREAM, sync_url
from .entities import Document, Item, Permission, SyncObject, SyncService


def render_service(service: SyncService) -> dict[str, Any]:
    return {
        "sid": service.sid,
        "unique_name": service.unique_name,
        "account_sid": service.account_sid,
        "friendly_name": service.friendly_name,
        "date_created": format_datetime(service.date_created),
        "date_updated": format_datetime(service.date_updated),
        "url": sync_url(service.path),
        "webhook_url": service.webhook_url,
        "webhooks_from_rest_enabled": service.webhooks_from_rest_enabled,
        "reachability_webhooks_enabled": service.reachability_webhooks_enabled,
        "acl_enabled": service.acl_enabled,
        "reachability_debouncing_enabled": service.reachability_debouncing_enabled,
        "reachability_debouncing_window": service.reachability_debouncing_window,
        "links": {
            spec.list_key: sync_url(f"{service.path}/{spec.segment}")
            for spec in sorted(KINDS.values(), key=lambda spec: spec.list_key)
        },
    }


def render_object(obj: SyncObject) -> dict[str, Any]:
    """A Document, Map, List or Stream as the REST API answers it."""
    url = sync_url(obj.path)
    body: dict[str, Any] = {
        "sid": obj.sid,
        "unique_name": obj.unique_name,
        "account_sid": obj.service.account_sid,
        "service_sid": obj.service.sid,
        "url": url,
    }
    if obj.kind == STREAM:
        body["links"] = {"messages": f"{url}/Messages"}
    elif obj.kind in (MAP, LIST):
        body["links"] = {"items": f"{url}/Items", "permissions": f"{url}/Permissions"}
    else:
        body["links"] = {"permissions": f"{url}/Permissions"}
    if obj.kind != STREAM:
        body["revision"] = str(obj.revision)
    if isinstance(obj, Document):
        body["data"] = copy.deepcopy(obj.data)
    body.update(
        {
            "date_expires": format_datetime(obj.date_expires),
            "date_created": format_datetime(obj.date_created),
            "date_updated": format_datetime(obj.date_updated),
            "created_by": obj.created_by,
        }
    )
    return body


def render_item(item: Item) -> dict[str, Any]:
    """A Map Item (``key``) or List Item (``index``) as the REST API answers it."""
    parent = item.collection
    key_field = "key" if parent.kind == MAP else "index"
    return {
        key_field: item.key,
        "account_sid": parent.service.account_sid,
        "service_sid": parent.service.sid,
        parent.spec.sid_field: parent.sid,
        "url": sync_url(item.path),
        "revision": str(item.revision),
        "data": copy.deepcopy(item.data),
        "date_expires": format_datetime(item.date_expires),
        "date_created": format_datetime(item.date_created),
        "date_updated": format_datetime(item.date_updated),
        "created_by": item.created_by,
    }


def render_permission(permission: Permission) -> dict[str, Any]:
    target = permission.target
    return {
        "account_sid": target.service.account_sid,
        "service_sid": target.service.sid,
        target.spec.sid_field: target.sid,
        "identity": permission.identity,
        "read": permission.read,
        "write": permission.write,
        "manage": permission.manage,
        "url": sync_url(permission.path),
    }
