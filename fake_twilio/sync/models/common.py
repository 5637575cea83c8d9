"""Sync v1 limits, kinds, validation helpers and the error-code policy.

Error-code policy (decided from the wire contract, §2.3 marks the 54xxx not-found codes as
inferred, while 20404 is what the reference application branched on against real Twilio):

* **REST not-found is always 20404** (HTTP 404, "The requested resource <path> was not
  found") -- unknown Service, Document, Map, List, Stream, Map Item, List Item and Permission
  alike, including unique names that resolve to nothing and every child of a deleted Service.
  A backend that ignores "not found" when removing Map Items therefore sees the code it saw
  against real Twilio.
* **Client-side (Sync SDK) operations** -- :meth:`SyncBackend.client_read` /
  :meth:`SyncBackend.client_write` -- use the specific Sync codes the client SDKs report:
  Service 54050, Document 54100, List 54150, List Item 54151, Map 54200, Map Item 54201.
* Conflicts: unique name taken 54301 (409, per kind and Service), duplicate Map Item key
  54208 (409). Revision mismatch on ``If-Match`` 54103 (Document), 54205 (Map Item), 54155
  (List Item), HTTP 412; ``If-Match: *`` matches any revision (HTTP semantics).
* Payloads: ``Data`` not JSON or not a JSON object 54008 (400); over 16 KiB (4 KiB for Stream
  Messages) 54006 (413); TTL outside 0..31,536,000 s or not an integer 54011 (400).
* Names: unique name empty, over 320 characters or shaped like a SID of its kind 54302;
  Map Item key empty or over 320 characters 54209; Permission identity empty or over 320
  characters 54351 (the 320 limit for identities is an assumption: Twilio documents none).
* Updates carrying nothing to change: 54010 "No parameters specified" (400).
* List query parameters: bad ``Order`` 54451, bad ``Bounds`` 54452, non-integer List ``From``
  54458; everything else invalid is 20001.
* ACL refusal on client operations: 54007 "Access forbidden for identity" with HTTP 403.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...core.errors import TwilioError
from ...core.sids import is_sid

BASE_URL = "https://sync.twilio.com/v1"

MAX_TTL = 31_536_000
MAX_DATA_BYTES = 16 * 1024
MAX_MESSAGE_BYTES = 4 * 1024
MAX_NAME_LENGTH = 320
MAX_KEY_LENGTH = 320
MAX_IDENTITY_LENGTH = 320
DEFAULT_DEBOUNCING_WINDOW = 5000
MIN_DEBOUNCING_WINDOW = 1000
MAX_DEBOUNCING_WINDOW = 30000
MAX_PAGE_SIZE = 100
RECENT_MESSAGES = 50

DOCUMENT = "document"
MAP = "map"
LIST = "list"
STREAM = "stream"

FORBIDDEN_STATUS = 403


@dataclass(frozen=True)
class KindSpec:
    """What differs between Documents, Maps, Lists and Streams."""

    kind: str
    prefix: str  # SID prefix
    segment: str  # URL path segment ("Documents", ...)
    list_key: str  # key of the REST list envelope
    label: str  # PascalCase prefix of webhook fields ("Document", "Map", ...)
    client_not_found: int  # the Sync SDK's not-found code
    sid_field: str  # the parent SID field of Permissions / Items


KINDS: dict[str, KindSpec] = {
    DOCUMENT: KindSpec(DOCUMENT, "ET", "Documents", "documents", "Document", 54100, "document_sid"),
    MAP: KindSpec(MAP, "MP", "Maps", "maps", "Map", 54200, "map_sid"),
    LIST: KindSpec(LIST, "ES", "Lists", "lists", "List", 54150, "list_sid"),
    STREAM: KindSpec(STREAM, "TO", "Streams", "streams", "Stream", 54250, "stream_sid"),
}

#: Client (SDK) not-found codes of collection items, and If-Match mismatch codes.
ITEM_NOT_FOUND = {MAP: 54201, LIST: 54151}
REVISION_MISMATCH = {DOCUMENT: 54103, MAP: 54205, LIST: 54155}


@dataclass(frozen=True)
class Actor:
    """Who performs a write: the REST API ("system") or a client identity (and endpoint)."""

    identity: str = "system"
    endpoint_id: str | None = None
    via_rest: bool = True


#: REST writes and server-side expiry.
SYSTEM = Actor()


def sync_url(path: str) -> str:
    """The absolute ``https://sync.twilio.com/v1`` URL of ``path`` (starting with ``/``)."""
    return BASE_URL + path


def expiry(now: datetime, ttl: int | None) -> datetime | None:
    """``now + ttl`` seconds, or None when ``ttl`` is 0/None (no expiry)."""
    if not ttl:
        return None
    return now + timedelta(seconds=ttl)


def check_ttl(ttl: int | None) -> int | None:
    """Refuse a TTL outside 0..31,536,000 with 54011 (for Python-level callers)."""
    if ttl is not None and not 0 <= ttl <= MAX_TTL:
        raise TwilioError(54011, f"Invalid TTL {ttl}: must be between 0 and {MAX_TTL}", 400)
    return ttl


def check_data(data: Any, max_bytes: int = MAX_DATA_BYTES) -> dict[str, Any]:
    """Validate a Python-level payload: a JSON-serialisable dict of at most ``max_bytes``."""
    if not isinstance(data, dict):
        raise TwilioError(54008, "Invalid JSON: data must be a JSON object", 400)
    try:
        encoded = json.dumps(data)
    except (TypeError, ValueError):
        raise TwilioError(54008, "Invalid JSON: data is not JSON-serialisable", 400) from None
    if len(encoded.encode("utf-8")) > max_bytes:
        raise TwilioError(54006, f"Request entity too large: data exceeds {max_bytes} bytes", 413)
    return json.loads(encoded)


def check_unique_name(name: str, prefix: str) -> str:
    """Refuse an empty, too long, or SID-shaped unique name with 54302."""
    if not name or len(name) > MAX_NAME_LENGTH:
        raise TwilioError(
            54302, f"Invalid unique name: must be 1 to {MAX_NAME_LENGTH} characters", 400
        )
    if is_sid(name, prefix):
        raise TwilioError(54302, "Invalid unique name: must not look like a SID", 400)
    return name


def check_key(key: str) -> str:
    """Refuse an empty or too long Map Item key with 54209."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise TwilioError(
            54209, f"Invalid Map Item key: must be 1 to {MAX_KEY_LENGTH} characters", 400
        )
    return key


def check_identity(identity: str) -> str:
    """Refuse an empty or too long identity with 54351."""
    if not identity or len(identity) > MAX_IDENTITY_LENGTH:
        raise TwilioError(
            54351, f"Invalid identity: must be 1 to {MAX_IDENTITY_LENGTH} characters", 400
        )
    return identity


def check_if_match(if_match: str | None, revision: int, code: int) -> None:
    """Enforce an ``If-Match`` header against the current ``revision`` (``*`` matches all)."""
    if if_match is None:
        return
    wanted = if_match.strip()
    if wanted.startswith("W/"):
        wanted = wanted[2:]
    wanted = wanted.strip('"')
    if wanted == "*" or wanted == str(revision):
        return
    label = {54103: "Document", 54205: "Map Item", 54155: "List Item"}.get(code, "Object")
    raise TwilioError(
        code, f"{label} revision mismatch: current revision is {revision}, not {if_match}", 412
    )


def compact_json(data: Any) -> str:
    """JSON text as Twilio puts it in webhook fields."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
