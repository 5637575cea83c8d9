"""Map Items (``.../Maps/{MapSid}/Items[/{Key}]``) and List Items
(``.../Lists/{ListSid}/Items[/{Index}]``).

Keys and indexes are one path segment each (an unencoded ``/`` is a 404).
Create takes ``Key`` (Maps only, required), ``Data`` (required), ``Ttl`` (alias of
``ItemTtl``), ``ItemTtl`` and ``CollectionTtl``; update the same minus ``Key``, with an
optional ``If-Match`` header (also honoured on delete when a client sends it -- twilio 9.13
drops it there). Listing takes ``Order``, ``From``, ``Bounds`` and paging.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from ...core.errors import TwilioError
from ...core.http import if_match, params
from ..models.common import LIST, MAP
from ..models.items import BOUNDS, ORDERS, parse_index
from ..models.render import render_item
from ._blueprint import bp
from .common import PAGING, backend, created, data, first_ttl, no_content, ok, page, ttl

KINDS = {"Maps": MAP, "Lists": LIST}
COLLECTIONS = "<any(Maps, Lists):segment>"
TTL_PARAMS = ("Ttl", "ItemTtl", "CollectionTtl")


@bp.post(f"/Services/<service_sid>/{COLLECTIONS}/<ref>/Items")
def create_item(service_sid: str, segment: str, ref: str) -> tuple[Response, int]:
    kind = KINDS[segment]
    names = ("Key", "Data", *TTL_PARAMS) if kind == MAP else ("Data", *TTL_PARAMS)
    p = params(*names)
    key = p.str("Key", required=True) if kind == MAP else None
    payload = data(p, required=True)
    item_ttl = first_ttl(p, "ItemTtl", "Ttl")
    collection_ttl = ttl(p, "CollectionTtl")
    item = backend().create_item(
        kind,
        service_sid,
        ref,
        key=key,
        data=payload,
        item_ttl=item_ttl,
        collection_ttl=collection_ttl,
    )
    return created(render_item(item))


@bp.get(f"/Services/<service_sid>/{COLLECTIONS}/<ref>/Items")
def list_items(service_sid: str, segment: str, ref: str) -> tuple[Response, int]:
    kind = KINDS[segment]
    p = params("Order", "From", "Bounds", *PAGING)
    order = p.choice("Order", ORDERS, code=54451) or "asc"
    bounds = p.choice("Bounds", BOUNDS, code=54452) or "inclusive"
    start: Any = p.str("From")
    if start is not None and kind == LIST:
        start = parse_index(start)
        if start is None:
            raise TwilioError(54458, f"Invalid List Item index in From: {p.raw('From')!r}", 400)
    records = backend().list_items(
        kind, service_sid, ref, order=order, from_key=start, bounds=bounds
    )
    return page(records, "items", render_item)


@bp.get(f"/Services/<service_sid>/{COLLECTIONS}/<ref>/Items/<key>")
def fetch_item(service_sid: str, segment: str, ref: str, key: str) -> tuple[Response, int]:
    params()
    return ok(render_item(backend().get_item(KINDS[segment], service_sid, ref, key)))


@bp.post(f"/Services/<service_sid>/{COLLECTIONS}/<ref>/Items/<key>")
def update_item(service_sid: str, segment: str, ref: str, key: str) -> tuple[Response, int]:
    p = params("Data", *TTL_PARAMS)
    payload = data(p)
    item_ttl = first_ttl(p, "ItemTtl", "Ttl")
    collection_ttl = ttl(p, "CollectionTtl")
    item = backend().update_item(
        KINDS[segment],
        service_sid,
        ref,
        key,
        data=payload,
        item_ttl=item_ttl,
        collection_ttl=collection_ttl,
        if_match=if_match(),
    )
    return ok(render_item(item))


@bp.delete(f"/Services/<service_sid>/{COLLECTIONS}/<ref>/Items/<key>")
def delete_item(service_sid: str, segment: str, ref: str, key: str) -> Response:
    params()
    backend().delete_item(KINDS[segment], service_sid, ref, key, if_match=if_match())
    return no_content()
