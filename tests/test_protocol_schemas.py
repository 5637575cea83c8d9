"""The protocol JSON Schemas, the ``schemas`` loader API and ``schemas.catalog``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import schemas
from schemas import catalog

PROTOCOL = schemas.names("protocol")
ENDPOINT_NAMES = [
    "verify-passcode",
    "create-stream",
    "join-stream-as-speaker",
    "join-stream-as-viewer",
    "viewer-connected-to-player",
    "raise-hand",
    "send-speaker-invite",
    "remove-speaker",
    "delete-stream",
]
EXPECTED = (
    {f"protocol/{e}.{kind}" for e in ENDPOINT_NAMES for kind in ("request", "response")}
    | {f"protocol/sync.{n}" for n in ("speakers-item", "raised-hands-item", "viewers-item")}
    | {f"protocol/{n}" for n in ("error", "common", "sync.user-document", "sync.state")}
    | {f"protocol/token.{n}" for n in ("header", "host", "speaker", "viewer")}
    | {"protocol/webhook.rooms", "protocol/webhook.sync"}
)
ROOM = "RMfef2576d54dbde017a3a8e4df699ef6d"
SYNC = "IS63ad9d34f3503826e5f649ae6b7ac92c"
PS = "VJ8812c36aa5ae336c2a77bf63211d899a"
CLAIMS = {
    "iss": "SK9af4d8381781baccb0f915e554f8798d",
    "sub": "ACe268443e43d93dab7ebef303bbe9642f",
    "nbf": 1767225600,
    "exp": 1767240000,
}
NAMES = {"speakers_map": "speakers", "viewers_map": "viewers", "raised_hands_map": "raised_hands"}


def _walk_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _walk_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _walk_refs(v)]
    return []


def test_every_expected_schema_ships() -> None:
    assert set(PROTOCOL) == EXPECTED


@pytest.mark.parametrize("name", schemas.names())
def test_schema_is_valid_under_its_metaschema(name: str) -> None:
    schema = schemas.load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"{schemas.BASE_URI}{name}.json"


@pytest.mark.parametrize("name", schemas.names())
def test_every_ref_resolves_offline(name: str) -> None:
    resolver = schemas.registry().resolver(base_uri=schemas.uri(name))
    for ref in _walk_refs(schemas.load(name)):
        resolver.lookup(ref)  # raises if unresolvable


@pytest.mark.parametrize("name", PROTOCOL)
def test_schema_examples_validate(name: str) -> None:
    schema = schemas.load(name)
    if name != "protocol/common":
        assert schema.get("examples"), f"{name} has no examples"
    for example in schema.get("examples", []):
        schemas.validate(name, example)


GOOD: list[tuple[str, Any]] = [
    ("protocol/create-stream.request", {"user_identity": "a" * 121, "stream_name": "s" * 128}),
    ("protocol/create-stream.request", {"user_identity": "José Ñandú", "stream_name": "Town hall"}),
    ("protocol/create-stream.request", {"user_identity": "x", "stream_name": "y", "extra": 1}),
    ("protocol/remove-speaker.request", {"user_identity": "bob", "room_name": ROOM}),
    (
        "protocol/raise-hand.request",
        {"user_identity": "b", "stream_name": "s", "hand_raised": False},
    ),
    ("protocol/verify-passcode.request", {}),
    (
        "protocol/token.viewer",
        {
            **CLAIMS,
            "grants": {
                "identity": "bob",
                "player": {"playbackUrl": "https://p.example/x", "playerStreamerSid": PS},
                "data_sync": {"service_sid": SYNC},
            },
        },
    ),
    (
        "protocol/webhook.rooms",
        {"AccountSid": CLAIMS["sub"], "RoomSid": ROOM, "StatusCallbackEvent": "room-ended"},
    ),
    ("protocol/sync.user-document", {"speaker_invite": True, "note": "kept"}),
    ("protocol/sync.user-document", {}),  # no speaker_invite means false
    # clients read message and explanation only: other members are allowed
    ("protocol/error", {"error": {"message": "m", "explanation": "e", "code": 1}}),
    ("protocol/error", {"error": {"message": "m", "explanation": "e"}, "status": 400}),
]

BAD: list[tuple[str, Any]] = [
    ("protocol/create-stream.request", {"user_identity": "a" * 122, "stream_name": "s"}),
    ("protocol/create-stream.request", {"user_identity": "", "stream_name": "s"}),
    ("protocol/create-stream.request", {"user_identity": "a\nb", "stream_name": "s"}),
    ("protocol/create-stream.request", {"user_identity": "a\u0085", "stream_name": "s"}),
    ("protocol/create-stream.request", {"user_identity": 5, "stream_name": "s"}),
    ("protocol/create-stream.request", {"user_identity": None, "stream_name": "s"}),
    ("protocol/create-stream.request", {"user_identity": "a", "stream_name": "s" * 129}),
    ("protocol/create-stream.request", {"user_identity": "a", "stream_name": ROOM}),
    ("protocol/create-stream.request", {"user_identity": "a", "stream_name": ROOM.upper()}),
    ("protocol/create-stream.request", {"user_identity": "a"}),
    ("protocol/create-stream.request", ["a", "b"]),
    (
        "protocol/raise-hand.request",
        {"user_identity": "b", "stream_name": "s", "hand_raised": "yes"},
    ),
    ("protocol/raise-hand.request", {"user_identity": "b", "stream_name": "s", "hand_raised": 1}),
    ("protocol/send-speaker-invite.request", {"user_identity": "b", "room_sid": "friday"}),
    ("protocol/remove-speaker.request", {"user_identity": "b", "room_name": ""}),
    ("protocol/error", {"error": {"message": "m"}}),
    ("protocol/error", {"error": {"message": "", "explanation": "e"}}),
    ("protocol/error", {"message": "m", "explanation": "e"}),
    ("protocol/verify-passcode.response", {"verified": False}),
    ("protocol/raise-hand.response", {"sent": "true"}),
    (
        "protocol/create-stream.response",
        {"token": "abc", "sync_object_names": NAMES, "room_sid": ROOM, "chat_enabled": True},
    ),
    (
        "protocol/create-stream.response",
        {
            "token": "a.b.c",
            "sync_object_names": {**NAMES, "user_document": "user-a"},
            "room_sid": ROOM,
            "chat_enabled": True,
        },
    ),
    (
        "protocol/create-stream.response",
        {"token": "a.b.c", "sync_object_names": NAMES, "room_sid": ROOM},
    ),
    (
        "protocol/join-stream-as-viewer.response",
        {"token": "a.b.c", "sync_object_names": NAMES, "room_sid": ROOM, "chat_enabled": False},
    ),
    (
        "protocol/join-stream-as-speaker.response",
        {
            "token": "a.b.c",
            "sync_object_names": {**NAMES, "speakers_map": "talkers", "user_document": "user-b"},
            "room_sid": ROOM,
            "chat_enabled": False,
        },
    ),
    ("protocol/sync.speakers-item", {"host": "true"}),
    ("protocol/sync.speakers-item", {}),
    (
        "protocol/sync.state",
        {
            "speakers": {},
            "raised_hands": {},
            "viewers": {},
            "documents": {"bob": {"speaker_invite": False}},
        },
    ),
    ("protocol/token.header", {"alg": "RS256", "typ": "JWT", "cty": "twilio-fpa;v=1"}),
    ("protocol/token.header", {"alg": "HS256", "typ": "JWT"}),
    (
        "protocol/token.viewer",
        {
            **CLAIMS,
            "grants": {
                "identity": "bob",
                "video": {"room": "friday"},
                "player": {"playbackUrl": "https://p.example/x", "playerStreamerSid": PS},
                "data_sync": {"service_sid": SYNC},
            },
        },
    ),
    (
        "protocol/token.host",
        {
            **CLAIMS,
            "grants": {
                "identity": "alice",
                "video": {"room": "friday"},
                "data_sync": {"service_sid": SYNC},
                "player": {"playbackUrl": "https://p.example/x", "playerStreamerSid": PS},
            },
        },
    ),
    (
        "protocol/token.host",
        {
            **CLAIMS,
            "grants": {
                "identity": "a" * 122,
                "video": {"room": "f"},
                "data_sync": {"service_sid": SYNC},
            },
        },
    ),
    ("protocol/token.speaker", {**CLAIMS, "grants": {"identity": "b", "video": {"room": "f"}}}),
    (
        "protocol/token.speaker",
        {
            **CLAIMS,
            "iss": CLAIMS["sub"],
            "grants": {"identity": "b", "video": {"room": "f"}, "data_sync": {"service_sid": SYNC}},
        },
    ),
    (
        "protocol/token.speaker",
        {
            "iss": CLAIMS["iss"],
            "sub": CLAIMS["sub"],
            "grants": {"identity": "b", "video": {"room": "f"}, "data_sync": {"service_sid": SYNC}},
        },
    ),
    (
        "protocol/webhook.rooms",
        {
            "AccountSid": CLAIMS["sub"],
            "RoomSid": ROOM,
            "StatusCallbackEvent": "participant-connected",
        },
    ),
    (
        "protocol/webhook.rooms",
        {
            "AccountSid": CLAIMS["sub"],
            "RoomSid": ROOM,
            "StatusCallbackEvent": "room-ended",
            "SequenceNumber": 3,
        },
    ),
    (
        "protocol/webhook.sync",
        {"AccountSid": CLAIMS["sub"], "ServiceSid": SYNC, "EventType": "endpoint_disconnected"},
    ),
]


@pytest.mark.parametrize(("name", "instance"), GOOD)
def test_known_good_documents_are_accepted(name: str, instance: Any) -> None:
    schemas.validate(name, instance)


@pytest.mark.parametrize(("name", "instance"), BAD)
def test_known_bad_documents_are_rejected(name: str, instance: Any) -> None:
    assert not schemas.is_valid(name, instance)
    with pytest.raises(schemas.SchemaValidationError) as info:
        schemas.validate(name, instance)
    assert info.value.schema_name == name
    assert info.value.errors
    assert name in str(info.value)


def test_load_returns_independent_copies_and_accepts_aliases() -> None:
    first = schemas.load("protocol/error")
    first["mutated"] = True
    assert "mutated" not in schemas.load("protocol/error.json")
    full = schemas.uri("protocol/error")
    assert schemas.load(full) == schemas.load("protocol/error")


def test_unknown_schema_name_raises() -> None:
    with pytest.raises(schemas.SchemaNotFoundError):
        schemas.load("protocol/no-such-thing")
    with pytest.raises(KeyError):
        schemas.validator("twilio/no-such-thing")


def test_validator_is_cached_and_checks_formats() -> None:
    v = schemas.validator("protocol/create-stream.request")
    assert v is schemas.validator("protocol/create-stream.request.json")
    assert isinstance(v, Draft202012Validator)
    assert v.format_checker is not None


def test_errors_lists_every_violation_with_its_path() -> None:
    found = schemas.errors("protocol/raise-hand.request", {"user_identity": 1, "hand_raised": "x"})
    assert any(e.startswith("$.user_identity:") for e in found)
    assert any(e.startswith("$.hand_raised:") for e in found)
    assert any("stream_name" in e for e in found)
    assert (
        schemas.errors(
            "protocol/raise-hand.request",
            {"user_identity": "a", "stream_name": "b", "hand_raised": True},
        )
        == []
    )


def test_requirements_file_is_not_a_schema() -> None:
    assert "protocol/requirements" not in schemas.names()
    assert schemas.requirements()[0]["id"] == "AUTH-1"
    assert schemas.requirement("WH-1")["group"] == "WH"
    with pytest.raises(KeyError):
        schemas.requirement("NOPE-1")


def test_names_filters_by_family() -> None:
    assert all(n.startswith("protocol/") for n in schemas.names("protocol"))
    assert set(schemas.names()) >= set(schemas.names("protocol"))


# -- catalog -------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", catalog.CLIENT_ENDPOINTS, ids=lambda e: e.name)
def test_catalog_params_match_request_schema(endpoint: catalog.Endpoint) -> None:
    schema = schemas.load(endpoint.request_schema)
    assert tuple(schema.get("required", [])) == endpoint.params
    assert endpoint.response_schema in schemas.names()


def test_catalog_covers_every_endpoint() -> None:
    assert [e.name for e in catalog.CLIENT_ENDPOINTS] == ENDPOINT_NAMES
    assert [e.name for e in catalog.WEBHOOK_ENDPOINTS] == ["rooms-webhook", "sync-webhook"]
    for e in catalog.ENDPOINTS:
        for case in e.all_errors():
            schemas.validate("protocol/error", case.body())


@pytest.mark.parametrize(
    ("endpoint", "body", "message"),
    [
        ("raise-hand", {}, "missing user_identity"),
        ("raise-hand", {"user_identity": 5}, "invalid user_identity"),
        ("raise-hand", {"user_identity": "a"}, "missing stream_name"),
        ("raise-hand", {"user_identity": "a", "stream_name": "s"}, "missing hand_raised"),
        (
            "raise-hand",
            {"user_identity": "a", "stream_name": "s", "hand_raised": "yes"},
            "invalid hand_raised",
        ),
        (
            "raise-hand",
            {"user_identity": "a", "stream_name": "s", "hand_raised": None},
            "invalid hand_raised",
        ),
        ("create-stream", {"user_identity": "", "stream_name": "s"}, "invalid user_identity"),
        ("create-stream", {"user_identity": "a" * 122}, "invalid user_identity"),
        ("create-stream", {"user_identity": "a", "stream_name": ROOM}, "invalid stream_name"),
        ("send-speaker-invite", {"user_identity": "a"}, "missing room_sid"),
        ("send-speaker-invite", {"user_identity": "a", "room_sid": "x"}, "invalid room_sid"),
        ("remove-speaker", {"user_identity": "a", "room_name": 3}, "invalid room_name"),
        ("delete-stream", {}, "missing stream_name"),
        ("delete-stream", [], "invalid request body"),
        ("create-stream", "text", "invalid request body"),
    ],
)
def test_input_error_follows_the_checking_order(endpoint: str, body: Any, message: str) -> None:
    error = catalog.input_error(endpoint, body)
    assert error is not None
    schemas.validate("protocol/error", error)
    assert error["error"]["message"] == message
    if message.startswith("missing "):
        param = message.removeprefix("missing ")
        assert error["error"]["explanation"] == f"The {param} parameter is missing."


#: A 5,000-digit integer (777...7), beyond Python's int-to-text limit (4,300 digits), built
#: without going through text, as a JSON parser without that limit would decode it.
HUGE = 7 * (10**5000 - 1) // 9


@pytest.mark.parametrize(
    ("endpoint", "body", "message"),
    [
        # the cases of tests/backend/test_inputs.py::test_json_beyond_python_limits_...
        ("raise-hand", {"user_identity": HUGE}, "invalid user_identity"),
        ("raise-hand", {"user_identity": "bob", "stream_name": -HUGE}, "invalid stream_name"),
        ("raise-hand", {"user_identity": "b\ud800b", "stream_name": "s"}, "invalid user_identity"),
        ("raise-hand", {"user_identity": "bob", "stream_name": "s\udfff"}, "invalid stream_name"),
        ("raise-hand", {"user_identity": "\udc00"}, "invalid user_identity"),
        (
            "raise-hand",
            {"user_identity": "bob", "stream_name": "s", "hand_raised": HUGE},
            "invalid hand_raised",
        ),
        ("create-stream", {"user_identity": "a", "stream_name": "\ud83d"}, "invalid stream_name"),
        ("send-speaker-invite", {"user_identity": "a", "room_sid": -HUGE}, "invalid room_sid"),
    ],
    ids=[
        "huge-identity",
        "huge-negative-stream",
        "high-surrogate-identity",
        "low-surrogate-stream",
        "surrogate-before-missing",
        "huge-hand-raised",
        "half-an-emoji-stream",
        "huge-room-sid",
    ],
)
def test_input_error_judges_input_beyond_python_limits(
    endpoint: str, body: dict[str, Any], message: str
) -> None:
    """Numbers too long to print and strings that are not Unicode text are ``invalid
    <param>``, as the reference backend answers them (400, never a crash)."""
    error = catalog.input_error(endpoint, body)
    assert error is not None
    schemas.validate("protocol/error", error)
    assert error["error"]["message"] == message


def test_input_error_ignores_extreme_values_of_undefined_members() -> None:
    """Members the endpoint does not define are ignored, whatever they hold (the backend's
    "surrogate in an ignored member still answers 200")."""
    body = {"user_identity": "bob", "stream_name": "s", "x": "\ud800", "y": HUGE}
    assert catalog.input_error("join-stream-as-viewer", body) is None


def test_input_error_accepts_valid_bodies() -> None:
    for e in catalog.CLIENT_ENDPOINTS:
        example = schemas.load(e.request_schema)["examples"][0]
        assert catalog.input_error(e.name, example) is None
    with pytest.raises(ValueError):
        catalog.input_error("rooms-webhook", {})


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=130),
    st.sampled_from(["", "a" * 121, "a" * 122, "s" * 128, "s" * 129, ROOM, "x\ty"]),
    st.lists(st.text(max_size=3), max_size=2),
)
_bodies = st.dictionaries(
    st.sampled_from(["user_identity", "stream_name", "room_sid", "room_name", "hand_raised", "z"]),
    _values,
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(endpoint=st.sampled_from([e.name for e in catalog.CLIENT_ENDPOINTS]), body=_bodies)
def test_input_error_agrees_with_the_request_schema(endpoint: str, body: dict[str, Any]) -> None:
    valid = schemas.is_valid(catalog.endpoint(endpoint).request_schema, body)
    assert (catalog.input_error(endpoint, body) is None) == valid
