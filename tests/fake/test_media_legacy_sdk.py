"""Media v1 through the typed resources of twilio 9.0.2 (``client.media.v1.player_streamer``).

twilio 9.0.3 removed ``client.media`` and 9.3.6 deleted ``twilio.rest.media``, so these tests
only run where twilio 9.0.2 is installed: ``tox -e legacy-sdk``. Elsewhere they skip.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime

import pytest
import twilio
from flask import Flask
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from fake_twilio import state_of

HAS_TYPED_MEDIA = (
    hasattr(Client, "media") and importlib.util.find_spec("twilio.rest.media") is not None
)

pytestmark = [
    pytest.mark.legacy_sdk,
    pytest.mark.skipif(
        not HAS_TYPED_MEDIA,
        reason=(
            f"typed Media v1 resources need twilio==9.0.2 (installed: {twilio.__version__}); "
            "run `tox -e legacy-sdk`"
        ),
    ),
]

COMPOSER = "video-composer-v2"


def context(room: str, *outputs: str) -> str:
    return json.dumps({"room": {"name": room}, "outputs": list(outputs)})


def test_player_streamer_typed_lifecycle(client: Client) -> None:
    created = client.media.v1.player_streamer.create(
        video=True,
        status_callback="https://hooks.example.test/ps",
        status_callback_method="POST",
        max_duration=1800,
    )
    assert created.sid.startswith("VJ") and created.status == "created"
    assert created.max_duration == 1800 and created.video is True
    assert isinstance(created.date_created, datetime)
    assert created.links["playback_grant"].endswith(f"/PlayerStreamers/{created.sid}/PlaybackGrant")
    fetched = client.media.v1.player_streamer(created.sid).fetch()
    assert (fetched.sid, fetched.status, fetched.ended_reason) == (created.sid, "created", None)
    ended = client.media.v1.player_streamer(created.sid).update(status="ENDED")
    assert (ended.status, ended.ended_reason) == ("ended", "ended-via-api")
    assert client.media.v1.player_streamer(created.sid).update(status="ended").status == "ended"


def test_player_streamer_typed_list(client: Client) -> None:
    sids = [client.media.v1.player_streamer.create().sid for _ in range(3)]
    client.media.v1.player_streamer(sids[0]).update(status="ended")
    assert [s.sid for s in client.media.v1.player_streamer.list()] == sids[::-1]
    ascending = client.media.v1.player_streamer.list(order="asc", status="created", page_size=1)
    assert [s.sid for s in ascending] == sids[1:]
    assert [s.sid for s in client.media.v1.player_streamer.list(status="ended")] == [sids[0]]


def test_playback_grant_typed(client: Client) -> None:
    sid = client.media.v1.player_streamer.create().sid
    grant = (
        client.media.v1.player_streamer(sid)
        .playback_grant()
        .create(ttl=60, access_control_allow_origin="*")
    )
    assert grant.sid == sid and grant.account_sid.startswith("AC")
    assert grant.url == f"https://media.twilio.com/v1/PlayerStreamers/{sid}/PlaybackGrant"
    assert isinstance(grant.date_created, datetime)
    assert grant.grant["playerStreamerSid"] == sid
    assert grant.grant["playbackUrl"].startswith("https://")
    assert grant.grant["requestCredentials"] is None
    with pytest.raises(TwilioRestException) as info:
        client.media.v1.player_streamer(sid).playback_grant().fetch()
    assert (info.value.status, info.value.code) == (405, 20004)
    with pytest.raises(TwilioRestException) as info:
        client.media.v1.player_streamer(sid).playback_grant().create(ttl=61)
    assert (info.value.status, info.value.code) == (400, 20001)
    client.media.v1.player_streamer(sid).update(status="ended")
    with pytest.raises(TwilioRestException) as info:
        client.media.v1.player_streamer(sid).playback_grant().create()
    assert (info.value.status, info.value.code) == (409, 20409)


def test_media_processor_typed_composer(fake_app: Flask, client: Client) -> None:
    room = client.video.v1.rooms.create(unique_name="legacy-show")
    streamer = client.media.v1.player_streamer.create(max_duration=1800)
    processor = client.media.v1.media_processor.create(
        extension=COMPOSER,
        extension_context=context(room.sid, streamer.sid),
        extension_environment={"k": "v"},
        max_duration=1800,
    )
    assert processor.sid.startswith("ZX") and processor.status == "started"
    assert processor.extension == COMPOSER and processor.max_duration == 1800
    assert json.loads(processor.extension_context)["outputs"] == [streamer.sid]
    assert client.media.v1.player_streamer(streamer.sid).fetch().status == "started"
    identities = [p.identity for p in client.video.v1.rooms(room.sid).participants.list()]
    assert identities == [f"video-composer-{processor.sid}"]
    dumped = state_of(fake_app).dump(product="media")
    (media,) = (account["media"] for account in dumped.values())
    assert media["media_processors"][processor.sid]["extension_environment"] == {"k": "v"}

    listed = client.media.v1.media_processor.list(status="started", order="asc")
    assert [p.sid for p in listed] == [processor.sid]
    ended = client.media.v1.media_processor(processor.sid).update(status="ENDED")
    assert (ended.status, ended.ended_reason) == ("ended", "ended-via-api")
    after = client.media.v1.player_streamer(streamer.sid).fetch()
    assert (after.status, after.ended_reason) == ("ended", "stream-disconnected-by-source")
    assert client.media.v1.player_streamer(streamer.sid).update(status="ENDED").status == "ended"


def test_typed_errors(client: Client) -> None:
    media = client.media.v1
    cases = [
        (lambda: media.player_streamer("VJ" + "0" * 32).fetch(), 404, 20404),
        (lambda: media.media_processor("ZX" + "0" * 32).fetch(), 404, 20404),
        (lambda: media.player_streamer.create(max_duration=90001), 400, 20001),
        (lambda: media.media_processor.create(extension="x", extension_context="{"), 400, 20001),
        (lambda: media.media_processor.create(extension="", extension_context="{}"), 400, 20001),
    ]
    for call, status, code in cases:
        with pytest.raises(TwilioRestException) as info:
            call()
        assert (info.value.status, info.value.code) == (status, code)
    sid = client.media.v1.player_streamer.create().sid
    with pytest.raises(TwilioRestException) as info:
        client.media.v1.player_streamer(sid).update(status="started")
    assert (info.value.status, info.value.code) == (400, 20001)
