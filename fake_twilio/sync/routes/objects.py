"""Documents, Maps, Lists and Streams (``/v1/Services/{ServiceSid}/{Kind}[/{Sid}]``), and
Stream Messages.

Parameters per kind, as in Twilio's spec: Documents take ``UniqueName``, ``Data``, ``Ttl``
(update: ``Data``, ``Ttl`` and an ``If-Match`` header); Maps and Lists ``UniqueName``,
``Ttl``, ``CollectionTtl`` (``Ttl`` is the alias, ignored when both are given); Streams
``UniqueName``, ``Ttl``.
"""

from __future__ import annotations

from flask import Response

from ...core.http import if_match, params
from ...core.params import Params
from ..models.common import DOCUMENT, KINDS, MAX_MESSAGE_BYTES
from ..models.render import render_object
from ._blueprint import bp
from .common import PAGING, SEGMENTS, backend, created, data, first_ttl, no_content, ok, page, ttl

KIND_SEGMENTS = "<any(Documents, Maps, Lists, Streams):segment>"

CREATE_PARAMS = {
    "document": ("UniqueName", "Data", "Ttl"),
    "map": ("UniqueName", "Ttl", "CollectionTtl"),
    "list": ("UniqueName", "Ttl", "CollectionTtl"),
    "stream": ("UniqueName", "Ttl"),
}
UPDATE_PARAMS = {
    "document": ("Data", "Ttl"),
    "map": ("Ttl", "CollectionTtl"),
    "list": ("Ttl", "CollectionTtl"),
    "stream": ("Ttl",),
}


def _ttl_of(kind: str, p: Params) -> int | None:
    if kind in ("map", "list"):
        return first_ttl(p, "CollectionTtl", "Ttl")
    return ttl(p, "Ttl")


@bp.post(f"/Services/<service_sid>/{KIND_SEGMENTS}")
def create_object(service_sid: str, segment: str) -> tuple[Response, int]:
    kind = SEGMENTS[segment]
    p = params(*CREATE_PARAMS[kind])
    unique_name = p.str("UniqueName")
    lifetime = _ttl_of(kind, p)
    payload = data(p) if kind == DOCUMENT else None
    obj = backend().create_object(
        kind, service_sid, unique_name=unique_name, ttl=lifetime, data=payload
    )
    return created(render_object(obj))


@bp.get(f"/Services/<service_sid>/{KIND_SEGMENTS}")
def list_objects(service_sid: str, segment: str) -> tuple[Response, int]:
    kind = SEGMENTS[segment]
    params(*PAGING)
    return page(backend().list_objects(kind, service_sid), KINDS[kind].list_key, render_object)


@bp.get(f"/Services/<service_sid>/{KIND_SEGMENTS}/<ref>")
def fetch_object(service_sid: str, segment: str, ref: str) -> tuple[Response, int]:
    params()
    return ok(render_object(backend().get_object(SEGMENTS[segment], service_sid, ref)))


@bp.post(f"/Services/<service_sid>/{KIND_SEGMENTS}/<ref>")
def update_object(service_sid: str, segment: str, ref: str) -> tuple[Response, int]:
    kind = SEGMENTS[segment]
    p = params(*UPDATE_PARAMS[kind])
    lifetime = _ttl_of(kind, p)
    payload = data(p) if kind == DOCUMENT else None
    obj = backend().update_object(
        kind, service_sid, ref, data=payload, ttl=lifetime, if_match=if_match()
    )
    return ok(render_object(obj))


@bp.delete(f"/Services/<service_sid>/{KIND_SEGMENTS}/<ref>")
def delete_object(service_sid: str, segment: str, ref: str) -> Response:
    params()
    backend().delete_object(SEGMENTS[segment], service_sid, ref)
    return no_content()


@bp.post("/Services/<service_sid>/Streams/<stream_ref>/Messages")
def publish_message(service_sid: str, stream_ref: str) -> tuple[Response, int]:
    p = params("Data")
    payload = data(p, required=True, max_bytes=MAX_MESSAGE_BYTES)
    message = backend().publish_message(service_sid, stream_ref, payload)
    return created({"sid": message["sid"], "data": message["data"]})
