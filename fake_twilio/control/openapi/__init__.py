"""The OpenAPI 3.1 description of the control API (served at ``GET /_fake/openapi.json``).

Built from small helpers (:mod:`.common`) so every operation documents its body or query
fields, its success answer and Twilio-shaped errors. :func:`openapi_document` returns a fresh
dict each time.
"""

from __future__ import annotations

from typing import Any

from .common import JSON, ref
from .paths import all_paths
from .schemas import component_schemas

__all__ = ["openapi_document"]


def openapi_document() -> dict[str, Any]:
    """The control API's OpenAPI 3.1 document."""
    error_content = {JSON: {"schema": ref("Error")}}
    descriptions = {
        "400": "Invalid input (code 20001 naming the field) or a product error.",
        "401": "Access-token error (20101-20107, 20157).",
        "403": "Forbidden (e.g. Sync ACL 54007).",
        "404": "Not found (20404 or a product's code).",
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Fake Twilio control API",
            "version": "1.0.0",
            "description": (
                "Controls a fake Twilio: simulated clients presenting access tokens, the clock, "
                "fault injection, the request journal, webhook deliveries, reset and state. "
                "Errors use Twilio's body {code, message, more_info, status}."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": name}
            for name in ("service", "clients", "clock", "faults", "journal", "webhooks", "state")
        ],
        "paths": all_paths(),
        "components": {
            "schemas": component_schemas(),
            "responses": {
                f"Error{code}": {"description": text, "content": error_content}
                for code, text in descriptions.items()
            },
        },
    }
