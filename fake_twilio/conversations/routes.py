"""Conversations v1 REST views (mounted at ``/conversations/v1``).

Conversations and participants are served twice: under ``/Conversations`` (the account's
default service) and under ``/Services/{ChatServiceSid}/Conversations``; the same view answers
both, with ``service_sid=None`` meaning the default service. ``{Sid}`` of a conversation may be
its unique name and ``{Sid}`` of a participant its identity. An unknown service, conversation
or participant in the path answers 20404 (Twilio's "requested resource ... was not found").
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from ..core.errors import not_found
from ..core.http import addressed_path, current_backend, list_url, params
from ..core.paging import envelope
from ..core.params import PAGING
from .inputs import (
    CONVERSATION_FIELDS,
    PARTICIPANT_CREATE_FIELDS,
    PARTICIPANT_UPDATE_FIELDS,
    conversation_input,
    friendly_name,
    list_filters,
    participant_input,
    webhook_enabled,
)
from .models import ConversationsBackend
from .resources import (
    Conversation,
    Participant,
    Service,
    render_conversation,
    render_participant,
    render_service,
)

bp = Blueprint("conversations", __name__)

MAX_PAGE_SIZE = 100
LIST_FILTERS = ("StartDate", "EndDate", "State")


def _backend() -> ConversationsBackend:
    return current_backend()


def _service(service_sid: str | None) -> Service:
    found = _backend().find_service(service_sid)
    if found is None:
        raise not_found(addressed_path())
    return found


def _conversation(service_sid: str | None, sid: str) -> Conversation:
    found = _service(service_sid).find_conversation(sid)
    if found is None:
        raise not_found(addressed_path())
    return found


def _participant(service_sid: str | None, conversation_sid: str, sid: str) -> Participant:
    found = _conversation(service_sid, conversation_sid).find_participant(sid)
    if found is None:
        raise not_found(addressed_path())
    return found


def _check_webhook_header() -> None:
    webhook_enabled(request.headers.get("X-Twilio-Webhook-Enabled"))


def _no_content() -> Response:
    return Response(status=204)


# -- services ------------------------------------------------------------------------------
@bp.route("/Services", methods=["GET"])
def list_services() -> Any:
    params(*PAGING)
    return envelope(
        _backend().list_services(),
        key="services",
        list_url=list_url(),
        query=request.args,
        render=render_service,
        max_page_size=MAX_PAGE_SIZE,
    )


@bp.route("/Services", methods=["POST"])
def create_service() -> Any:
    name = friendly_name(params("FriendlyName"), required=True)
    return render_service(_backend().create_service(name or "")), 201


@bp.route("/Services/<sid>", methods=["GET"])
def fetch_service(sid: str) -> Any:
    params()
    return render_service(_service(sid))


@bp.route("/Services/<sid>", methods=["DELETE"])
def delete_service(sid: str) -> Any:
    params()
    _backend().delete_service(_service(sid).sid)
    return _no_content()


# -- conversations -------------------------------------------------------------------------
@bp.route("/Conversations", methods=["GET"])
@bp.route("/Services/<service_sid>/Conversations", methods=["GET"])
def list_conversations(service_sid: str | None = None) -> Any:
    start, end, state = list_filters(params(*LIST_FILTERS, *PAGING))
    service = _service(service_sid)
    records = _backend().list_conversations(service, start=start, end=end, state=state)
    scoped = service_sid is not None
    return envelope(
        records,
        key="conversations",
        list_url=list_url(),
        query=request.args,
        render=lambda conversation: render_conversation(conversation, scoped),
        max_page_size=MAX_PAGE_SIZE,
    )


@bp.route("/Conversations", methods=["POST"])
@bp.route("/Services/<service_sid>/Conversations", methods=["POST"])
def create_conversation(service_sid: str | None = None) -> Any:
    spec = conversation_input(params(*CONVERSATION_FIELDS), creating=True)
    _check_webhook_header()
    service = _service(service_sid)
    conversation = _backend().create_conversation(service.sid, spec)
    return render_conversation(conversation, service_sid is not None), 201


@bp.route("/Conversations/<sid>", methods=["GET"])
@bp.route("/Services/<service_sid>/Conversations/<sid>", methods=["GET"])
def fetch_conversation(sid: str, service_sid: str | None = None) -> Any:
    params()
    return render_conversation(_conversation(service_sid, sid), service_sid is not None)


@bp.route("/Conversations/<sid>", methods=["POST"])
@bp.route("/Services/<service_sid>/Conversations/<sid>", methods=["POST"])
def update_conversation(sid: str, service_sid: str | None = None) -> Any:
    spec = conversation_input(params(*CONVERSATION_FIELDS), creating=False)
    _check_webhook_header()
    conversation = _backend().update_conversation(_conversation(service_sid, sid), spec)
    return render_conversation(conversation, service_sid is not None)


@bp.route("/Conversations/<sid>", methods=["DELETE"])
@bp.route("/Services/<service_sid>/Conversations/<sid>", methods=["DELETE"])
def delete_conversation(sid: str, service_sid: str | None = None) -> Any:
    params()
    _check_webhook_header()
    _backend().delete_conversation(_conversation(service_sid, sid))
    return _no_content()


# -- participants --------------------------------------------------------------------------
@bp.route("/Conversations/<conversation_sid>/Participants", methods=["GET"])
@bp.route("/Services/<service_sid>/Conversations/<conversation_sid>/Participants", methods=["GET"])
def list_participants(conversation_sid: str, service_sid: str | None = None) -> Any:
    params(*PAGING)
    conversation = _conversation(service_sid, conversation_sid)
    scoped = service_sid is not None
    return envelope(
        list(conversation.participants.values()),
        key="participants",
        list_url=list_url(),
        query=request.args,
        render=lambda participant: render_participant(participant, scoped),
        max_page_size=MAX_PAGE_SIZE,
    )


@bp.route("/Conversations/<conversation_sid>/Participants", methods=["POST"])
@bp.route("/Services/<service_sid>/Conversations/<conversation_sid>/Participants", methods=["POST"])
def create_participant(conversation_sid: str, service_sid: str | None = None) -> Any:
    spec = participant_input(params(*PARTICIPANT_CREATE_FIELDS), creating=True)
    _check_webhook_header()
    conversation = _conversation(service_sid, conversation_sid)
    participant = _backend().add_participant(conversation, spec)
    return render_participant(participant, service_sid is not None), 201


@bp.route("/Conversations/<conversation_sid>/Participants/<sid>", methods=["GET"])
@bp.route(
    "/Services/<service_sid>/Conversations/<conversation_sid>/Participants/<sid>",
    methods=["GET"],
)
def fetch_participant(conversation_sid: str, sid: str, service_sid: str | None = None) -> Any:
    params()
    participant = _participant(service_sid, conversation_sid, sid)
    return render_participant(participant, service_sid is not None)


@bp.route("/Conversations/<conversation_sid>/Participants/<sid>", methods=["POST"])
@bp.route(
    "/Services/<service_sid>/Conversations/<conversation_sid>/Participants/<sid>",
    methods=["POST"],
)
def update_participant(conversation_sid: str, sid: str, service_sid: str | None = None) -> Any:
    spec = participant_input(params(*PARTICIPANT_UPDATE_FIELDS), creating=False)
    _check_webhook_header()
    participant = _participant(service_sid, conversation_sid, sid)
    updated = _backend().update_participant(participant, spec)
    return render_participant(updated, service_sid is not None)


@bp.route("/Conversations/<conversation_sid>/Participants/<sid>", methods=["DELETE"])
@bp.route(
    "/Services/<service_sid>/Conversations/<conversation_sid>/Participants/<sid>",
    methods=["DELETE"],
)
def delete_participant(conversation_sid: str, sid: str, service_sid: str | None = None) -> Any:
    params()
    _check_webhook_header()
    _backend().remove_participant(_participant(service_sid, conversation_sid, sid))
    return _no_content()


__all__ = ["bp"]
