"""Tokens: decoded and validated against the protocol's schemas, then used at the fake."""

from __future__ import annotations

from collections.abc import Callable

import jwt
import pytest

import schemas
from fake_twilio import TwilioError

from .conftest import CREDENTIALS, Harness, Stream


def check_claims(harness: Harness, token: str, role: str) -> dict:
    schemas.validate("protocol/token.header", jwt.get_unverified_header(token))
    payload = harness.decode(token)
    schemas.validate(f"protocol/token.{role}", payload)
    assert payload["iss"] == CREDENTIALS.api_key_sid
    assert payload["sub"] == CREDENTIALS.account_sid
    assert payload["exp"] - payload["nbf"] == 14400
    return payload["grants"]


def test_host_token(harness: Harness, stream: Stream) -> None:
    grants = check_claims(harness, stream.host_token, "host")
    chat = grants.pop("chat")["service_sid"]
    assert grants == {
        "identity": "alice",
        "video": {"room": stream.name},
        "data_sync": {"service_sid": stream.sync_service_sid},
    }
    assert harness.conversation_participants(chat, stream.room_sid) == ["alice"]


def test_speaker_token(harness: Harness, stream: Stream) -> None:
    body = harness.join(stream, "carol", "speaker")
    grants = check_claims(harness, body["token"], "speaker")
    assert set(grants) == {"identity", "video", "data_sync", "chat"}
    assert grants["video"] == {"room": stream.name}
    assert grants["data_sync"] == {"service_sid": stream.sync_service_sid}


def test_viewer_token(harness: Harness, stream: Stream) -> None:
    body = harness.join(stream, "bob", "viewer")
    grants = check_claims(harness, body["token"], "viewer")
    assert set(grants) == {"identity", "player", "data_sync", "chat"}
    assert grants["player"]["playerStreamerSid"] == stream.player_streamer_sid
    assert grants["data_sync"] == {"service_sid": stream.sync_service_sid}


def test_identity_is_used_verbatim(harness: Harness, stream: Stream) -> None:
    identity = " Zoë Ω-1 "
    body = harness.join(stream, identity, "viewer")
    assert harness.decode(body["token"])["grants"]["identity"] == identity
    assert body["sync_object_names"]["user_document"] == f"user-{identity}"
    assert f"user-{identity}" in harness.sync_state(stream.sync_service_sid)["documents"]


def test_tokens_are_usable_where_they_should_be(harness: Harness, stream: Stream) -> None:
    control = harness.control
    viewer = harness.join(stream, "bob", "viewer")["token"]
    speaker = harness.join(stream, "carol", "speaker")["token"]
    control.connect_to_room(stream.host_token, stream.name)
    control.connect_to_room(speaker, stream.name)
    control.connect_to_player(viewer, stream.player_streamer_sid)
    with pytest.raises(TwilioError) as refused:
        control.connect_to_room(viewer, stream.name)
    assert refused.value.code == 20106
    for token in (stream.host_token, viewer, speaker):
        control.connect_to_sync(token)
        assert control.sync_read(token, "map", "speakers") is not None
        control.join_conversation(token, stream.room_sid)


@pytest.mark.parametrize("role", ["host", "viewer", "speaker"])
def test_no_token_can_write_sync(harness: Harness, stream: Stream, role: str) -> None:
    token = {
        "host": lambda: stream.host_token,
        "viewer": lambda: harness.join(stream, "bob", "viewer")["token"],
        "speaker": lambda: harness.join(stream, "bob", "speaker")["token"],
    }[role]()
    attempts: list[Callable[[], object]] = [
        lambda: harness.control.sync_write(token, "map", "speakers", {"host": True}, key="x"),
        lambda: harness.control.sync_write(token, "map", "raised_hands", {}, key="x"),
        lambda: harness.control.sync_write(token, "map", "viewers", {}, key="x"),
    ]
    if role != "host":
        attempts.append(
            lambda: harness.control.sync_write(
                token, "document", "user-bob", {"speaker_invite": True}
            )
        )
    for attempt in attempts:
        with pytest.raises(TwilioError) as refused:
            attempt()
        assert refused.value.code == 54007


def test_users_cannot_read_other_users_documents(harness: Harness, stream: Stream) -> None:
    bob = harness.join(stream, "bob", "viewer")["token"]
    harness.join(stream, "carol", "viewer")
    assert harness.control.sync_read(bob, "document", "user-bob")["data"] == {
        "speaker_invite": False
    }
    with pytest.raises(TwilioError) as refused:
        harness.control.sync_read(bob, "document", "user-carol")
    assert refused.value.code == 54007


def test_without_chat(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(chat_enabled=False)
    stream = harness.create_stream()
    assert stream.body["chat_enabled"] is False
    assert "chat" not in harness.decode(stream.host_token)["grants"]
    for role in ("viewer", "speaker"):
        body = harness.join(stream, f"user-{role}", role)
        assert body["chat_enabled"] is False
        assert "chat" not in harness.decode(body["token"])["grants"]
    assert not harness.state.journal.entries(product="conversations")
