"""Conversations resources (Service ``IS``, Conversation ``CH``, Participant ``MB``) and their JSON.

Pure data: no Flask, no locking. The renderers build Twilio's JSON with absolute
``https://conversations.twilio.com/v1/...`` URLs; ``scoped`` picks the service-scoped form
(``/v1/Services/{IS}/Conversations/...``, and ``chat_service_sid`` on participants) over the
account-default form (``/v1/Conversations/...``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..core.clock import format_datetime

BASE_URL = "https://conversations.twilio.com"

STATES = ("initializing", "inactive", "active", "closed")
SERVICE_LINKS = {
    "conversations": "Conversations",
    "users": "Users",
    "roles": "Roles",
    "bindings": "Bindings",
    "configuration": "Configuration",
    "participant_conversations": "ParticipantConversations",
    "conversation_with_participants": "ConversationWithParticipants",
}
CONVERSATION_LINKS = {
    "participants": "Participants",
    "messages": "Messages",
    "webhooks": "Webhooks",
    "export": "Export",
}


@dataclass
class Participant:
    """A Conversation Participant: a chat identity and/or a messaging binding."""

    sid: str
    account_sid: str
    service_sid: str
    conversation_sid: str
    identity: str | None
    attributes: str
    role_sid: str | None
    messaging_binding: dict[str, str] | None
    date_created: datetime
    date_updated: datetime
    last_read_message_index: int | None = None
    last_read_timestamp: str | None = None

    def binding_key(self) -> tuple[str, str] | None:
        """``(address, proxy_address)`` when this participant holds that pair, else None."""
        binding = self.messaging_binding or {}
        address, proxy = binding.get("address"), binding.get("proxy_address")
        if address and proxy:
            return address, proxy
        return None


@dataclass
class Conversation:
    """A Conversation with its participants (indexed by SID and by identity)."""

    sid: str
    account_sid: str
    service_sid: str
    friendly_name: str | None
    unique_name: str | None
    messaging_service_sid: str | None
    attributes: str
    state: str
    date_created: datetime
    date_updated: datetime
    bindings: dict[str, Any]
    timer_inactive: timedelta | None = None
    timer_closed: timedelta | None = None
    date_inactive: datetime | None = None
    date_closed: datetime | None = None
    participants: dict[str, Participant] = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)
    deadlines: list[Any] = field(default_factory=list, repr=False)

    def find_participant(self, sid_or_identity: str) -> Participant | None:
        """The participant with this MB SID or identity (O(1)), or None."""
        found = self.participants.get(sid_or_identity)
        if found is not None:
            return found
        sid = self.identities.get(sid_or_identity)
        return self.participants.get(sid) if sid is not None else None


@dataclass
class Service:
    """A Conversation Service with its conversations (indexed by SID and by unique name)."""

    sid: str
    account_sid: str
    friendly_name: str
    date_created: datetime
    date_updated: datetime
    is_default: bool = False
    conversations: dict[str, Conversation] = field(default_factory=dict)
    unique_names: dict[str, str] = field(default_factory=dict)

    def find_conversation(self, sid_or_unique_name: str) -> Conversation | None:
        """The conversation with this CH SID or unique name (O(1)), or None."""
        found = self.conversations.get(sid_or_unique_name)
        if found is not None:
            return found
        sid = self.unique_names.get(sid_or_unique_name)
        return self.conversations.get(sid) if sid is not None else None


# -- URLs ----------------------------------------------------------------------------------
def service_path(service: Service) -> str:
    return f"/v1/Services/{service.sid}"


def conversation_path(conversation: Conversation, scoped: bool) -> str:
    if scoped:
        return f"/v1/Services/{conversation.service_sid}/Conversations/{conversation.sid}"
    return f"/v1/Conversations/{conversation.sid}"


def participant_path(participant: Participant, scoped: bool) -> str:
    if scoped:
        prefix = f"/v1/Services/{participant.service_sid}/Conversations"
    else:
        prefix = "/v1/Conversations"
    return f"{prefix}/{participant.conversation_sid}/Participants/{participant.sid}"


# -- JSON ----------------------------------------------------------------------------------
def render_service(service: Service) -> dict[str, Any]:
    """The Service JSON (``conversations.v1.service``)."""
    url = BASE_URL + service_path(service)
    return {
        "sid": service.sid,
        "account_sid": service.account_sid,
        "friendly_name": service.friendly_name,
        "date_created": format_datetime(service.date_created),
        "date_updated": format_datetime(service.date_updated),
        "url": url,
        "links": {name: f"{url}/{segment}" for name, segment in SERVICE_LINKS.items()},
    }


def render_timers(conversation: Conversation) -> dict[str, str]:
    """Pending timers only: ``{}`` when none is running."""
    timers: dict[str, str] = {}
    if conversation.date_inactive is not None:
        timers["date_inactive"] = format_datetime(conversation.date_inactive) or ""
    if conversation.date_closed is not None:
        timers["date_closed"] = format_datetime(conversation.date_closed) or ""
    return timers


def render_conversation(conversation: Conversation, scoped: bool = False) -> dict[str, Any]:
    """The Conversation JSON; both URL forms carry the same keys."""
    url = BASE_URL + conversation_path(conversation, scoped)
    return {
        "sid": conversation.sid,
        "account_sid": conversation.account_sid,
        "chat_service_sid": conversation.service_sid,
        "messaging_service_sid": conversation.messaging_service_sid,
        "friendly_name": conversation.friendly_name,
        "unique_name": conversation.unique_name,
        "attributes": conversation.attributes,
        "date_created": format_datetime(conversation.date_created),
        "date_updated": format_datetime(conversation.date_updated),
        "state": conversation.state,
        "timers": render_timers(conversation),
        "bindings": conversation.bindings,
        "url": url,
        "links": {name: f"{url}/{segment}" for name, segment in CONVERSATION_LINKS.items()},
    }


def render_participant(participant: Participant, scoped: bool = False) -> dict[str, Any]:
    """The Participant JSON; the service-scoped form adds ``chat_service_sid``."""
    body: dict[str, Any] = {"account_sid": participant.account_sid}
    if scoped:
        body["chat_service_sid"] = participant.service_sid
    body.update(
        {
            "conversation_sid": participant.conversation_sid,
            "sid": participant.sid,
            "identity": participant.identity,
            "attributes": participant.attributes,
            "messaging_binding": participant.messaging_binding,
            "role_sid": participant.role_sid,
            "date_created": format_datetime(participant.date_created),
            "date_updated": format_datetime(participant.date_updated),
            "url": BASE_URL + participant_path(participant, scoped),
            "last_read_message_index": participant.last_read_message_index,
            "last_read_timestamp": participant.last_read_timestamp,
        }
    )
    return body
