"""Helpers shared by the Sync views: the backend, TTL and Data parameters, responses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask import Response, jsonify, request

from ...core.http import current_backend, list_url
from ...core.paging import envelope
from ...core.params import Params
from ..models import SyncBackend
from ..models.common import MAX_DATA_BYTES, MAX_TTL

T = TypeVar("T")

PAGING = ("PageSize", "Page", "PageToken")

#: URL segment -> kind, for the routes shared by several kinds.
SEGMENTS = {"Documents": "document", "Maps": "map", "Lists": "list", "Streams": "stream"}


def backend() -> SyncBackend:
    return current_backend()


def ttl(p: Params, name: str) -> int | None:
    """A TTL parameter in seconds, 0..31,536,000 (else 54011)."""
    return p.int(name, minimum=0, maximum=MAX_TTL, code=54011)


def first_ttl(p: Params, preferred: str, alias: str) -> int | None:
    """``preferred`` when given, else its ``alias`` (Twilio ignores the alias when both are)."""
    preferred_value = ttl(p, preferred)
    alias_value = ttl(p, alias)
    return preferred_value if preferred_value is not None else alias_value


def data(p: Params, *, required: bool = False, max_bytes: int = MAX_DATA_BYTES) -> Any:
    """The JSON-object ``Data`` parameter (54008 invalid, 54006 too large)."""
    return p.json("Data", required=required, max_bytes=max_bytes)


def created(body: dict[str, Any]) -> tuple[Response, int]:
    return jsonify(body), 201


def ok(body: dict[str, Any]) -> tuple[Response, int]:
    return jsonify(body), 200


def no_content() -> Response:
    return Response(status=204)


def page(
    records: Sequence[T], key: str, render: Callable[[T], dict[str, Any]]
) -> tuple[Response, int]:
    """One page of a Sync list (page size at most 100), filters kept in the meta URLs."""
    body = envelope(
        records, key=key, list_url=list_url(), query=request.args, render=render, max_page_size=100
    )
    return jsonify(body), 200
