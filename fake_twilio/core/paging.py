"""Twilio's list envelope and paging.

Records are sliced by ``Page`` x ``PageSize``; ``next_page_url`` and the other URLs are absolute
``https://<product>.twilio.com`` URLs that repeat the list's filters, because the SDK follows
``next_page_url`` verbatim and does not add the filters back itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from .errors import TwilioError, invalid_param, page_size_too_large

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50


def page_window(query: MultiDict[str, str], max_page_size: int) -> tuple[int, int]:
    """Return ``(page, page_size)`` from the query, refusing out-of-range values.

    A ``PageSize`` above the list's maximum (1000 for Video and Media, 100 for Sync and
    Conversations, per the OpenAPI specs) is refused with Twilio's 20007 "Page size too
    large" rather than capped: that error exists for exactly this. Over a list call the SDK
    raises ``TwilioException("Unable to fetch page")`` for any non-200 answer (its list code
    never builds a ``TwilioRestException``); the code is in the response body it carries.
    """
    try:
        page_size = int(query.get("PageSize", DEFAULT_PAGE_SIZE))
        page = int(query.get("Page", 0))
    except ValueError:
        raise TwilioError(20001, "PageSize and Page must be integers", 400) from None
    if page_size < 1:
        raise invalid_param("PageSize", f"must be between 1 and {max_page_size}")
    if page_size > max_page_size:
        raise page_size_too_large(max_page_size)
    if page < 0:
        raise invalid_param("Page", "must not be negative")
    token = query.get("PageToken")
    if token is not None and token != f"PT{page * page_size}":
        raise invalid_param("PageToken", f"{token!r} does not belong to page {page}")
    return page, page_size


def envelope(
    records: Sequence[T],
    *,
    key: str,
    list_url: str,
    query: MultiDict[str, str],
    render: Callable[[T], dict[str, Any]],
    max_page_size: int = 1000,
) -> dict[str, Any]:
    """Build ``{key: [...], "meta": {...}}`` for one page of ``records``.

    ``list_url`` is the absolute URL of the list without a query; the filters in ``query``
    (everything but the paging parameters) are carried into every URL of ``meta``.
    """
    page, page_size = page_window(query, max_page_size)
    filters = [
        (k, v) for k, v in query.items(multi=True) if k not in ("Page", "PageSize", "PageToken")
    ]

    def url_for(page_number: int) -> str:
        params = [*filters, ("PageSize", str(page_size)), ("Page", str(page_number))]
        if page_number > 0:
            params.append(("PageToken", f"PT{page_number * page_size}"))
        return f"{list_url}?{urlencode(params)}"

    start = page * page_size
    chunk = records[start : start + page_size]
    has_next = start + page_size < len(records)
    return {
        key: [render(record) for record in chunk],
        "meta": {
            "page": page,
            "page_size": page_size,
            "first_page_url": url_for(0),
            "previous_page_url": url_for(page - 1) if page > 0 else None,
            "url": url_for(page),
            "next_page_url": url_for(page + 1) if has_next else None,
            "key": key,
        },
    }
