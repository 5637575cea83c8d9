"""Fake Sync v1: TTL expiry on the fake clock, cascading deletes, simulated clients (ACL and
reachability) and the Service webhooks, driven through the real twilio SDK."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask, Response, request
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from fake_twilio import DEFAULT_AUTH_TOKEN, TwilioError, state_of
from fake_twilio.core.state import FakeState
from fake_twilio.sync.models import SyncBackend

HOOKS = "https://hooks.example.test"
HOOK_URL = f"{HOOKS}/sync-webhook"


def assert_error(excinfo: pytest.ExceptionInfo[Any], code: int, status: int) -> None:
    assert excinfo.value.code == code
    assert excinfo.value.status == status


class Receiver:
    """An in-process webhook receiver that checks X-Twilio-Signature like a backend would."""

    def __init__(self) -> None:
        self.events: list[dict[str, str]] = []
        self.app = Flask("receiver")
        validator = RequestValidator(DEFAULT_AUTH_TOKEN)

        @self.app.post("/sync-webhook")
        def hook() -> Response:
            form = request.form.to_dict()
            signature = request.headers.get("X-Twilio-Signature", "")
            assert validator.validate(request.url, form, signature), "bad signature"
            self.events.append(form)
            return Response(status=200)

    def types(self) -> list[str]:
        return [event["EventType"] for event in self.events]


@pytest.fixture
def state(fake_app: Flask) -> FakeState:
    state = state_of(fake_app)
    state.clock.freeze(datetime(2030, 1, 1, tzinfo=UTC))
    return state


@pytest.fixture
def receiver(state: FakeState) -> Iterator[Receiver]:
    receiver = Receiver()
    state.webhooks.register_wsgi(HOOKS, receiver.app)
    yield receiver
    state.webhooks.unregister_wsgi(HOOKS)


def backend(state: FakeState) -> SyncBackend:
    return state.backend(state.default_credentials.account_sid, "sync")


def fetch_error(call: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as excinfo:
        call()
    return excinfo.value


# -- TTL expiry ----------------------------------------------------------------------------
def test_objects_and_items_expire_on_the_fake_clock(state: FakeState, client: Client) -> None:
    service = client.sync.v1.services(client.sync.v1.services.create().sid)
    service.documents.create(unique_name="doc", ttl=10)
    service.sync_streams.create(unique_name="st", ttl=20)
    service.sync_maps.create(unique_name="m")
    service.sync_maps("m").sync_map_items.create(key="short", data={}, item_ttl=5)
    service.sync_maps("m").sync_map_items.create(key="long", data={}, ttl=50)
    service.sync_lists.create(unique_name="l")
    service.sync_lists("l").sync_list_items.create(data={}, item_ttl=5)

    state.advance_clock(4.9)
    assert [i.key for i in service.sync_maps("m").sync_map_items.list()] == ["long", "short"]
    state.advance_clock(0.1)
    assert [i.key for i in service.sync_maps("m").sync_map_items.list()] == ["long"]
    assert list(service.sync_lists("l").sync_list_items.list()) == []
    assert service.documents("doc").fetch().unique_name == "doc"
    state.advance_clock(5)
    assert fetch_error(service.documents("doc").fetch).code == 20404
    assert service.documents.create(unique_name="doc").unique_name == "doc"  # name is free
    state.advance_clock(10)
    assert fetch_error(service.sync_streams("st").fetch).code == 20404


def test_ttl_update_postpones_and_zero_cancels_expiry(state: FakeState, client: Client) -> None:
    service = client.sync.v1.services(client.sync.v1.services.create().sid)
    service.documents.create(unique_name="doc", ttl=10)
    state.advance_clock(8)
    service.documents("doc").update(ttl=10)
    state.advance_clock(8)
    assert service.documents("doc").fetch().date_expires is not None
    service.documents("doc").update(ttl=0)
    state.advance_clock(1000)
    assert service.documents("doc").fetch().date_expires is None


def test_collection_ttl_from_an_item_expires_the_map(state: FakeState, client: Client) -> None:
    service = client.sync.v1.services(client.sync.v1.services.create().sid)
    service.sync_maps.create(unique_name="m")
    item = service.sync_maps("m").sync_map_items.create(key="k", data={}, collection_ttl=30)
    assert item.date_expires is None
    assert service.sync_maps("m").fetch().date_expires == datetime(2030, 1, 1, 0, 0, 30, tzinfo=UTC)
    state.advance_clock(30)
    assert fetch_error(service.sync_maps("m").fetch).code == 20404
    assert fetch_error(service.sync_maps("m").sync_map_items("k").fetch).code == 20404


# -- Cascading delete ----------------------------------------------------------------------
def test_service_delete_cascades_and_cancels_deadlines(state: FakeState, client: Client) -> None:
    sid = client.sync.v1.services.create().sid
    service = client.sync.v1.services(sid)
    service.documents.create(unique_name="doc", ttl=100)
    service.sync_maps.create(unique_name="m", ttl=100)
    service.sync_maps("m").sync_map_items.create(key="k", data={}, item_ttl=50)
    service.sync_lists.create(unique_name="l")
    service.sync_lists("l").sync_list_items.create(data={}, item_ttl=50)
    service.sync_streams.create(unique_name="st", ttl=100)
    assert len(state.scheduler) == 5

    assert service.delete() is True
    assert len(state.scheduler) == 0
    for call in (
        service.fetch,
        service.documents("doc").fetch,
        service.sync_maps("m").sync_map_items("k").fetch,
        service.sync_lists("l").sync_list_items(0).fetch,
        service.sync_streams("st").fetch,
        lambda: service.sync_maps("m").sync_map_items.create(key="x", data={}),
    ):
        error = fetch_error(call)
        assert (error.code, error.status) == (20404, 404)
    assert state.dump("sync")[state.default_credentials.account_sid]["sync"] == {"services": {}}


def test_map_delete_cancels_item_deadlines(state: FakeState, client: Client) -> None:
    service = client.sync.v1.services(client.sync.v1.services.create().sid)
    service.sync_maps.create(unique_name="m")
    for key in "abc":
        service.sync_maps("m").sync_map_items.create(key=key, data={}, item_ttl=10)
    service.sync_maps("m").delete()
    assert len(state.scheduler) == 0


# -- ACL through simulated clients ---------------------------------------------------------
def test_acl_forbids_without_permission_and_allows_with_it(
    state: FakeState, client: Client
) -> None:
    sid = client.sync.v1.services.create(acl_enabled=True).sid
    service = client.sync.v1.services(sid)
    service.sync_maps.create(unique_name="speakers")
    service.sync_maps("speakers").sync_map_items.create(key="host", data={"host": True})
    service.documents.create(unique_name="user-bob", data={"speaker_invite": False})
    sync = backend(state)

    with state.locked(), pytest.raises(TwilioError) as excinfo:
        sync.client_read(sid, "map", "speakers", "bob")
    assert_error(excinfo, 54007, 403)

    service.sync_maps("speakers").sync_map_permissions("bob").update(
        read=True, write=False, manage=False
    )
    service.documents("user-bob").document_permissions("bob").update(
        read=True, write=False, manage=False
    )
    with state.locked():
        body = sync.client_read(sid, "map", "speakers", "bob")
        assert [item["key"] for item in body["items"]] == ["host"]
        assert sync.client_read(sid, "map", "speakers", "bob", key="host")["data"] == {"host": True}
        assert sync.client_read(sid, "document", "user-bob", "bob")["data"] == {
            "speaker_invite": False
        }
        with pytest.raises(TwilioError) as excinfo:
            sync.client_write(sid, "map", "speakers", "bob", {"host": True}, key="bob")
        assert_error(excinfo, 54007, 403)
        with pytest.raises(TwilioError) as excinfo:
            sync.client_read(sid, "document", "user-bob", "eve")
        assert_error(excinfo, 54007, 403)
        with pytest.raises(TwilioError) as excinfo:
            sync.client_write(sid, "document", "brand-new", "bob", {})
        assert_error(excinfo, 54007, 403)
    assert sync.map_items(sid, "speakers") == {"host": {"host": True}}

    service.sync_maps("speakers").sync_map_permissions("carol").update(
        read=False, write=False, manage=True
    )
    with state.locked():
        written = sync.client_write(sid, "map", "speakers", "carol", {"host": False}, key="carol")
        assert (written["key"], written["created_by"]) == ("carol", "carol")
        assert sync.client_read(sid, "map", "speakers", "carol", key="carol")["data"] == {
            "host": False
        }
    assert service.sync_maps("speakers").sync_map_items("carol").fetch().created_by == "carol"


def test_without_acl_clients_read_write_and_create(state: FakeState, client: Client) -> None:
    sid = client.sync.v1.services.create().sid
    sync = backend(state)
    with state.locked():
        doc = sync.client_write(sid, "document", "user-dan", "dan", {"a": 1})
        assert (doc["unique_name"], doc["created_by"], doc["revision"]) == ("user-dan", "dan", "1")
        sync.client_write(sid, "list", "log", "dan", {"n": 1})
        sync.client_write(sid, "list", "log", "dan", {"n": 2})
        sync.client_write(sid, "list", "log", "dan", {"n": 20}, key="1")
        assert sync.client_read(sid, "document", "user-dan", "eve")["data"] == {"a": 1}
        assert sync.list_items_data(sid, "log") == {0: {"n": 1}, 1: {"n": 20}}
        assert sync.document_data(sid, "user-dan") == {"a": 1}


def test_client_operations_use_client_not_found_codes(state: FakeState, client: Client) -> None:
    sid = client.sync.v1.services.create().sid
    client.sync.v1.services(sid).sync_maps.create(unique_name="m")
    client.sync.v1.services(sid).sync_lists.create(unique_name="l")
    sync = backend(state)
    cases = [
        (lambda: sync.client_read("IS" + "0" * 32, "map", "m", "bob"), 54050),
        (lambda: sync.client_read(sid, "document", "nope", "bob"), 54100),
        (lambda: sync.client_read(sid, "map", "nope", "bob"), 54200),
        (lambda: sync.client_read(sid, "list", "nope", "bob"), 54150),
        (lambda: sync.client_read(sid, "map", "m", "bob", key="k"), 54201),
        (lambda: sync.client_read(sid, "list", "l", "bob", key="3"), 54151),
        (lambda: sync.client_write(sid, "list", "l", "bob", {}, key="3"), 54151),
        (lambda: sync.client_write(sid, "map", "m", "bob", [1]), 54008),  # type: ignore[arg-type]
        (lambda: sync.client_write(sid, "map", "m", "bob", {"x": "y" * 16384}, key="k"), 54006),
    ]
    with state.locked():
        for call, code in cases:
            with pytest.raises(TwilioError) as excinfo:
                call()
            assert excinfo.value.code == code


# -- Service webhooks ----------------------------------------------------------------------
def test_rest_writes_fire_webhooks_only_when_enabled(
    state: FakeState, client: Client, receiver: Receiver
) -> None:
    sid = client.sync.v1.services.create(webhook_url=HOOK_URL).sid
    service = client.sync.v1.services(sid)
    service.sync_maps.create(unique_name="speakers")
    service.sync_maps("speakers").sync_map_items.create(key="bob", data={"host": False})
    assert receiver.events == []

    service.update(webhooks_from_rest_enabled=True)
    map_sid = service.sync_maps("speakers").fetch().sid
    service.sync_maps("speakers").sync_map_items.create(key="alice", data={"host": True})
    service.sync_maps("speakers").sync_map_items("alice").delete()
    service.documents.create(unique_name="user-bob", data={"x": 1})
    assert receiver.types() == ["map_item_added", "map_item_removed", "document_created"]
    added = receiver.events[0]
    assert added["AccountSid"] == state.default_credentials.account_sid
    assert (added["ServiceSid"], added["Identity"], added["MapSid"]) == (sid, "system", map_sid)
    assert (added["MapUniqueName"], added["ItemKey"], added["ItemData"]) == (
        "speakers",
        "alice",
        '{"host":true}',
    )
    assert added["DateCreated"] == "2030-01-01T00:00:00Z"
    assert "EndpointId" not in added
    assert "ItemData" not in receiver.events[1]
    assert receiver.events[2]["DocumentUniqueName"] == "user-bob"


def test_client_writes_always_fire_webhooks(
    state: FakeState, client: Client, receiver: Receiver
) -> None:
    sid = client.sync.v1.services.create(webhook_url=HOOK_URL).sid
    client.sync.v1.services(sid).sync_maps.create(unique_name="m")
    sync = backend(state)
    with state.locked():
        sync.client_connect(sid, "bob", "endpoint-1")
        sync.client_write(sid, "map", "m", "bob", {"v": 1}, key="k")
    assert receiver.types() == ["map_item_added"]  # reachability webhooks are off
    assert (receiver.events[0]["Identity"], receiver.events[0]["EndpointId"]) == (
        "bob",
        "endpoint-1",
    )


def test_reachability_without_debouncing(
    state: FakeState, client: Client, receiver: Receiver
) -> None:
    sid = client.sync.v1.services.create(
        webhook_url=HOOK_URL, reachability_webhooks_enabled=True
    ).sid
    sync = backend(state)
    with state.locked():
        sync.client_connect(sid, "bob", "ep-1")
        sync.client_connect(sid, "bob", "ep-1")  # already connected: nothing
        sync.client_connect(sid, "bob", "ep-2")
    assert receiver.types() == ["endpoint_connected", "endpoint_connected"]
    with state.locked():
        sync.client_disconnect(sid, "bob", "ep-1")
        sync.client_disconnect(sid, "bob", "unknown")
        assert sync.connected_clients(sid) == {"bob": ["ep-2"]}
    assert receiver.types()[-1] == "endpoint_disconnected"
    event = receiver.events[-1]
    assert (event["ServiceSid"], event["Identity"], event["EndpointId"]) == (sid, "bob", "ep-1")


def test_reachability_debounced_disconnect(
    state: FakeState, client: Client, receiver: Receiver
) -> None:
    sid = client.sync.v1.services.create(
        webhook_url=HOOK_URL,
        reachability_webhooks_enabled=True,
        reachability_debouncing_enabled=True,
        reachability_debouncing_window=5000,
    ).sid
    sync = backend(state)
    with state.locked():
        sync.client_connect(sid, "bob", "ep-1")
        sync.client_disconnect(sid, "bob", "ep-1")
    assert receiver.types() == ["endpoint_connected"]
    state.advance_clock(4.9)
    assert receiver.types() == ["endpoint_connected"]
    state.advance_clock(0.1)
    assert receiver.types() == ["endpoint_connected", "endpoint_disconnected"]
    assert receiver.events[-1]["Identity"] == "bob"

    # a reconnect within the window swallows the pending disconnect (and the reconnect)
    with state.locked():
        sync.client_connect(sid, "alice", "a-1")
        sync.client_disconnect(sid, "alice", "a-1")
    state.advance_clock(3)
    with state.locked():
        sync.client_connect(sid, "alice", "a-2")
    state.advance_clock(10)
    assert receiver.types()[2:] == ["endpoint_connected"]

    # with two endpoints, only the last one going away counts
    with state.locked():
        sync.client_disconnect(sid, "alice", "a-2")
        sync.client_connect(sid, "carol", "c-1")
        sync.client_connect(sid, "carol", "c-2")
        sync.client_disconnect(sid, "carol", "c-1")
    state.advance_clock(5)
    assert receiver.types()[3:] == [
        "endpoint_connected",
        "endpoint_connected",
        "endpoint_disconnected",
    ]
    assert receiver.events[-1]["Identity"] == "alice"


def test_pending_disconnect_dropped_with_the_service(
    state: FakeState, client: Client, receiver: Receiver
) -> None:
    sid = client.sync.v1.services.create(
        webhook_url=HOOK_URL,
        reachability_webhooks_enabled=True,
        reachability_debouncing_enabled=True,
    ).sid
    sync = backend(state)
    with state.locked():
        sync.client_connect(sid, "bob", "ep-1")
        sync.client_disconnect(sid, "bob", "ep-1")
        assert sync.dump()["services"][sid]["pending_disconnects"] == ["bob"]
    client.sync.v1.services(sid).delete()
    state.advance_clock(60)
    assert receiver.types() == ["endpoint_connected"]
    with state.locked(), pytest.raises(TwilioError) as excinfo:
        sync.client_connect(sid, "bob", "ep-2")
    assert_error(excinfo, 54050, 404)


def test_dump_shows_data_revisions_items_and_clients(state: FakeState, client: Client) -> None:
    sid = client.sync.v1.services.create().sid
    service = client.sync.v1.services(sid)
    service.documents.create(unique_name="doc", data={"a": 1})
    service.sync_maps.create(unique_name="m")
    service.sync_maps("m").sync_map_items.create(key="k", data={"v": 1})
    service.sync_maps("m").sync_map_permissions("bob").update(read=True, write=False, manage=False)
    with state.locked():
        backend(state).client_connect(sid, "bob", "ep")
    dumped = state.dump("sync")[state.default_credentials.account_sid]["sync"]["services"][sid]
    (doc,) = dumped["documents"].values()
    assert (doc["data"], doc["revision"]) == ({"a": 1}, "0")
    (sync_map,) = dumped["maps"].values()
    assert sync_map["items"]["k"]["data"] == {"v": 1}
    assert sync_map["permissions"] == {"bob": {"read": True, "write": False, "manage": False}}
    assert dumped["clients"] == {"bob": ["ep"]}
