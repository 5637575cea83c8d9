"""``/v1/Services`` and ``/v1/Services/{Sid}``."""

from __future__ import annotations

from typing import Any

from flask import Response

from ...core.http import params
from ...core.params import Params
from ..models.common import DEFAULT_DEBOUNCING_WINDOW
from ..models.render import render_service
from ._blueprint import bp
from .common import PAGING, backend, created, no_content, ok, page

SETTINGS = (
    "FriendlyName",
    "WebhookUrl",
    "ReachabilityWebhooksEnabled",
    "AclEnabled",
    "ReachabilityDebouncingEnabled",
    "ReachabilityDebouncingWindow",
    "WebhooksFromRestEnabled",
)
BOOLEANS = {
    "ReachabilityWebhooksEnabled": "reachability_webhooks_enabled",
    "AclEnabled": "acl_enabled",
    "ReachabilityDebouncingEnabled": "reachability_debouncing_enabled",
    "WebhooksFromRestEnabled": "webhooks_from_rest_enabled",
}


def _settings(p: Params) -> dict[str, Any]:
    """The settings present in the form, converted (keyword names of the model)."""
    found: dict[str, Any] = {}
    if p.has("FriendlyName"):
        found["friendly_name"] = p.str("FriendlyName")
    if p.has("WebhookUrl"):
        found["webhook_url"] = p.str("WebhookUrl")
    for name, attribute in BOOLEANS.items():
        value = p.bool(name)
        if value is not None:
            found[attribute] = value
    window = p.int("ReachabilityDebouncingWindow")
    if window is not None:
        found["reachability_debouncing_window"] = window
    return found


@bp.post("/Services")
def create_service() -> tuple[Response, int]:
    settings = _settings(params(*SETTINGS))
    settings.setdefault("reachability_debouncing_window", DEFAULT_DEBOUNCING_WINDOW)
    return created(render_service(backend().create_service(**settings)))


@bp.get("/Services")
def list_services() -> tuple[Response, int]:
    params(*PAGING)
    return page(backend().list_services(), "services", render_service)


@bp.get("/Services/<service_sid>")
def fetch_service(service_sid: str) -> tuple[Response, int]:
    params()
    return ok(render_service(backend().get_service(service_sid)))


@bp.post("/Services/<service_sid>")
def update_service(service_sid: str) -> tuple[Response, int]:
    settings = _settings(params(*SETTINGS))
    return ok(render_service(backend().update_service(service_sid, **settings)))


@bp.delete("/Services/<service_sid>")
def delete_service(service_sid: str) -> Response:
    params()
    backend().delete_service(service_sid)
    return no_content()
