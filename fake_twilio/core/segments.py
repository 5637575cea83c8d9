"""Path segments the way Twilio reads them: one percent-encoded segment per path value.

Twilio clients put a user value (an identity, a map item key, a unique name) into one URL
path segment by percent-encoding it, so ``a/b`` travels as ``a%2Fb`` and must not split the
path. WSGI servers hand the app ``PATH_INFO`` already percent-decoded, where ``a%2Fb`` and a
real separator look the same. So the fake routes from the path *as sent*:

* :func:`path_as_sent` finds the raw request target (``RAW_URI`` from gunicorn and werkzeug,
  ``REQUEST_URI`` from werkzeug and waitress, both set by the in-process transport too) and
  uses it only when it decodes to ``SCRIPT_NAME + PATH_INFO`` -- a middleware that rewrote
  the path wins. Without a usable raw target the path is rebuilt from ``PATH_INFO``.
* :func:`routing_path` turns the raw path into the ``PATH_INFO`` the routes see: each segment
  decoded, except that ``%`` stays ``%25`` and ``/`` stays ``%2F``. The invariant: every
  ``%`` in a routing path starts ``%25`` or ``%2F``, and every ``/`` separates segments.
* :class:`SegmentConverter` (the URL map's ``default``) undoes those two escapes, so a view
  gets the value the client encoded. Every Twilio path value is one segment, so no route
  uses ``<path:...>``: an unencoded ``/`` inside a value is a separator and a 404, as on Twilio.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit

from werkzeug.routing import BaseConverter

__all__ = [
    "SegmentConverter",
    "decode_segment",
    "encode_segment",
    "path_as_sent",
    "resource_path",
    "routing_path",
    "url_path",
]

_ESCAPED = re.compile(r"%(?:25|2F)", re.IGNORECASE)
_UNESCAPED = {"%25": "%", "%2F": "/"}
# Characters a path segment may carry unencoded (RFC 3986 pchar minus "%"), as clients send.
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"


def decode_segment(value: str) -> str:
    """A routed segment (or run of segments) back to the value the client encoded."""
    return _ESCAPED.sub(lambda match: _UNESCAPED[match.group(0).upper()], value)


def encode_segment(value: str) -> str:
    """``value`` as one segment of a URL the fake writes (page URLs): percent-encoded, and a
    ``.``/``..`` segment as ``%2E`` so that no client drops it as a dot segment."""
    encoded = quote_from_bytes(value.encode("utf-8"), safe=_SEGMENT_SAFE)
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


def resource_path(*segments: object) -> str:
    """``/seg/seg/...`` with every value encoded by :func:`encode_segment`: how a resource
    path appears in the URLs and messages the fake writes (``/Rooms/a%20b``)."""
    return "".join("/" + encode_segment(str(segment)) for segment in segments)


def url_path(routed: str) -> str:
    """The URL spelling of a routing path (a decoded ``request.path``): every segment
    encoded by :func:`encode_segment`."""
    return "/".join(encode_segment(decode_segment(part)) for part in routed.split("/"))


def routing_path(sent: str) -> str:
    """The ``PATH_INFO`` (a WSGI latin-1 string) for the raw path ``sent``; see the module."""
    return "/".join(_routing_segment(segment) for segment in sent.split("/"))


def _wsgi_bytes(value: str) -> bytes:
    """The bytes a WSGI string stands for (latin-1; UTF-8 for a server that broke the rule)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _routing_segment(raw: str) -> str:
    decoded = unquote_to_bytes(_wsgi_bytes(raw))
    return decoded.replace(b"%", b"%25").replace(b"/", b"%2F").decode("latin-1")


def path_as_sent(environ: Mapping[str, Any]) -> str:
    """The percent-encoded path the client sent, below ``SCRIPT_NAME`` (a latin-1 string)."""
    script_name = environ.get("SCRIPT_NAME", "")
    path_info = environ.get("PATH_INFO", "")
    for key in ("RAW_URI", "REQUEST_URI"):
        target = environ.get(key)
        if isinstance(target, str) and target:
            sent = _below(_raw_path(target), script_name, path_info)
            if sent is not None:
                return sent
    return quote_from_bytes(_wsgi_bytes(path_info), safe="/" + _SEGMENT_SAFE)


def _raw_path(target: str) -> str:
    """The path of a request target (origin form, or absolute form from a proxy)."""
    if not target.startswith("/"):
        target = urlsplit(target).path
    return target.partition("?")[0].partition("#")[0]


def _decoded(raw: str) -> str:
    return unquote_to_bytes(_wsgi_bytes(raw)).decode("latin-1")


def _below(raw: str, script_name: str, path_info: str) -> str | None:
    """``raw`` minus the segments that spell ``script_name``, if the rest spells
    ``path_info``; None when the raw target does not match what the server decoded."""
    if not script_name:
        return raw if _decoded(raw) == path_info else None
    segments = raw.split("/")
    for cut in range(1, len(segments) + 1):
        head, tail = "/".join(segments[:cut]), "/".join(segments[cut:])
        if _decoded(head) == script_name:
            tail = "/" + tail
            return tail if _decoded(tail) == path_info else None
    return None


class SegmentConverter(BaseConverter):
    """One path segment (the default converter): ``a%2Fb`` in the routing path is ``a/b``."""

    def to_python(self, value: str) -> str:
        return decode_segment(value)

    def to_url(self, value: Any) -> str:
        return encode_segment(str(value))
