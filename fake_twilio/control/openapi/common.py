"""Building blocks of the control OpenAPI document: constants, schema and operation helpers."""

from __future__ import annotations

from typing import Any

JSON = "application/json"
SID = {"type": "string", "pattern": "^[A-Z]{2}[0-9a-f]{32}$"}
ACCOUNT = {"type": "string", "pattern": "^AC[0-9a-f]{32}$", "description": "An account SID."}
ANY_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
#: A string field the control plane refuses when empty (every string but free text).
STRING = {"type": "string", "minLength": 1}
#: Free text, which may be empty (``friendly_name``, a fault's ``message``).
TEXT = {"type": "string"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(
    properties: dict[str, Any], required: tuple[str, ...] = (), *, closed: bool = True
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def op(
    summary: str,
    ok: dict[str, Any] | None,
    *,
    body: dict[str, Any] | None = None,
    query: dict[str, dict[str, Any]] | None = None,
    status: str = "200",
    errors: tuple[str, ...] = ("400",),
    tag: str,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "tags": [tag]}
    if query:
        operation["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in query.items()
        ]
    if body is not None:
        # a body with required members is required: an absent body is {} and misses them
        required = bool(body.get("required"))
        operation["requestBody"] = {"required": required, "content": {JSON: {"schema": body}}}
    responses: dict[str, Any] = {}
    if ok is None:
        responses[status] = {"description": "Done (no content)."}
    else:
        responses[status] = {"description": "Success.", "content": {JSON: {"schema": ok}}}
    for code in errors:
        responses[code] = {"$ref": f"#/components/responses/Error{code}"}
    operation["responses"] = responses
    return operation


TOKEN = {
    "type": "string",
    "minLength": 1,
    "description": "An access token (JWT) as AccessToken.to_jwt() makes.",
}
TOKEN_ERRORS = ("400", "401", "404")
