"""Endpoint catalogue of the backend protocol: parameters, callers and every error answer.

This is the Python twin of the per-endpoint sections of ``docs/PROTOCOL.md``. It holds what
JSON Schema cannot: which parameters an endpoint checks and in which order, and the error
answers (status, message, explanation) each endpoint may produce. The request and response
*shapes* live in ``schemas/protocol/*.json``; nothing here duplicates them.

Contract of :func:`input_error` (usable by a backend to validate its input, and by the suite
to predict the answer): the body must be a JSON object, else ``invalid request body``; then
the endpoint's parameters are checked one at a time in :attr:`Endpoint.params` order, and the
first one that is absent gives ``missing <param>`` and the first one that is present but does
not match its subschema in ``<endpoint>.request`` (``null`` included) gives
``invalid <param>``. Authentication is checked before all of this and is not part of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

import schemas

__all__ = [
    "AUTH_ERRORS",
    "CLIENT_ENDPOINTS",
    "ENDPOINTS",
    "INTERNAL_ERROR",
    "INVALID_EXPLANATIONS",
    "WEBHOOK_ENDPOINTS",
    "WEBHOOK_SIGNATURE_ERROR",
    "Endpoint",
    "ErrorCase",
    "endpoint",
    "error_body",
    "input_error",
    "invalid_body_error",
    "invalid_error",
    "missing_error",
]


@dataclass(frozen=True)
class ErrorCase:
    """One error answer: ``status`` is ``"400"``, ``"401"``, ... or ``"5XX"`` (any 5xx).

    ``message`` is always normative. ``explanation`` is normative when ``exact`` is true;
    otherwise it is the recommended text (any non-empty string conforms). ``when`` says in
    which situation the answer is given.
    """

    status: str
    message: str
    explanation: str
    when: str
    exact: bool = False

    def body(self) -> dict[str, dict[str, str]]:
        """The error envelope for this case."""
        return error_body(self.message, self.explanation)


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the protocol, served at ``POST <base>/<name>``.

    ``kind`` is ``"client"`` (passcode-protected, JSON) or ``"webhook"`` (Twilio-signed,
    form-encoded). ``params`` lists the checked parameters in checking order. ``errors``
    lists the endpoint-specific error answers; client endpoints additionally give the
    answers of :data:`AUTH_ERRORS`, :func:`invalid_body_error` and, per parameter,
    :func:`missing_error` / :func:`invalid_error`.
    """

    name: str
    kind: str
    summary: str
    caller: str
    params: tuple[str, ...] = ()
    capability: str | None = None
    errors: tuple[ErrorCase, ...] = field(default_factory=tuple)

    @property
    def request_schema(self) -> str:
        """Name of the request schema (webhooks: the form payload schema)."""
        if self.kind == "webhook":
            return f"protocol/webhook.{self.name.removesuffix('-webhook')}"
        return f"protocol/{self.name}.request"

    @property
    def response_schema(self) -> str | None:
        """Name of the success body schema; ``None`` for webhooks (body unspecified)."""
        return None if self.kind == "webhook" else f"protocol/{self.name}.response"

    def all_errors(self) -> tuple[ErrorCase, ...]:
        """Every error answer of the endpoint, generic ones first."""
        if self.kind == "webhook":
            return (WEBHOOK_SIGNATURE_ERROR, *self.errors, INTERNAL_ERROR)
        generic = [*AUTH_ERRORS, invalid_body_error()]
        for param in self.params:
            generic += [missing_error(param), invalid_error(param)]
        return (*generic, *self.errors, INTERNAL_ERROR)


def error_body(message: str, explanation: str) -> dict[str, dict[str, str]]:
    """``{"error": {"message": message, "explanation": explanation}}``."""
    return {"error": {"message": message, "explanation": explanation}}


INVALID_EXPLANATIONS: dict[str, str] = {
    "user_identity": "The user_identity parameter must be a string of 1 to 121 characters "
    "without control characters.",
    "stream_name": "The stream_name parameter must be a string of 1 to 128 characters without "
    "control characters that is not a Room SID.",
    "room_sid": "The room_sid parameter must be a Room SID (RM followed by 32 hexadecimal digits).",
    "room_name": "The room_name parameter must be a stream name or a Room SID.",
    "hand_raised": "The hand_raised parameter must be a boolean.",
}
"""Recommended explanations of ``invalid <param>`` (not normative)."""


def missing_error(param: str) -> ErrorCase:
    """400 ``missing <param>`` with its exact explanation."""
    return ErrorCase(
        "400", f"missing {param}", f"The {param} parameter is missing.", f"{param} is absent", True
    )


def invalid_error(param: str) -> ErrorCase:
    """400 ``invalid <param>`` with the recommended explanation."""
    return ErrorCase(
        "400",
        f"invalid {param}",
        INVALID_EXPLANATIONS[param],
        f"{param} is present but has the wrong JSON type or is out of limits",
    )


def invalid_body_error() -> ErrorCase:
    """400 ``invalid request body``."""
    return ErrorCase(
        "400",
        "invalid request body",
        "The request body must be a JSON object.",
        "the body is not JSON, or is JSON but not an object",
    )


AUTH_ERRORS: tuple[ErrorCase, ...] = (
    ErrorCase(
        "401",
        "passcode expired",
        "The passcode used to validate application users has expired. "
        "Re-deploy the application to refresh the passcode.",
        "the deployment's passcode has expired (checked first, whatever the header says)",
        True,
    ),
    ErrorCase(
        "401",
        "passcode incorrect",
        "The passcode used to validate application users is incorrect.",
        "the Authorization header is missing or not exactly the passcode",
        True,
    ),
    ErrorCase(
        "429",
        "too many requests",
        "Too many failed passcode attempts. Try again later.",
        "the client made too many failed passcode attempts (SEC-2)",
    ),
)
"""Answers of the passcode check, common to every client endpoint."""

WEBHOOK_SIGNATURE_ERROR = ErrorCase(
    "403",
    "invalid signature",
    "The X-Twilio-Signature header is missing or does not match the request.",
    "the delivery is unsigned or its signature does not verify",
)

INTERNAL_ERROR = ErrorCase(
    "5XX",
    "internal error",
    "An unexpected error occurred.",
    "an unexpected failure occurs (the reference backend answers 500)",
)
"""Answer of any endpoint to an unexpected failure (never a stack trace)."""

_TWILIO = "<the Twilio error message>"
_NOT_FOUND_ROOM = ErrorCase(
    "404",
    "error finding room",
    "No in-progress stream has that name.",
    "no in-progress stream has that name (or room SID)",
)


def _step(message: str, when: str, fixed: str | None = None) -> ErrorCase:
    """A Twilio call of one step failed: 5xx (the reference uses 502)."""
    return ErrorCase("5XX", message, fixed or _TWILIO, when, fixed is not None)


_CONV = "Something went wrong when creating a conversation."
_CONV_PART = "Something went wrong when creating a conversation participant."
_CONV_FIND = "Something went wrong when finding a conversation."
_ROOM_STEP = _step("error finding room", "looking the room up fails for another reason")
_READ_ACCESS = tuple(
    _step(f"error adding read access to {what}", f"granting read access to the {what} fails")
    for what in ("user document", "speakers map", "raised hands map", "viewers map")
)
_CHAT_JOIN = (
    _step(
        "error finding conversation", "chat: fetching the stream's conversation fails", _CONV_FIND
    ),
    _step(
        "error creating conversation participant", "chat: adding the participant fails", _CONV_PART
    ),
)
_SYNC_CLIENT = _step("error getting stream sync client", "reading the stream record fails")

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("verify-passcode", "client", "Check the passcode", "any user, before anything else"),
    Endpoint(
        "create-stream",
        "client",
        "Create a stream and get a host token",
        "host",
        ("user_identity", "stream_name"),
        errors=(
            ErrorCase(
                "409",
                "error creating room",
                "Room exists",
                "an in-progress stream already has that name",
                True,
            ),
            _step("error creating room", "creating the Video room fails for another reason"),
            _step("error creating stream", "creating the PlayerStreamer or MediaProcessor fails"),
            _step("error creating stream sync service", "creating the Sync service fails"),
            _step(
                "error adding stream to streams map",
                "storing the stream record fails (backends that keep it in Twilio Sync)",
            ),
            _step("error creating speakers map", "creating the speakers map fails"),
            _step("error adding host to speakers map", "adding the host item fails"),
            _READ_ACCESS[1],
            _step("error creating raised hands map", "creating the raised_hands map fails"),
            _READ_ACCESS[2],
            _step("error creating viewers map", "creating the viewers map fails"),
            _READ_ACCESS[3],
            _step("error creating conversation", "chat: creating the conversation fails", _CONV),
            _step(
                "error creating conversation participant", "chat: adding the host fails", _CONV_PART
            ),
        ),
    ),
    Endpoint(
        "join-stream-as-speaker",
        "client",
        "Get a speaker token for an existing stream",
        "a viewer who accepted an invitation (not enforced)",
        ("user_identity", "stream_name"),
        errors=(
            _NOT_FOUND_ROOM,
            _ROOM_STEP,
            _step("error finding stream map item", "reading the stream record fails"),
            _step("error creating user document", "creating the user document fails"),
            *_READ_ACCESS,
            *_CHAT_JOIN,
        ),
    ),
    Endpoint(
        "join-stream-as-viewer",
        "client",
        "Get a viewer token for an existing stream",
        "viewer",
        ("user_identity", "stream_name"),
        errors=(
            _NOT_FOUND_ROOM,
            _ROOM_STEP,
            _step("error fetching stream map item", "reading the stream record fails"),
            _step("error creating user document", "creating the user document fails"),
            _step("error updating user document", "writing the user document fails"),
            *_READ_ACCESS,
            *_CHAT_JOIN,
            _step("error getting playback grant", "creating the PlaybackGrant fails"),
        ),
    ),
    Endpoint(
        "viewer-connected-to-player",
        "client",
        "Record that a viewer's player is playing the stream",
        "viewer",
        ("user_identity", "stream_name"),
        errors=(
            _NOT_FOUND_ROOM,
            _ROOM_STEP,
            _SYNC_CLIENT,
            _step("error adding user to viewers map", "adding the viewers item fails"),
        ),
    ),
    Endpoint(
        "raise-hand",
        "client",
        "Raise or lower a viewer's hand",
        "viewer",
        ("user_identity", "stream_name", "hand_raised"),
        errors=(
            _NOT_FOUND_ROOM,
            _ROOM_STEP,
            _SYNC_CLIENT,
            _step("error updating raised hands map", "adding or removing the item fails"),
        ),
    ),
    Endpoint(
        "send-speaker-invite",
        "client",
        "Invite a viewer to speak",
        "host (not enforced)",
        ("user_identity", "room_sid"),
        errors=(
            ErrorCase(
                "404",
                "error finding room",
                "No in-progress stream has that room SID.",
                "no in-progress stream has that room SID",
            ),
            ErrorCase(
                "404",
                "error updating user document",
                "The user has not joined the stream.",
                "the invitee never joined the stream (no user document)",
            ),
            _ROOM_STEP,
            _step("error updating user document", "reading or writing the user document fails"),
        ),
    ),
    Endpoint(
        "remove-speaker",
        "client",
        "Move a speaker back to the audience",
        "host (not enforced)",
        ("user_identity", "room_name"),
        errors=(
            _NOT_FOUND_ROOM,
            ErrorCase(
                "404",
                "error removing speaker",
                "The user is not connected to the stream's room.",
                "no connected participant of the room has that identity",
            ),
            _ROOM_STEP,
            _step("error removing speaker", "disconnecting the participant fails"),
        ),
    ),
    Endpoint(
        "delete-stream",
        "client",
        "End a stream",
        "host (not enforced)",
        ("stream_name",),
        capability="delete-stream",
        errors=(
            _NOT_FOUND_ROOM,
            _ROOM_STEP,
            _step("error deleting stream", "completing the room fails"),
        ),
    ),
    Endpoint(
        "rooms-webhook",
        "webhook",
        "Video room status callback",
        "Twilio Video",
        errors=(
            _SYNC_CLIENT,
            _step("error removing user from viewers map", "removing the viewers item fails"),
            _step("error removing user from raised hands map", "removing the hand fails"),
            _step("error adding user to speakers map", "adding the speakers item fails"),
            _step("error updating user document", "consuming the invitation fails"),
            _step("error removing user from speakers map", "removing the speakers item fails"),
            _step("error deleting stream", "a room-ended cleanup step fails"),
        ),
    ),
    Endpoint(
        "sync-webhook",
        "webhook",
        "Sync service webhook (reachability)",
        "Twilio Sync",
        errors=(
            _SYNC_CLIENT,
            _step("error removing user from speakers map", "removing the speakers item fails"),
            _step("error removing user from raised hands map", "removing the hand fails"),
            _step("error removing user from viewers map", "removing the viewers item fails"),
        ),
    ),
)
"""Every endpoint, in document order."""

CLIENT_ENDPOINTS: tuple[Endpoint, ...] = tuple(e for e in ENDPOINTS if e.kind == "client")
WEBHOOK_ENDPOINTS: tuple[Endpoint, ...] = tuple(e for e in ENDPOINTS if e.kind == "webhook")


def endpoint(name: str) -> Endpoint:
    """The endpoint called ``name`` (e.g. ``"raise-hand"``); :class:`KeyError` if unknown."""
    for item in ENDPOINTS:
        if item.name == name:
            return item
    raise KeyError(name)


@cache
def _param_validator(endpoint_name: str, param: str) -> Draft202012Validator:
    schema_id = schemas.uri(endpoint(endpoint_name).request_schema)
    return Draft202012Validator(
        {"$ref": f"{schema_id}#/properties/{param}"},
        registry=schemas.registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def input_error(endpoint_name: str, body: Any) -> dict[str, dict[str, str]] | None:
    """The 400 error envelope the protocol requires for ``body``, or ``None`` if it is valid.

    ``body`` is the decoded request body (for form and query input: a dict of strings whose
    booleans were already converted, see PROTOCOL.md). Only client endpoints have inputs.
    Strings are Unicode text: one holding a lone surrogate (U+D800..U+DFFF, which a JSON
    escape such as ``"\\ud800"`` can spell) is ``invalid <param>``, as ``common.json`` says; so
    is a number of any size where a string or a boolean is expected.
    """
    item = endpoint(endpoint_name)
    if item.kind != "client":
        raise ValueError(f"{endpoint_name} is not a client endpoint")
    if not isinstance(body, dict):
        return invalid_body_error().body()
    for param in item.params:
        if param not in body:
            return missing_error(param).body()
        if not _param_validator(endpoint_name, param).is_valid(_validatable(body[param])):
            return invalid_error(param).body()
    return None


#: An integer with more bits than this may exceed Python's int-to-text limit (4,300 digits),
#: which jsonschema hits when it words a validation error.
_HUGE_INT_BITS = 4_000


def _validatable(value: Any) -> Any:
    """``value`` with every huge integer replaced by one of the same sign that Python can turn
    into text: a parameter schema can only judge such a number by its type and sign (the
    protocol has no numeric bounds), and validating the original would raise ValueError."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value.bit_length() > _HUGE_INT_BITS:
        return 10**100 if value > 0 else -(10**100)
    if isinstance(value, list):
        return [_validatable(item) for item in value]
    if isinstance(value, dict):
        return {key: _validatable(item) for key, item in value.items()}
    return value
