"""The Conversations v1 backend of one account: services, conversations, participants, timers.

Pure domain (no Flask). Callers hold the state lock (REST views run under it; Python-level
callers wrap calls in ``with state.locked():``). Lookups are dict-based: services by SID,
conversations by SID and by unique name within their service, participants by SID and by
identity within their conversation, messaging-binding pairs account-wide.

Not-found conventions: the REST views answer 20404 (Twilio's generic "requested resource ...
was not found", the code the reference app branches on); the Python-level client operations
use the Conversations codes 50350 (conversation) and 50432 (participant), and 50050 for an
unknown service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..core.errors import TwilioError
from ..core.sids import new_sid
from ..core.state import ProductContext
from .inputs import REMOVE, ConversationInput, ParticipantInput
from .resources import (
    Conversation,
    Participant,
    Service,
    render_conversation,
    render_participant,
    render_service,
)
from .timers import ConversationTimers

DEFAULT_SERVICE_NAME = "Default Conversations Service"


class ConversationsBackend:
    """Every Conversations resource of one account."""

    def __init__(self, ctx: ProductContext) -> None:
        self.ctx = ctx
        self.services: dict[str, Service] = {}
        self._default_sid: str | None = None
        self._bindings: dict[tuple[str, str], str] = {}
        self.timers = ConversationTimers(ctx, self._lookup)

    # -- services ------------------------------------------------------------------------
    def default_service_sid(self) -> str:
        """The account's default conversation service (created on first use)."""
        if self._default_sid is None or self._default_sid not in self.services:
            service = self.create_service(DEFAULT_SERVICE_NAME)
            service.is_default = True
            self._default_sid = service.sid
        return self._default_sid

    def create_service(self, friendly_name: str) -> Service:
        """Create a conversation service (``IS``); the name is not checked here."""
        now = self.ctx.now()
        service = Service(new_sid("IS"), self.ctx.account_sid, friendly_name, now, now)
        self.services[service.sid] = service
        return service

    def find_service(self, sid: str | None) -> Service | None:
        """The service with this SID (the default service for None), or None."""
        if sid is None:
            return self.services[self.default_service_sid()]
        return self.services.get(sid)

    def get_service(self, sid: str | None = None) -> Service:
        """The service with this SID (default when None); TwilioError 50050 when unknown."""
        service = self.find_service(sid)
        if service is None:
            raise TwilioError(50050, f"Service Instance not found: {sid}", 404)
        return service

    def delete_service(self, sid: str) -> None:
        """Delete a service with all its conversations (50050 when unknown).

        Deleting the default service is allowed; a new one is created on next use.
        """
        service = self.get_service(sid)
        for conversation in list(service.conversations.values()):
            self._drop_conversation(service, conversation)
        del self.services[sid]
        if sid == self._default_sid:
            self._default_sid = None

    def list_services(self) -> list[Service]:
        """Every service, oldest first."""
        return list(self.services.values())

    # -- conversations -------------------------------------------------------------------
    def find_conversation(self, service: Service, sid_or_name: str) -> Conversation | None:
        """The conversation of ``service`` with this SID or unique name, or None."""
        return service.find_conversation(sid_or_name)

    def get_conversation(self, conversation: str, service_sid: str | None = None) -> Conversation:
        """A conversation by SID or unique name in a service (the default one when None).

        TwilioError 50050 for an unknown service, 50350 for an unknown conversation.
        """
        service = self.get_service(service_sid)
        found = service.find_conversation(conversation)
        if found is None:
            raise TwilioError(50350, f"Conversation not found: {conversation}", 404)
        return found

    def create_conversation(
        self, service_sid: str | None = None, spec: ConversationInput | None = None
    ) -> Conversation:
        """Create a conversation in a service (default when None) from a validated input.

        State defaults to active; timers start now. TwilioError 50050 (unknown service),
        50353 (unique name taken in that service, 409).
        """
        spec = spec or ConversationInput()
        service = self.get_service(service_sid)
        if spec.unique_name and spec.unique_name in service.unique_names:
            raise self._name_taken(spec.unique_name)
        now = self.ctx.now()
        conversation = Conversation(
            sid=new_sid("CH"),
            account_sid=self.ctx.account_sid,
            service_sid=service.sid,
            friendly_name=spec.friendly_name,
            unique_name=spec.unique_name or None,
            messaging_service_sid=spec.messaging_service_sid,
            attributes=spec.attributes if spec.attributes is not None else "{}",
            state=spec.state or "active",
            date_created=spec.date_created or now,
            date_updated=spec.date_updated or spec.date_created or now,
            bindings=self._bindings_of(spec) or {},
            timer_inactive=spec.timer_inactive,
            timer_closed=spec.timer_closed,
        )
        service.conversations[conversation.sid] = conversation
        if conversation.unique_name:
            service.unique_names[conversation.unique_name] = conversation.sid
        self.timers.arm(conversation, now)
        return conversation

    def update_conversation(
        self, conversation: Conversation, spec: ConversationInput
    ) -> Conversation:
        """Apply a validated update. TwilioError 50377 when the conversation is closed,
        50353 when the new unique name is taken. Given timers restart from now; a change of
        State re-arms or stops them (closed stops both, inactive stops the inactive one).
        """
        service = self.services[conversation.service_sid]
        if conversation.state == "closed":
            raise TwilioError(50377, "Can't update conversation as it's in final closed state")
        new_name = spec.unique_name
        if new_name and new_name != conversation.unique_name and new_name in service.unique_names:
            raise self._name_taken(new_name)
        now = self.ctx.now()
        for attribute in ("friendly_name", "attributes", "messaging_service_sid", "date_created"):
            value = getattr(spec, attribute)
            if value is not None:
                setattr(conversation, attribute, value)
        if new_name is not None and new_name != conversation.unique_name:
            if conversation.unique_name:
                service.unique_names.pop(conversation.unique_name, None)
            conversation.unique_name = new_name or None
            if new_name:
                service.unique_names[new_name] = conversation.sid
        bindings = self._bindings_of(spec)
        if bindings:
            conversation.bindings = {**conversation.bindings, **bindings}
        if spec.state is not None:
            conversation.state = spec.state
        if spec.timer_inactive is not None:
            conversation.timer_inactive = spec.timer_inactive
        if spec.timer_closed is not None:
            conversation.timer_closed = spec.timer_closed
        if spec.state is not None or spec.timer_inactive or spec.timer_closed:
            self.timers.arm(conversation, now)
        conversation.date_updated = spec.date_updated or now
        return conversation

    def delete_conversation(self, conversation: Conversation) -> None:
        """Delete a conversation with its participants (its timers are cancelled)."""
        self._drop_conversation(self.services[conversation.service_sid], conversation)

    def list_conversations(
        self,
        service: Service,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        state: str | None = None,
    ) -> list[Conversation]:
        """A service's conversations, oldest first; with a date filter, newest first."""
        records = list(service.conversations.values())
        if state is not None:
            records = [c for c in records if c.state == state]
        if start is not None or end is not None:
            records = [
                c
                for c in records
                if (start is None or c.date_created >= start)
                and (end is None or c.date_created <= end)
            ]
            records.sort(key=lambda c: c.date_created, reverse=True)
        return records

    # -- participants --------------------------------------------------------------------
    def add_participant(self, conversation: Conversation, spec: ParticipantInput) -> Participant:
        """Add a participant from a validated input.

        TwilioError 50433 (409) when the identity is already a participant, 50416 (409) when
        the address/proxy address pair is in use in the account.
        """
        if spec.identity is not None and spec.identity in conversation.identities:
            raise TwilioError(50433, "Participant already exists", 409)
        binding = self._binding_for(spec)
        pair = (spec.address, spec.proxy_address)
        if spec.address and spec.proxy_address and pair in self._bindings:
            raise TwilioError(50416, "Participant and proxy address pair is already in use", 409)
        now = self.ctx.now()
        participant = Participant(
            sid=new_sid("MB"),
            account_sid=self.ctx.account_sid,
            service_sid=conversation.service_sid,
            conversation_sid=conversation.sid,
            identity=spec.identity,
            attributes=spec.attributes if spec.attributes is not None else "{}",
            role_sid=spec.role_sid,
            messaging_binding=binding,
            date_created=spec.date_created or now,
            date_updated=spec.date_updated or spec.date_created or now,
        )
        conversation.participants[participant.sid] = participant
        if participant.identity is not None:
            conversation.identities[participant.identity] = participant.sid
        key = participant.binding_key()
        if key is not None:
            self._bindings[key] = participant.sid
        return participant

    def update_participant(self, participant: Participant, spec: ParticipantInput) -> Participant:
        """Apply a validated update; TwilioError 50433 when the new identity is taken."""
        conversation = self._conversation_of(participant)
        new_identity = spec.identity
        if (
            new_identity is not None
            and new_identity != participant.identity
            and new_identity in conversation.identities
        ):
            raise TwilioError(50433, "Participant already exists", 409)
        now = self.ctx.now()
        if new_identity is not None and new_identity != participant.identity:
            if participant.identity is not None:
                conversation.identities.pop(participant.identity, None)
            participant.identity = new_identity
            conversation.identities[new_identity] = participant.sid
        for attribute in (
            "attributes",
            "role_sid",
            "date_created",
            "last_read_message_index",
            "last_read_timestamp",
        ):
            value = getattr(spec, attribute)
            if value is not None:
                setattr(participant, attribute, value)
        self._update_binding(participant, spec)
        participant.date_updated = spec.date_updated or now
        return participant

    def remove_participant(self, participant: Participant) -> None:
        """Remove a participant from its conversation."""
        conversation = self._conversation_of(participant)
        conversation.participants.pop(participant.sid, None)
        if participant.identity is not None:
            conversation.identities.pop(participant.identity, None)
        key = participant.binding_key()
        if key is not None and self._bindings.get(key) == participant.sid:
            del self._bindings[key]

    def participants(self, conversation: str, service_sid: str | None = None) -> list[Participant]:
        """The participants of a conversation (SID or unique name), oldest first (50050/50350)."""
        return list(self.get_conversation(conversation, service_sid).participants.values())

    # -- simulated clients ---------------------------------------------------------------
    def client_join(self, service_sid: str, conversation: str, identity: str) -> Conversation:
        """A Conversations client with a chat grant for ``service_sid`` opens a conversation.

        The conversation (SID or unique name) must be in that service: TwilioError 50350
        otherwise (also for an unknown service); the identity must be one of its participants:
        TwilioError 50432 otherwise. Returns the conversation; changes nothing.
        """
        service = self.services.get(service_sid)
        found = service.find_conversation(conversation) if service is not None else None
        if found is None:
            raise TwilioError(
                50350, f"Conversation not found: {conversation} in service {service_sid}", 404
            )
        if identity not in found.identities:
            raise TwilioError(
                50432, f"Participant not found: {identity} is not in {found.sid}", 404
            )
        return found

    # -- state dump ----------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        """JSON view: ``{"default_service_sid", "services": [{..., "conversations": [...]}]}``."""
        services = []
        for service in self.services.values():
            body = render_service(service)
            body["is_default"] = service.is_default
            conversations = []
            for conversation in service.conversations.values():
                item = render_conversation(conversation, scoped=True)
                item["participants"] = [
                    render_participant(p, scoped=True) for p in conversation.participants.values()
                ]
                conversations.append(item)
            body["conversations"] = conversations
            services.append(body)
        return {"default_service_sid": self._default_sid, "services": services}

    # -- internals -----------------------------------------------------------------------
    @staticmethod
    def _name_taken(name: str) -> TwilioError:
        return TwilioError(
            50353, f"Conversation with provided unique name already exists: {name}", 409
        )

    @staticmethod
    def _bindings_of(spec: ConversationInput) -> dict[str, Any]:
        email: dict[str, str] = {}
        if spec.email_address is not None:
            email["projected_address"] = spec.email_address
        if spec.email_name is not None:
            email["name"] = spec.email_name
        return {"email": email} if email else {}

    @staticmethod
    def _binding_for(spec: ParticipantInput) -> dict[str, str] | None:
        if spec.address:
            kind = spec.address.split(":", 1)[0] if ":" in spec.address else "sms"
            proxy = spec.proxy_address or ""
            return {"type": kind, "address": spec.address, "proxy_address": proxy}
        if spec.projected_address:
            return {"type": "sms", "projected_address": spec.projected_address}
        return None

    def _update_binding(self, participant: Participant, spec: ParticipantInput) -> None:
        changes = {
            "proxy_address": spec.proxy_address,
            "projected_address": spec.projected_address,
        }
        if all(value is None for value in changes.values()):
            return
        old_key = participant.binding_key()
        binding = dict(participant.messaging_binding or {"type": "sms"})
        for name, value in changes.items():
            if value == REMOVE:
                binding.pop(name, None)
            elif value is not None:
                binding[name] = value
        participant.messaging_binding = binding if set(binding) - {"type"} else None
        if old_key is not None and self._bindings.get(old_key) == participant.sid:
            del self._bindings[old_key]
        new_key = participant.binding_key()
        if new_key is not None:
            self._bindings[new_key] = participant.sid

    def _conversation_of(self, participant: Participant) -> Conversation:
        return self.services[participant.service_sid].conversations[participant.conversation_sid]

    def _drop_conversation(self, service: Service, conversation: Conversation) -> None:
        for participant in list(conversation.participants.values()):
            self.remove_participant(participant)
        self.timers.cancel(conversation)
        service.conversations.pop(conversation.sid, None)
        if conversation.unique_name:
            service.unique_names.pop(conversation.unique_name, None)

    def _lookup(self, service_sid: str, sid: str) -> Conversation | None:
        service = self.services.get(service_sid)
        return service.conversations.get(sid) if service is not None else None
