"""Offline checks of the JSON Schemas for the Twilio REST resources the fake serves.

The schemas live in ``schemas/twilio/*.json``. This module builds its own small
``referencing.Registry`` from those files, keyed by ``$id``, so it does not depend on the
loader in ``schemas/__init__.py``. Positive samples are written to look like real Twilio
responses. Negative samples cover the mistakes a fake is likely to make.
"""

from __future__ import annotations

import copy
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas" / "twilio"
ID_BASE = "https://live-conformance.example/schemas/twilio/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

RESOURCES = [
    "room",
    "room-participant",
    "player-streamer",
    "playback-grant",
    "media-processor",
    "sync-service",
    "sync-document",
    "sync-map",
    "sync-map-item",
    "sync-list",
    "sync-list-item",
    "sync-stream",
    "sync-stream-message",
    "sync-document-permission",
    "sync-map-permission",
    "sync-list-permission",
    "conversation-service",
    "conversation",
    "conversation-participant",
]
# page schema -> (item schema, list key)
PAGES = {
    "room-page": ("room", "rooms"),
    "room-participant-page": ("room-participant", "participants"),
    "player-streamer-page": ("player-streamer", "player_streamers"),
    "media-processor-page": ("media-processor", "media_processors"),
    "sync-service-page": ("sync-service", "services"),
    "sync-document-page": ("sync-document", "documents"),
    "sync-map-page": ("sync-map", "maps"),
    "sync-map-item-page": ("sync-map-item", "items"),
    "sync-list-page": ("sync-list", "lists"),
    "sync-list-item-page": ("sync-list-item", "items"),
    "sync-stream-page": ("sync-stream", "streams"),
    "sync-document-permission-page": ("sync-document-permission", "permissions"),
    "sync-map-permission-page": ("sync-map-permission", "permissions"),
    "sync-list-permission-page": ("sync-list-permission", "permissions"),
    "conversation-service-page": ("conversation-service", "services"),
    "conversation-page": ("conversation", "conversations"),
    "conversation-participant-page": ("conversation-participant", "participants"),
}
OTHERS = ["error", "list-meta", "playback-grant-object"]
ALL_NAMES = sorted([*RESOURCES, *PAGES, *OTHERS])


# --------------------------------------------------------------------------- loading


@cache
def _load_all() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMA_DIR.glob("*.json")}


@cache
def _registry() -> Registry:
    resources = [
        (c["$id"], Resource.from_contents(c, default_specification=DRAFT202012))
        for c in _load_all().values()
    ]
    return Registry().with_resources(resources).crawl()


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(_load_all()[name], registry=_registry())


def errors(name: str, instance: Any) -> list[str]:
    return [e.message for e in validator(name).iter_errors(instance)]


def assert_valid(name: str, instance: Any) -> None:
    errs = errors(name, instance)
    assert not errs, f"{name}: {errs}"


def assert_invalid(name: str, instance: Any) -> None:
    assert errors(name, instance), f"{name} unexpectedly accepted {instance!r}"


# --------------------------------------------------------------------------- samples


def sid(prefix: str, seed: str) -> str:
    return prefix + hashlib.md5(seed.encode()).hexdigest()


AC = sid("AC", "account")
RM = sid("RM", "room")
PA = sid("PA", "participant")
VJ = sid("VJ", "player-streamer")
ZX = sid("ZX", "media-processor")
IS_SYNC = sid("IS", "sync-service")
IS_CONV = sid("IS", "conversation-service")
ET = sid("ET", "document")
MP = sid("MP", "map")
ES = sid("ES", "list")
TO = sid("TO", "stream")
TZ = sid("TZ", "stream-message")
CH = sid("CH", "conversation")
MB = sid("MB", "conversation-participant")
MG = sid("MG", "messaging-service")
RL = sid("RL", "role")

T0 = "2024-05-01T12:00:00Z"
T1 = "2024-05-01T12:05:30Z"
T2 = "2024-05-01T13:00:00Z"

VIDEO = "https://video.twilio.com/v1"
MEDIA = "https://media.twilio.com/v1"
SYNC = f"https://sync.twilio.com/v1/Services/{IS_SYNC}"
CONV = "https://conversations.twilio.com/v1"

ROOM = {
    "sid": RM,
    "status": "in-progress",
    "date_created": T0,
    "date_updated": T0,
    "account_sid": AC,
    "enable_turn": True,
    "unique_name": "stream-42",
    "status_callback": "https://live-app.example.com/rooms-webhook",
    "status_callback_method": "POST",
    "end_time": None,
    "duration": None,
    "type": "group",
    "max_participants": 50,
    "max_participant_duration": 14400,
    "max_concurrent_published_tracks": 170,
    "record_participants_on_connect": False,
    "video_codecs": ["VP8", "H264"],
    "media_region": "us1",
    "audio_only": False,
    "empty_room_timeout": 5,
    "unused_room_timeout": 5,
    "large_room": False,
    "url": f"{VIDEO}/Rooms/{RM}",
    "links": {
        "participants": f"{VIDEO}/Rooms/{RM}/Participants",
        "recordings": f"{VIDEO}/Rooms/{RM}/Recordings",
        "transcriptions": f"{VIDEO}/Rooms/{RM}/Transcriptions",
        "recording_rules": f"{VIDEO}/Rooms/{RM}/RecordingRules",
    },
}
ROOM_COMPLETED = {
    **ROOM,
    "status": "completed",
    "date_updated": T2,
    "end_time": T2,
    "duration": 3600,
    "status_callback": None,
    "unique_name": RM,
}
ROOM_PARTICIPANT = {
    "sid": PA,
    "room_sid": RM,
    "account_sid": AC,
    "status": "connected",
    "identity": "alice",
    "date_created": T0,
    "date_updated": T0,
    "start_time": T0,
    "end_time": None,
    "duration": None,
    "url": f"{VIDEO}/Rooms/{RM}/Participants/{PA}",
    "links": {
        "published_tracks": f"{VIDEO}/Rooms/{RM}/Participants/{PA}/PublishedTracks",
        "subscribed_tracks": f"{VIDEO}/Rooms/{RM}/Participants/{PA}/SubscribedTracks",
        "subscribe_rules": f"{VIDEO}/Rooms/{RM}/Participants/{PA}/SubscribeRules",
        "anonymize": f"{VIDEO}/Rooms/{RM}/Participants/{PA}/Anonymize",
    },
}
ROOM_PARTICIPANT_DISCONNECTED = {
    **ROOM_PARTICIPANT,
    "status": "disconnected",
    "date_updated": T1,
    "end_time": T1,
    "duration": 330,
}
PLAYER_STREAMER = {
    "account_sid": AC,
    "date_created": T0,
    "date_updated": T0,
    "video": True,
    "links": {
        "timed_metadata": f"{MEDIA}/PlayerStreamers/{VJ}/TimedMetadata",
        "playback_grant": f"{MEDIA}/PlayerStreamers/{VJ}/PlaybackGrant",
    },
    "sid": VJ,
    "status": "created",
    "url": f"{MEDIA}/PlayerStreamers/{VJ}",
    "status_callback": None,
    "status_callback_method": "POST",
    "ended_reason": None,
    "max_duration": 1800,
}
PLAYER_STREAMER_ENDED = {
    **PLAYER_STREAMER,
    "status": "ended",
    "date_updated": T2,
    "ended_reason": "ended-via-api",
}
PLAYBACK_GRANT_OBJECT = {
    "playbackUrl": (
        "https://0123abcd.us-east-1.playback.live-video.net/api/video/v1/"
        "us-east-1.123456789012.channel.abcdEFGH.m3u8?token=eyJhbGciOi"
    ),
    "playerStreamerSid": VJ,
    "requestCredentials": None,
}
PLAYBACK_GRANT = {
    "sid": VJ,
    "url": f"{MEDIA}/PlayerStreamers/{VJ}/PlaybackGrant",
    "account_sid": AC,
    "date_created": T1,
    "grant": PLAYBACK_GRANT_OBJECT,
}
MEDIA_PROCESSOR = {
    "account_sid": AC,
    "sid": ZX,
    "date_created": T0,
    "date_updated": T0,
    "extension": "video-composer-v2",
    "extension_context": json.dumps(
        {"room": {"name": RM}, "outputs": [VJ], "resolution": "1920x1080"}
    ),
    "status": "started",
    "url": f"{MEDIA}/MediaProcessors/{ZX}",
    "ended_reason": None,
    "status_callback": None,
    "status_callback_method": "POST",
    "max_duration": 1800,
}
MEDIA_PROCESSOR_ENDED = {
    **MEDIA_PROCESSOR,
    "status": "ended",
    "date_updated": T2,
    "ended_reason": "ended-via-api",
}
SYNC_SERVICE = {
    "sid": IS_SYNC,
    "unique_name": None,
    "account_sid": AC,
    "friendly_name": "stream-42 sync",
    "date_created": T0,
    "date_updated": T0,
    "url": SYNC,
    "webhook_url": "https://live-app.example.com/sync-webhook",
    "webhooks_from_rest_enabled": False,
    "reachability_webhooks_enabled": True,
    "acl_enabled": True,
    "reachability_debouncing_enabled": True,
    "reachability_debouncing_window": 5000,
    "links": {
        "documents": f"{SYNC}/Documents",
        "lists": f"{SYNC}/Lists",
        "maps": f"{SYNC}/Maps",
        "streams": f"{SYNC}/Streams",
    },
}
SYNC_DOCUMENT = {
    "sid": ET,
    "unique_name": "user-alice",
    "account_sid": AC,
    "service_sid": IS_SYNC,
    "url": f"{SYNC}/Documents/{ET}",
    "links": {"permissions": f"{SYNC}/Documents/{ET}/Permissions"},
    "revision": "1a",
    "data": {"speaker_invite": False},
    "date_expires": None,
    "date_created": T0,
    "date_updated": T1,
    "created_by": "system",
}
SYNC_MAP = {
    "sid": MP,
    "unique_name": "raised_hands",
    "account_sid": AC,
    "service_sid": IS_SYNC,
    "url": f"{SYNC}/Maps/{MP}",
    "links": {"items": f"{SYNC}/Maps/{MP}/Items", "permissions": f"{SYNC}/Maps/{MP}/Permissions"},
    "revision": "0",
    "date_expires": T2,
    "date_created": T0,
    "date_updated": T0,
    "created_by": "system",
}
SYNC_MAP_ITEM = {
    "key": RM,
    "account_sid": AC,
    "service_sid": IS_SYNC,
    "map_sid": MP,
    "url": f"{SYNC}/Maps/{MP}/Items/{RM}",
    "revision": "0",
    "data": {"sync_service_sid": IS_SYNC, "player_streamer_sid": VJ, "media_processor_sid": ZX},
    "date_expires": None,
    "date_created": T0,
    "date_updated": T0,
    "created_by": "system",
}
SYNC_LIST = {
    "sid": ES,
    "unique_name": None,
    "account_sid": AC,
    "service_sid": IS_SYNC,
    "url": f"{SYNC}/Lists/{ES}",
    "links": {"items": f"{SYNC}/Lists/{ES}/Items", "permissions": f"{SYNC}/Lists/{ES}/Permissions"},
    "revision": "3",
    "date_expires": None,
    "date_created": T0,
    "date_updated": T1,
    "created_by": "alice",
}
SYNC_LIST_ITEM = {
    "index": 0,
    "account_sid": AC,
    "service_sid": IS_SYNC,
    "list_sid": ES,
    "url": f"{SYNC}/Lists/{ES}/Items/0",
    "revision": "0",
    "data": {"text": "hello"},
    "date_expires": None,
    "date_created": T0,
    "date_updated": T0,
    "created_by": "system",
}
SYNC_STREAM = {
    "sid": TO,
    "unique_name": "reactions",
    "account_sid": AC,
    "service_sid": IS_SYNC,
    "url": f"{SYNC}/Streams/{TO}",
    "links": {"messages": f"{SYNC}/Streams/{TO}/Messages"},
    "date_expires": None,
    "date_created": T0,
    "date_updated": T0,
    "created_by": "system",
}
SYNC_STREAM_MESSAGE = {"sid": TZ, "data": {"emoji": "clap"}}


def _permission(kind: str, parent_field: str, parent_sid: str) -> dict[str, Any]:
    return {
        "account_sid": AC,
        "service_sid": IS_SYNC,
        parent_field: parent_sid,
        "identity": "alice",
        "read": True,
        "write": False,
        "manage": False,
        "url": f"{SYNC}/{kind}/{parent_sid}/Permissions/alice",
    }


SYNC_DOCUMENT_PERMISSION = _permission("Documents", "document_sid", ET)
SYNC_MAP_PERMISSION = _permission("Maps", "map_sid", MP)
SYNC_LIST_PERMISSION = _permission("Lists", "list_sid", ES)

CONV_SVC = f"{CONV}/Services/{IS_CONV}"
CONVERSATION_SERVICE = {
    "account_sid": AC,
    "sid": IS_CONV,
    "friendly_name": "live-video",
    "date_created": T0,
    "date_updated": T0,
    "url": CONV_SVC,
    "links": {
        "conversations": f"{CONV_SVC}/Conversations",
        "users": f"{CONV_SVC}/Users",
        "roles": f"{CONV_SVC}/Roles",
        "bindings": f"{CONV_SVC}/Bindings",
        "configuration": f"{CONV_SVC}/Configuration",
        "participant_conversations": f"{CONV_SVC}/ParticipantConversations",
        "conversation_with_participants": f"{CONV_SVC}/ConversationWithParticipants",
    },
}
CONVERSATION = {
    "account_sid": AC,
    "chat_service_sid": IS_CONV,
    "messaging_service_sid": MG,
    "sid": CH,
    "friendly_name": None,
    "unique_name": RM,
    "attributes": "{}",
    "state": "active",
    "date_created": T0,
    "date_updated": T0,
    "timers": {"date_closed": "2024-05-02T12:00:00Z"},
    "url": f"{CONV_SVC}/Conversations/{CH}",
    "links": {
        "participants": f"{CONV_SVC}/Conversations/{CH}/Participants",
        "messages": f"{CONV_SVC}/Conversations/{CH}/Messages",
        "webhooks": f"{CONV_SVC}/Conversations/{CH}/Webhooks",
        "export": f"{CONV_SVC}/Conversations/{CH}/Export",
    },
    "bindings": None,
}
CONVERSATION_NO_TIMERS = {
    **CONVERSATION,
    "timers": {},
    "url": f"{CONV}/Conversations/{CH}",
    "links": {k: f"{CONV}/Conversations/{CH}/{k.title()}" for k in CONVERSATION["links"]},
    "bindings": {},
}
CONVERSATION_PARTICIPANT = {
    "account_sid": AC,
    "conversation_sid": CH,
    "sid": MB,
    "identity": "alice",
    "attributes": "{}",
    "messaging_binding": None,
    "role_sid": RL,
    "date_created": T0,
    "date_updated": T0,
    "url": f"{CONV}/Conversations/{CH}/Participants/{MB}",
    "last_read_message_index": None,
    "last_read_timestamp": None,
}
CONVERSATION_PARTICIPANT_SCOPED = {
    **CONVERSATION_PARTICIPANT,
    "chat_service_sid": IS_CONV,
    "url": f"{CONV_SVC}/Conversations/{CH}/Participants/{MB}",
}
CONVERSATION_PARTICIPANT_SMS = {
    **CONVERSATION_PARTICIPANT,
    "identity": None,
    "messaging_binding": {
        "type": "sms",
        "address": "+15558675310",
        "proxy_address": "+15017122661",
    },
    "role_sid": None,
    "last_read_message_index": 3,
    "last_read_timestamp": "2024-05-01T12:04:00Z",
}

SAMPLES: dict[str, list[dict[str, Any]]] = {
    "room": [ROOM, ROOM_COMPLETED],
    "room-participant": [ROOM_PARTICIPANT, ROOM_PARTICIPANT_DISCONNECTED],
    "player-streamer": [PLAYER_STREAMER, PLAYER_STREAMER_ENDED],
    "playback-grant": [PLAYBACK_GRANT],
    "media-processor": [MEDIA_PROCESSOR, MEDIA_PROCESSOR_ENDED],
    "sync-service": [SYNC_SERVICE],
    "sync-document": [SYNC_DOCUMENT],
    "sync-map": [SYNC_MAP],
    "sync-map-item": [SYNC_MAP_ITEM],
    "sync-list": [SYNC_LIST],
    "sync-list-item": [SYNC_LIST_ITEM],
    "sync-stream": [SYNC_STREAM],
    "sync-stream-message": [SYNC_STREAM_MESSAGE],
    "sync-document-permission": [SYNC_DOCUMENT_PERMISSION],
    "sync-map-permission": [SYNC_MAP_PERMISSION],
    "sync-list-permission": [SYNC_LIST_PERMISSION],
    "conversation-service": [CONVERSATION_SERVICE],
    "conversation": [CONVERSATION, CONVERSATION_NO_TIMERS],
    "conversation-participant": [
        CONVERSATION_PARTICIPANT,
        CONVERSATION_PARTICIPANT_SCOPED,
        CONVERSATION_PARTICIPANT_SMS,
    ],
    "playback-grant-object": [PLAYBACK_GRANT_OBJECT],
    "error": [
        {
            "code": 20404,
            "message": f"The requested resource /Rooms/{RM} was not found",
            "more_info": "https://www.twilio.com/docs/errors/20404",
            "status": 404,
        },
        {
            "code": 20001,
            "message": "Missing required parameter Status in the post body",
            "more_info": "https://www.twilio.com/docs/errors/20001",
            "status": 400,
        },
    ],
}

PAGE_PATHS = {
    "room-page": f"{VIDEO}/Rooms",
    "room-participant-page": f"{VIDEO}/Rooms/{RM}/Participants",
    "player-streamer-page": f"{MEDIA}/PlayerStreamers",
    "media-processor-page": f"{MEDIA}/MediaProcessors",
    "sync-service-page": "https://sync.twilio.com/v1/Services",
    "sync-document-page": f"{SYNC}/Documents",
    "sync-map-page": f"{SYNC}/Maps",
    "sync-map-item-page": f"{SYNC}/Maps/{MP}/Items",
    "sync-list-page": f"{SYNC}/Lists",
    "sync-list-item-page": f"{SYNC}/Lists/{ES}/Items",
    "sync-stream-page": f"{SYNC}/Streams",
    "sync-document-permission-page": f"{SYNC}/Documents/{ET}/Permissions",
    "sync-map-permission-page": f"{SYNC}/Maps/{MP}/Permissions",
    "sync-list-permission-page": f"{SYNC}/Lists/{ES}/Permissions",
    "conversation-service-page": f"{CONV}/Services",
    "conversation-page": f"{CONV}/Conversations",
    "conversation-participant-page": f"{CONV}/Conversations/{CH}/Participants",
}


def meta(base: str, key: str, *, page: int = 0, size: int = 50, more: bool = False) -> dict:
    return {
        "page": page,
        "page_size": size,
        "first_page_url": f"{base}?PageSize={size}&Page=0",
        "previous_page_url": f"{base}?PageSize={size}&Page={page - 1}" if page else None,
        "url": f"{base}?PageSize={size}&Page={page}",
        "next_page_url": (
            f"{base}?PageSize={size}&Page={page + 1}&PageToken=PA{key}" if more else None
        ),
        "key": key,
    }


def make_page(page_name: str, items: list[dict], **kw: Any) -> dict[str, Any]:
    _, key = PAGES[page_name]
    return {key: items, "meta": meta(PAGE_PATHS[page_name], key, **kw)}


def without(d: dict[str, Any], key: str) -> dict[str, Any]:
    out = dict(d)
    del out[key]
    return out


# --------------------------------------------------------------------------- structure


def test_expected_schema_files_exist():
    assert sorted(_load_all()) == ALL_NAMES


@pytest.mark.parametrize("name", ALL_NAMES)
def test_schema_is_valid_2020_12_with_id(name):
    schema = _load_all()[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DRAFT
    assert schema["$id"] == f"{ID_BASE}{name}.json"
    assert isinstance(schema.get("title"), str) and schema["title"]
    assert schema["type"] == "object"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


@pytest.mark.parametrize("name", ALL_NAMES)
def test_cross_refs_resolve(name):
    schema = _load_all()[name]
    resolver = _registry().resolver(base_uri=schema["$id"])
    for ref in _refs(schema):
        resolved = resolver.lookup(ref).contents
        assert resolved.get("$schema") == DRAFT, ref


def test_page_and_grant_schemas_do_reference_their_parts():
    for page_name, (item, _key) in PAGES.items():
        assert set(_refs(_load_all()[page_name])) == {f"{item}.json", "list-meta.json"}
    assert _refs(_load_all()["playback-grant"]) == ["playback-grant-object.json"]


@pytest.mark.parametrize("name", RESOURCES)
def test_resource_schemas_are_open_but_require_their_fields(name):
    schema = _load_all()[name]
    assert schema["additionalProperties"] is True
    required = set(schema["required"])
    assert required <= set(schema["properties"])
    optional = set(schema["properties"]) - required
    expected_optional = {"chat_service_sid"} if name == "conversation-participant" else set()
    assert optional == expected_optional


@pytest.mark.parametrize("page_name", sorted(PAGES))
def test_page_schema_shape(page_name):
    schema = _load_all()[page_name]
    _, key = PAGES[page_name]
    assert sorted(schema["required"]) == sorted([key, "meta"])
    assert schema["properties"]["meta"]["properties"]["key"] == {"const": key}


# --------------------------------------------------------------------------- positive


@pytest.mark.parametrize(
    ("name", "sample"),
    [(n, s) for n, samples in SAMPLES.items() for s in samples],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_positive_samples_validate(name, sample):
    assert_valid(name, sample)


@pytest.mark.parametrize("page_name", sorted(PAGES))
def test_positive_pages_validate(page_name):
    item, _ = PAGES[page_name]
    assert_valid(page_name, make_page(page_name, []))
    assert_valid(page_name, make_page(page_name, SAMPLES[item], page=1, size=2, more=True))


def test_list_meta_sample():
    assert_valid("list-meta", meta(f"{VIDEO}/Rooms", "rooms"))


@pytest.mark.parametrize("name", RESOURCES)
def test_resources_tolerate_new_twilio_fields(name):
    assert_valid(name, {**SAMPLES[name][0], "some_future_field": {"x": 1}})


def test_extra_links_are_allowed_if_they_are_urls():
    links = {
        **PLAYER_STREAMER["links"],
        "access_token": f"{MEDIA}/PlayerStreamers/{VJ}/AccessToken",
    }
    assert_valid("player-streamer", {**PLAYER_STREAMER, "links": links})
    assert_invalid("player-streamer", {**PLAYER_STREAMER, "links": {**links, "x": "nope"}})


def test_error_details_object_is_tolerated():
    assert_valid("error", {**SAMPLES["error"][0], "details": {"field": "Status"}})


# --------------------------------------------------------------------------- negative


@pytest.mark.parametrize(
    ("name", "key"),
    [
        (n, k)
        for n in [*RESOURCES, "playback-grant-object", "error", "list-meta"]
        for k in _load_all()[n]["required"]
    ],
)
def test_missing_required_key_is_rejected(name, key):
    sample = SAMPLES[name][0] if name != "list-meta" else meta(f"{VIDEO}/Rooms", "rooms")
    assert key in sample
    assert_invalid(name, without(sample, key))


@pytest.mark.parametrize(
    ("name", "field", "bad"),
    [
        ("room", "sid", sid("PA", "room")),  # wrong prefix
        ("room", "sid", "RM" + "ABCDEF0123456789" * 2),  # upper-case hex
        ("room", "sid", RM[:-1]),  # too short
        ("room", "account_sid", sid("SK", "key")),
        ("room-participant", "sid", sid("MB", "x")),
        ("room-participant", "room_sid", sid("CH", "x")),
        ("player-streamer", "sid", sid("ZX", "x")),
        ("playback-grant", "sid", sid("VJ", "x")[:-2]),
        ("media-processor", "sid", sid("MP", "x")),  # MP is a Sync Map, not a MediaProcessor
        ("sync-service", "sid", sid("KS", "x")),
        ("sync-document", "sid", sid("EX", "x")),
        ("sync-map", "sid", sid("ZX", "x")),
        ("sync-map-item", "map_sid", sid("ES", "x")),
        ("sync-list", "sid", sid("MP", "x")),
        ("sync-list-item", "list_sid", sid("MP", "x")),
        ("sync-stream", "sid", sid("TZ", "x")),
        ("sync-stream-message", "sid", sid("TO", "x")),
        ("sync-document-permission", "document_sid", sid("MP", "x")),
        ("sync-map-permission", "map_sid", sid("ET", "x")),
        ("sync-list-permission", "list_sid", sid("ET", "x")),
        ("sync-document", "service_sid", sid("AC", "x")),
        ("conversation-service", "sid", sid("CH", "x")),
        ("conversation", "sid", sid("CA", "x")),
        ("conversation", "messaging_service_sid", sid("MS", "x")),
        ("conversation-participant", "sid", sid("PA", "x")),
        ("conversation-participant", "role_sid", sid("RO", "x")),
        ("conversation-participant", "chat_service_sid", sid("CH", "x")),
    ],
)
def test_bad_sid_is_rejected(name, field, bad):
    assert_invalid(name, {**SAMPLES[name][0], field: bad})


def test_playback_grant_object_sid_checked():
    grant = {**PLAYBACK_GRANT_OBJECT, "playerStreamerSid": sid("ZX", "x")}
    assert_invalid("playback-grant-object", grant)
    assert_invalid("playback-grant", {**PLAYBACK_GRANT, "grant": grant})


@pytest.mark.parametrize(
    "bad",
    [
        "2024-05-01T12:00:00.123Z",
        "2024-05-01T12:00:00+00:00",
        "2024-05-01 12:00:00Z",
        "2024-05-01",
        "Wed, 01 May 2024 12:00:00 +0000",
        1714564800,
    ],
)
@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("room", "date_created"),
        ("room", "end_time"),
        ("room-participant", "start_time"),
        ("player-streamer", "date_updated"),
        ("playback-grant", "date_created"),
        ("media-processor", "date_created"),
        ("sync-document", "date_expires"),
        ("sync-map-item", "date_updated"),
        ("conversation", "date_created"),
        ("conversation-participant", "date_updated"),
    ],
)
def test_bad_datetime_is_rejected(name, field, bad):
    assert_invalid(name, {**SAMPLES[name][0], field: bad})


def test_bad_datetime_inside_conversation_timers_is_rejected():
    assert_invalid("conversation", {**CONVERSATION, "timers": {"date_closed": "P1D"}})


@pytest.mark.parametrize(
    ("name", "field", "bad"),
    [
        ("room", "status", "ended"),
        ("room", "status", "IN-PROGRESS"),
        ("room", "type", "small-group"),
        ("room", "status_callback_method", "PUT"),
        ("room", "video_codecs", ["VP9"]),
        ("room-participant", "status", "joined"),
        ("player-streamer", "status", "stopped"),
        ("player-streamer", "status", "ENDED"),
        ("player-streamer", "ended_reason", "ended"),
        ("media-processor", "status", "created"),
        ("media-processor", "ended_reason", "stream-disconnected-by-source"),
        ("conversation", "state", "open"),
    ],
)
def test_bad_enum_is_rejected(name, field, bad):
    assert_invalid(name, {**SAMPLES[name][0], field: bad})


@pytest.mark.parametrize(
    ("name", "field", "bad"),
    [
        ("room", "max_participants", "50"),
        ("room", "audio_only", "false"),
        ("room", "duration", 1.5),
        ("room", "unique_name", None),
        ("sync-document", "data", '{"a": 1}'),  # data is an object, not a JSON string
        ("sync-document", "data", None),
        ("sync-map-item", "data", [1, 2]),
        ("sync-list-item", "index", "0"),
        ("sync-list-item", "index", -1),
        ("sync-map", "revision", 0),  # revision is an opaque string
        ("sync-stream-message", "data", "hello"),
        ("sync-document-permission", "read", "true"),
        ("media-processor", "extension_context", {"room": {"name": RM}}),  # must stay a string
        ("conversation", "attributes", {}),  # attributes is a JSON string
        ("conversation", "timers", None),
        ("conversation", "timers", "P1D"),
        ("conversation-participant", "attributes", {"role": "speaker"}),
        ("conversation-participant", "messaging_binding", "sms"),
        ("player-streamer", "video", "true"),
    ],
)
def test_wrong_type_is_rejected(name, field, bad):
    assert_invalid(name, {**SAMPLES[name][0], field: bad})


@pytest.mark.parametrize(
    ("name", "field", "bad"),
    [
        ("room", "url", f"http://video.twilio.com/v1/Rooms/{RM}"),
        ("room", "url", f"https://api.twilio.com/2010-04-01/Rooms/{RM}"),
        ("room", "url", f"/v1/Rooms/{RM}"),
        ("room", "url", f"http://127.0.0.1:5000/video/v1/Rooms/{RM}"),
        ("room", "url", f"https://sync.twilio.com/v1/Rooms/{RM}"),  # wrong product host
        ("media-processor", "url", f"https://video.twilio.com/v1/MediaProcessors/{ZX}"),
        ("sync-map-item", "url", f"https://conversations.twilio.com/v1/Maps/{MP}/Items/k"),
        ("conversation", "url", f"https://conversations.twilio.com/v2/Conversations/{CH}"),
    ],
)
def test_bad_url_is_rejected(name, field, bad):
    assert_invalid(name, {**SAMPLES[name][0], field: bad})


@pytest.mark.parametrize(
    ("name", "link"),
    [
        ("room", "participants"),
        ("room", "recording_rules"),
        ("room-participant", "anonymize"),
        ("player-streamer", "playback_grant"),
        ("sync-service", "maps"),
        ("sync-document", "permissions"),
        ("sync-map", "items"),
        ("sync-list", "permissions"),
        ("sync-stream", "messages"),
        ("conversation-service", "conversation_with_participants"),
        ("conversation", "participants"),
    ],
)
def test_missing_link_is_rejected(name, link):
    sample = copy.deepcopy(SAMPLES[name][0])
    del sample["links"][link]
    assert_invalid(name, sample)


def test_bad_link_url_is_rejected():
    links = {**ROOM["links"], "participants": f"/v1/Rooms/{RM}/Participants"}
    assert_invalid("room", {**ROOM, "links": links})


def test_playback_grant_object_rejects_bad_values():
    assert_invalid("playback-grant-object", {**PLAYBACK_GRANT_OBJECT, "playbackUrl": "http://x/y"})
    assert_invalid("playback-grant-object", {**PLAYBACK_GRANT_OBJECT, "requestCredentials": "x"})
    assert_invalid("playback-grant", {**PLAYBACK_GRANT, "grant": None})
    assert_invalid("playback-grant", {**PLAYBACK_GRANT, "grant": json.dumps(PLAYBACK_GRANT_OBJECT)})


ERROR = SAMPLES["error"][0]


@pytest.mark.parametrize(
    "bad",
    [
        # RFC 9457 shape: twilio-python >= 9.10 raises TwilioServiceException for it.
        {**ERROR, "type": "https://www.twilio.com/docs/errors/20404", "title": "Not Found"},
        {**ERROR, "type": "https://www.twilio.com/docs/errors/20404"},
        {**ERROR, "title": "Not Found"},
        {**ERROR, "code": "20404"},
        {**ERROR, "status": "404"},
        {**ERROR, "status": 200},
        {**ERROR, "more_info": "https://example.com/errors/20404"},
        {**ERROR, "message": None},
        {"message": "Not Found", "status": 404},
    ],
)
def test_bad_error_body_is_rejected(bad):
    assert_invalid("error", bad)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda m: m.update(page=-1),
        lambda m: m.update(page_size=0),
        lambda m: m.update(page="0"),
        lambda m: m.update(next_page_url="/v1/Rooms?Page=1"),
        lambda m: m.update(first_page_url=None),
        lambda m: m.update(url=None),
        lambda m: m.update(key=""),
        lambda m: m.update(extra=1),
    ],
)
def test_bad_list_meta_is_rejected(mutate):
    m = meta(f"{VIDEO}/Rooms", "rooms")
    mutate(m)
    assert_invalid("list-meta", m)
    assert_invalid("room-page", {"rooms": [], "meta": m})


def test_bad_pages_are_rejected():
    good = make_page("room-page", [ROOM])
    assert_valid("room-page", good)
    # meta.key must name the list key, which the SDK uses to find the records.
    assert_invalid("room-page", {**good, "meta": {**good["meta"], "key": "items"}})
    # records must be under the right key
    assert_invalid("room-page", {"items": [ROOM], "meta": good["meta"]})
    assert_invalid("room-page", {"rooms": [ROOM]})
    assert_invalid("room-page", {**good, "items": []})
    # items are validated against the item schema
    assert_invalid("room-page", {**good, "rooms": [without(ROOM, "sid")]})
    assert_invalid("room-page", {**good, "rooms": [ROOM_PARTICIPANT]})
    assert_invalid("room-page", {**good, "rooms": ROOM})
    scoped = make_page("conversation-participant-page", [CONVERSATION_PARTICIPANT_SCOPED])
    assert_valid("conversation-participant-page", scoped)
    bad_item = {**CONVERSATION_PARTICIPANT, "sid": sid("PA", "x")}
    assert_invalid("conversation-participant-page", {**scoped, "participants": [bad_item]})
