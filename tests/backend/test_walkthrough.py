"""The walkthrough of docs/PROTOCOL.md section 10, over HTTP, with the exact Sync state after
every step read from the fake, and the clients simulated by the fake's control plane."""

from __future__ import annotations

from typing import Any

import pytest

import schemas
from fake_twilio import TwilioError
from reference_backend import backend_of

from .conftest import PUBLIC_URL, Harness

NAMES = {"speakers_map": "speakers", "viewers_map": "viewers", "raised_hands_map": "raised_hands"}


def expect_state(harness: Harness, service_sid: str, expected: dict[str, Any]) -> None:
    state = harness.sync_state(service_sid)
    assert state == expected
    schemas.validate("protocol/sync.state", state)


def test_walkthrough(harness: Harness) -> None:
    # Step 1: Alice checks the passcode.
    assert harness.ok("verify-passcode") == {"verified": True}

    # Step 2: Alice creates the stream.
    body = harness.ok("create-stream", {"user_identity": "alice", "stream_name": "friday-townhall"})
    schemas.validate("protocol/create-stream.response", body)
    assert body["sync_object_names"] == NAMES
    assert body["chat_enabled"] is True
    room_sid = body["room_sid"]
    room = harness.twilio.video.v1.rooms(room_sid).fetch()
    assert (room.status, room.unique_name, room.type) == ("in-progress", "friday-townhall", "group")
    assert room.status_callback == f"{PUBLIC_URL}/rooms-webhook"
    assert room.status_callback_method == "POST"
    host_grants = harness.decode(body["token"])["grants"]
    service_sid = host_grants["data_sync"]["service_sid"]
    chat_sid = host_grants["chat"]["service_sid"]
    service = harness.twilio.sync.v1.services(service_sid).fetch()
    assert service.acl_enabled is True
    assert service.webhook_url == f"{PUBLIC_URL}/sync-webhook"
    assert service.reachability_webhooks_enabled is True
    assert service.reachability_debouncing_enabled is True
    media = harness.media()
    (streamer,) = media["player_streamers"].values()
    (processor,) = media["media_processors"].values()
    assert streamer["status"] == "started" and streamer["video"] is True
    assert processor["status"] == "started"
    assert processor["extension"] == "video-composer-v2"
    assert processor["extension_context"] == (
        f'{{"room": {{"name": "{room_sid}"}}, "outputs": ["{streamer["sid"]}"], '
        '"resolution": "1920x1080"}'
    )
    expect_state(
        harness,
        service_sid,
        {"speakers": {"alice": {"host": True}}, "raised_hands": {}, "viewers": {}, "documents": {}},
    )
    assert harness.conversation_participants(chat_sid, room_sid) == ["alice"]

    # Alice connects with her token; her item stays {"host": true}.
    harness.control.connect_to_room(body["token"], "friday-townhall")
    expect_state(
        harness,
        service_sid,
        {"speakers": {"alice": {"host": True}}, "raised_hands": {}, "viewers": {}, "documents": {}},
    )

    # Step 3: Bob joins as a viewer; his player connects, the room refuses his token.
    viewer = harness.ok(
        "join-stream-as-viewer", {"user_identity": "bob", "stream_name": "friday-townhall"}
    )
    schemas.validate("protocol/join-stream-as-viewer.response", viewer)
    assert viewer["sync_object_names"] == {**NAMES, "user_document": "user-bob"}
    assert viewer["room_sid"] == room_sid
    harness.control.connect_to_player(viewer["token"], streamer["sid"])
    with pytest.raises(TwilioError):
        harness.control.connect_to_room(viewer["token"], "friday-townhall")
    invite_pending = {"user-bob": {"speaker_invite": False}}
    expect_state(
        harness,
        service_sid,
        {
            "speakers": {"alice": {"host": True}},
            "raised_hands": {},
            "viewers": {},
            "documents": invite_pending,
        },
    )
    assert harness.conversation_participants(chat_sid, room_sid) == ["alice", "bob"]

    # Step 4: Bob's player starts.
    assert harness.ok(
        "viewer-connected-to-player", {"user_identity": "bob", "stream_name": "friday-townhall"}
    ) == {"success": True}
    watching = {"speakers": {"alice": {"host": True}}, "viewers": {"bob": {}}}
    expect_state(
        harness, service_sid, {**watching, "raised_hands": {}, "documents": invite_pending}
    )

    # Step 5: Bob raises his hand, lowers it, raises it again.
    hand = {"user_identity": "bob", "stream_name": "friday-townhall"}
    assert harness.ok("raise-hand", {**hand, "hand_raised": True}) == {"sent": True}
    expect_state(
        harness, service_sid, {**watching, "raised_hands": {"bob": {}}, "documents": invite_pending}
    )
    assert harness.ok("raise-hand", {**hand, "hand_raised": False}) == {"sent": True}
    expect_state(
        harness, service_sid, {**watching, "raised_hands": {}, "documents": invite_pending}
    )
    harness.ok("raise-hand", {**hand, "hand_raised": True})

    # Step 6: Alice invites Bob.
    assert harness.ok("send-speaker-invite", {"user_identity": "bob", "room_sid": room_sid}) == {
        "sent": True
    }
    invited = {"user-bob": {"speaker_invite": True}}
    expect_state(
        harness, service_sid, {**watching, "raised_hands": {"bob": {}}, "documents": invited}
    )

    # Step 7: Bob joins as a speaker (no change), then connects: he becomes a speaker.
    speaker = harness.ok(
        "join-stream-as-speaker", {"user_identity": "bob", "stream_name": "friday-townhall"}
    )
    schemas.validate("protocol/join-stream-as-speaker.response", speaker)
    expect_state(
        harness, service_sid, {**watching, "raised_hands": {"bob": {}}, "documents": invited}
    )
    harness.control.connect_to_room(speaker["token"], "friday-townhall")
    expect_state(
        harness,
        service_sid,
        {
            "speakers": {"alice": {"host": True}, "bob": {"host": False}},
            "raised_hands": {},
            "viewers": {},
            "documents": invite_pending,
        },
    )

    # Step 8: Alice moves Bob back to the audience.
    assert harness.ok(
        "remove-speaker", {"user_identity": "bob", "room_name": "friday-townhall"}
    ) == {"removed": True}
    bob = harness.twilio.video.v1.rooms(room_sid).participants.list(
        identity="bob", status="disconnected"
    )
    assert [p.status for p in bob] == ["disconnected"]
    assert not harness.twilio.video.v1.rooms(room_sid).participants.list(identity="bob")
    expect_state(
        harness,
        service_sid,
        {
            "speakers": {"alice": {"host": True}},
            "raised_hands": {},
            "viewers": {},
            "documents": invite_pending,
        },
    )
    harness.ok("join-stream-as-viewer", {"user_identity": "bob", "stream_name": "friday-townhall"})
    harness.ok(
        "viewer-connected-to-player", {"user_identity": "bob", "stream_name": "friday-townhall"}
    )
    expect_state(
        harness, service_sid, {**watching, "raised_hands": {}, "documents": invite_pending}
    )

    # Step 9: Alice ends the stream; room-ended releases everything.
    assert harness.ok("delete-stream", {"stream_name": "friday-townhall"}) == {"deleted": True}
    assert harness.twilio.video.v1.rooms(room_sid).fetch().status == "completed"
    media = harness.media()
    assert media["player_streamers"][streamer["sid"]]["status"] == "ended"
    assert media["media_processors"][processor["sid"]]["status"] == "ended"
    assert not harness.sync_service_exists(service_sid)
    assert backend_of(harness.app).storage.get_stream(room_sid) is None
    gone = harness.call("join-stream-as-viewer", hand)
    assert gone.status_code == 404
    assert gone.get_json() == {
        "error": {
            "message": "error finding room",
            "explanation": "No in-progress stream has that name.",
        }
    }

    # The name is free again: a new, empty stream.
    again = harness.ok(
        "create-stream", {"user_identity": "carol", "stream_name": "friday-townhall"}
    )
    assert again["room_sid"] != room_sid
    new_service = harness.decode(again["token"])["grants"]["data_sync"]["service_sid"]
    assert new_service != service_sid
    expect_state(
        harness,
        new_service,
        {"speakers": {"carol": {"host": True}}, "raised_hands": {}, "viewers": {}, "documents": {}},
    )


def test_permissions_are_read_only_and_per_user(harness: Harness) -> None:
    stream = harness.create_stream()
    harness.join(stream, "bob", "viewer")
    harness.join(stream, "carol", "speaker")
    read_only = (True, False, False)
    everyone = {"alice": read_only, "bob": read_only, "carol": read_only}
    assert harness.permissions(stream.sync_service_sid) == {
        "speakers": everyone,
        "raised_hands": everyone,
        "viewers": everyone,
        "user-bob": {"bob": read_only},
        "user-carol": {"carol": read_only},
    }


def test_host_who_reconnects_is_host_again(harness: Harness) -> None:
    stream = harness.create_stream()
    harness.control.connect_to_room(stream.host_token, stream.name)
    harness.control.disconnect_from_room(stream.name, "alice")
    assert harness.sync_state(stream.sync_service_sid)["speakers"] == {}
    harness.control.connect_to_room(stream.host_token, stream.name)
    assert harness.sync_state(stream.sync_service_sid)["speakers"] == {"alice": {"host": True}}


def test_stream_ended_by_twilio_is_cleaned_up(harness: Harness) -> None:
    stream = harness.create_stream()
    harness.control.connect_to_room(stream.host_token, stream.name)
    harness.control.complete_room(stream.room_sid)
    media = harness.media()
    assert media["player_streamers"][stream.player_streamer_sid]["status"] == "ended"
    assert media["media_processors"][stream.media_processor_sid]["status"] == "ended"
    assert not harness.sync_service_exists(stream.sync_service_sid)
    assert backend_of(harness.app).storage.get_stream(stream.room_sid) is None
