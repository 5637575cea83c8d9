"""Sync Services (``IS``): create, fetch, list, update and a cascading delete."""

from __future__ import annotations

from typing import Any

from ...core.errors import TwilioError
from ...core.scheduler import Scheduler
from ...core.sids import new_sid
from .base import BackendBase
from .common import (
    DEFAULT_DEBOUNCING_WINDOW,
    MAX_DEBOUNCING_WINDOW,
    MIN_DEBOUNCING_WINDOW,
    SYSTEM,
)
from .entities import SyncService

#: Service settings that :meth:`ServicesMixin.update_service` accepts.
SERVICE_SETTINGS = frozenset(
    {
        "friendly_name",
        "webhook_url",
        "reachability_webhooks_enabled",
        "acl_enabled",
        "reachability_debouncing_enabled",
        "reachability_debouncing_window",
        "webhooks_from_rest_enabled",
    }
)


def check_webhook_url(url: str | None) -> str | None:
    """An http(s) URL, or None for "no webhook" (empty string); else 54051."""
    if url is None or url == "":
        return None
    if not url.startswith(("http://", "https://")) or len(url) > 2048:
        raise TwilioError(54051, f"Invalid webhook URL: {url!r}", 400)
    return url


def check_debouncing_window(window: int) -> int:
    if not MIN_DEBOUNCING_WINDOW <= window <= MAX_DEBOUNCING_WINDOW:
        raise TwilioError(
            20001,
            "Invalid parameter ReachabilityDebouncingWindow: must be between "
            f"{MIN_DEBOUNCING_WINDOW} and {MAX_DEBOUNCING_WINDOW} milliseconds",
            400,
        )
    return window


class ServicesMixin(BackendBase):
    """Service resources of one account."""

    def create_service(
        self,
        *,
        friendly_name: str | None = None,
        webhook_url: str | None = None,
        reachability_webhooks_enabled: bool = False,
        acl_enabled: bool = False,
        reachability_debouncing_enabled: bool = False,
        reachability_debouncing_window: int = DEFAULT_DEBOUNCING_WINDOW,
        webhooks_from_rest_enabled: bool = False,
    ) -> SyncService:
        """Create a Service (POST /v1/Services). Validates everything before creating.

        Raises 54051 for a non-http(s) ``webhook_url`` and 20001 for a debouncing window
        outside 1000..30000 ms.
        """
        url = check_webhook_url(webhook_url)
        window = check_debouncing_window(reachability_debouncing_window)
        now = self._ctx.now()
        service = SyncService(
            sid=new_sid("IS"),
            account_sid=self._ctx.account_sid,
            friendly_name=friendly_name,
            webhook_url=url,
            reachability_webhooks_enabled=reachability_webhooks_enabled,
            acl_enabled=acl_enabled,
            reachability_debouncing_enabled=reachability_debouncing_enabled,
            reachability_debouncing_window=window,
            webhooks_from_rest_enabled=webhooks_from_rest_enabled,
            date_created=now,
            date_updated=now,
        )
        self._services[service.sid] = service
        return service

    def get_service(self, sid: str) -> SyncService:
        """The Service ``sid`` (TwilioError 20404 when unknown or deleted)."""
        return self._service(sid)

    def list_services(self) -> list[SyncService]:
        """Every live Service, oldest first."""
        return list(self._services.values())

    def update_service(self, sid: str, **changes: Any) -> SyncService:
        """Change the given settings (keyword names as in :data:`SERVICE_SETTINGS`).

        ``webhook_url=""`` removes the webhook. All values are validated before any is
        applied (54051 bad URL, 20001 bad window or unknown setting).
        """
        service = self._service(sid)
        unknown = sorted(set(changes) - SERVICE_SETTINGS)
        if unknown:
            raise TwilioError(20001, f"Unknown Service setting(s): {', '.join(unknown)}", 400)
        if "webhook_url" in changes:
            changes["webhook_url"] = check_webhook_url(changes["webhook_url"])
        if "reachability_debouncing_window" in changes:
            check_debouncing_window(int(changes["reachability_debouncing_window"]))
        for name, value in changes.items():
            setattr(service, name, value)
        service.date_updated = self._ctx.now()
        return service

    def delete_service(self, sid: str) -> None:
        """Delete a Service and everything in it, cancelling every deadline it owns.

        Afterwards every request about the Service or its children answers 20404. Pending
        debounced reachability events are dropped (the Service is gone).
        """
        service = self._service(sid)
        for kind_objects in service.objects.values():
            for obj in list(kind_objects.values()):
                self._remove_object(obj, SYSTEM, announce=False)
        for entry in service.pending_offline.values():
            Scheduler.cancel(entry)
        service.pending_offline.clear()
        service.endpoints.clear()
        service.deleted = True
        del self._services[sid]
