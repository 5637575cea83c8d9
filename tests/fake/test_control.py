"""The control plane: the HTTP API (through ControlClient against a served fake), its error
shapes and OpenAPI document, and the Python facade's clock, journal, reset and state."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from openapi_spec_validator import validate as validate_openapi
from twilio.base.exceptions import TwilioRestException
from twilio.jwt.access_token.grants import VideoGrant
from twilio.rest import Client

import schemas
from fake_twilio import DEFAULT_ACCOUNT_SID, TwilioError, create_app, state_of
from fake_twilio.control import ControlClient, FakeControl
from fake_twilio.control.openapi import openapi_document
from fake_twilio.core.state import FakeState
from fake_twilio.http_client import FakeServerHttpClient
from fake_twilio.testing import sdk_client

from .support import access_token, serve

ERROR_KEYS = {"code", "message", "more_info", "status"}


@pytest.fixture
def served(app: Flask) -> Iterator[tuple[str, ControlClient, Client]]:
    """The app on a real socket, a ControlClient and an SDK client for it."""
    creds = state_of(app).default_credentials
    with serve(app) as url, ControlClient(url) as control:
        sdk = Client(creds.account_sid, creds.auth_token, http_client=FakeServerHttpClient(url))
        yield url, control, sdk


def twilio_error(call: Any) -> TwilioError:
    with pytest.raises(TwilioError) as caught:
        call()
    return caught.value


# -- the HTTP API through ControlClient ----------------------------------------------------------
def test_health_credentials_and_accounts(served: Any, state: FakeState) -> None:
    _, control, _ = served
    assert control.health() == {
        "status": "ok",
        "products": ["video", "media", "sync", "conversations"],
    }
    assert control.credentials() == state.default_credentials.as_dict()
    created = control.create_account("second")
    assert set(created) == {"account_sid", "auth_token", "api_key_sid", "api_key_secret"}
    assert control.accounts() == [DEFAULT_ACCOUNT_SID, created["account_sid"]]
    assert (
        state.accounts.resolve(created["api_key_sid"], created["api_key_secret"])
        == (created["account_sid"])
    )


def test_openapi_document_is_valid(served: Any) -> None:
    url, control, _ = served
    document = control.openapi()
    validate_openapi(document)
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path in ("/_fake/health", "/_fake/reset", "/_fake/faults", "/_fake/video/connect"):
        assert path in paths
    assert requests.get(f"{url}/_fake/openapi.json", timeout=5).json() == document


def test_openapi_documents_every_control_route(app: Flask) -> None:
    documented = {
        (path, method.upper())
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method != "parameters"
    }
    served = {
        ("/_fake" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/_fake") :]), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("control.")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert documented == served


def test_clock_over_http(served: Any) -> None:
    _, control, _ = served
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert control.freeze(at) == at
    expected = {"now": "2030-01-02T03:04:05Z", "timestamp": at.timestamp(), "frozen": True}
    assert control.clock() == expected
    assert control.advance(90) == at + timedelta(seconds=90)
    assert control.now() == at + timedelta(seconds=90)
    assert control.freeze("2031-01-01T00:00:00Z") == datetime(2031, 1, 1, tzinfo=UTC)
    control.unfreeze()
    assert control.clock()["frozen"] is False
    assert control.now() >= datetime(2031, 1, 1, tzinfo=UTC)
    assert twilio_error(lambda: control.advance(-1)).code == 20001


def test_connect_to_room_over_http(served: Any, state: FakeState) -> None:
    _, control, sdk = served
    room = sdk.video.v1.rooms.create(unique_name="standup")
    participant = control.connect_to_room(
        access_token(state, VideoGrant(room="standup")), "standup"
    )
    schemas.validate("twilio/room-participant", participant)
    assert participant["room_sid"] == room.sid
    assert [p.identity for p in sdk.video.v1.rooms(room.sid).participants.list()] == ["alice"]
    error = twilio_error(
        lambda: control.connect_to_room(
            access_token(state, VideoGrant(room="other"), identity="bob"), "standup"
        )
    )
    assert (error.code, error.status) == (20106, 401)
    assert control.disconnect_from_room("standup", "alice")["status"] == "disconnected"
    assert control.complete_room("standup")["status"] == "completed"
    error = twilio_error(
        lambda: control.connect_to_room(access_token(state, VideoGrant(), identity="c"), room.sid)
    )
    assert (error.code, error.status) == (53118, 400)
    verified = control.verify_token(access_token(state, VideoGrant(), identity="dave"))
    assert verified["identity"] == "dave"


def test_faults_and_journal_over_http(served: Any) -> None:
    _, control, sdk = served
    mark = control.mark()
    control.add_fault(code=20429, product="video", method="POST", after=1, times=1)
    sdk.video.v1.rooms.create(unique_name="a")
    with pytest.raises(TwilioRestException) as caught:
        sdk.video.v1.rooms.create(unique_name="b")
    assert caught.value.code == 20429
    sdk.video.v1.rooms.list()
    entries = control.requests(since=mark)
    assert [(e["method"], e["status"]) for e in entries] == [
        ("POST", 201),
        ("POST", 429),
        ("GET", 200),
    ]
    assert entries[0]["form"] == {"UniqueName": ["a"]}
    assert control.requests(since=mark, writes_only=True, status=429)[0]["error_code"] == 20429
    assert control.requests(product="sync") == []
    assert control.requests(path_contains="/Rooms", method="GET")[0]["path"] == "/video/v1/Rooms"
    assert control.requests(account_sid=DEFAULT_ACCOUNT_SID) == entries
    assert control.mark() == entries[-1]["seq"]
    control.clear_requests()
    assert control.requests() == []


def test_reset_and_state_over_http(served: Any) -> None:
    _, control, sdk = served
    room = sdk.video.v1.rooms.create(unique_name="r")
    service = sdk.sync.v1.services.create(friendly_name="s")
    dumped = control.dump()
    assert set(dumped[DEFAULT_ACCOUNT_SID]) == {"video", "sync"}
    assert room.sid in str(control.dump(product="video"))
    assert service.sid not in str(control.dump(product="video"))
    control.reset(product="video")
    assert set(control.dump()[DEFAULT_ACCOUNT_SID]) == {"sync"}
    control.freeze()
    control.reset()
    assert control.dump() == {}
    assert control.clock()["frozen"] is False
    assert control.requests() == []
    assert twilio_error(lambda: control.reset(product="voice")).code == 20001
    assert twilio_error(lambda: control.dump(account_sid="AC" + "0" * 32)).code == 20001


# -- error shapes --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code", "fragment"),
    [
        ("POST", "/_fake/clock/advance", {"data": "{not json"}, 400, 20001, "JSON object"),
        ("POST", "/_fake/clock/advance", {"json": [1, 2]}, 400, 20001, "JSON object"),
        ("POST", "/_fake/clock/advance", {"json": {}}, 400, 20001, "seconds"),
        ("POST", "/_fake/clock/advance", {"json": {"seconds": "x"}}, 400, 20001, "seconds"),
        ("POST", "/_fake/clock/advance", {"json": {"seconds": 1, "x": 2}}, 400, 20001, "x"),
        ("POST", "/_fake/clock/advance", {"json": {"seconds": 1e30}}, 400, 20001, "seconds"),
        ("POST", "/_fake/clock/freeze", {"json": {"at": "yesterday"}}, 400, 20001, "at"),
        ("POST", "/_fake/video/connect", {"json": {"room": "r"}}, 400, 20001, "token"),
        ("POST", "/_fake/video/connect", {"json": {"token": "x", "room": "r"}}, 401, 20101, ""),
        ("POST", "/_fake/faults", {"json": {"action": "explode"}}, 400, 20001, "action"),
        ("POST", "/_fake/sync/read", {"json": {"token": "t", "kind": "stream", "name": "n"}},
         400, 20001, "kind"),
        ("PUT", "/_fake/webhooks/mode", {"json": {"mode": "later"}}, 400, 20001, "mode"),
        ("GET", "/_fake/requests?since=abc", {}, 400, 20001, "since"),
        ("GET", "/_fake/requests?bogus=1", {}, 400, 20001, "bogus"),
        ("DELETE", "/_fake/faults/fault-999", {}, 404, 20404, "fault-999"),
        ("GET", "/_fake/nothing-here", {}, 404, 20404, "/_fake/nothing-here"),
        ("DELETE", "/_fake/health", {}, 405, 20004, "DELETE"),
    ],
)  # fmt: skip
def test_control_errors_have_twilios_shape(
    served: Any, method: str, path: str, kwargs: dict, status: int, code: int, fragment: str
) -> None:
    url, _, _ = served
    response = requests.request(method, url + path, timeout=5, **kwargs)
    assert response.status_code == status
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert (body["code"], body["status"]) == (code, status)
    assert fragment in body["message"]
    assert "Traceback" not in response.text


def test_product_errors_pass_through(app: Flask) -> None:
    response = app.test_client().post(
        "/_fake/video/disconnect", json={"room": "RM" + "0" * 32, "identity": "x"}
    )
    assert response.status_code == 404
    assert response.json["code"] == 20404


# -- the Python facade ---------------------------------------------------------------------------
def test_freeze_and_advance_make_a_token_expire(control: FakeControl, state: FakeState) -> None:
    token = access_token(state, ttl=600)
    frozen = control.freeze()
    assert control.now() == frozen
    assert control.verify_token(token)["identity"] == "alice"
    control.advance(600)
    assert twilio_error(lambda: control.verify_token(token)).code == 20104
    assert FakeControl(state_of(create_app())).clock()["frozen"] is False  # fakes are isolated


def test_sync_document_ttl_runs_out_when_the_clock_advances(
    control: FakeControl, client: Client
) -> None:
    control.freeze()
    service = client.sync.v1.services.create(friendly_name="ttl")
    documents = client.sync.v1.services(service.sid).documents
    documents.create(unique_name="short", data={"a": 1}, ttl=60)
    documents.create(unique_name="long", data={"a": 2}, ttl=3600)
    control.advance(59)
    assert documents("short").fetch().data == {"a": 1}
    control.advance(2)
    with pytest.raises(TwilioRestException) as caught:
        documents("short").fetch()
    assert caught.value.status == 404
    assert documents("long").fetch().data == {"a": 2}


def test_room_unused_timeout_runs_on_advance(control: FakeControl, client: Client) -> None:
    control.freeze()
    room = client.video.v1.rooms.create(unique_name="empty", unused_room_timeout=1)
    control.advance(59)
    assert client.video.v1.rooms(room.sid).fetch().status == "in-progress"
    control.advance(2)
    assert client.video.v1.rooms(room.sid).fetch().status == "completed"


def test_journal_after_a_refused_token_no_write(
    control: FakeControl, client: Client, state: FakeState
) -> None:
    client.video.v1.rooms.create(unique_name="r")
    mark = control.mark()
    with pytest.raises(TwilioError):
        control.connect_to_room(
            access_token(state, VideoGrant(room="elsewhere"), identity="a"), "r"
        )
    client.video.v1.rooms("r").fetch()
    assert control.requests(since=mark, writes_only=True) == []
    assert [e["method"] for e in control.requests(since=mark)] == ["GET"]


def test_reset_one_product_one_account_or_all(
    app: Flask, control: FakeControl, client: Client, state: FakeState
) -> None:
    other = control.create_account("other")["account_sid"]
    other_client = sdk_client(app, account_sid=other)
    for sdk in (client, other_client):
        sdk.video.v1.rooms.create(unique_name="r")
        sdk.sync.v1.services.create(friendly_name="s")
    control.reset(product="sync", account_sid=other)
    assert set(control.dump()[other]) == {"video"}
    assert set(control.dump()[DEFAULT_ACCOUNT_SID]) == {"video", "sync"}
    control.reset(account_sid=other)
    assert other not in control.dump()
    assert other_client.video.v1.rooms.list() == []
    assert len(client.video.v1.rooms.list()) == 1
    control.reset(product="video")
    assert client.video.v1.rooms.list() == []
    assert len(client.sync.v1.services.list()) == 1
    assert other in control.accounts()  # accounts survive every reset

    receiver = Flask("receiver")
    receiver.add_url_rule("/h", "h", lambda: ("", 204), methods=["POST"])
    control.register_wsgi("https://hooks.example.test", receiver)
    client.video.v1.rooms.create(unique_name="x", status_callback="https://hooks.example.test/h")
    control.add_fault("latency", latency_ms=1, product="conversations")
    control.freeze(datetime(2030, 1, 1, tzinfo=UTC))
    assert control.webhooks() and control.requests() and control.faults()
    control.reset()
    assert control.dump() == {}
    assert control.webhooks() == [] and control.requests() == [] and control.faults() == []
    assert control.clock()["frozen"] is False
    assert control.now().year < 2030
    assert client.sync.v1.services.list() == []


def test_state_dump_narrowing(control: FakeControl, client: Client) -> None:
    client.video.v1.rooms.create(unique_name="r")
    assert list(control.dump(product="video")[DEFAULT_ACCOUNT_SID]) == ["video"]
    assert control.dump(product="media") == {}
    assert control.dump(account_sid=DEFAULT_ACCOUNT_SID) == control.dump()
    error = twilio_error(lambda: control.dump(product="voice"))
    assert (error.code, error.status) == (20001, 400)


def test_controls_are_stateless_views_of_one_fake(state: FakeState) -> None:
    FakeControl(state).add_fault(code=20429, product="video")
    assert len(FakeControl(state).faults()) == 1
    assert FakeControl(state_of(create_app())).faults() == []


# -- empty strings are values, never "absent" ------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/_fake/reset", {"account": ""}),
        ("POST", "/_fake/reset", {"product": ""}),
        ("POST", "/_fake/reset", {"product": "", "account": ""}),
        ("GET", "/_fake/state", {"account": ""}),
        ("GET", "/_fake/state", {"product": ""}),
        ("GET", "/_fake/requests", {"account": ""}),
        ("GET", "/_fake/requests", {"product": ""}),
        ("GET", "/_fake/webhooks", {"account": ""}),
        ("GET", "/_fake/webhooks", {"source": ""}),
        ("POST", "/_fake/faults", {"product": ""}),
        ("POST", "/_fake/faults", {"account": ""}),
        ("POST", "/_fake/faults", {"method": ""}),
        ("POST", "/_fake/faults", {"path_glob": ""}),
        ("POST", "/_fake/video/complete", {"room": "r", "account": ""}),
        ("POST", "/_fake/video/disconnect", {"room": "r", "identity": "", "account": None}),
        ("POST", "/_fake/player/connect", {"token": "t", "player_streamer_sid": ""}),
        ("POST", "/_fake/sync/connect", {"token": "t", "service_sid": ""}),
        (
            "POST",
            "/_fake/sync/disconnect",
            {"service_sid": "IS1", "identity": "a", "endpoint_id": ""},
        ),
        ("POST", "/_fake/clock/freeze", {"at": ""}),
        ("POST", "/_fake/tokens/verify", {"token": ""}),
    ],
)
def test_an_empty_string_is_a_400_not_absent(
    app: Flask, client: Client, method: str, path: str, payload: dict[str, Any]
) -> None:
    """``{"account": ""}`` must never widen a verb to every account (or product)."""
    room = client.video.v1.rooms.create(unique_name="kept")
    http = app.test_client()
    if method == "GET":
        response = http.get(path, query_string=payload)
    else:
        response = http.post(path, json=payload)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert set(response.json) == ERROR_KEYS and response.json["code"] == 20001
    assert client.video.v1.rooms(room.sid).fetch().status == "in-progress"
    assert FakeControl(state_of(app)).faults() == []


def test_empty_free_text_is_still_accepted(app: Flask) -> None:
    http = app.test_client()
    assert http.post("/_fake/accounts", json={"friendly_name": ""}).status_code == 201
    fault = http.post("/_fake/faults", json={"code": 20500, "message": ""})
    assert fault.status_code == 201, fault.json


# -- the OpenAPI document says what the implementation enforces -----------------------------------
def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_openapi_bodies_with_required_members_are_required() -> None:
    document = openapi_document()
    checked = 0
    for path, method, operation in _operations(document):
        body = operation.get("requestBody")
        if body is None:
            continue
        schema = _resolve(document, body["content"]["application/json"]["schema"])
        assert body["required"] is bool(schema.get("required")), (path, method)
        checked += 1
    assert checked > 10


def test_openapi_strings_the_fake_refuses_empty_have_min_length() -> None:
    document = openapi_document()
    free_text = {"friendly_name", "message"}
    for path, method, operation in _operations(document):
        schemas_to_check = [
            (parameter["name"], parameter["schema"])
            for parameter in operation.get("parameters", [])
        ]
        body = operation.get("requestBody")
        if body is not None:
            schema = _resolve(document, body["content"]["application/json"]["schema"])
            schemas_to_check += list(schema.get("properties", {}).items())
        for name, schema in schemas_to_check:
            types = schema.get("type")
            if name in free_text or "enum" in schema or "pattern" in schema:
                continue
            if types == "string" or (isinstance(types, list) and "string" in types):
                if name == "key":  # a Sync list index or map key: "" is a key like any other
                    continue
                assert schema.get("minLength", 0) >= 1, (path, method, name)


def test_openapi_clock_limits_match_the_implementation(app: Flask) -> None:
    paths = openapi_document()["paths"]
    advance = paths["/_fake/clock/advance"]["post"]["requestBody"]["content"]["application/json"]
    seconds = advance["schema"]["properties"]["seconds"]
    freeze = paths["/_fake/clock/freeze"]["post"]["requestBody"]["content"]["application/json"]
    at = freeze["schema"]["properties"]["at"]
    http = app.test_client()
    assert (
        http.post("/_fake/clock/advance", json={"seconds": seconds["maximum"]}).status_code == 200
    )
    too_far = http.post("/_fake/clock/advance", json={"seconds": seconds["maximum"] + 1})
    assert (too_far.status_code, too_far.json["code"]) == (400, 20001)
    assert http.post("/_fake/clock/freeze", json={"at": at["maximum"]}).status_code == 200
    assert http.post("/_fake/clock/freeze", json={"at": at["minimum"]}).status_code == 200
    for beyond in (at["maximum"] + 1, at["minimum"] - 1, at["maximum"] + 0.5):
        answer = http.post("/_fake/clock/freeze", json={"at": beyond})
        assert (answer.status_code, answer.json["code"]) == (400, 20001), beyond
    assert at["minLength"] == 1
