"""Helpers for product views: the current state, account backend, parameters and URLs."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request

from .params import Params
from .state import FakeState

STATE_KEY = "fake_twilio"


def current_state() -> FakeState:
    return current_app.extensions[STATE_KEY]


def current_backend() -> Any:
    """The authenticated account's backend of the product this request is for."""
    return current_state().backend(g.account_sid, g.product)


def params(*allowed: str) -> Params:
    """The request's parameters (form for writes, query for reads) limited to ``allowed``."""
    source = request.args if request.method in ("GET", "DELETE") else request.form
    return Params(source, allowed)


def product_url(product: str, path: str) -> str:
    """The absolute Twilio URL of ``path`` (which starts with ``/v1``)."""
    return f"https://{product}.twilio.com{path}"


def list_url() -> str:
    """The absolute Twilio URL of the list being requested (no query)."""
    path = request.path.split("/", 2)[2] if request.path.count("/") >= 2 else request.path
    return product_url(g.product, "/" + path)


def if_match() -> str | None:
    return request.headers.get("If-Match")
