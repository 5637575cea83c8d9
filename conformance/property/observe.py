"""What the fake Twilio shows of a stream, compared with the model.

Each function reads the fake through :class:`~conformance.twilio_view.TwilioView` and returns
the differences from the model as readable lines (empty: they agree). The stateful machine
polls them within the consistency bound, so a backend whose webhook effects lag is not
judged early.
"""

from __future__ import annotations

import json
from typing import Any

from ..twilio_view import TwilioView
from .model import StreamInstance

__all__ = [
    "composition",
    "conversation_differences",
    "document_revision",
    "ended_differences",
    "live_differences",
    "sync_state",
]

COMPOSER_PREFIX = "video-composer"
_RELEASED = (None, "ended", "failed")


def sync_state(view: TwilioView, service_sid: str) -> dict[str, Any] | None:
    """The stream's Sync data (maps as ``{key: data}``, ``user-*`` documents), or None."""
    state: dict[str, Any] = {}
    for name in ("speakers", "raised_hands", "viewers"):
        items = view.map_items(service_sid, name)
        if items is None:
            return None
        state[name] = items
    documents = view.documents(service_sid) or {}
    state["documents"] = {k: v for k, v in documents.items() if k.startswith("user-")}
    return state


def live_differences(view: TwilioView, instance: StreamInstance) -> list[str]:
    """Sync maps, user documents and room participants of a live stream vs the model, and
    the cross-cutting rules (one host at most, nobody both speaking and watching)."""
    if not instance.sync_service_sid:
        return [f"{instance.label}: the host token names no Sync service"]
    state = sync_state(view, instance.sync_service_sid)
    if state is None:
        return [f"{instance.label}: its Sync service or a map is gone while the stream is live"]
    found: list[str] = []
    speakers = state["speakers"]
    for identity in sorted(set(speakers) | set(instance.speakers)):
        allowed = instance.speakers.get(identity)
        item = speakers.get(identity)
        if allowed is None:
            found.append(f"speakers has {identity!r} = {item!r}, the model has no such speaker")
        elif item is None:
            found.append(f"speakers lacks {identity!r} (expected {_host_items(allowed)})")
        elif not isinstance(item, dict) or item.get("host") not in allowed:
            found.append(f"speakers[{identity!r}] is {item!r}, expected {_host_items(allowed)}")
    for key, expected in (("viewers", instance.viewers), ("raised_hands", instance.raised_hands)):
        extra = sorted(set(state[key]) - expected)
        missing = sorted(expected - set(state[key]))
        if extra:
            found.append(f"{key} has {extra}, which the model does not")
        if missing:
            found.append(f"{key} lacks {missing}")
    documents = state["documents"]
    expected_docs = {f"user-{k}": v for k, v in instance.documents.items()}
    for name in sorted(set(documents) | set(expected_docs)):
        data = documents.get(name)
        if name not in expected_docs:
            found.append(f"document {name} = {data!r} exists, but that user never joined")
        elif data is None:
            found.append(f"document {name} is missing")
        elif _speaker_invite(data) not in expected_docs[name]:
            allowed = " or ".join(str(flag) for flag in sorted(expected_docs[name], reverse=True))
            found.append(f"document {name} is {data!r}, expected speaker_invite {allowed}")
    found += _cross_cutting(instance, state)
    connected = {
        str(p.get("identity"))
        for p in view.room_participants(instance.room_sid)
        if not str(p.get("identity", "")).startswith(COMPOSER_PREFIX)
    }
    if connected != instance.in_room:
        found.append(
            f"room participants connected: {sorted(connected)}, expected {sorted(instance.in_room)}"
        )
    return found


def _speaker_invite(data: Any) -> Any:
    """A user document's speaker_invite: absent means false (STATE-4); anything but a JSON
    object or a boolean value matches no expectation."""
    if not isinstance(data, dict):
        return None
    value = data.get("speaker_invite", False)
    return value if isinstance(value, bool) else None


def document_revision(view: TwilioView, service_sid: str, identity: str) -> str | None:
    """The revision of ``identity``'s user document (None when it does not exist)."""
    name = f"user-{identity}"
    for found in view.sync_objects(service_sid, "document") or []:
        if found.get("unique_name") == name:
            revision = found.get("revision")
            return None if revision is None else str(revision)
    return None


def _cross_cutting(instance: StreamInstance, state: dict[str, Any]) -> list[str]:
    """Rules that hold whatever the sequence: one host at most, no identity both speaking
    and watching once settled (clients never report a player while speaking)."""
    speakers, viewers = state["speakers"], state["viewers"]
    found = []
    hosts = sorted(k for k, v in speakers.items() if isinstance(v, dict) and v.get("host") is True)
    if len(hosts) > 1:
        found.append(f"{instance.label} has {len(hosts)} hosts: {hosts}")
    both = sorted(set(speakers) & set(viewers))
    if both:
        found.append(f"{instance.label}: {both} in both speakers and viewers")
    return found


def composition(view: TwilioView, instance: StreamInstance) -> tuple[str | None, tuple[str, ...]]:
    """``(PlayerStreamer SID, MediaProcessor SIDs)`` of the stream (read once, then cached)."""
    if instance.media is None:
        streamer = None
        processors = view.media_processors(instance.room_sid)
        for processor in processors:
            context = processor.get("extension_context")
            if isinstance(context, str):
                try:
                    context = json.loads(context)
                except ValueError:
                    context = None
            outputs = context.get("outputs") if isinstance(context, dict) else None
            if isinstance(outputs, list) and outputs:
                streamer = str(outputs[0])
        instance.media = (streamer, tuple(str(p["sid"]) for p in processors))
    return instance.media


def media_differences(view: TwilioView, instance: StreamInstance) -> list[str]:
    """A live stream's PlayerStreamer and MediaProcessor are started (STATE-2)."""
    streamer, processors = composition(view, instance)
    found = []
    if streamer is None or not processors:
        found.append(f"{instance.label}: no MediaProcessor composes the room to a PlayerStreamer")
    if streamer is not None:
        status = (view.player_streamer(streamer) or {}).get("status")
        if status != "started":
            found.append(f"{instance.label}: PlayerStreamer {streamer} is {status!r}")
    for sid in processors:
        status = (view.media_processor(sid) or {}).get("status")
        if status != "started":
            found.append(f"{instance.label}: MediaProcessor {sid} is {status!r}")
    return found


def ended_differences(view: TwilioView, instance: StreamInstance) -> list[str]:
    """An ended stream's room is completed, its media ended and its Sync service deleted."""
    found = []
    room = view.room(instance.room_sid) or {}
    if room.get("status") == "in-progress":
        found.append(f"{instance.label} ended but its room is still in progress")
    streamer, processors = instance.media or (None, ())
    if streamer is not None:
        status = (view.player_streamer(streamer) or {}).get("status")
        if status not in _RELEASED:
            found.append(f"{instance.label} ended but PlayerStreamer {streamer} is {status!r}")
    for sid in processors:
        status = (view.media_processor(sid) or {}).get("status")
        if status not in _RELEASED:
            found.append(f"{instance.label} ended but MediaProcessor {sid} is {status!r}")
    if instance.sync_service_sid and view.sync_service(instance.sync_service_sid) is not None:
        found.append(f"{instance.label} ended but Sync service {instance.sync_service_sid} exists")
    return found


def conversation_differences(view: TwilioView, instance: StreamInstance) -> list[str]:
    """With chat, everyone who created or joined is a participant of the conversation."""
    if not instance.chat_service_sid:
        return []
    participants = set(view.conversation_participants(instance.room_sid, instance.chat_service_sid))
    missing = sorted(instance.members - participants)
    if missing:
        return [f"{instance.label}: conversation participants lack {missing}"]
    return []


def _host_items(allowed: frozenset[bool]) -> str:
    return " or ".join(json.dumps({"host": flag}) for flag in sorted(allowed, reverse=True))
