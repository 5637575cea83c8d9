"""Fake Twilio Video v1 (Rooms, Room Participants) driven through the real ``twilio`` SDK."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask, request
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

import schemas
from fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, TwilioError, state_of
from fake_twilio.core.state import FakeState
from fake_twilio.http_client import WSGITwilioHttpClient
from fake_twilio.testing import sdk_client
from fake_twilio.video.models import VideoBackend

HOOKS = "https://hooks.example.test"
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ROOM_KEYS = {
    "sid", "status", "date_created", "date_updated", "account_sid", "enable_turn",
    "unique_name", "status_callback", "status_callback_method", "end_time", "duration", "type",
    "max_participants", "max_participant_duration", "max_concurrent_published_tracks",
    "record_participants_on_connect", "video_codecs", "media_region", "audio_only",
    "empty_room_timeout", "unused_room_timeout", "large_room", "url", "links",
}  # fmt: skip
PARTICIPANT_KEYS = {
    "sid", "room_sid", "account_sid", "status", "identity", "date_created", "date_updated",
    "start_time", "end_time", "duration", "url", "links",
}  # fmt: skip
ROOM_EVENT_KEYS = {
    "AccountSid", "RoomName", "RoomSid", "RoomStatus", "RoomType", "StatusCallbackEvent",
    "Timestamp", "SequenceNumber",
}  # fmt: skip
PARTICIPANT_EVENT_KEYS = ROOM_EVENT_KEYS | {
    "ParticipantSid",
    "ParticipantIdentity",
    "ParticipantStatus",
}


@dataclass
class Hook:
    method: str
    url: str
    params: dict[str, str]
    signature: str

    @property
    def event(self) -> str:
        return self.params["StatusCallbackEvent"]


@pytest.fixture
def state(fake_app: Flask) -> FakeState:
    return state_of(fake_app)


@pytest.fixture
def video(state: FakeState) -> VideoBackend:
    return state.backend(DEFAULT_ACCOUNT_SID, "video")


@pytest.fixture
def frozen(state: FakeState) -> datetime:
    return state.clock.freeze(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def hooks(state: FakeState) -> list[Hook]:
    """Every status callback delivered to ``https://hooks.example.test`` (in-process)."""
    received: list[Hook] = []
    receiver = Flask("receiver")

    @receiver.route("/<path:path>", methods=["GET", "POST"])
    def hook(path: str) -> tuple[str, int]:
        source = request.args if request.method == "GET" else request.form
        signature = request.headers.get("X-Twilio-Signature", "")
        url = f"{HOOKS}{request.path}"  # as sent: the query string exactly as encoded
        if request.query_string:
            url += "?" + request.query_string.decode()
        received.append(Hook(request.method, url, source.to_dict(), signature))
        return "", 204

    state.webhooks.register_wsgi(HOOKS, receiver)
    return received


def body(client: Client) -> Any:
    """The JSON body of the last response the SDK received."""
    return json.loads(client.http_client._test_only_last_response.text)


def status_of(client: Client) -> int:
    return client.http_client._test_only_last_response.status_code


def connect(state: FakeState, video: VideoBackend, room: str, *identities: str) -> list[Any]:
    with state.locked():
        return [video.connect_participant(room, identity) for identity in identities]


def python_error(state: FakeState, call: Any, *args: Any) -> TwilioError:
    with state.locked(), pytest.raises(TwilioError) as info:
        call(*args)
    return info.value


def rest_error(call: Any, *args: Any, **kwargs: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as info:
        call(*args, **kwargs)
    return info.value


# -- create -------------------------------------------------------------------------------
def test_create_room_defaults(client: Client) -> None:
    room = client.video.v1.rooms.create()
    payload = body(client)
    assert status_of(client) == 201
    schemas.validate("twilio/room", payload)
    assert set(payload) == ROOM_KEYS
    assert re.fullmatch(r"RM[0-9a-f]{32}", room.sid)
    assert payload["unique_name"] == room.sid
    assert payload["status"] == "in-progress"
    assert payload["type"] == "group"
    assert payload["account_sid"] == DEFAULT_ACCOUNT_SID
    assert payload["max_participants"] == 50
    assert payload["max_participant_duration"] == 14400
    assert payload["max_concurrent_published_tracks"] == 170
    assert payload["empty_room_timeout"] == payload["unused_room_timeout"] == 5
    assert payload["video_codecs"] == ["VP8"]
    assert payload["media_region"] == "us1"
    assert payload["enable_turn"] is True
    assert payload["audio_only"] is payload["large_room"] is False
    assert payload["record_participants_on_connect"] is False
    assert payload["status_callback"] is None and payload["status_callback_method"] == "POST"
    assert payload["end_time"] is None and payload["duration"] is None
    assert DATETIME_RE.match(payload["date_created"]) and DATETIME_RE.match(payload["date_updated"])
    base = f"https://video.twilio.com/v1/Rooms/{room.sid}"
    assert payload["url"] == base
    assert payload["links"] == {
        "participants": f"{base}/Participants",
        "recordings": f"{base}/Recordings",
        "transcriptions": f"{base}/Transcriptions",
        "recording_rules": f"{base}/RecordingRules",
    }


def test_create_room_every_field(client: Client, state: FakeState, hooks: list[Hook]) -> None:
    rules = {"rules": [{"type": "include", "all": True}]}
    transcriptions = {"languageCode": "en-US", "partialResults": True}
    room = client.video.v1.rooms.create(
        type="group",
        unique_name="town-hall",
        status_callback=f"{HOOKS}/rooms",
        status_callback_method="GET",
        max_participants=10,
        record_participants_on_connect=True,
        transcribe_participants_on_connect=True,
        transcriptions_configuration=transcriptions,
        video_codecs=["VP8", "H264"],
        media_region="ie1",
        recording_rules=rules,
        audio_only=False,
        max_participant_duration=3600,
        empty_room_timeout=10,
        unused_room_timeout=15,
        large_room=True,
        enable_turn=False,
    )
    schemas.validate("twilio/room", body(client))
    assert (room.unique_name, room.type, room.media_region) == ("town-hall", "group", "ie1")
    assert (room.status_callback, room.status_callback_method) == (f"{HOOKS}/rooms", "GET")
    assert (room.max_participants, room.max_participant_duration) == (10, 3600)
    assert (room.empty_room_timeout, room.unused_room_timeout) == (10, 15)
    assert room.record_participants_on_connect is True and room.large_room is True
    assert room.max_concurrent_published_tracks == 16
    assert room.video_codecs == ["VP8", "H264"]
    assert room.enable_turn is True  # deprecated: always true
    (dumped,) = state.dump(product="video")[DEFAULT_ACCOUNT_SID]["video"]["rooms"]
    assert dumped["recording_rules"] == rules
    assert dumped["transcriptions_configuration"] == transcriptions
    assert dumped["transcribe_participants_on_connect"] is True
    assert [hook.event for hook in hooks] == ["room-created"]


@pytest.mark.parametrize(
    ("room_type", "max_participants", "tracks"),
    [("group", 50, 170), ("group-small", 4, 170), ("peer-to-peer", 10, 0), ("go", 2, 0)],
)
def test_room_type_defaults(client: Client, room_type: str, max_participants: int, tracks: int):
    room = client.video.v1.rooms.create(type=room_type)
    assert room.type == room_type
    assert room.max_participants == max_participants
    assert room.max_concurrent_published_tracks == tracks


def test_audio_only_room_has_no_video_codecs(client: Client) -> None:
    room = client.video.v1.rooms.create(audio_only=True, video_codecs=["H264"])
    assert room.audio_only is True and room.video_codecs == []


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"type": "conference"}, 53108),
        ({"max_participants": 51}, 53107),
        ({"max_participants": 0}, 53107),
        ({"type": "peer-to-peer", "max_participants": 11}, 53107),
        ({"type": "go", "max_participants": 3}, 53107),
        ({"status_callback": "not-a-url"}, 53111),
        ({"status_callback": "ftp://hooks.example.test/x"}, 53111),
        ({"status_callback_method": "PUT"}, 53110),
        ({"max_participant_duration": 599}, 53123),
        ({"max_participant_duration": 86401}, 53123),
        ({"empty_room_timeout": 0}, 53109),
        ({"unused_room_timeout": 61}, 53109),
        ({"type": "peer-to-peer", "audio_only": True}, 53124),
        ({"type": "go", "record_participants_on_connect": True}, 53122),
        ({"unique_name": "x" * 129}, 53101),
        ({"recording_rules": {"rules": [{"type": "maybe", "all": True}]}}, 53120),
        ({"media_region": "mars1"}, 53103),
        ({"type": "group-small", "large_room": True}, 53103),
    ],
)
def test_create_room_rejections(
    client: Client, video: VideoBackend, fields: dict[str, Any], code: int
) -> None:
    error = rest_error(client.video.v1.rooms.create, **fields)
    assert (error.status, error.code) == (400, code)
    assert video.dump() == {"rooms": []}  # a rejected request changes nothing


def test_unique_name_clash_and_reuse_after_completion(client: Client, hooks: list[Hook]) -> None:
    first = client.video.v1.rooms.create(unique_name="standup", status_callback=f"{HOOKS}/r")
    error = rest_error(
        client.video.v1.rooms.create, unique_name="standup", status_callback=f"{HOOKS}/r"
    )
    assert (error.status, error.code) == (400, 53113)
    assert error.msg.endswith("Room exists")
    assert [hook.event for hook in hooks] == ["room-created"]  # nothing for the rejected one
    client.video.v1.rooms(first.sid).update(status="completed")
    second = client.video.v1.rooms.create(unique_name="standup")
    assert second.sid != first.sid
    assert client.video.v1.rooms("standup").fetch().sid == second.sid
    named = client.video.v1.rooms.list(unique_name="standup", status="completed")
    assert [room.sid for room in named] == [first.sid]


# -- fetch, update, list ------------------------------------------------------------------
def test_fetch_by_sid_and_name(client: Client) -> None:
    room = client.video.v1.rooms.create(unique_name="daily")
    assert client.video.v1.rooms(room.sid).fetch().unique_name == "daily"
    assert client.video.v1.rooms("daily").fetch().sid == room.sid
    schemas.validate("twilio/room", body(client))
    error = rest_error(client.video.v1.rooms("RM" + "0" * 32).fetch)
    assert (error.status, error.code) == (404, 20404)


def test_completed_room_by_name_is_404_but_by_sid_is_found(client: Client, frozen: datetime):
    room = client.video.v1.rooms.create(unique_name="retro")
    updated = client.video.v1.rooms("retro").update(status="completed")
    assert status_of(client) == 202  # Twilio's current spec (fake_twilio/video/routes.py)
    assert updated.status == "completed" and updated.duration == 0
    assert DATETIME_RE.match(body(client)["end_time"])
    error = rest_error(client.video.v1.rooms("retro").fetch)
    assert (error.status, error.code) == (404, 20404)
    assert client.video.v1.rooms(room.sid).fetch().status == "completed"


def test_completion_sets_end_time_and_duration(
    client: Client, state: FakeState, frozen: datetime
) -> None:
    room = client.video.v1.rooms.create()
    state.advance_clock(90)
    done = client.video.v1.rooms(room.sid).update(status="completed")
    assert done.end_time == frozen + timedelta(seconds=90)
    assert done.date_updated == done.end_time
    assert done.duration == 90


def test_update_room_errors(client: Client) -> None:
    room = client.video.v1.rooms.create()
    error = rest_error(client.video.v1.rooms(room.sid).update, status=None)
    assert (error.status, error.code) == (400, 20001)
    assert "Status" in error.msg
    for status in ("in-progress", "failed", "bogus"):
        error = rest_error(client.video.v1.rooms(room.sid).update, status=status)
        assert (error.status, error.code) == (400, 53112)
    assert client.video.v1.rooms(room.sid).fetch().status == "in-progress"
    client.video.v1.rooms(room.sid).update(status="completed")
    error = rest_error(client.video.v1.rooms(room.sid).update, status="completed")
    assert (error.status, error.code) == (400, 53112)
    error = rest_error(client.video.v1.rooms("RM" + "1" * 32).update, status="completed")
    assert (error.status, error.code) == (404, 20404)


def test_list_filters_and_order(client: Client, state: FakeState, frozen: datetime) -> None:
    sids = []
    for index in range(4):
        created = client.video.v1.rooms.create(unique_name=f"room-{index}", unused_room_timeout=60)
        sids.append(created.sid)
        state.advance_clock(600)
    client.video.v1.rooms(sids[0]).update(status="completed")
    rooms = client.video.v1.rooms.list()
    assert [room.sid for room in rooms] == sids[:0:-1]  # in-progress by default, newest first
    schemas.validate("twilio/room-page", body(client))
    assert [r.sid for r in client.video.v1.rooms.list(status="completed")] == [sids[0]]
    assert [r.sid for r in client.video.v1.rooms.list(unique_name="room-2")] == [sids[2]]
    window = client.video.v1.rooms.list(
        date_created_after=frozen + timedelta(minutes=10),
        date_created_before=frozen + timedelta(minutes=30),
    )
    assert [room.sid for room in window] == [sids[2], sids[1]]
    assert client.video.v1.rooms.list(status="failed") == []


def test_list_paging_across_three_pages(client: Client) -> None:
    sids = [client.video.v1.rooms.create(unique_name=f"p{i}").sid for i in range(5)]
    expected = sids[::-1]
    assert [room.sid for room in client.video.v1.rooms.list(page_size=2)] == expected
    assert [room.sid for room in client.video.v1.rooms.stream(page_size=2)] == expected
    page = client.video.v1.rooms.page(status="in-progress", page_size=2)
    pages = []
    while page is not None:
        schemas.validate("twilio/room-page", body(client))
        pages.append(body(client)["meta"])
        page = page.next_page()
    assert [len(meta) and meta["page"] for meta in pages] == [0, 1, 2]
    assert pages[2]["next_page_url"] is None
    for meta in pages[:2]:  # the filters travel in the absolute next_page_url
        assert meta["next_page_url"].startswith("https://video.twilio.com/v1/Rooms?")
        assert "Status=in-progress" in meta["next_page_url"]
        assert "PageToken=" in meta["next_page_url"]


def test_list_rejects_bad_query(client: Client) -> None:
    for query, code in (
        ({"Status": "bogus"}, 20001),
        ({"PageSize": "0"}, 20001),
        ({"PageSize": "1001"}, 20007),  # Twilio's "Page size too large"
        ({"Colour": "red"}, 20001),
    ):
        response = client.request("GET", "https://video.twilio.com/v1/Rooms", params=query)
        assert response.status_code == 400
        assert json.loads(response.text)["code"] == code, query


# -- protocol-level errors and authentication -----------------------------------------------
def test_unknown_parameter_is_refused(client: Client, video: VideoBackend) -> None:
    url = "https://video.twilio.com/v1/Rooms"
    response = client.request("POST", url, data={"UniqueName": "x", "Colour": "red"})
    assert response.status_code == 400
    assert json.loads(response.text)["code"] == 20001
    assert video.dump() == {"rooms": []}


def test_bad_credentials(fake_app: Flask) -> None:
    bad = Client(DEFAULT_ACCOUNT_SID, "wrong", http_client=WSGITwilioHttpClient(fake_app))
    error = rest_error(bad.video.v1.rooms.create)
    assert (error.status, error.code) == (401, 20003)


def test_api_key_authentication(fake_app: Flask) -> None:
    client = sdk_client(fake_app, api_key=True)
    room = client.video.v1.rooms.create(unique_name="keyed")
    assert room.account_sid == DEFAULT_ACCOUNT_SID
    assert client.video.v1.rooms("keyed").fetch().sid == room.sid


# -- participants ---------------------------------------------------------------------------
def test_participants_through_rest(client: Client, state: FakeState, video: VideoBackend):
    room = client.video.v1.rooms.create(unique_name="stage")
    alice, bob = connect(state, video, "stage", "alice", "bob")
    listed = client.video.v1.rooms("stage").participants.list()
    assert [p.sid for p in listed] == [alice.sid, bob.sid]
    payload = body(client)
    schemas.validate("twilio/room-participant-page", payload)
    assert set(payload["participants"][0]) == PARTICIPANT_KEYS
    fetched = client.video.v1.rooms(room.sid).participants("alice").fetch()
    assert (fetched.sid, fetched.status, fetched.room_sid) == (alice.sid, "connected", room.sid)
    assert fetched.duration is None and fetched.end_time is None
    schemas.validate("twilio/room-participant", body(client))
    assert client.video.v1.rooms("stage").participants(bob.sid).fetch().identity == "bob"
    by_identity = client.video.v1.rooms("stage").participants.list(identity="bob")
    assert [p.sid for p in by_identity] == [bob.sid]

    gone = client.video.v1.rooms("stage").participants("bob").update(status="disconnected")
    assert status_of(client) == 202
    assert (gone.sid, gone.status, gone.duration) == (bob.sid, "disconnected", 0)
    assert [p.sid for p in client.video.v1.rooms("stage").participants.list()] == [alice.sid]
    left = client.video.v1.rooms("stage").participants.list(status="disconnected")
    assert [p.sid for p in left] == [bob.sid]
    error = rest_error(client.video.v1.rooms("stage").participants("bob").fetch)
    assert (error.status, error.code) == (404, 20404)
    assert client.video.v1.rooms("stage").participants(bob.sid).fetch().status == "disconnected"

    client.video.v1.rooms("stage").update(status="completed")
    ended = client.video.v1.rooms(room.sid).participants.list()
    assert {p.sid for p in ended} == {alice.sid, bob.sid}
    assert all(p.status == "disconnected" for p in ended)
    assert client.video.v1.rooms(room.sid).participants.list(status="connected") == []


def test_participant_filters_and_paging(
    client: Client, state: FakeState, video: VideoBackend, frozen: datetime
) -> None:
    room = client.video.v1.rooms.create()
    joined = []
    for index in range(5):
        joined += connect(state, video, room.sid, f"user-{index}")
        state.advance_clock(60)
    sids = [p.sid for p in joined]
    participants = client.video.v1.rooms(room.sid).participants
    assert [p.sid for p in participants.list(page_size=2)] == sids
    assert [p.sid for p in participants.stream(page_size=2)] == sids
    window = participants.list(
        date_created_after=frozen + timedelta(minutes=1),
        date_created_before=frozen + timedelta(minutes=3),
    )
    assert [p.sid for p in window] == sids[1:3]


def test_participant_update_errors(client: Client, state: FakeState, video: VideoBackend):
    room = client.video.v1.rooms.create()
    connect(state, video, room.sid, "alice")
    for status in ("connected", "reconnecting", None):
        error = rest_error(client.video.v1.rooms(room.sid).participants("alice").update, status)
        assert (error.status, error.code) == (400, 53209)
    assert video.participants(room.sid)[0].status == "connected"
    error = rest_error(
        client.video.v1.rooms(room.sid).participants("carol").update, status="disconnected"
    )
    assert (error.status, error.code) == (404, 20404)
    url = "https://video.twilio.com/v1/Rooms/nowhere/Participants"
    response = client.request("GET", url)
    assert response.status_code == 404
    assert json.loads(response.text)["code"] == 20404


def test_connect_errors(client: Client, state: FakeState, video: VideoBackend) -> None:
    room = client.video.v1.rooms.create(type="go", unique_name="go-room")
    assert python_error(state, video.connect_participant, "RM" + "2" * 32, "a").code == 53106
    assert python_error(state, video.connect_participant, room.sid, "").code == 53200
    assert python_error(state, video.connect_participant, room.sid, "x" * 122).code == 53201
    connect(state, video, room.sid, "a", "x" * 121)
    assert python_error(state, video.connect_participant, room.sid, "c").code == 53105
    connect(state, video, room.sid, "a")  # a duplicate identity replaces, so it still fits
    assert python_error(state, video.disconnect_participant, room.sid, "c").code == 53204
    client.video.v1.rooms(room.sid).update(status="completed")
    assert python_error(state, video.connect_participant, room.sid, "c").code == 53118
    assert python_error(state, video.connect_participant, room.unique_name, "c").code == 53106


def test_duplicate_identity_disconnects_the_old_participant(
    client: Client, state: FakeState, video: VideoBackend, hooks: list[Hook]
) -> None:
    room = client.video.v1.rooms.create(status_callback=f"{HOOKS}/rooms")
    (old,) = connect(state, video, room.sid, "alice")
    (new,) = connect(state, video, room.sid, "alice")
    assert old.status == "disconnected" and old.disconnect_code == 53205
    assert new.status == "connected" and new.disconnect_code is None
    assert [p.sid for p in client.video.v1.rooms(room.sid).participants.list()] == [new.sid]
    assert client.video.v1.rooms(room.sid).participants("alice").fetch().sid == new.sid
    events = [(h.event, h.params.get("ParticipantSid")) for h in hooks]
    assert events == [
        ("room-created", None),
        ("participant-connected", old.sid),
        ("participant-disconnected", old.sid),
        ("participant-connected", new.sid),
    ]


def test_python_level_interface(client: Client, state: FakeState, video: VideoBackend) -> None:
    room = client.video.v1.rooms.create(unique_name="py")
    composer, viewer = connect(state, video, "py", "video-composer-ZX123", "viewer")
    with state.locked():
        assert video.get_room("py") is video.get_room(room.sid)
        assert video.get_room("py").status == "in-progress"
        assert [p.identity for p in video.participants("py")] == ["video-composer-ZX123", "viewer"]
        assert video.disconnect_participant("py", viewer.sid) is viewer
        assert video.participants("py", None) == [composer, viewer]
        assert video.participants("py", "disconnected") == [viewer]
        assert video.complete_room("py").status == "completed"
    assert python_error(state, video.get_room, "py").code == 20404
    assert composer.status == "disconnected"
    dumped = state.dump(product="video")[DEFAULT_ACCOUNT_SID]["video"]["rooms"]
    assert [p["identity"] for p in dumped[0]["participants"]] == [composer.identity, "viewer"]
    assert dumped[0]["end_reason"] == "completed-via-api"


# -- time -----------------------------------------------------------------------------------
def test_unused_room_timeout(
    client: Client, state: FakeState, frozen: datetime, hooks: list[Hook]
) -> None:
    room = client.video.v1.rooms.create(unused_room_timeout=2, status_callback=f"{HOOKS}/r")
    state.advance_clock(119)
    assert client.video.v1.rooms(room.sid).fetch().status == "in-progress"
    state.advance_clock(1)
    ended = client.video.v1.rooms(room.sid).fetch()
    assert ended.status == "completed"
    assert ended.end_time == ended.date_updated == frozen + timedelta(minutes=2)
    assert ended.duration == 120
    assert [hook.event for hook in hooks] == ["room-created", "room-ended"]
    assert hooks[-1].params["RoomDuration"] == "120"


def test_empty_room_timeout(
    client: Client, state: FakeState, video: VideoBackend, frozen: datetime
) -> None:
    room = client.video.v1.rooms.create(empty_room_timeout=1, unused_room_timeout=1)
    connect(state, video, room.sid, "alice")
    state.advance_clock(600)  # the unused timeout does not apply once someone joined
    with state.locked():
        video.disconnect_participant(room.sid, "alice")
    state.advance_clock(30)
    connect(state, video, room.sid, "bob")  # rejoining cancels the pending empty timeout
    with state.locked():
        video.disconnect_participant(room.sid, "bob")
    state.advance_clock(59)
    assert client.video.v1.rooms(room.sid).fetch().status == "in-progress"
    state.advance_clock(1)
    ended = client.video.v1.rooms(room.sid).fetch()
    assert ended.status == "completed"
    assert ended.end_time == frozen + timedelta(seconds=600 + 30 + 60)


def test_max_participant_duration(
    client: Client, state: FakeState, video: VideoBackend, frozen: datetime, hooks: list[Hook]
) -> None:
    room = client.video.v1.rooms.create(max_participant_duration=600, status_callback=f"{HOOKS}/r")
    (alice,) = connect(state, video, room.sid, "alice")
    state.advance_clock(599)
    assert alice.status == "connected"
    state.advance_clock(1)
    fetched = client.video.v1.rooms(room.sid).participants(alice.sid).fetch()
    assert (fetched.status, fetched.duration) == ("disconnected", 600)
    assert alice.disconnect_code == 53216
    assert hooks[-1].event == "participant-disconnected"
    assert hooks[-1].params["ParticipantDuration"] == "600"
    state.advance_clock(300)  # then the default 5-minute empty timeout ends the room
    assert client.video.v1.rooms(room.sid).fetch().status == "completed"


# -- status callbacks -----------------------------------------------------------------------
def test_status_callbacks_order_fields_and_signatures(
    client: Client, state: FakeState, video: VideoBackend, frozen: datetime, hooks: list[Hook]
) -> None:
    url = f"{HOOKS}/rooms-webhook"
    room = client.video.v1.rooms.create(unique_name="cb", type="group", status_callback=url)
    alice, bob = connect(state, video, "cb", "alice", "bob")
    state.advance_clock(10)
    with state.locked():
        video.disconnect_participant("cb", "bob")
    state.advance_clock(5)
    client.video.v1.rooms("cb").update(status="completed")

    assert [(h.event, h.params.get("ParticipantIdentity")) for h in hooks] == [
        ("room-created", None),
        ("participant-connected", "alice"),
        ("participant-connected", "bob"),
        ("participant-disconnected", "bob"),
        ("participant-disconnected", "alice"),
        ("room-ended", None),
    ]
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    for number, hook in enumerate(hooks):
        assert hook.method == "POST" and hook.url == url
        assert validator.validate(url, hook.params, hook.signature)
        schemas.validate("protocol/webhook.rooms", hook.params)
        assert hook.params["SequenceNumber"] == str(number)
        assert hook.params["AccountSid"] == DEFAULT_ACCOUNT_SID
        assert (hook.params["RoomSid"], hook.params["RoomName"]) == (room.sid, "cb")
        assert hook.params["RoomType"] == "group"
        assert TIMESTAMP_RE.match(hook.params["Timestamp"])
    created, connected, _, bob_left, alice_left, ended = hooks
    assert set(created.params) == ROOM_EVENT_KEYS
    assert set(connected.params) == PARTICIPANT_EVENT_KEYS
    assert connected.params["ParticipantSid"] == alice.sid
    assert connected.params["ParticipantStatus"] == "connected"
    assert set(bob_left.params) == PARTICIPANT_EVENT_KEYS | {"ParticipantDuration"}
    assert bob_left.params["ParticipantStatus"] == "disconnected"
    assert (bob_left.params["ParticipantSid"], bob_left.params["ParticipantDuration"]) == (
        bob.sid,
        "10",
    )
    assert alice_left.params["ParticipantDuration"] == "15"
    assert alice_left.params["RoomStatus"] == "in-progress"
    assert set(ended.params) == ROOM_EVENT_KEYS | {"RoomDuration"}
    assert (ended.params["RoomStatus"], ended.params["RoomDuration"]) == ("completed", "15")
    assert ended.params["Timestamp"] == "2026-01-01T00:00:15.000Z"


def test_status_callback_with_get(client: Client, hooks: list[Hook]) -> None:
    url = f"{HOOKS}/rooms?tenant=a"
    client.video.v1.rooms.create(status_callback=url, status_callback_method="GET")
    (hook,) = hooks
    assert hook.method == "GET" and hook.event == "room-created"
    assert hook.params["tenant"] == "a"
    assert RequestValidator(DEFAULT_AUTH_TOKEN).validate(hook.url, {}, hook.signature)


def test_no_callback_without_status_callback(
    client: Client, state: FakeState, video: VideoBackend, hooks: list[Hook]
) -> None:
    room = client.video.v1.rooms.create()
    connect(state, video, room.sid, "alice")
    client.video.v1.rooms(room.sid).update(status="completed")
    assert hooks == []


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail loudly if anything tries a real socket."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("test_video must not touch the network")

    monkeypatch.setattr("socket.socket.connect", refuse)
    yield
