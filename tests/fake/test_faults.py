"""Fault injection, driven through the real SDK: errors, latency and dropped connections."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from flask import Flask
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from fake_twilio import TwilioError, create_app, state_of
from fake_twilio.control import ControlClient, FakeControl
from fake_twilio.core.faults import FaultInjector
from fake_twilio.http_client import FakeServerHttpClient
from fake_twilio.testing import sdk_client

from .support import serve


def rest_error(call) -> TwilioRestException:  # type: ignore[no-untyped-def]
    with pytest.raises(TwilioRestException) as caught:
        call()
    return caught.value


def list_error(call) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """``(HTTP status, Twilio code)`` of a failed list: the SDK raises a plain TwilioException
    ("Unable to fetch page") carrying the response for any list answer other than 200."""
    with pytest.raises(TwilioException) as caught:
        call()
    assert not isinstance(caught.value, TwilioRestException)
    response = caught.value.args[1]
    return response.status_code, json.loads(response.text)["code"]


# -- errors ------------------------------------------------------------------------------------
def test_429_on_the_second_call_then_success(control: FakeControl, client: Client) -> None:
    control.add_fault(
        code=20429, product="video", method="POST", path="/v1/Rooms", after=1, times=1
    )
    first = client.video.v1.rooms.create(unique_name="one")
    error = rest_error(lambda: client.video.v1.rooms.create(unique_name="two"))
    assert (error.status, error.code) == (429, 20429)
    assert "Too Many Requests" in error.msg
    third = client.video.v1.rooms.create(unique_name="two")
    names = {room.unique_name for room in client.video.v1.rooms.list()}
    assert names == {"one", "two"}  # the refused create changed nothing
    assert first.sid != third.sid
    assert control.faults() == []  # expired after its single use
    statuses = [e["status"] for e in control.requests(product="video", method="POST")]
    assert statuses == [201, 429, 201]
    assert control.requests(status=429)[0]["error_code"] == 20429


def test_custom_error_code_status_and_message(control: FakeControl, client: Client) -> None:
    control.add_fault(code=20503, status=503, message="Down for maintenance", product="sync")
    assert list_error(lambda: client.sync.v1.services.list()) == (503, 20503)
    error = rest_error(lambda: client.sync.v1.services.create(friendly_name="x"))
    assert (error.status, error.code) == (503, 20503)
    assert "Down for maintenance" in error.msg
    client.video.v1.rooms.list()  # other products are untouched


def test_rule_expires_after_n_uses(control: FakeControl, client: Client) -> None:
    rule = control.add_fault(code=20500, product="video", times=2)
    assert rule["remaining"] == 2
    for _ in range(2):
        assert list_error(lambda: client.video.v1.rooms.list()) == (500, 20500)
    client.video.v1.rooms.list()
    assert control.faults() == []


def test_account_filter(app: Flask, control: FakeControl, client: Client) -> None:
    other = state_of(app).accounts.create("other")
    other_client = sdk_client(app, account_sid=other.account_sid)
    control.add_fault(code=20429, account_sid=other.account_sid)
    client.video.v1.rooms.create(unique_name="fine")
    assert rest_error(lambda: other_client.video.v1.rooms.create()).code == 20429
    assert list_error(lambda: other_client.sync.v1.services.list()) == (429, 20429)


def test_path_regex_and_glob(control: FakeControl, client: Client) -> None:
    room = client.video.v1.rooms.create(unique_name="r")
    control.add_fault(code=20500, product="video", path=r"/v1/Rooms/RM[0-9a-f]{32}")
    client.video.v1.rooms.list()  # the list path does not match the whole regex
    assert rest_error(lambda: client.video.v1.rooms(room.sid).fetch()).code == 20500
    control.clear_faults()
    control.add_fault(code=20429, path_glob="/v1/Rooms/*/Participants")
    client.video.v1.rooms(room.sid).fetch()
    participants = client.video.v1.rooms(room.sid).participants
    assert list_error(lambda: participants.list()) == (429, 20429)


def test_seeded_probability_is_reproducible() -> None:
    def outcomes(seed: int) -> list[int]:
        app = create_app()
        control = FakeControl(state_of(app))
        client = sdk_client(app)
        control.add_fault(code=20429, product="video", probability=0.5, seed=seed)
        codes = []
        for _ in range(20):
            try:
                client.video.v1.rooms.list()
                codes.append(200)
            except TwilioException as exc:
                codes.append(exc.args[1].status_code)
        return codes

    first = outcomes(7)
    assert first == outcomes(7)
    assert 200 in first and 429 in first


# -- latency -----------------------------------------------------------------------------------
def test_latency(control: FakeControl, client: Client) -> None:
    control.add_fault("latency", latency_ms=300, product="video", method="GET")
    started = time.perf_counter()
    client.video.v1.rooms.list()
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    client.video.v1.rooms.create()
    assert time.perf_counter() - started < 0.3


def test_latency_does_not_hold_the_state_lock(control: FakeControl, client: Client) -> None:
    control.add_fault("latency", latency_ms=1500, product="video", method="GET", times=1)
    slow = threading.Thread(target=lambda: client.video.v1.rooms.list())
    slow.start()
    time.sleep(0.2)  # the slow request is now sleeping in the fault layer
    started = time.perf_counter()
    client.video.v1.rooms.create(unique_name="meanwhile")
    assert time.perf_counter() - started < 1.0
    slow.join(5)


def test_latency_before_an_error(control: FakeControl, client: Client) -> None:
    control.add_fault("error", code=20429, latency_ms=200, product="video")
    started = time.perf_counter()
    assert list_error(lambda: client.video.v1.rooms.list()) == (429, 20429)
    assert time.perf_counter() - started >= 0.2


# -- dropped connections -----------------------------------------------------------------------
def test_dropped_connection_in_process(control: FakeControl, client: Client) -> None:
    control.add_fault("drop", product="video", method="POST", times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        client.video.v1.rooms.create(unique_name="lost")
    assert client.video.v1.rooms.list() == []  # the dropped request changed nothing
    client.video.v1.rooms.create(unique_name="lost")
    dropped = control.requests(method="POST")[0]
    assert dropped["status"] == 499


def test_dropped_connection_over_http(app: Flask, control: FakeControl) -> None:
    creds = state_of(app).default_credentials
    with serve(app) as url:
        client = Client(creds.account_sid, creds.auth_token, http_client=FakeServerHttpClient(url))
        control.add_fault("drop", product="video", times=1)
        with pytest.raises(requests.exceptions.ConnectionError):
            client.video.v1.rooms.list()
        assert client.video.v1.rooms.list() == []


def test_faults_never_touch_the_control_plane(app: Flask, control: FakeControl) -> None:
    control.add_fault("drop")
    control.add_fault(code=20500)
    response = app.test_client().get("/_fake/health")
    assert response.status_code == 200


# -- management --------------------------------------------------------------------------------
def test_list_remove_and_clear(control: FakeControl, client: Client) -> None:
    first = control.add_fault(code=20429, product="video")
    second = control.add_fault("latency", latency_ms=10, product="sync")
    assert [rule["id"] for rule in control.faults()] == [first["id"], second["id"]]
    control.remove_fault(first["id"])
    assert [rule["id"] for rule in control.faults()] == [second["id"]]
    with pytest.raises(TwilioError) as caught:
        control.remove_fault(first["id"])
    assert (caught.value.code, caught.value.status) == (20404, 404)
    control.clear_faults()
    assert control.faults() == []
    client.video.v1.rooms.list()


def test_full_reset_clears_faults(control: FakeControl, client: Client) -> None:
    control.add_fault(code=20429)
    control.reset()
    assert control.faults() == []
    client.video.v1.rooms.list()


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"action": "explode"}, "action"),
        ({"action": "error"}, "code"),
        ({"code": 20429, "status": 200}, "status"),
        ({"code": 20429, "product": "voice"}, "product"),
        ({"code": 20429, "path": "("}, "path"),
        ({"code": 20429, "times": 0}, "times"),
        ({"code": 20429, "after": -1}, "after"),
        ({"code": 20429, "probability": 1.5}, "probability"),
        ({"action": "latency"}, "latency_ms"),
        ({"action": "drop", "code": 20429}, "code"),
        ({"code": 20429, "account_sid": "AC" + "9" * 32}, "account"),
    ],
)
def test_invalid_rules(control: FakeControl, fields: dict, name: str) -> None:
    with pytest.raises(TwilioError) as caught:
        control.add_fault(**fields)
    assert (caught.value.code, caught.value.status) == (20001, 400)
    assert name in caught.value.message
    assert control.faults() == []


def test_faults_over_http(app: Flask) -> None:
    creds = state_of(app).default_credentials
    with serve(app) as url:
        control = ControlClient(url)
        client = Client(creds.account_sid, creds.auth_token, http_client=FakeServerHttpClient(url))
        rule = control.add_fault(code=20429, product="video", after=1, times=1)
        assert control.faults()[0]["id"] == rule["id"]
        client.video.v1.rooms.list()
        assert list_error(lambda: client.video.v1.rooms.list()) == (429, 20429)
        client.video.v1.rooms.list()
        other = control.add_fault("drop", product="sync")
        control.remove_fault(other["id"])
        control.add_fault("latency", latency_ms=5)
        control.clear_faults()
        assert control.faults() == []
        with pytest.raises(TwilioError) as caught:
            control.add_fault("explode")
        assert caught.value.code == 20001


def test_injector_unit_counts() -> None:
    injector = FaultInjector()
    rule = injector.add("error", code=20429, after=2, times=1)
    slept: list[float] = []
    for _ in range(2):
        injector.apply("video", "GET", "/video/v1/Rooms", None, sleep=slept.append)
    with pytest.raises(TwilioError):
        injector.apply("video", "GET", "/video/v1/Rooms", None, sleep=slept.append)
    injector.apply("video", "GET", "/video/v1/Rooms", None, sleep=slept.append)
    assert (rule.matched, rule.fired) == (3, 1)
    assert injector.rules() == []
    assert slept == []
