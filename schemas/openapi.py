"""OpenAPI 3.1 export of the backend protocol, assembled from the shipped JSON Schemas.

:func:`build_openapi` copies every ``protocol/*`` schema into ``components/schemas`` (named
after the schema, e.g. ``create-stream.request``), rewrites each ``$ref`` between shipped
schemas into a ``#/components/schemas/...`` pointer and drops ``$id``/``$schema`` from the
copies, so the document is self-contained and resolves offline. Operations, examples and
error responses come from :mod:`schemas.catalog` and the schemas' own ``examples``; nothing
is written twice, except the 413 of client endpoints (:data:`BODY_TOO_LARGE`), which the
catalogue does not list (it describes what the suite checks; the size limit is the backend's).

Every client endpoint has a ``post`` operation whose request body is JSON or, capability
``form-body``, ``application/x-www-form-urlencoded`` (that media type is marked
``x-capability``/``x-optional``), and a ``get`` operation (``<operationId>ByQuery``) with the
parameters in the query string, capability ``get-query`` (marked the same way). The 200 answers
of create-stream and the joins carry OpenAPI ``links`` (:data:`LINKS`), so that a stateful
client can go from a created stream to every other operation.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import schemas
from schemas import catalog

__all__ = ["FORM_CONTENT_TYPE", "LINKS", "PROTOCOL_VERSION", "build_openapi", "component_name"]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

PROTOCOL_VERSION = "1.0.0"
"""Version of the protocol described by ``docs/PROTOCOL.md``."""

_STATUS_TEXT = {
    "400": "Invalid input: missing or invalid parameter, or a body that is not a JSON object "
    "(not valid UTF-8, not JSON, or JSON but not an object).",
    "401": "The passcode is missing, incorrect or expired.",
    "403": "The webhook delivery is unsigned or its signature does not verify.",
    "404": "The stream, the user document or the room participant does not exist.",
    "409": "An in-progress stream already has that name.",
    "413": "The body is over the backend's size limit (65536 bytes in the reference backend); "
    "checked after the passcode.",
    "429": "Too many failed passcode attempts from this client.",
    "5XX": "A Twilio request failed (502 in the reference backend) or an unexpected error "
    "occurred (500). The body never contains a stack trace.",
}


BODY_TOO_LARGE = catalog.ErrorCase(
    "413",
    "request body too large",
    "The body must not exceed 65536 bytes.",
    "the body is over the backend's size limit (docs/PROTOCOL.md 2.1)",
)
"""Answer of every client endpoint to a body over the size limit (the reference's text)."""


def component_name(schema_name: str) -> str:
    """Component key of a shipped schema.

    ``"protocol/x"`` becomes ``"x"`` and ``"twilio/y"`` becomes ``"twilio.y"``.
    """
    family, _, rest = schema_name.partition("/")
    return rest if family == "protocol" else f"{family}.{rest}"


def _ref(schema_name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{component_name(schema_name)}"}


def _rewrite(node: Any, base: str, by_id: dict[str, str], needed: set[str]) -> Any:
    """Copy ``node`` with shipped-schema ``$ref``s turned into component pointers."""
    if isinstance(node, list):
        return [_rewrite(item, base, by_id, needed) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$id", "$schema"):
            continue
        if key == "$ref" and isinstance(value, str):
            target, _, fragment = urljoin(base, value).partition("#")
            name = by_id.get(target)
            if name is None:
                raise ValueError(f"unresolvable $ref {value!r} in {base}")
            needed.add(name)
            out[key] = f"#/components/schemas/{component_name(name)}{fragment}"
        else:
            out[key] = _rewrite(value, base, by_id, needed)
    return out


def _components() -> dict[str, Any]:
    """Every protocol schema plus the transitive closure of what they reference."""
    by_id = {schemas.uri(name): name for name in schemas.names()}
    pending = set(schemas.names("protocol"))
    done: dict[str, Any] = {}
    while pending:
        name = pending.pop()
        needed: set[str] = set()
        done[name] = _rewrite(schemas.load(name), schemas.uri(name), by_id, needed)
        pending |= needed - done.keys()
    return {component_name(name): done[name] for name in sorted(done)}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def _error_cases(endpoint: catalog.Endpoint) -> tuple[catalog.ErrorCase, ...]:
    """The endpoint's error answers, plus the 413 of client endpoints when the catalogue has
    none."""
    cases = endpoint.all_errors()
    if endpoint.kind == "client" and not any(case.status == "413" for case in cases):
        cases = (*cases, BODY_TOO_LARGE)
    return cases


def _error_responses(endpoint: catalog.Endpoint) -> dict[str, Any]:
    """One response per status, each example named after its message (and situation)."""
    responses: dict[str, Any] = {}
    for case in _error_cases(endpoint):
        response = responses.setdefault(
            case.status,
            {
                "description": _STATUS_TEXT[case.status],
                "content": {"application/json": {"schema": _ref("protocol/error"), "examples": {}}},
            },
        )
        examples = response["content"]["application/json"]["examples"]
        key = _slug(case.message)
        if key in examples:
            key = _slug(f"{case.message} {case.when}")
        note = "" if case.exact else " The explanation shown is a recommendation."
        examples[key] = {"summary": f"When {case.when}.{note}", "value": case.body()}
    return responses


def _operation_id(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part.capitalize() for part in rest)


def _query_operation_id(name: str) -> str:
    """Operation id of the get-query variant (``GET``) of client endpoint ``name``."""
    return f"{_operation_id(name)}ByQuery"


FORM_BODY = "form-body"
GET_QUERY = "get-query"
"""The optional capabilities (docs/PROTOCOL.md 2.4) that add request variants."""

_STREAM_NAME = "$request.body#/stream_name"
_IDENTITY = "$request.body#/user_identity"
_ROOM_SID = "$response.body#/room_sid"

LINKS: dict[str, dict[str, tuple[str, dict[str, str], str]]] = {
    "create-stream": {
        "JoinAsSpeaker": (
            "join-stream-as-speaker",
            {"stream_name": _STREAM_NAME},
            "Join the stream just created as a speaker.",
        ),
        "JoinAsViewer": (
            "join-stream-as-viewer",
            {"stream_name": _STREAM_NAME},
            "Join the stream just created as a viewer.",
        ),
        "InviteHost": (
            "send-speaker-invite",
            {"user_identity": _IDENTITY, "room_sid": _ROOM_SID},
            "Invite the host (who has a user document) through the stream's Room SID.",
        ),
        "RemoveHost": (
            "remove-speaker",
            {"user_identity": _IDENTITY, "room_name": _STREAM_NAME},
            "Remove the host from the room, named by the stream name (a 404 unless the host's "
            "client is connected).",
        ),
        "DeleteStream": (
            "delete-stream",
            {"stream_name": _STREAM_NAME},
            "End the stream just created.",
        ),
    },
    "join-stream-as-viewer": {
        "ViewerConnected": (
            "viewer-connected-to-player",
            {"user_identity": _IDENTITY, "stream_name": _STREAM_NAME},
            "Report that this viewer's player is connected.",
        ),
        "RaiseHand": (
            "raise-hand",
            {"user_identity": _IDENTITY, "stream_name": _STREAM_NAME},
            "Raise or lower this viewer's hand.",
        ),
        "InviteViewer": (
            "send-speaker-invite",
            {"user_identity": _IDENTITY, "room_sid": _ROOM_SID},
            "Invite this viewer to speak, through the Room SID of the join answer.",
        ),
    },
    "join-stream-as-speaker": {
        "RemoveSpeaker": (
            "remove-speaker",
            {"user_identity": _IDENTITY, "room_name": _STREAM_NAME},
            "Remove this speaker, naming the room by the stream name.",
        ),
        "RaiseHand": (
            "raise-hand",
            {"user_identity": _IDENTITY, "stream_name": _STREAM_NAME},
            "Raise or lower this speaker's hand.",
        ),
    },
}
"""OpenAPI links of the 200 answers of the JSON operations: source endpoint -> link name ->
(target endpoint, request-body members as runtime expressions, description). They let a
stateful client (e.g. Schemathesis) go from a created stream to every other operation."""


def _links(endpoint: catalog.Endpoint) -> dict[str, Any]:
    return {
        name: {
            "operationId": _operation_id(target),
            "requestBody": body,
            "description": description,
        }
        for name, (target, body, description) in LINKS.get(endpoint.name, {}).items()
    }


def _client_operation(endpoint: catalog.Endpoint) -> dict[str, Any]:
    request_example = schemas.load(endpoint.request_schema)["examples"][0]
    assert endpoint.response_schema is not None
    response_example = schemas.load(endpoint.response_schema)["examples"][0]
    params = ", ".join(endpoint.params) or "none"
    description = (
        f"Caller: {endpoint.caller}. Parameters, checked in this order: {params}. "
        "The body is UTF-8 JSON whatever the charset parameter says; an empty body or one of "
        "whitespace only is {}; a body of another Content-Type is read as JSON too. "
        "Optional capabilities (x-capability, x-optional): form-body (the "
        "application/x-www-form-urlencoded request body, percent-encoded UTF-8, booleans as "
        "'true'/'false') and get-query (the GET operation of this path, with query "
        "parameters) accept the same parameters; a value that is not UTF-8 once "
        "percent-decoded is invalid <param>."
    )
    success: dict[str, Any] = {
        "description": "Success.",
        "content": {
            "application/json": {
                "schema": _ref(endpoint.response_schema),
                "examples": {"example": {"value": response_example}},
            }
        },
    }
    links = _links(endpoint)
    if links:
        success["links"] = links
    operation: dict[str, Any] = {
        "operationId": _operation_id(endpoint.name),
        "summary": endpoint.summary,
        "description": description,
        "tags": ["client"],
        "security": [{"passcode": []}],
        "requestBody": {
            "required": bool(endpoint.params),
            "content": {
                "application/json": {
                    "schema": _ref(endpoint.request_schema),
                    "examples": {"example": {"value": request_example}},
                },
                FORM_CONTENT_TYPE: {
                    "schema": _ref(endpoint.request_schema),
                    "examples": {"example": {"value": request_example}},
                    "x-capability": FORM_BODY,
                    "x-optional": True,
                },
            },
        },
        "responses": {"200": success, **_error_responses(endpoint)},
    }
    if endpoint.capability:
        operation["x-capability"] = endpoint.capability
    return operation


def _query_operation(endpoint: catalog.Endpoint, post: dict[str, Any]) -> dict[str, Any]:
    """The get-query variant of a client endpoint: ``GET`` with the parameters in the query
    string, answered like the JSON ``POST`` (no body, so no 413)."""
    request_schema = schemas.load(endpoint.request_schema)
    required = set(request_schema.get("required", ()))
    component = component_name(endpoint.request_schema)
    parameters = [
        {
            "name": param,
            "in": "query",
            "required": param in required,
            "schema": {"$ref": f"#/components/schemas/{component}/properties/{param}"},
        }
        for param in endpoint.params
    ]
    needs = [GET_QUERY, *([endpoint.capability] if endpoint.capability else [])]
    responses = {status: r for status, r in post["responses"].items() if status != "413"}
    responses["200"] = {k: v for k, v in responses["200"].items() if k != "links"}
    operation: dict[str, Any] = {
        "operationId": _query_operation_id(endpoint.name),
        "summary": f"{endpoint.summary} (capability get-query: GET with query parameters)",
        "description": (
            "Optional capability get-query (docs/PROTOCOL.md 2.4): the same parameters as the "
            "POST, in the query string, percent-encoded UTF-8; booleans as 'true'/'false'; a "
            "parameter given twice is invalid. A backend without the capability answers 405."
        ),
        "tags": ["client"],
        "security": [{"passcode": []}],
        "parameters": parameters,
        "responses": responses,
        "x-capability": GET_QUERY,
        "x-capabilities": needs,
        "x-optional": True,
    }
    return operation


def _webhook_operation(endpoint: catalog.Endpoint) -> dict[str, Any]:
    example = schemas.load(endpoint.request_schema)["examples"][0]
    return {
        "operationId": _operation_id(endpoint.name),
        "summary": endpoint.summary,
        "description": (
            f"Called by {endpoint.caller} with an application/x-www-form-urlencoded body, "
            "signed with X-Twilio-Signature over the URL the backend registered. Idempotent."
        ),
        "tags": ["webhook"],
        "security": [{"twilioSignature": []}],
        "requestBody": {
            "required": True,
            "content": {
                FORM_CONTENT_TYPE: {
                    "schema": _ref(endpoint.request_schema),
                    "examples": {"example": {"value": example}},
                }
            },
        },
        "responses": {
            "2XX": {"description": "Acknowledged. The body is unspecified and ignored by Twilio."},
            **_error_responses(endpoint),
        },
    }


def build_openapi(server_url: str | None = None) -> dict[str, Any]:
    """A fresh OpenAPI 3.1 document describing every endpoint of the protocol.

    ``server_url`` (the backend's base URL) becomes the single server entry; without it the
    document has a templated ``{base}`` server. The result passes
    ``openapi_spec_validator.validate`` and is JSON-serializable.
    """
    servers = (
        [{"url": server_url}]
        if server_url
        else [
            {
                "url": "{base}",
                "variables": {"base": {"default": "http://127.0.0.1:8080"}},
            }
        ]
    )
    paths: dict[str, Any] = {}
    for endpoint in catalog.ENDPOINTS:
        if endpoint.kind == "client":
            post = _client_operation(endpoint)
            paths[f"/{endpoint.name}"] = {"post": post, "get": _query_operation(endpoint, post)}
        else:
            paths[f"/{endpoint.name}"] = {"post": _webhook_operation(endpoint)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Live Interactive Video backend protocol",
            "version": PROTOCOL_VERSION,
            "summary": "What a Live Interactive Video backend serves to its clients and Twilio.",
            "description": (
                "Normative text: docs/PROTOCOL.md. Requirements: "
                "schemas/protocol/requirements.json. Every non-2xx body is the error envelope."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": servers,
        "tags": [
            {"name": "client", "description": "Called by the apps; passcode required."},
            {"name": "webhook", "description": "Called by Twilio; signature required."},
        ],
        "paths": paths,
        "components": {
            "schemas": _components(),
            "securitySchemes": {
                "passcode": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "The deployment passcode, verbatim (no 'Bearer' prefix).",
                },
                "twilioSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Twilio-Signature",
                    "description": "Twilio's HMAC-SHA1 signature, keyed with the auth token.",
                },
            },
        },
    }
