"""OpenAPI 3.1 export of the backend protocol, assembled from the shipped JSON Schemas.

:func:`build_openapi` copies every ``protocol/*`` schema into ``components/schemas`` (named
after the schema, e.g. ``create-stream.request``), rewrites each ``$ref`` between shipped
schemas into a ``#/components/schemas/...`` pointer and drops ``$id``/``$schema`` from the
copies, so the document is self-contained and resolves offline. Operations, examples and
error responses come from :mod:`schemas.catalog` and the schemas' own ``examples``; nothing
is written twice, except the 413 of client endpoints (:data:`BODY_TOO_LARGE`), which the
catalogue does not list (it describes what the suite checks; the size limit is the backend's).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import schemas
from schemas import catalog

__all__ = ["PROTOCOL_VERSION", "build_openapi", "component_name"]

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


def _client_operation(endpoint: catalog.Endpoint) -> dict[str, Any]:
    request_example = schemas.load(endpoint.request_schema)["examples"][0]
    assert endpoint.response_schema is not None
    response_example = schemas.load(endpoint.response_schema)["examples"][0]
    params = ", ".join(endpoint.params) or "none"
    description = (
        f"Caller: {endpoint.caller}. Parameters, checked in this order: {params}. "
        "The body is UTF-8 JSON whatever the charset parameter says; an empty body or one of "
        "whitespace only is {}; a body of another Content-Type is read as JSON too. "
        "Capabilities: form-body (application/x-www-form-urlencoded, booleans as "
        "'true'/'false') and get-query (GET with query parameters) accept the same parameters."
    )
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
                }
            },
        },
        "responses": {
            "200": {
                "description": "Success.",
                "content": {
                    "application/json": {
                        "schema": _ref(endpoint.response_schema),
                        "examples": {"example": {"value": response_example}},
                    }
                },
            },
            **_error_responses(endpoint),
        },
    }
    if endpoint.capability:
        operation["x-capability"] = endpoint.capability
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
                "application/x-www-form-urlencoded": {
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
        build = _client_operation if endpoint.kind == "client" else _webhook_operation
        paths[f"/{endpoint.name}"] = {"post": build(endpoint)}
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
