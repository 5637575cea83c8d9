"""Webhook deliveries: in-process and over real HTTP, signed, in order, sync and async modes.

Events are produced by the products through the control plane's simulated clients (Video
participants, Sync endpoints) and received by a small Flask app that records what it got.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
from flask import Flask, request
from twilio.jwt.access_token.grants import SyncGrant, VideoGrant
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from fake_twilio import TwilioError, create_app, state_of
from fake_twilio.config import FakeConfig
from fake_twilio.control import ControlClient, FakeControl
from fake_twilio.core.state import FakeState
from fake_twilio.testing import sdk_client

from .support import access_token, serve

HOOKS = "https://hooks.example.test"


class Receiver:
    """A Flask app recording every request it receives (optionally slowly)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.app = Flask("receiver")
        self.app.add_url_rule("/<path:path>", "hook", self._hook, methods=["GET", "POST"])

    def _hook(self, path: str) -> tuple[str, int]:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.received.append(
                {
                    "url": request.url,
                    "method": request.method,
                    "form": request.form.to_dict(),
                    "signature": request.headers.get("X-Twilio-Signature", ""),
                    "thread": threading.get_ident(),
                }
            )
        return "", 204

    def events(self, field: str) -> list[str]:
        with self.lock:
            return [hook["form"].get(field, "") for hook in self.received]


def assert_signed(state: FakeState, hooks: list[dict[str, Any]]) -> None:
    validator = RequestValidator(state.default_credentials.auth_token)
    for hook in hooks:
        assert hook["signature"]
        assert validator.validate(hook["url"], hook["form"], hook["signature"]), hook


def room_lifecycle(control: FakeControl, client: Client, state: FakeState, url: str) -> str:
    room = client.video.v1.rooms.create(unique_name="live", status_callback=url)
    control.connect_to_room(access_token(state, VideoGrant()), "live")
    control.connect_to_room(access_token(state, VideoGrant(), identity="bob"), "live")
    control.disconnect_from_room("live", "alice")
    control.complete_room("live")
    return room.sid


EXPECTED_EVENTS = [
    "room-created",
    "participant-connected",
    "participant-connected",
    "participant-disconnected",
    "participant-disconnected",
    "room-ended",
]


def test_in_process_receiver(control: FakeControl, client: Client, state: FakeState) -> None:
    receiver = Receiver()
    control.register_wsgi(HOOKS, receiver.app)
    room_sid = room_lifecycle(control, client, state, f"{HOOKS}/video")
    assert receiver.events("StatusCallbackEvent") == EXPECTED_EVENTS
    assert receiver.events("SequenceNumber") == [str(n) for n in range(6)]
    assert set(receiver.events("RoomSid")) == {room_sid}
    assert receiver.events("ParticipantIdentity")[1:5] == ["alice", "bob", "alice", "bob"]
    assert_signed(state, receiver.received)
    records = control.webhooks(source="video")
    assert [r["params"]["StatusCallbackEvent"] for r in records] == EXPECTED_EVENTS
    assert all(r["status"] == 204 and r["error"] is None for r in records)
    assert all(r["url"] == f"{HOOKS}/video" for r in records)
    assert control.webhooks(source="sync") == []
    control.clear_webhooks()
    assert control.webhooks() == []


def test_real_http_receiver(control: FakeControl, client: Client, state: FakeState) -> None:
    receiver = Receiver()
    with serve(receiver.app) as url:
        room_lifecycle(control, client, state, f"{url}/hooks/video?tenant=1")
    assert receiver.events("StatusCallbackEvent") == EXPECTED_EVENTS
    assert all(hook["url"] == f"{url}/hooks/video?tenant=1" for hook in receiver.received)
    assert_signed(state, receiver.received)


def test_failed_delivery_is_recorded_not_raised(control: FakeControl, client: Client) -> None:
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client.video.v1.rooms.create(unique_name="r", status_callback=f"http://127.0.0.1:{port}/x")
    (record,) = control.webhooks()
    assert record["status"] is None
    assert "ConnectionError" in record["error"]


def test_async_mode_delivers_in_order_and_flush_waits(
    control: FakeControl, client: Client, state: FakeState
) -> None:
    receiver = Receiver(delay=0.1)
    control.register_wsgi(HOOKS, receiver.app)
    assert control.set_webhook_mode("async") == "async"
    assert control.webhook_mode() == "async"
    try:
        started = time.perf_counter()
        room_lifecycle(control, client, state, f"{HOOKS}/video")
        assert time.perf_counter() - started < 0.5  # six deliveries would take 0.6 s
        assert len(receiver.received) < 6
        assert control.flush_webhooks(10) is True
        assert receiver.events("StatusCallbackEvent") == EXPECTED_EVENTS
        assert receiver.events("SequenceNumber") == [str(n) for n in range(6)]
        assert len({hook["thread"] for hook in receiver.received}) == 1
        assert_signed(state, receiver.received)
    finally:
        control.set_webhook_mode("sync")


def test_flush_times_out_and_switching_back_delivers_the_rest(
    control: FakeControl, client: Client
) -> None:
    receiver = Receiver(delay=0.3)
    control.register_wsgi(HOOKS, receiver.app)
    control.set_webhook_mode("async")
    for n in range(3):
        client.video.v1.rooms.create(unique_name=f"r{n}", status_callback=f"{HOOKS}/v")
    assert control.flush_webhooks(0.05) is False
    control.set_webhook_mode("sync")  # drains the queue first
    assert receiver.events("RoomName") == ["r0", "r1", "r2"]
    assert control.flush_webhooks(0) is True


def test_async_mode_from_config() -> None:
    app = create_app(FakeConfig(webhook_mode="async"))
    state = state_of(app)
    receiver = Receiver()
    state.webhooks.register_wsgi(HOOKS, receiver.app)
    try:
        sdk_client(app).video.v1.rooms.create(unique_name="r", status_callback=f"{HOOKS}/v")
        assert state.flush(5)
        assert receiver.events("StatusCallbackEvent") == ["room-created"]
    finally:
        state.set_webhook_mode("sync")


def test_invalid_mode(control: FakeControl) -> None:
    with pytest.raises(TwilioError) as caught:
        control.set_webhook_mode("later")
    assert (caught.value.code, caught.value.status) == (20001, 400)
    assert control.webhook_mode() == "sync"


def test_sync_reachability_webhooks(control: FakeControl, client: Client, state: FakeState) -> None:
    receiver = Receiver()
    control.register_wsgi(HOOKS, receiver.app)
    service = client.sync.v1.services.create(
        friendly_name="reach",
        webhook_url=f"{HOOKS}/sync",
        reachability_webhooks_enabled=True,
    )
    endpoint = control.connect_to_sync(access_token(state, SyncGrant(service_sid=service.sid)))
    control.disconnect_from_sync(service.sid, "alice", endpoint["endpoint_id"])
    assert receiver.events("EventType") == ["endpoint_connected", "endpoint_disconnected"]
    assert receiver.events("Identity") == ["alice", "alice"]
    assert receiver.events("EndpointId") == [endpoint["endpoint_id"]] * 2
    assert_signed(state, receiver.received)


def test_sync_disconnect_is_debounced_on_the_fake_clock(
    control: FakeControl, client: Client, state: FakeState
) -> None:
    receiver = Receiver()
    control.register_wsgi(HOOKS, receiver.app)
    control.freeze()
    service = client.sync.v1.services.create(
        friendly_name="debounce",
        webhook_url=f"{HOOKS}/sync",
        reachability_webhooks_enabled=True,
        reachability_debouncing_enabled=True,
        reachability_debouncing_window=5000,
    )
    control.connect_to_sync(access_token(state, SyncGrant(service_sid=service.sid)))
    control.disconnect_from_sync(service.sid, "alice")
    assert receiver.events("EventType") == ["endpoint_connected"]
    control.advance(4.9)
    assert receiver.events("EventType") == ["endpoint_connected"]
    control.advance(0.2)
    assert receiver.events("EventType") == ["endpoint_connected", "endpoint_disconnected"]


def test_webhooks_over_the_control_api(app: Flask, state: FakeState) -> None:
    receiver = Receiver()
    state.webhooks.register_wsgi(HOOKS, receiver.app)  # register_wsgi is Python-only
    with serve(app) as url:
        control = ControlClient(url)
        assert control.webhook_mode() == "sync"
        assert control.set_webhook_mode("async") == "async"
        sdk_client(app).video.v1.rooms.create(unique_name="r", status_callback=f"{HOOKS}/v")
        assert control.flush_webhooks(5) is True
        assert control.set_webhook_mode("sync") == "sync"
        (record,) = control.webhooks(source="video.room")
        assert record["params"]["StatusCallbackEvent"] == "room-created"
        assert control.webhooks(since=record["seq"]) == []
        control.clear_webhooks()
        assert control.webhooks() == []
        with pytest.raises(NotImplementedError):
            control.register_wsgi(HOOKS, receiver.app)
