"""Not-found and conflict answers (404, 409), Twilio failures (502) at every step, the
create-stream teardown (ERR-7), retries, and unexpected errors (500)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest

import schemas
from reference_backend import backend_of

from .conftest import CREDENTIALS, PASSCODE, PUBLIC_URL, Harness, Stream

SID = r"[A-Z]{2}[0-9a-f]{32}"
NO_ROOM = {"message": "error finding room", "explanation": "No in-progress stream has that name."}


def error_of(response: Any) -> dict[str, str]:
    body = response.get_json()
    schemas.validate("protocol/error", body)
    return body["error"]


# -- 404 and 409 --------------------------------------------------------------------------------
UNKNOWN_STREAM = [
    ("join-stream-as-speaker", {"user_identity": "bob", "stream_name": "nope"}),
    ("join-stream-as-viewer", {"user_identity": "bob", "stream_name": "nope"}),
    ("viewer-connected-to-player", {"user_identity": "bob", "stream_name": "nope"}),
    ("raise-hand", {"user_identity": "bob", "stream_name": "nope", "hand_raised": True}),
    ("remove-speaker", {"user_identity": "bob", "room_name": "nope"}),
    ("remove-speaker", {"user_identity": "bob", "room_name": "RM" + "a" * 32}),
    ("delete-stream", {"stream_name": "nope"}),
    ("send-speaker-invite", {"user_identity": "bob", "room_sid": "RM" + "a" * 32}),
]


@pytest.mark.parametrize(("endpoint", "body"), UNKNOWN_STREAM)
def test_unknown_stream(harness: Harness, endpoint: str, body: dict) -> None:
    for _ in range(2):  # before any stream exists, and after one was created
        mark = harness.mark()
        response = harness.call(endpoint, body)
        assert response.status_code == 404
        assert error_of(response)["message"] == "error finding room"
        assert harness.writes_since(mark) == []
        harness.create_stream(f"other-{harness.mark()}")


@pytest.mark.parametrize(("endpoint", "body"), UNKNOWN_STREAM[:-1])
def test_room_not_created_by_the_backend_is_unknown(
    harness: Harness, endpoint: str, body: dict
) -> None:
    room = harness.twilio.video.v1.rooms.create(unique_name="nope", type="group")
    if "room_name" in body and body["room_name"].startswith("RM"):
        body = {**body, "room_name": room.sid}
    mark = harness.mark()
    assert error_of(harness.call(endpoint, body)) == {
        **NO_ROOM,
        "explanation": error_of(harness.call(endpoint, body))["explanation"],
    }
    assert harness.writes_since(mark) == []
    assert harness.twilio.video.v1.rooms(room.sid).fetch().status == "in-progress"


def test_ended_stream_is_unknown(harness: Harness, stream: Stream) -> None:
    harness.ok("delete-stream", {"stream_name": stream.name})
    assert error_of(harness.call("delete-stream", {"stream_name": stream.name})) == NO_ROOM
    by_sid = {"user_identity": "bob", "room_name": stream.room_sid}
    assert error_of(harness.call("remove-speaker", by_sid))["message"] == "error finding room"
    invite = {"user_identity": "bob", "room_sid": stream.room_sid}
    assert error_of(harness.call("send-speaker-invite", invite))["message"] == "error finding room"


def _lose_webhooks(harness: Harness) -> None:
    """From now on the fake's deliveries to the backend are acknowledged and dropped."""

    def sink(environ: dict, start_response: Callable) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    harness.state.webhooks.register_wsgi(PUBLIC_URL, sink)


def test_stream_is_unknown_once_its_room_is_over_even_before_cleanup(
    harness: Harness, stream: Stream
) -> None:
    """The stream record outlives the room until room-ended is handled (here: never); every
    endpoint must still treat the stream as ended (FLOW-8), send-speaker-invite included."""
    harness.join(stream, "bob")
    _lose_webhooks(harness)
    harness.ok("delete-stream", {"stream_name": stream.name})
    mark = harness.mark()
    invite = {"user_identity": "bob", "room_sid": stream.room_sid}
    response = harness.call("send-speaker-invite", invite)
    assert response.status_code == 404
    assert error_of(response)["message"] == "error finding room"
    assert harness.writes_since(mark) == []
    assert harness.sync_state(stream.sync_service_sid)["documents"] == {
        "user-bob": {"speaker_invite": False}
    }


@pytest.mark.parametrize(
    ("endpoint", "extra"),
    [
        ("viewer-connected-to-player", {}),
        ("raise-hand", {"hand_raised": True}),
        ("raise-hand", {"hand_raised": False}),
        ("join-stream-as-viewer", {}),
        ("join-stream-as-speaker", {}),
        ("send-speaker-invite", {}),
    ],
)
def test_a_call_racing_the_cleanup_finds_no_room(
    harness: Harness, stream: Stream, endpoint: str, extra: dict
) -> None:
    """room-ended's cleanup deleted the Sync service between the call's room check and its
    Sync write (forced here: deleted through the fake while the room is still in progress and
    the record still there): the stream has ended, 404 'error finding room', not a 502."""
    harness.join(stream, "bob")
    harness.twilio.sync.v1.services(stream.sync_service_sid).delete()
    body = {"user_identity": "bob", "stream_name": stream.name, **extra}
    if endpoint == "send-speaker-invite":
        body = {"user_identity": "bob", "room_sid": stream.room_sid}
    response = harness.call(endpoint, body)
    assert response.status_code == 404, response.get_data(as_text=True)
    assert error_of(response)["message"] == "error finding room"


def test_a_missing_map_of_a_live_stream_is_still_a_twilio_failure(
    harness: Harness, stream: Stream
) -> None:
    """Only the stream's end turns Twilio's 'not found' into 'error finding room'."""
    harness.join(stream, "bob")
    harness.twilio.sync.v1.services(stream.sync_service_sid).sync_maps("viewers").delete()
    response = harness.call(
        "viewer-connected-to-player", {"user_identity": "bob", "stream_name": stream.name}
    )
    assert response.status_code == 502
    assert error_of(response)["message"] == "error adding user to viewers map"


def test_name_in_use(harness: Harness, stream: Stream) -> None:
    before = harness.sync_state(stream.sync_service_sid)
    mark = harness.mark()
    response = harness.call(
        "create-stream", {"user_identity": "mallory", "stream_name": stream.name}
    )
    assert response.status_code == 409
    assert error_of(response) == {"message": "error creating room", "explanation": "Room exists"}
    assert [(e.method, e.path, e.status) for e in harness.writes_since(mark)] == [
        ("POST", "/video/v1/Rooms", 400)
    ]
    assert harness.sync_state(stream.sync_service_sid) == before
    assert len(harness.rooms()) == 1


def test_invitee_who_never_joined(harness: Harness, stream: Stream) -> None:
    mark = harness.mark()
    response = harness.call(
        "send-speaker-invite", {"user_identity": "zed", "room_sid": stream.room_sid}
    )
    assert response.status_code == 404
    assert error_of(response)["message"] == "error updating user document"
    assert harness.writes_since(mark) == []
    assert harness.sync_state(stream.sync_service_sid)["documents"] == {}


def test_remove_speaker_not_in_room(harness: Harness, stream: Stream) -> None:
    harness.join(stream, "bob", "speaker")
    for room_name in (stream.name, stream.room_sid):
        response = harness.call("remove-speaker", {"user_identity": "bob", "room_name": room_name})
        assert response.status_code == 404
        assert error_of(response)["message"] == "error removing speaker"


def test_remove_speaker_by_room_sid(harness: Harness, stream: Stream) -> None:
    speaker = harness.join(stream, "bob", "speaker")
    harness.control.connect_to_room(speaker["token"], stream.name)
    harness.ok("remove-speaker", {"user_identity": "bob", "room_name": stream.room_sid})
    assert "bob" not in harness.sync_state(stream.sync_service_sid)["speakers"]


# -- 502 at every step of every endpoint -------------------------------------------------------
def _viewer(s: Stream) -> dict:
    return {"user_identity": "bob", "stream_name": s.name}


STEPS: list[tuple[str, Callable[[Stream], dict], str, str, str, str]] = [
    # endpoint, body, product, method, path regex, expected message
    ("join-stream-as-viewer", _viewer, "video", "GET", "/v1/Rooms/.*", "error finding room"),
    ("join-stream-as-viewer", _viewer, "sync", "GET", f"/v1/Services/{SID}/Maps/streams/Items/.*",
     "error fetching stream map item"),
    ("join-stream-as-viewer", _viewer, "sync", "POST", f"/v1/Services/{SID}/Documents",
     "error creating user document"),
    ("join-stream-as-viewer", _viewer, "sync", "POST", ".*/Documents/user-bob/Permissions/bob",
     "error adding read access to user document"),
    ("join-stream-as-viewer", _viewer, "sync", "POST", ".*/Maps/speakers/Permissions/bob",
     "error adding read access to speakers map"),
    ("join-stream-as-viewer", _viewer, "sync", "POST", ".*/Maps/raised_hands/Permissions/bob",
     "error adding read access to raised hands map"),
    ("join-stream-as-viewer", _viewer, "sync", "POST", ".*/Maps/viewers/Permissions/bob",
     "error adding read access to viewers map"),
    ("join-stream-as-viewer", _viewer, "conversations", "POST", ".*/Participants",
     "error creating conversation participant"),
    ("join-stream-as-viewer", _viewer, "media", "POST", ".*/PlaybackGrant",
     "error getting playback grant"),
    ("join-stream-as-speaker", _viewer, "sync", "GET", ".*/Maps/streams/Items/.*",
     "error finding stream map item"),
    ("join-stream-as-speaker", _viewer, "sync", "POST", ".*/Documents",
     "error creating user document"),
    ("viewer-connected-to-player", _viewer, "sync", "GET", ".*/Maps/streams/Items/.*",
     "error getting stream sync client"),
    ("viewer-connected-to-player", _viewer, "sync", "POST", ".*/Maps/viewers/Items",
     "error adding user to viewers map"),
    ("raise-hand", lambda s: {**_viewer(s), "hand_raised": True}, "sync", "POST",
     ".*/Maps/raised_hands/Items", "error updating raised hands map"),
    ("raise-hand", lambda s: {**_viewer(s), "hand_raised": False}, "sync", "DELETE",
     ".*/Maps/raised_hands/Items/bob", "error updating raised hands map"),
    ("send-speaker-invite", lambda s: {"user_identity": "bob", "room_sid": s.room_sid}, "sync",
     "GET", ".*/Maps/streams/Items/.*", "error finding room"),
    ("send-speaker-invite", lambda s: {"user_identity": "bob", "room_sid": s.room_sid}, "sync",
     "GET", ".*/Documents/user-bob", "error updating user document"),
    ("send-speaker-invite", lambda s: {"user_identity": "bob", "room_sid": s.room_sid}, "sync",
     "POST", ".*/Documents/user-bob", "error updating user document"),
    ("remove-speaker", lambda s: {"user_identity": "bob", "room_name": s.name}, "video", "POST",
     ".*/Participants/bob", "error removing speaker"),
    ("delete-stream", lambda s: {"stream_name": s.name}, "video", "POST", f"/v1/Rooms/{SID}",
     "error deleting stream"),
]  # fmt: skip
FIXED = {
    "error creating conversation participant": (
        "Something went wrong when creating a conversation participant."
    ),
}


@pytest.mark.parametrize(
    ("endpoint", "body", "product", "method", "path", "message"),
    STEPS,
    ids=[f"{s[0]}:{s[5]}" for s in STEPS],
)
def test_twilio_failure_names_the_step(
    harness: Harness,
    endpoint: str,
    body: Callable[[Stream], dict],
    product: str,
    method: str,
    path: str,
    message: str,
) -> None:
    stream = harness.create_stream()
    speaker = harness.join(stream, "bob", "speaker")  # bob has a document
    harness.control.connect_to_room(speaker["token"], stream.name)
    harness.fail(product, method, path, message="Upstream exploded")
    response = harness.call(endpoint, body(stream))
    assert response.status_code == 502
    assert error_of(response) == {
        "message": message,
        "explanation": FIXED.get(message, "Upstream exploded"),
    }


def test_conversation_service_lookup_after_a_restart(harness: Harness, stream: Stream) -> None:
    restarted = create_backend_like(harness)
    harness.fail("conversations", "GET", "/v1/Services")
    response = restarted.post(
        "/join-stream-as-viewer",
        json={"user_identity": "bob", "stream_name": stream.name},
        headers={"Authorization": PASSCODE},
    )
    assert response.status_code == 502
    assert response.get_json()["error"] == {
        "message": "error finding conversation",
        "explanation": "Something went wrong when finding a conversation.",
    }
    again = restarted.post(
        "/join-stream-as-viewer",
        json={"user_identity": "bob", "stream_name": stream.name},
        headers={"Authorization": PASSCODE},
    )
    assert again.status_code == 200
    assert (
        harness.decode(again.get_json()["token"])["grants"]["chat"]
        == (harness.decode(stream.host_token)["grants"]["chat"])
    )


def create_backend_like(harness: Harness) -> Any:
    """A second backend (a restart) on the same fake; its test client."""
    from fake_twilio.http_client import WSGITwilioHttpClient
    from reference_backend import create_app

    app = create_app(harness.settings, twilio_http_client=WSGITwilioHttpClient(harness.fake))
    return app.test_client()


# -- create-stream: teardown after a failure at every step --------------------------------------
CREATE_STEPS = [
    ("video", "POST", "/v1/Rooms", "error creating room"),
    ("sync", "GET", "/v1/Services", "error adding stream to streams map"),
    ("sync", "POST", "/v1/Services", "error adding stream to streams map"),
    ("sync", "POST", f"/v1/Services/{SID}/Maps", "error adding stream to streams map"),
    ("conversations", "GET", "/v1/Services", "error creating conversation"),
    ("conversations", "POST", "/v1/Services", "error creating conversation"),
    ("media", "POST", "/v1/PlayerStreamers", "error creating stream"),
    ("media", "POST", "/v1/MediaProcessors", "error creating stream"),
    ("sync", "POST", "/v1/Services", "error creating stream sync service"),
    ("sync", "POST", f"/v1/Services/{SID}/Maps/streams/Items",
     "error adding stream to streams map"),
    ("sync", "POST", f"/v1/Services/{SID}/Maps", "error creating speakers map"),
    ("sync", "POST", f"/v1/Services/{SID}/Maps/speakers/Items",
     "error adding host to speakers map"),
    ("sync", "POST", f"/v1/Services/{SID}/Maps/speakers/Permissions/alice",
     "error adding read access to speakers map"),
    ("sync", "POST", f"/v1/Services/{SID}/Maps", "error creating raised hands map"),
    ("sync", "POST", f"/v1/Services/{SID}/Maps/raised_hands/Permissions/alice",
     "error adding read access to raised hands map"),
    ("sync", "POST", f"/v1/Services/{SID}/Maps", "error creating viewers map"),
    ("sync", "POST", f"/v1/Services/{SID}/Maps/viewers/Permissions/alice",
     "error adding read access to viewers map"),
    ("conversations", "POST", f"/v1/Services/{SID}/Conversations", "error creating conversation"),
    ("conversations", "POST", f"/v1/Services/{SID}/Conversations/{SID}/Participants",
     "error creating conversation participant"),
]  # fmt: skip
CREATE_FIXED = {
    "error creating conversation": "Something went wrong when creating a conversation.",
    **FIXED,
}


def test_create_stream_makes_exactly_these_requests(harness: Harness) -> None:
    mark = harness.mark()
    harness.ok("create-stream", {"user_identity": "alice", "stream_name": "first"})
    made = [(e.product, e.method, e.path.split("/", 2)[2]) for e in harness.requests_since(mark)]
    made = [(p, m, "/" + path) for p, m, path in made]
    assert len(made) == len(CREATE_STEPS)
    for (product, method, path), (s_product, s_method, s_path, _) in zip(
        made, CREATE_STEPS, strict=True
    ):
        assert (product, method) == (s_product, s_method)
        assert re.fullmatch(s_path, path), (path, s_path)
    # Once provisioned, a stream costs 14 requests (the original's count with chat).
    mark = harness.mark()
    harness.ok("create-stream", {"user_identity": "alice", "stream_name": "second"})
    assert len(harness.requests_since(mark)) == 14


def _nth_match(index: int) -> int:
    """How many earlier create-stream requests the same fault rule would match."""
    product, method, path, _ = CREATE_STEPS[index]
    return sum(
        1
        for p, m, other, _ in CREATE_STEPS[:index]
        if (p, m) == (product, method) and re.fullmatch(path, _example(other))
    )


def _example(pattern: str) -> str:
    return pattern.replace(SID, "IS" + "0" * 32)


@pytest.mark.parametrize(
    "index", range(len(CREATE_STEPS)), ids=[f"{i}:{s[3]}" for i, s in enumerate(CREATE_STEPS)]
)
def test_failed_create_stream_leaves_no_orphan(harness: Harness, index: int) -> None:
    product, method, path, message = CREATE_STEPS[index]
    harness.fail(product, method, path, after=_nth_match(index), message="Twilio broke")
    response = harness.call("create-stream", {"user_identity": "alice", "stream_name": "doomed"})
    assert response.status_code == 502
    assert error_of(response) == {
        "message": message,
        "explanation": CREATE_FIXED.get(message, "Twilio broke"),
    }
    assert_no_orphan(harness)
    harness.create_stream("doomed")  # the name is free


def assert_no_orphan(harness: Harness) -> None:
    """No in-progress room, no live media, no stream Sync service, record or conversation."""
    assert harness.rooms() == []
    media = harness.media()
    for kind in ("player_streamers", "media_processors"):
        assert {r["status"] for r in media.get(kind, {}).values()} <= {"ended"}
    for service in harness.twilio.sync.v1.services.list():  # only the backend's storage
        assert service.friendly_name == "Live Video Backend Storage"
        service_api = harness.twilio.sync.v1.services(service.sid)
        for sync_map in service_api.sync_maps.list():
            assert service_api.sync_maps(sync_map.sid).sync_map_items.list() == []
    for chat in harness.twilio.conversations.v1.services.list():
        assert harness.twilio.conversations.v1.services(chat.sid).conversations.list() == []


def test_dropped_connection_on_a_create_is_not_retried(harness: Harness) -> None:
    harness.control.add_fault("drop", product="media", method="POST", path="/v1/PlayerStreamers",
                              times=1)  # fmt: skip
    response = harness.call("create-stream", {"user_identity": "alice", "stream_name": "s"})
    assert response.status_code == 502
    assert error_of(response) == {
        "message": "error creating stream",
        "explanation": "Twilio could not be reached.",
    }
    assert_no_orphan(harness)


def test_transient_errors_are_retried(harness: Harness, stream: Stream) -> None:
    harness.fail("video", "POST", "/v1/Rooms", code=20429, status=429)
    harness.create_stream("busy")
    harness.control.add_fault("drop", product="video", method="GET", path="/v1/Rooms/.*", times=2)
    harness.join(stream, "bob")
    assert harness.sleeps == [0.1, 0.1, 0.2]


def test_retries_are_bounded(harness: Harness) -> None:
    harness.control.add_fault("error", product="video", method="POST", path="/v1/Rooms",
                              code=20503, status=503)  # fmt: skip
    response = harness.call("create-stream", {"user_identity": "alice", "stream_name": "s"})
    assert (response.status_code, error_of(response)["message"]) == (502, "error creating room")
    assert harness.sleeps == [0.1, 0.2]
    assert len(harness.state.journal.entries(path_contains="/Rooms")) == 3


# -- unexpected failures -----------------------------------------------------------------------
def test_unexpected_error_is_a_bare_500(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: Any) -> None:
        raise RuntimeError(f"bug near {CREDENTIALS.auth_token}")

    monkeypatch.setattr(backend_of(harness.app).streams, "join_as_viewer", explode)
    with caplog.at_level(logging.ERROR, logger="reference_backend"):
        response = harness.call("join-stream-as-viewer", {"user_identity": "b", "stream_name": "s"})
    assert response.status_code == 500
    assert error_of(response) == {
        "message": "internal error",
        "explanation": "An unexpected error occurred.",
    }
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and CREDENTIALS.auth_token not in text
    assert "RuntimeError" in caplog.text


def test_logs_never_hold_secrets(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        stream = harness.create_stream()
        harness.fail("media", "POST", ".*/PlaybackGrant")
        harness.call("join-stream-as-viewer", {"user_identity": "b", "stream_name": stream.name})
        harness.call("verify-passcode", passcode="wrong")
    for secret in (PASSCODE, CREDENTIALS.auth_token, CREDENTIALS.api_key_secret):
        assert secret not in caplog.text
    assert secret not in repr(harness.settings)
