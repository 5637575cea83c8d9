"""Permissions of Documents, Maps and Lists (``.../{Kind}/{Sid}/Permissions[/{Identity}]``).

``POST`` is an upsert that requires ``Read``, ``Write`` and ``Manage`` (booleans) and answers
200; ``DELETE`` answers 204; the list key is ``permissions``.
"""

from __future__ import annotations

from flask import Response

from ...core.errors import missing_param
from ...core.http import params
from ..models.render import render_permission
from ._blueprint import bp
from .common import PAGING, SEGMENTS, backend, no_content, ok, page

TARGETS = "<any(Documents, Maps, Lists):segment>"
FLAGS = ("Read", "Write", "Manage")


@bp.get(f"/Services/<service_sid>/{TARGETS}/<ref>/Permissions")
def list_permissions(service_sid: str, segment: str, ref: str) -> tuple[Response, int]:
    params(*PAGING)
    found = backend().list_permissions(SEGMENTS[segment], service_sid, ref)
    return page(found, "permissions", render_permission)


@bp.get(f"/Services/<service_sid>/{TARGETS}/<ref>/Permissions/<identity>")
def fetch_permission(
    service_sid: str, segment: str, ref: str, identity: str
) -> tuple[Response, int]:
    params()
    found = backend().get_permission(SEGMENTS[segment], service_sid, ref, identity)
    return ok(render_permission(found))


@bp.post(f"/Services/<service_sid>/{TARGETS}/<ref>/Permissions/<identity>")
def update_permission(
    service_sid: str, segment: str, ref: str, identity: str
) -> tuple[Response, int]:
    p = params(*FLAGS)
    flags: dict[str, bool] = {}
    for name in FLAGS:
        value = p.bool(name)
        if value is None:
            raise missing_param(name)
        flags[name.lower()] = value
    found = backend().set_permission(SEGMENTS[segment], service_sid, ref, identity, **flags)
    return ok(render_permission(found))


@bp.delete(f"/Services/<service_sid>/{TARGETS}/<ref>/Permissions/<identity>")
def delete_permission(service_sid: str, segment: str, ref: str, identity: str) -> Response:
    params()
    backend().delete_permission(SEGMENTS[segment], service_sid, ref, identity)
    return no_content()
