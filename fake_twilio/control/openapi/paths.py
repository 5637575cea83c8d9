"""The paths of the control API's OpenAPI document (one entry per ``/_fake`` route)."""

from __future__ import annotations

from typing import Any

from ...core.state import WEBHOOK_MODES
from ..clients import SYNC_KINDS
from ..facade import MAX_ADVANCE_SECONDS, MAX_TIMESTAMP, MIN_TIMESTAMP
from .common import (
    ACCOUNT,
    ANY_OBJECT,
    SID,
    STRING,
    TEXT,
    TOKEN,
    TOKEN_ERRORS,
    nullable,
    obj,
    op,
    ref,
)


def all_paths() -> dict[str, Any]:
    kind = {"type": "string", "enum": list(SYNC_KINDS)}
    key = {"type": ["string", "integer"], "description": "Map item key or list item index."}
    clock_ok = ref("Clock")
    return {
        "/_fake/health": {
            "get": op(
                "Health and the products served.",
                obj(
                    {
                        "status": {"const": "ok"},
                        "products": {"type": "array", "items": STRING},
                    },
                    ("status", "products"),
                ),
                tag="service",
            )
        },
        "/_fake/credentials": {
            "get": op("The default account's credentials.", ref("Credentials"), tag="service")
        },
        "/_fake/openapi.json": {"get": op("This document.", ANY_OBJECT, errors=(), tag="service")},
        "/_fake/tokens/verify": {
            "post": op(
                "Verify an access token as Twilio does (20101-20107, 20157).",
                ref("VerifiedToken"),
                body=obj({"token": TOKEN, "require_identity": {"type": "boolean"}}, ("token",)),
                errors=("400", "401"),
                tag="clients",
            )
        },
        "/_fake/video/connect": {
            "post": op(
                "A Video client connects to a room with its token (VideoGrant).",
                ANY_OBJECT,
                body=obj(
                    {"token": TOKEN, "room": STRING, "account": ACCOUNT},
                    ("token", "room"),
                ),
                errors=TOKEN_ERRORS,
                tag="clients",
            )
        },
        "/_fake/video/disconnect": {
            "post": op(
                "A Video client leaves a room (53204 when not connected).",
                ANY_OBJECT,
                body=obj(
                    {"room": STRING, "identity": STRING, "account": ACCOUNT},
                    ("room", "identity"),
                ),
                errors=("400", "404"),
                tag="clients",
            )
        },
        "/_fake/video/complete": {
            "post": op(
                "Twilio ends a room (as a timeout would).",
                ANY_OBJECT,
                body=obj({"room": STRING, "account": ACCOUNT}, ("room",)),
                errors=("400", "404"),
                tag="clients",
            )
        },
        "/_fake/player/connect": {
            "post": op(
                "A Live player starts playback with a token carrying a PlaybackGrant.",
                ANY_OBJECT,
                body=obj(
                    {"token": TOKEN, "player_streamer_sid": SID, "account": ACCOUNT}, ("token",)
                ),
                errors=TOKEN_ERRORS,
                tag="clients",
            )
        },
        "/_fake/player/disconnect": {
            "post": op(
                "A Live player stops watching.",
                ANY_OBJECT,
                body=obj(
                    {"player_streamer_sid": SID, "identity": STRING, "account": ACCOUNT},
                    ("player_streamer_sid", "identity"),
                ),
                errors=("400", "404"),
                tag="clients",
            )
        },
        "/_fake/sync/connect": {
            "post": op(
                "A Sync client comes online (reachability webhooks).",
                ref("SyncEndpoint"),
                body=obj({"token": TOKEN, "service_sid": SID, "account": ACCOUNT}, ("token",)),
                errors=TOKEN_ERRORS,
                tag="clients",
            )
        },
        "/_fake/sync/disconnect": {
            "post": op(
                "A Sync client goes away (one endpoint or all of the identity's).",
                ANY_OBJECT,
                body=obj(
                    {
                        "service_sid": SID,
                        "identity": STRING,
                        "endpoint_id": STRING,
                        "account": ACCOUNT,
                    },
                    ("service_sid", "identity"),
                ),
                errors=("400", "404"),
                tag="clients",
            )
        },
        "/_fake/sync/read": {
            "post": op(
                "Read a Sync object as the token's identity (ACL: 54007).",
                ANY_OBJECT,
                body=obj(
                    {
                        "token": TOKEN,
                        "kind": kind,
                        "name": STRING,
                        "key": key,
                        "service_sid": SID,
                        "account": ACCOUNT,
                    },
                    ("token", "kind", "name"),
                ),
                errors=(*TOKEN_ERRORS, "403"),
                tag="clients",
            )
        },
        "/_fake/sync/write": {
            "post": op(
                "Write a Sync object as the token's identity (ACL: 54007).",
                ANY_OBJECT,
                body=obj(
                    {
                        "token": TOKEN,
                        "kind": kind,
                        "name": STRING,
                        "data": ANY_OBJECT,
                        "key": key,
                        "service_sid": SID,
                        "account": ACCOUNT,
                    },
                    ("token", "kind", "name", "data"),
                ),
                errors=(*TOKEN_ERRORS, "403"),
                tag="clients",
            )
        },
        "/_fake/conversations/join": {
            "post": op(
                "A Conversations client opens a conversation (50432 when not a participant).",
                ANY_OBJECT,
                body=obj(
                    {"token": TOKEN, "conversation": STRING, "account": ACCOUNT},
                    ("token", "conversation"),
                ),
                errors=TOKEN_ERRORS,
                tag="clients",
            )
        },
        "/_fake/clock": {"get": op("The fake clock.", clock_ok, tag="clock")},
        "/_fake/clock/freeze": {
            "post": op(
                "Freeze the clock (at an ISO-8601 time or Unix timestamp; default now).",
                clock_ok,
                body=obj(
                    {
                        "at": {
                            "type": ["string", "number"],
                            "minLength": 1,
                            "minimum": MIN_TIMESTAMP,
                            "maximum": MAX_TIMESTAMP,
                            "description": "An ISO-8601 date-time, or a Unix timestamp from "
                            "0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.",
                        }
                    }
                ),
                tag="clock",
            )
        },
        "/_fake/clock/unfreeze": {
            "post": op("Let the clock run again.", clock_ok, body=obj({}), tag="clock")
        },
        "/_fake/clock/advance": {
            "post": op(
                "Move the clock forward; due deadlines run and fire their webhooks.",
                clock_ok,
                body=obj(
                    {
                        "seconds": {
                            "type": "number",
                            "minimum": 0,
                            "maximum": MAX_ADVANCE_SECONDS,
                            "description": "At most 100 years in one call.",
                        }
                    },
                    ("seconds",),
                ),
                tag="clock",
            )
        },
        "/_fake/faults": {
            "get": op(
                "Active fault rules.",
                obj({"faults": {"type": "array", "items": ref("Fault")}}, ("faults",)),
                tag="faults",
            ),
            "post": op(
                "Add a fault rule.",
                ref("Fault"),
                body=ref("FaultInput"),
                status="201",
                tag="faults",
            ),
            "delete": op("Remove every fault rule.", None, status="204", tag="faults"),
        },
        "/_fake/faults/{fault_id}": {
            "parameters": [{"name": "fault_id", "in": "path", "required": True, "schema": STRING}],
            "get": op("One fault rule.", ref("Fault"), errors=("404",), tag="faults"),
            "delete": op(
                "Remove one fault rule.", None, status="204", errors=("404",), tag="faults"
            ),
        },
        "/_fake/requests": {
            "get": op(
                "The request journal, oldest first.",
                obj(
                    {
                        "requests": {"type": "array", "items": ref("JournalEntry")},
                        "mark": {"type": "integer"},
                    },
                    ("requests", "mark"),
                ),
                query={
                    "since": {"type": "integer", "minimum": 0},
                    "account": STRING,
                    "product": STRING,
                    "method": STRING,
                    "path_contains": STRING,
                    "writes_only": {"type": "boolean"},
                    "status": {"type": "integer"},
                },
                tag="journal",
            ),
            "delete": op("Clear the journal.", None, status="204", tag="journal"),
        },
        "/_fake/requests/mark": {
            "get": op(
                "The latest journal sequence number (use as since).",
                obj({"mark": {"type": "integer"}}, ("mark",)),
                tag="journal",
            )
        },
        "/_fake/webhooks": {
            "get": op(
                "Webhook deliveries, in delivery order.",
                obj({"webhooks": {"type": "array", "items": ref("Delivery")}}, ("webhooks",)),
                query={
                    "since": {"type": "integer", "minimum": 0},
                    "account": STRING,
                    "source": STRING,
                },
                tag="webhooks",
            ),
            "delete": op("Clear the delivery records.", None, status="204", tag="webhooks"),
        },
        "/_fake/webhooks/mode": {
            "get": op(
                "The delivery mode.",
                obj({"mode": {"enum": list(WEBHOOK_MODES)}}, ("mode",)),
                tag="webhooks",
            ),
            "put": op(
                "Set the delivery mode (sync: before the call returns; async: in order, later).",
                obj({"mode": {"enum": list(WEBHOOK_MODES)}}, ("mode",)),
                body=obj({"mode": {"enum": list(WEBHOOK_MODES)}}, ("mode",)),
                tag="webhooks",
            ),
        },
        "/_fake/webhooks/flush": {
            "post": op(
                "Wait until queued async deliveries are done.",
                obj({"flushed": {"type": "boolean"}}, ("flushed",)),
                body=obj({"timeout": {"type": "number", "minimum": 0}}),
                tag="webhooks",
            )
        },
        "/_fake/webhooks/rewrites": {
            "get": op(
                "Webhook destination rewrites, most specific first.",
                _rewrites(),
                tag="webhooks",
            ),
            "put": op(
                "Replace the rewrites: webhooks for URLs under public go to local, still signed "
                "for the public URL. Also a list of PUBLIC=LOCAL strings or an object "
                "{public: local}.",
                _rewrites(),
                body=obj({"rewrites": {"type": ["array", "object"]}}, ("rewrites",)),
                tag="webhooks",
            ),
            "delete": op("Remove every rewrite.", None, status="204", tag="webhooks"),
        },
        "/_fake/reset": {
            "post": op(
                "Forget resources (all; one product; one account). A full reset also clears "
                "faults, journal, webhook records and the clock.",
                obj(
                    {
                        "reset": {"const": True},
                        "product": nullable(STRING),
                        "account_sid": nullable(STRING),
                    },
                    ("reset",),
                ),
                body=obj({"product": STRING, "account": ACCOUNT}),
                tag="state",
            )
        },
        "/_fake/state": {
            "get": op(
                "Every resource as JSON: {account_sid: {product: {...}}}.",
                ANY_OBJECT,
                query={"product": STRING, "account": STRING},
                tag="state",
            )
        },
        "/_fake/accounts": {
            "get": op(
                "Account SIDs.",
                obj({"accounts": {"type": "array", "items": ACCOUNT}}, ("accounts",)),
                tag="state",
            ),
            "post": op(
                "Create an account with an API key; returns its credentials.",
                ref("Credentials"),
                body=obj({"friendly_name": TEXT}),
                status="201",
                tag="state",
            ),
        },
    }


def _rewrites() -> dict[str, Any]:
    """``{"rewrites": [{"public": URL, "local": URL}, ...]}`` (webhook destination rewrites)."""
    rule = obj({"public": STRING, "local": STRING}, ("public", "local"))
    return obj({"rewrites": {"type": "array", "items": rule}}, ("rewrites",))
