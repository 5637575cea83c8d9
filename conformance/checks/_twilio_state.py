"""What Twilio holds for a stream, as the fake shows it: snapshots of its Sync data,
permissions and conversation, their differences, and the writes the backend made.

Private to :mod:`conformance.checks`. Snapshots are plain JSON-like values, so a check
compares "before" and "after" with :func:`expect_unchanged` and a failure lists what moved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..transport import Exchange
from ._answers import grants_of

if TYPE_CHECKING:
    from ..context import CheckContext
    from ..twilio_view import TwilioView

MAPS: tuple[str, ...] = ("speakers", "raised_hands", "viewers")


def maps_snapshot(view: TwilioView, service_sid: str) -> dict[str, Any]:
    """``{map: {key: data} | None}`` of the stream's three maps."""
    return {name: view.map_items(service_sid, name) for name in MAPS}


def sync_snapshot(view: TwilioView, service_sid: str) -> dict[str, Any]:
    """The stream's Sync data: the three maps and every document (``None`` when gone)."""
    snapshot = maps_snapshot(view, service_sid)
    snapshot["documents"] = view.documents(service_sid)
    return snapshot


def permissions_snapshot(view: TwilioView, service_sid: str) -> dict[str, Any]:
    """Permissions on the three maps and on every document of the service."""
    found: dict[str, Any] = {}
    if view.sync_service(service_sid) is None:
        return found
    for name in MAPS:
        found[f"map:{name}"] = view.permissions(service_sid, "map", name)
    for name in sorted(view.documents(service_sid) or {}):
        found[f"document:{name}"] = view.permissions(service_sid, "document", name)
    return found


def stream_snapshot(ctx: CheckContext, stream: Any) -> dict[str, Any]:
    """Everything a client request may change for one stream, as seen in Twilio."""
    view = ctx.require_twilio()
    snapshot: dict[str, Any] = {
        "sync": sync_snapshot(view, stream.sync_service_sid),
        "permissions": permissions_snapshot(view, stream.sync_service_sid),
    }
    chat = chat_service_of(ctx, stream)
    if chat is not None:
        snapshot["conversation_participants"] = sorted(
            view.conversation_participants(stream.room_sid, chat)
        )
    return snapshot


def chat_service_of(ctx: CheckContext, stream: Any) -> str | None:
    """The Conversations service named by the host token's chat grant, if any."""
    grant = grants_of(ctx, stream.host_token).get("chat")
    if isinstance(grant, dict) and isinstance(grant.get("service_sid"), str):
        return grant["service_sid"]
    return None


def diff(before: Any, after: Any, path: str = "") -> list[str]:
    """Readable differences between two JSON-like values (at most a few dozen)."""
    found: list[str] = []
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in before:
                found.append(f"{where} appeared: {after[key]!r}")
            elif key not in after:
                found.append(f"{where} disappeared (was {before[key]!r})")
            else:
                found += diff(before[key], after[key], where)
    elif before != after:
        found.append(f"{path or 'value'}: {before!r} -> {after!r}")
    return found[:40]


def expect_unchanged(
    ctx: CheckContext,
    before: Any,
    after: Any,
    what: str,
    exchange: Exchange | None = None,
) -> None:
    changes = diff(before, after)
    if changes:
        more = f" (+{len(changes) - 4} more)" if len(changes) > 4 else ""
        shown = "; ".join(changes[:4]) + more
        ctx.fail(f"{what}: {shown}", exchange=exchange, expected=before, actual=after)


def successful_writes(view: TwilioView, mark: int) -> list[dict[str, Any]]:
    """Writes (POST/DELETE) after ``mark`` that Twilio accepted (2xx)."""
    return [w for w in view.writes_since(mark) if 200 <= int(w.get("status") or 0) < 300]


def show_writes(writes: list[dict[str, Any]]) -> str:
    shown = ", ".join(f"{w.get('method')} {w.get('path')} -> {w.get('status')}" for w in writes[:5])
    return shown + (f" (+{len(writes) - 5} more)" if len(writes) > 5 else "")


def participant_sid(ctx: CheckContext, room_sid: str, identity: str) -> str | None:
    """SID of the connected participant ``identity`` of the room, if any."""
    for participant in ctx.require_twilio().room_participants(room_sid):
        if participant.get("identity") == identity:
            return str(participant.get("sid"))
    return None


def stream_items(ctx: CheckContext, stream: Any, name: str) -> dict[str, Any]:
    """The items of the stream's map ``name`` (``{}`` when it is gone)."""
    return ctx.require_twilio().map_items(stream.sync_service_sid, name) or {}


def user_document(ctx: CheckContext, stream: Any, identity: str) -> Any:
    """The data of ``identity``'s user document in the stream's Sync service, if any."""
    return ctx.require_twilio().document(stream.sync_service_sid, f"user-{identity}")


def user_document_revision(ctx: CheckContext, stream: Any, identity: str) -> tuple[Any, Any]:
    """``(revision, data)`` of ``identity``'s user document as Twilio lists it; ``(None,
    None)`` when it does not exist. Twilio gives every write a new revision (FLOW-14)."""
    name = f"user-{identity}"
    for found in ctx.require_twilio().sync_objects(stream.sync_service_sid, "document") or []:
        if found.get("unique_name") == name:
            return found.get("revision"), found.get("data")
    return None, None
