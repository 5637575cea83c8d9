"""HTTP details an external fuzzer found: ``Allow`` on every 405, parameters that are not UTF-8,
four-digit years, and the status of Room and Participant updates.

REST requests go through the SDK's generic ``client.request`` (or raw bytes through the WSGI
test client where the SDK cannot send them); the control plane is reached over HTTP.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from twilio.jwt.access_token.grants import VideoGrant
from twilio.rest import Client
from werkzeug.test import Client as WsgiClient

from fake_twilio import state_of
from fake_twilio.control import FakeControl
from fake_twilio.core.clock import format_datetime
from fake_twilio.core.state import FakeState
from fake_twilio.video.callbacks import format_timestamp

from .support import access_token

FORM = "application/x-www-form-urlencoded"


def basic_auth(state: FakeState) -> dict[str, str]:
    creds = state.default_credentials
    pair = f"{creds.account_sid}:{creds.auth_token}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def wsgi(app: Flask) -> tuple[WsgiClient, dict[str, str]]:
    return WsgiClient(app), basic_auth(state_of(app))


def twilio_error_body(response: Any) -> dict[str, Any]:
    body = json.loads(response.get_data(as_text=True))
    assert set(body) == {"code", "message", "more_info", "status"}
    assert body["status"] == response.status_code
    return body


# -- 1. every 405 lists the allowed methods ------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/video/v1/Rooms", {"GET", "POST"}),
        ("DELETE", "/video/v1/Rooms/RM" + "0" * 32, {"GET", "POST"}),
        ("PATCH", "/sync/v1/Services/IS" + "0" * 32, {"GET", "POST", "DELETE"}),
        ("PUT", "/_fake/health", {"GET"}),
        ("DELETE", "/_fake/reset", {"POST"}),
        ("POST", "/_fake/faults/f1", {"GET", "DELETE"}),
        ("POST", "/_fake/webhooks/mode", {"GET", "PUT"}),
    ],
)
def test_a_405_says_which_methods_are_allowed(
    app: Flask, method: str, path: str, allowed: set[str]
) -> None:
    client, auth = wsgi(app)
    response = client.open(path, method=method, headers=auth)
    assert response.status_code == 405
    assert twilio_error_body(response)["code"] == 20004
    listed = {name.strip() for name in response.headers["Allow"].split(",")}
    assert allowed <= listed and method not in listed


def test_a_405_from_a_fault_rule_also_says_allow(app: Flask, control: FakeControl) -> None:
    control.add_fault(product="video", method="GET", status=405, code=20004)
    client, auth = wsgi(app)
    response = client.get("/video/v1/Rooms", headers=auth)
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


# -- 2. parameters that are not UTF-8 ------------------------------------------------------------
@pytest.mark.parametrize(
    "body", [b"FriendlyName=%FF", b"FriendlyName=a%C3", b"FriendlyName=ok&%FF=x", b"Friendly\xff=x"]
)
def test_a_form_that_is_not_utf8_is_refused_and_creates_nothing(
    app: Flask, client: Client, body: bytes
) -> None:
    http, auth = wsgi(app)
    response = http.post("/sync/v1/Services", data=body, content_type=FORM, headers=auth)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = twilio_error_body(response)
    assert error["code"] == 20001 and "UTF-8" in error["message"]
    assert client.sync.v1.services.list() == []


def test_the_refusal_names_the_parameter(app: Flask, client: Client) -> None:
    http, auth = wsgi(app)
    response = http.post(
        "/video/v1/Rooms", data=b"UniqueName=%FF%FE", content_type=FORM, headers=auth
    )
    assert response.status_code == 400
    assert "UniqueName" in twilio_error_body(response)["message"]
    assert client.video.v1.rooms.list() == []


def test_valid_utf8_in_a_form_still_works(client: Client) -> None:
    service = client.sync.v1.services.create(friendly_name="caf\u00e9 \U0001d11e")
    assert service.friendly_name == "caf\u00e9 \U0001d11e"


def test_a_query_string_that_is_not_utf8_is_refused(app: Flask, client: Client) -> None:
    client.video.v1.rooms.create(unique_name="r")
    http, auth = wsgi(app)
    for query in ("UniqueName=%FF", "PageSize=%C3%28"):
        response = http.get(f"/video/v1/Rooms?{query}", headers=auth)
        assert response.status_code == 400, query
        error = twilio_error_body(response)
        assert error["code"] == 20001 and "UTF-8" in error["message"]
    service = client.sync.v1.services.create(friendly_name="kept").sid
    response = http.delete(f"/sync/v1/Services/{service}?x=%FF", headers=auth)
    assert (response.status_code, twilio_error_body(response)["code"]) == (400, 20001)
    assert [s.sid for s in client.sync.v1.services.list()] == [service]


def test_the_control_plane_refuses_a_query_that_is_not_utf8(app: Flask) -> None:
    response = WsgiClient(app).get("/_fake/requests?path_contains=%FF")
    error = twilio_error_body(response)
    assert (response.status_code, error["code"]) == (400, 20001) and "UTF-8" in error["message"]


# -- 3. four-digit years ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("when", "text"),
    [
        (datetime(772, 6, 20, 13, 41, 35, tzinfo=UTC), "0772-06-20T13:41:35Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
        (datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC), "2030-01-02T03:04:05Z"),
    ],
)
def test_dates_always_have_four_digit_years(when: datetime, text: str) -> None:
    assert format_datetime(when) == text
    assert format_timestamp(when) == text[:-1] + ".000Z"


def test_a_resource_created_before_the_year_1000_renders_rfc3339(
    app: Flask, client: Client
) -> None:
    clock = WsgiClient(app).post("/_fake/clock/freeze", json={"at": "0772-06-20T13:41:35Z"})
    assert clock.status_code == 200
    assert clock.json["now"] == "0772-06-20T13:41:35Z"
    response = client.request(
        "POST", "https://sync.twilio.com/v1/Services", data={"FriendlyName": "old"}
    )
    body = json.loads(response.text)
    assert (body["date_created"], body["date_updated"]) == ("0772-06-20T13:41:35Z",) * 2
    assert client.sync.v1.services(body["sid"]).fetch().date_created == datetime(
        772, 6, 20, 13, 41, 35, tzinfo=UTC
    )


# -- 6. Room and Participant updates answer 202 (Twilio's current published spec) ------------------
def test_room_and_participant_updates_answer_202(
    client: Client, control: FakeControl, state: FakeState
) -> None:
    room = client.video.v1.rooms.create(unique_name="stage")
    control.connect_to_room(access_token(state, VideoGrant(room="stage")), "stage")
    base = f"https://video.twilio.com/v1/Rooms/{room.sid}"
    answer = client.request("POST", f"{base}/Participants/alice", data={"Status": "disconnected"})
    assert answer.status_code == 202
    assert json.loads(answer.text)["status"] == "disconnected"
    answer = client.request("POST", base, data={"Status": "completed"})
    assert answer.status_code == 202
    assert json.loads(answer.text)["status"] == "completed"
    # the typed SDK accepts it as a successful update
    assert client.video.v1.rooms(room.sid).fetch().status == "completed"
