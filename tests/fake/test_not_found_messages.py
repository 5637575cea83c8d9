"""One rule for 20404 messages: the path the client addressed, below ``/v1``, as Twilio spells it.

The wire contract's example is ``The requested resource /Rooms/RMxxx was not found``: no
``/v1``, no routing prefix of the fake, path values percent-encoded as the client sent them.
The same request reached by ``Host: video.twilio.com`` + ``/v1/...`` or by the fake's own
``/video/v1/...`` prefix names the same path; a not-found raised for a missing parent still
names what the client asked for.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask import Flask
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from fake_twilio.core.errors import ResourceNotFound
from fake_twilio.core.state import FakeState

MISSING = "0" * 32


def basic(state: FakeState) -> str:
    creds = state.default_credentials
    token = f"{creds.account_sid}:{creds.auth_token}".encode()
    return "Basic " + base64.b64encode(token).decode()


def message(response: Any) -> str:
    return json.loads(response.get_data(as_text=True))["message"]


def not_found_message(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(TwilioRestException) as info:
        call(*args, **kwargs)
    assert (info.value.code, info.value.status) == (20404, 404), info.value.msg
    return info.value.msg.split(": ", 1)[1]


@pytest.mark.parametrize(
    ("host", "path"),
    [("video.twilio.com", "/v1/Nope"), ("localhost", "/video/v1/Nope")],
)
def test_routing_404_names_the_path_below_the_version(
    app: Flask, state: FakeState, host: str, path: str
) -> None:
    response = app.test_client().get(path, headers={"Host": host, "Authorization": basic(state)})
    assert response.status_code == 404
    assert message(response) == "The requested resource /Nope was not found"


def test_routing_405_names_the_path_below_the_version(app: Flask, state: FakeState) -> None:
    response = app.test_client().delete(
        "/v1/Rooms", headers={"Host": "video.twilio.com", "Authorization": basic(state)}
    )
    assert response.status_code == 405
    assert message(response) == "Method DELETE not allowed on /Rooms"


def test_routing_404_keeps_the_encoding_the_client_sent(app: Flask, state: FakeState) -> None:
    response = app.test_client().get(
        "/v1/Rooms/a%20b/Nope",
        headers={"Host": "video.twilio.com", "Authorization": basic(state)},
    )
    assert message(response) == "The requested resource /Rooms/a%20b/Nope was not found"


def test_video_messages(client: Client) -> None:
    rooms = client.video.v1.rooms
    assert not_found_message(rooms(f"RM{MISSING}").fetch) == (
        f"The requested resource /Rooms/RM{MISSING} was not found"
    )
    rooms.create(unique_name="stage")
    participant = rooms("stage").participants("a%20b")
    assert not_found_message(participant.fetch) == (
        "The requested resource /Rooms/stage/Participants/a%20b was not found"
    )


def test_media_messages(client: Client) -> None:
    url = f"https://media.twilio.com/v1/PlayerStreamers/VJ{MISSING}"
    body = json.loads(client.request("GET", url).text)
    assert body["code"] == 20404
    assert body["message"] == f"The requested resource /PlayerStreamers/VJ{MISSING} was not found"


def test_conversations_messages_leave_the_version_out(client: Client) -> None:
    conversation = client.conversations.v1.conversations(f"CH{MISSING}")
    assert not_found_message(conversation.participants("bob").fetch) == (
        f"The requested resource /Conversations/CH{MISSING}/Participants/bob was not found"
    )


def test_sync_messages_name_what_the_client_asked_for(client: Client) -> None:
    missing_service = client.sync.v1.services(f"IS{MISSING}")
    item = missing_service.sync_maps("m").sync_map_items("k")
    assert not_found_message(item.fetch) == (
        f"The requested resource /Services/IS{MISSING}/Maps/m/Items/k was not found"
    )
    service = client.sync.v1.services.create(friendly_name="s")
    client.sync.v1.services(service.sid).sync_maps.create(unique_name="m")
    awkward = client.sync.v1.services(service.sid).sync_maps("m").sync_map_items("a%20b")
    assert not_found_message(awkward.fetch) == (
        f"The requested resource /Services/{service.sid}/Maps/m/Items/a%20b was not found"
    )


def test_python_callers_get_the_models_resource_path_encoded(state: FakeState) -> None:
    video = state.backend(state.default_credentials.account_sid, "video")
    with pytest.raises(ResourceNotFound) as info:
        video.get_room("a b")
    assert info.value.message == "The requested resource /Rooms/a%20b was not found"
    assert info.value.to_body()["code"] == 20404
