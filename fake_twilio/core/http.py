"""Helpers for product views: the current state, account backend, parameters and URLs."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request

from ..products import PRODUCTS
from .params import Params
from .segments import url_path
from .state import FakeState

STATE_KEY = "fake_twilio"
#: The environ key where :class:`~fake_twilio.app.HostDispatch` keeps the path as sent.
SENT_PATH_KEY = "fake_twilio.path_as_sent"


def current_state() -> FakeState:
    return current_app.extensions[STATE_KEY]


def current_backend() -> Any:
    """The authenticated account's backend of the product this request is for."""
    return current_state().backend(g.account_sid, g.product)


def params(*allowed: str) -> Params:
    """The request's parameters (form for writes, query for reads) limited to ``allowed``."""
    source = request.args if request.method in ("GET", "DELETE") else request.form
    return Params(source, allowed)


def path_sent() -> str:
    """The request path as the client sent it (percent-encoded, with the ``/<product>``
    prefix): what the journal records and fault rules match. ``request.path`` is the routing
    form instead, where only ``%2F`` and ``%25`` stay encoded (see :mod:`.segments`)."""
    sent = request.environ.get(SENT_PATH_KEY)
    return sent if isinstance(sent, str) else request.path


def addressed_path() -> str:
    """The path the client addressed, as Twilio spells it in messages: the path as sent
    (percent-encoded) without the fake's ``/<product>`` routing prefix and the ``/v1``
    version, so ``Host: video.twilio.com`` + ``/v1/Rooms/a%20b`` and ``/video/v1/Rooms/a%20b``
    are both ``/Rooms/a%20b``. A path outside every product is returned as sent."""
    sent = path_sent()
    parts = sent.split("/", 2)
    if len(parts) < 3 or parts[0] or parts[1] not in PRODUCTS:
        return sent
    below_product = "/" + parts[2]
    if below_product == "/v1" or below_product.startswith("/v1/"):
        return below_product[3:] or "/"
    return below_product


def product_url(product: str, path: str) -> str:
    """The absolute Twilio URL of ``path`` (which starts with ``/v1``)."""
    return f"https://{product}.twilio.com{path}"


def list_url() -> str:
    """The absolute Twilio URL of the list being requested (no query), its path values
    percent-encoded so that a client following a page URL lands on the same list."""
    path = request.path.split("/", 2)[2] if request.path.count("/") >= 2 else request.path
    return product_url(g.product, url_path("/" + path))


def if_match() -> str | None:
    return request.headers.get("If-Match")
