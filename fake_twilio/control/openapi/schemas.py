"""The component schemas of the control API's OpenAPI document."""

from __future__ import annotations

from typing import Any

from ...core.faults import ACTIONS
from .common import ACCOUNT, ANY_OBJECT, SID, STRING, TEXT, nullable, obj


def component_schemas() -> dict[str, Any]:
    return {
        "Error": obj(
            {
                "code": {"type": "integer", "description": "Twilio error code."},
                "message": {"type": "string"},
                "more_info": {"type": "string", "format": "uri"},
                "status": {"type": "integer"},
            },
            ("code", "message", "more_info", "status"),
        ),
        "Clock": obj(
            {
                "now": {"type": "string", "description": "YYYY-MM-DDTHH:MM:SSZ"},
                "timestamp": {"type": "number", "description": "Unix time, in seconds."},
                "frozen": {"type": "boolean"},
            },
            ("now", "timestamp", "frozen"),
        ),
        "FaultInput": obj(
            {
                "action": {"type": "string", "enum": list(ACTIONS), "default": "error"},
                "product": STRING,
                "method": {**STRING, "examples": ["POST"]},
                "path": {
                    **STRING,
                    "description": "Regex matching the whole product-relative path (/v1/...).",
                },
                "path_glob": {**STRING, "examples": ["/v1/Rooms/*"]},
                "account": ACCOUNT,
                "code": {"type": "integer", "description": "Twilio error code (error action)."},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "message": TEXT,
                "latency_ms": {"type": "number", "minimum": 0},
                "times": {"type": "integer", "minimum": 1, "description": "Fire at most N times."},
                "after": {"type": "integer", "minimum": 0, "description": "Skip N matches."},
                "probability": {"type": "number", "minimum": 0, "maximum": 1},
                "seed": {"type": "integer"},
            }
        ),
        "Fault": obj(
            {
                "id": {"type": "string"},
                "action": {"type": "string", "enum": list(ACTIONS)},
                "product": nullable({"type": "string"}),
                "method": nullable({"type": "string"}),
                "path": nullable({"type": "string"}),
                "path_glob": nullable({"type": "string"}),
                "account_sid": nullable({"type": "string"}),
                "code": nullable({"type": "integer"}),
                "status": nullable({"type": "integer"}),
                "message": nullable({"type": "string"}),
                "latency_ms": {"type": "number"},
                "times": nullable({"type": "integer"}),
                "after": {"type": "integer"},
                "probability": nullable({"type": "number"}),
                "seed": nullable({"type": "integer"}),
                "matched": {"type": "integer"},
                "fired": {"type": "integer"},
                "remaining": nullable({"type": "integer"}),
            },
            ("id", "action"),
        ),
        "JournalEntry": obj(
            {
                "seq": {"type": "integer"},
                "time": {"type": "string"},
                "account_sid": nullable({"type": "string"}),
                "product": nullable({"type": "string"}),
                "method": {"type": "string"},
                "path": {"type": "string"},
                "query": ANY_OBJECT,
                "form": ANY_OBJECT,
                "status": {"type": "integer", "description": "499: the connection was dropped."},
                "error_code": nullable({"type": "integer"}),
            },
            ("seq", "method", "path", "status"),
        ),
        "Delivery": obj(
            {
                "seq": {"type": "integer"},
                "time": {"type": "number"},
                "account_sid": {"type": "string"},
                "source": {"type": "string", "examples": ["video.room", "sync.service"]},
                "url": {"type": "string"},
                "method": {"type": "string"},
                "params": {"type": "object", "additionalProperties": {"type": "string"}},
                "signature": {"type": "string", "description": "X-Twilio-Signature sent."},
                "status": nullable({"type": "integer"}),
                "error": nullable({"type": "string"}),
                "duration_ms": {"type": "number"},
                "response_body": {"type": "string"},
            },
            ("seq", "url", "method", "params", "signature"),
        ),
        "Credentials": obj(
            {
                "account_sid": ACCOUNT,
                "auth_token": {"type": "string"},
                "api_key_sid": {"type": "string", "pattern": "^SK[0-9a-f]{32}$"},
                "api_key_secret": {"type": "string"},
            },
            ("account_sid", "auth_token", "api_key_sid", "api_key_secret"),
        ),
        "VerifiedToken": obj(
            {
                "identity": nullable({"type": "string"}),
                "account_sid": ACCOUNT,
                "api_key_sid": {"type": "string"},
                "grants": ANY_OBJECT,
                "expires_at": {"type": "string"},
                "not_before": nullable({"type": "string"}),
                "issued_at": nullable({"type": "string"}),
                "jti": nullable({"type": "string"}),
                "region": nullable({"type": "string"}),
            },
            ("identity", "account_sid", "api_key_sid", "grants", "expires_at"),
        ),
        "SyncEndpoint": obj(
            {
                "account_sid": ACCOUNT,
                "service_sid": SID,
                "identity": {"type": "string"},
                "endpoint_id": {"type": "string"},
            },
            ("account_sid", "service_sid", "identity", "endpoint_id"),
        ),
    }
