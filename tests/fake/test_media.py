"""Media v1 (Twilio Live) through the current SDK: ``client.request`` via ``media_request``.

twilio 9.13.0 has no typed Media resources, so every call goes through the SDK's generic
``client.request`` as a current backend must; the typed 9.0.2 resources are exercised in
``test_media_legacy_sdk.py``. Bodies are validated against ``schemas/twilio``.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from flask import Flask
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

import schemas
from fake_twilio import TwilioError, state_of
from fake_twilio.testing import media_request, sdk_client

HOOKS = "https://hooks.example.test"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
STREAMER_KEYS = set(schemas.load("twilio/player-streamer")["required"])
PROCESSOR_KEYS = set(schemas.load("twilio/media-processor")["required"])


# -- helpers ---------------------------------------------------------------------------------
def raw(client: Client, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    """(HTTP status, decoded body) of a Media v1 call made with ``client.request``."""
    response = client.request(
        method,
        f"https://media.twilio.com/v1{path}",
        data=data if method == "POST" else None,
        params=data if method == "GET" else None,
    )
    return response.status_code, json.loads(response.text)


def streamer(client: Client, **form: Any) -> dict[str, Any]:
    body = media_request(client, "POST", "/PlayerStreamers", form)
    schemas.validate("twilio/player-streamer", body)
    return body


def composer(client: Client, room: str, outputs: list[str], **form: Any) -> dict[str, Any]:
    context = json.dumps({"room": {"name": room}, "outputs": outputs, "resolution": "1920x1080"})
    form = {"Extension": "video-composer-v2", "ExtensionContext": context, **form}
    body = media_request(client, "POST", "/MediaProcessors", form)
    schemas.validate("twilio/media-processor", body)
    return body


def get(client: Client, path: str) -> dict[str, Any]:
    return media_request(client, "GET", path)


def fails(code: int, status: int, call: Any, *args: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as info:
        call(*args)
    assert (info.value.code, info.value.status) == (code, status), info.value.msg
    return info.value


@pytest.fixture
def hooks(fake_app: Flask) -> Any:
    """Status callbacks to ``HOOKS`` are answered in-process (no network)."""

    def receiver(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    state_of(fake_app).webhooks.register_wsgi(HOOKS, receiver)
    return state_of(fake_app).webhooks


def events(webhooks: Any, url: str) -> list[dict[str, str]]:
    """The parameters of every status callback delivered to ``url``, oldest first."""
    return [r.params for r in webhooks.records() if r.url == url]


def room_events(webhooks: Any) -> list[tuple[str, str | None]]:
    return [
        (e["StatusCallbackEvent"], e.get("ParticipantIdentity"))
        for e in events(webhooks, f"{HOOKS}/rooms")
    ]


def media_dump(app: Flask) -> dict[str, Any]:
    state = state_of(app)
    return state.dump(product="media")[state.default_credentials.account_sid]["media"]


# -- PlayerStreamers -------------------------------------------------------------------------
def test_player_streamer_create_fetch_defaults(client: Client) -> None:
    status, body = raw(client, "POST", "/PlayerStreamers")
    assert status == 201
    schemas.validate("twilio/player-streamer", body)
    assert set(body) == STREAMER_KEYS
    assert body["sid"].startswith("VJ") and body["status"] == "created"
    assert (body["video"], body["max_duration"], body["ended_reason"]) == (True, 300, None)
    assert DATE_RE.match(body["date_created"]) and DATE_RE.match(body["date_updated"])
    assert body["url"] == f"https://media.twilio.com/v1/PlayerStreamers/{body['sid']}"
    assert body["links"]["playback_grant"] == body["url"] + "/PlaybackGrant"
    assert get(client, f"/PlayerStreamers/{body['sid']}") == body


def test_player_streamer_create_all_parameters(client: Client) -> None:
    body = streamer(
        client,
        Video="false",
        StatusCallback=f"{HOOKS}/ps",
        StatusCallbackMethod="get",
        MaxDuration="90000",
    )
    assert body["video"] is False and body["max_duration"] == 90000
    assert (body["status_callback"], body["status_callback_method"]) == (f"{HOOKS}/ps", "GET")
    assert streamer(client, MaxDuration=1)["max_duration"] == 1


@pytest.mark.parametrize(
    "form",
    [
        {"MaxDuration": "0"},
        {"MaxDuration": "90001"},
        {"MaxDuration": "ten"},
        {"Video": "maybe"},
        {"StatusCallback": "not a url"},
        {"StatusCallbackMethod": "FETCH"},
        {"UniqueName": "nope"},
    ],
)
def test_player_streamer_create_rejects(client: Client, form: dict) -> None:
    fails(20001, 400, media_request, client, "POST", "/PlayerStreamers", form)
    assert get(client, "/PlayerStreamers")["player_streamers"] == []


def test_error_body_shape(client: Client) -> None:
    status, body = raw(client, "GET", "/PlayerStreamers/VJ" + "0" * 32)
    assert status == 404
    schemas.validate("twilio/error", body)
    assert body["code"] == 20404 and body["status"] == 404
    assert body["more_info"] == "https://www.twilio.com/docs/errors/20404"


@pytest.mark.parametrize("value", ["ended", "ENDED", "Ended"])
def test_player_streamer_end_any_case_is_idempotent(client: Client, value: str) -> None:
    sid = streamer(client)["sid"]
    status, ended = raw(client, "POST", f"/PlayerStreamers/{sid}", {"Status": value})
    assert status == 200
    schemas.validate("twilio/player-streamer", ended)
    assert (ended["status"], ended["ended_reason"]) == ("ended", "ended-via-api")
    again = media_request(client, "POST", f"/PlayerStreamers/{sid}", {"Status": "ended"})
    assert again == ended


def test_player_streamer_update_rejects(client: Client) -> None:
    sid = streamer(client)["sid"]
    path = f"/PlayerStreamers/{sid}"
    for form in ({"Status": "started"}, {"Status": "bogus"}, {"Status": "ended", "Video": "1"}):
        fails(20001, 400, media_request, client, "POST", path, form)
    error = fails(20001, 400, media_request, client, "POST", path, {})
    assert "Missing required parameter Status" in error.msg
    assert get(client, path)["status"] == "created"


def test_unknown_sids_are_20404(client: Client) -> None:
    for path in ("/PlayerStreamers/VJ" + "a" * 32, "/MediaProcessors/ZX" + "a" * 32):
        fails(20404, 404, get, client, path)
        fails(20404, 404, media_request, client, "POST", path, {"Status": "ended"})
    fails(20404, 404, media_request, client, "POST", f"/PlayerStreamers/VJ{'a' * 32}/PlaybackGrant")
    fails(20404, 404, get, client, "/PlayerStreamers/nonsense")
    fails(20004, 405, media_request, client, "DELETE", "/PlayerStreamers/VJ" + "a" * 32)


def test_player_streamer_list_order_status_and_paging(client: Client) -> None:
    sids = [streamer(client)["sid"] for _ in range(5)]
    media_request(client, "POST", f"/PlayerStreamers/{sids[1]}", {"Status": "ended"})
    status, page = raw(client, "GET", "/PlayerStreamers")
    assert status == 200
    schemas.validate("twilio/player-streamer-page", page)
    assert [s["sid"] for s in page["player_streamers"]] == sids[::-1]
    asc = get(client, "/PlayerStreamers?Order=asc")
    assert [s["sid"] for s in asc["player_streamers"]] == sids
    ended = media_request(client, "GET", "/PlayerStreamers", {"Status": "ENDED"})
    assert [s["sid"] for s in ended["player_streamers"]] == [sids[1]]
    seen: list[str] = []
    url = "https://media.twilio.com/v1/PlayerStreamers?Status=created&Order=asc&PageSize=2"
    while url:
        page = json.loads(client.request("GET", url).text)
        schemas.validate("twilio/player-streamer-page", page)
        seen += [s["sid"] for s in page["player_streamers"]]
        url = page["meta"]["next_page_url"]
    assert seen == [sids[0], *sids[2:]]
    for query in ({"Status": "running"}, {"Order": "up"}, {"PageSize": "0"}, {"Foo": "1"}):
        fails(20001, 400, media_request, client, "GET", "/PlayerStreamers", query)
    fails(20007, 400, media_request, client, "GET", "/PlayerStreamers", {"PageSize": "1001"})


# -- PlaybackGrant ---------------------------------------------------------------------------
def test_playback_grant(fake_app: Flask, client: Client) -> None:
    sid = streamer(client)["sid"]
    path = f"/PlayerStreamers/{sid}/PlaybackGrant"
    status, body = raw(client, "POST", path, {"Ttl": "60", "AccessControlAllowOrigin": "*"})
    assert status == 201
    schemas.validate("twilio/playback-grant", body)
    assert set(body) == {"sid", "url", "account_sid", "date_created", "grant"}
    assert body["sid"] == sid and body["url"] == f"https://media.twilio.com/v1{path}"
    grant = body["grant"]
    assert set(grant) == {"playbackUrl", "playerStreamerSid", "requestCredentials"}
    assert grant["playerStreamerSid"] == sid and grant["requestCredentials"] is None
    assert grant["playbackUrl"].startswith("https://") and sid in grant["playbackUrl"]
    other = media_request(client, "POST", path)["grant"]
    assert other["playbackUrl"] != grant["playbackUrl"]
    issued = media_dump(fake_app)["player_streamers"][sid]["playback_grants"]
    assert [g["ttl"] for g in issued] == [60, 15]  # Ttl defaults to 15 s
    for form in ({"Ttl": "0"}, {"Ttl": "61"}, {"Ttl": "x"}, {"Origin": "*"}):
        fails(20001, 400, media_request, client, "POST", path, form)
    error = fails(20004, 405, get, client, path)
    assert "not enabled" in error.msg


def test_playback_grant_refused_once_ended(client: Client) -> None:
    sid = streamer(client)["sid"]
    media_request(client, "POST", f"/PlayerStreamers/{sid}", {"Status": "ended"})
    fails(20409, 409, media_request, client, "POST", f"/PlayerStreamers/{sid}/PlaybackGrant")


def test_check_playback_grant_and_viewers(fake_app: Flask, client: Client) -> None:
    state = state_of(fake_app)
    state.clock.freeze()
    room = client.video.v1.rooms.create(unique_name="grant-room")
    sid = streamer(client)["sid"]
    path = f"/PlayerStreamers/{sid}/PlaybackGrant"
    early = media_request(client, "POST", path, {"Ttl": "5"})["grant"]
    backend = state.backend(state.default_credentials.account_sid, "media")
    with state.locked(), pytest.raises(TwilioError) as info:
        backend.check_playback_grant(early)  # genuine, but nothing is streaming yet
    assert info.value.code == 20409
    composer(client, room.sid, [sid])
    with state.locked():
        assert backend.check_playback_grant(early).sid == sid
        forged = [
            {**early, "playbackUrl": early["playbackUrl"] + "x"},
            {**early, "playerStreamerSid": "VJ" + "b" * 32},
            {**early, "requestCredentials": {"x": 1}},
            "not-a-grant",
        ]
        for bad in forged:
            with pytest.raises(TwilioError) as info:
                backend.check_playback_grant(bad)
            assert (info.value.code, info.value.status) == (20106, 401)
        viewer = backend.connect_viewer(sid, "alice")
        assert (viewer["status"], viewer["player_streamer_sid"]) == ("connected", sid)
        assert backend.connect_viewer(sid, "alice")["connections"] == 2
        backend.connect_viewer(sid, "bob")
        assert backend.disconnect_viewer(sid, "bob")["status"] == "disconnected"
        assert backend.disconnect_viewer(sid, "bob")["status"] == "disconnected"
        with pytest.raises(TwilioError) as info:
            backend.disconnect_viewer(sid, "carol")
        assert info.value.code == 20404
        assert [v["identity"] for v in backend.viewers(sid)] == ["alice"]
    state.advance_clock(6)
    with state.locked(), pytest.raises(TwilioError) as info:
        backend.check_playback_grant(early)
    assert (info.value.code, info.value.status) == (20104, 401)
    fresh = media_request(client, "POST", path)["grant"]
    media_request(client, "POST", f"/PlayerStreamers/{sid}", {"Status": "ended"})
    with state.locked():
        with pytest.raises(TwilioError) as info:
            backend.check_playback_grant(fresh)
        assert info.value.code == 20409
        assert backend.viewers(sid) == []  # ending the stream disconnects its players
    viewers = media_dump(fake_app)["player_streamers"][sid]["viewers"]
    assert {(v["identity"], v["status"]) for v in viewers} == {
        ("alice", "disconnected"),
        ("bob", "disconnected"),
    }


def test_grant_from_another_account_is_rejected(fake_app: Flask, client: Client) -> None:
    state = state_of(fake_app)
    other = state.accounts.create("second")
    other_client = sdk_client(fake_app, account_sid=other.account_sid)
    sid = streamer(other_client)["sid"]
    grant = media_request(other_client, "POST", f"/PlayerStreamers/{sid}/PlaybackGrant")["grant"]
    fails(20404, 404, get, client, f"/PlayerStreamers/{sid}")  # accounts are isolated
    with state.locked(), pytest.raises(TwilioError) as info:
        state.backend(state.default_credentials.account_sid, "media").check_playback_grant(grant)
    assert info.value.code == 20106


# -- MediaProcessors -------------------------------------------------------------------------
def test_media_processor_create_fetch_end_list(client: Client) -> None:
    context = '{"anything": [1, 2]}'
    form = {"Extension": "my-extension", "ExtensionContext": context}
    status, body = raw(client, "POST", "/MediaProcessors", {**form, "MaxDuration": "1800"})
    assert status == 201
    schemas.validate("twilio/media-processor", body)
    assert set(body) == PROCESSOR_KEYS and body["sid"].startswith("ZX")
    assert body["status"] == "started" and body["max_duration"] == 1800
    assert body["extension_context"] == context  # passed through unchanged
    assert get(client, f"/MediaProcessors/{body['sid']}") == body
    second = media_request(client, "POST", "/MediaProcessors", form)
    ended = media_request(client, "POST", f"/MediaProcessors/{body['sid']}", {"Status": "ENDED"})
    assert (ended["status"], ended["ended_reason"]) == ("ended", "ended-via-api")
    again = media_request(client, "POST", f"/MediaProcessors/{body['sid']}", {"Status": "ended"})
    assert again == ended
    page = get(client, "/MediaProcessors")
    schemas.validate("twilio/media-processor-page", page)
    assert [p["sid"] for p in page["media_processors"]] == [second["sid"], body["sid"]]
    started = get(client, "/MediaProcessors?Status=started&Order=asc")["media_processors"]
    assert [p["sid"] for p in started] == [second["sid"]]
    path = f"/MediaProcessors/{second['sid']}"
    fails(20001, 400, media_request, client, "POST", path, {"Status": "failed"})


@pytest.mark.parametrize(
    ("form", "needle"),
    [
        ({"ExtensionContext": "{}"}, "Missing required parameter Extension"),
        ({"Extension": "x"}, "Missing required parameter ExtensionContext"),
        ({"Extension": "x", "ExtensionContext": "{not json"}, "ExtensionContext"),
        ({"Extension": "x", "ExtensionContext": "[1]"}, "ExtensionContext"),
        ({"Extension": "x", "ExtensionContext": "{}", "ExtensionEnvironment": "{"}, "Environment"),
        ({"Extension": "x", "ExtensionContext": "{}", "MaxDuration": "0"}, "MaxDuration"),
        ({"Extension": "x", "ExtensionContext": "{}", "MaxDuration": "90001"}, "MaxDuration"),
        ({"Extension": "video-composer-v2", "ExtensionContext": '{"outputs": ["VJ1"]}'}, "room"),
        (
            {"Extension": "video-composer-v2", "ExtensionContext": '{"room": {"name": "r"}}'},
            "outputs",
        ),
        ({"Extension": "x", "ExtensionContext": "{}", "Room": "r"}, "Room"),
    ],
)
def test_media_processor_create_rejects(client: Client, form: dict, needle: str) -> None:
    error = fails(20001, 400, media_request, client, "POST", "/MediaProcessors", form)
    assert needle in error.msg
    assert get(client, "/MediaProcessors")["media_processors"] == []


def test_composer_joins_room_and_drives_streamer(
    fake_app: Flask, client: Client, hooks: Any
) -> None:
    room = client.video.v1.rooms.create(unique_name="show", status_callback=f"{HOOKS}/rooms")
    ps = streamer(client, StatusCallback=f"{HOOKS}/ps", MaxDuration=1800)
    mp = composer(client, "show", [ps["sid"]], StatusCallback=f"{HOOKS}/mp")
    assert mp["status"] == "started"
    assert get(client, f"/PlayerStreamers/{ps['sid']}")["status"] == "started"
    identity = f"video-composer-{mp['sid']}"
    connected = client.video.v1.rooms(room.sid).participants.list(status="connected")
    assert [p.identity for p in connected] == [identity]
    assert ("participant-connected", identity) in room_events(hooks)

    media_request(client, "POST", f"/MediaProcessors/{mp['sid']}", {"Status": "ended"})
    assert client.video.v1.rooms(room.sid).participants.list(status="connected") == []
    assert ("participant-disconnected", identity) in room_events(hooks)
    ps_now = get(client, f"/PlayerStreamers/{ps['sid']}")
    assert (ps_now["status"], ps_now["ended_reason"]) == ("ended", "stream-disconnected-by-source")
    again = media_request(client, "POST", f"/PlayerStreamers/{ps['sid']}", {"Status": "ENDED"})
    assert again == ps_now  # already ended by its source: 200, unchanged

    ps_events = events(hooks, f"{HOOKS}/ps")
    assert [e["StatusCallbackEvent"] for e in ps_events] == [
        "player-streamer-created",
        "player-streamer-started",
        "player-streamer-ended",
    ]
    assert ps_events[-1]["EndedReason"] == "stream-disconnected-by-source"
    assert {e["PlayerStreamerSid"] for e in ps_events} == {ps["sid"]}
    mp_events = events(hooks, f"{HOOKS}/mp")
    assert [e["StatusCallbackEvent"] for e in mp_events] == [
        "media-processor-started",
        "media-processor-ended",
    ]
    assert mp_events[0]["ExtensionContext"] == mp["extension_context"]
    assert all(r.status == 200 and r.signature for r in hooks.records())


def test_composer_failures_change_nothing_else(client: Client) -> None:
    room = client.video.v1.rooms.create(unique_name="done")
    ps = streamer(client)["sid"]
    gone = streamer(client)["sid"]
    media_request(client, "POST", f"/PlayerStreamers/{gone}", {"Status": "ended"})
    client.video.v1.rooms(room.sid).update(status="completed")
    live = client.video.v1.rooms.create(unique_name="live")
    cases = [
        ("done", [ps], "error-loading-extension"),  # completed rooms do not resolve by name
        (room.sid, [ps], "error-loading-extension"),  # completed room by SID
        ("RM" + "c" * 32, [ps], "error-loading-extension"),
        ("live", ["VJ" + "d" * 32], "error-loading-extension"),
        ("live", [gone], "error-streaming-media"),
    ]
    for room_name, outputs, reason in cases:
        body = composer(client, room_name, outputs)
        assert (body["status"], body["ended_reason"]) == ("failed", reason), room_name
    assert get(client, f"/PlayerStreamers/{ps}")["status"] == "created"
    assert client.video.v1.rooms(live.sid).participants.list(status="connected") == []


def test_max_duration_on_the_fake_clock(fake_app: Flask, client: Client) -> None:
    state = state_of(fake_app)
    state.clock.freeze()
    room = client.video.v1.rooms.create(unique_name="long")
    idle = streamer(client)["sid"]
    fed = streamer(client, MaxDuration=3600)["sid"]
    mp = composer(client, room.sid, [fed])["sid"]  # MaxDuration 300 by default
    state.advance_clock(299)
    assert get(client, f"/PlayerStreamers/{idle}")["status"] == "created"
    assert get(client, f"/MediaProcessors/{mp}")["status"] == "started"
    state.advance_clock(2)
    backend = state.backend(state.default_credentials.account_sid, "media")
    assert backend.get_player_streamer(idle).status == "ended"  # due at the clock move itself
    assert get(client, f"/PlayerStreamers/{idle}")["ended_reason"] == "max-duration-exceeded"
    body = get(client, f"/MediaProcessors/{mp}")
    assert (body["status"], body["ended_reason"]) == ("ended", "max-duration-exceeded")
    assert get(client, f"/PlayerStreamers/{fed}")["ended_reason"] == "stream-disconnected-by-source"
    assert client.video.v1.rooms(room.sid).participants.list(status="connected") == []


def test_api_key_credentials(fake_app: Flask) -> None:
    keyed = sdk_client(fake_app, api_key=True)
    sid = streamer(keyed)["sid"]
    assert get(sdk_client(fake_app), f"/PlayerStreamers/{sid}")["sid"] == sid


def test_ten_thousand_streams_stay_fast(fake_app: Flask, client: Client) -> None:
    state = state_of(fake_app)
    backend = state.backend(state.default_credentials.account_sid, "media")
    with state.locked():
        sids = [backend.create_player_streamer().sid for _ in range(10_000)]
        for sid in sids[::100]:
            backend.start_player_streamer(sid)
    started = time.perf_counter()
    newest = get(client, "/PlayerStreamers?PageSize=3")["player_streamers"]
    live = get(client, "/PlayerStreamers?Status=started&Order=asc&PageSize=1000&Page=0")
    fetched = get(client, f"/PlayerStreamers/{sids[5000]}")
    assert time.perf_counter() - started < 2.0
    assert [s["sid"] for s in newest] == sids[:-4:-1]
    assert [s["sid"] for s in live["player_streamers"]] == sids[::100]
    assert fetched["sid"] == sids[5000]
