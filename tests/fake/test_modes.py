"""The fake's two ways in: in-process ``mock()`` and the HTTP ``FakeServer``, plus the fixtures.

Every product is driven through the real twilio SDK in both modes; edge/region hosts, absolute
``next_page_url``s, pass-through of non-Twilio hosts, webhooks to a real local URL, nesting and
isolation of several fakes. Servers bind to 127.0.0.1 only and are stopped by their tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import responses
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import fake_twilio
from fake_twilio.handle import FakeHandle, FakeTwilio
from fake_twilio.http_client import FakeServerHttpClient
from fake_twilio.inprocess import current, mock
from fake_twilio.server import FakeServer
from fake_twilio.testing import media_request

pytestmark = pytest.mark.server


# -- a real HTTP receiver on 127.0.0.1 -----------------------------------------------------
@dataclass
class Receiver:
    """Records every request it gets; answers 200 ``ok``."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self.received.append(
            {
                "method": request.method,
                "path": request.path,
                "url": request.url,
                "form": request.form.to_dict(),
                "signature": request.headers.get("X-Twilio-Signature"),
            }
        )
        return Response("ok")(environ, start_response)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    target = Receiver()
    server = make_server("127.0.0.1", 0, target, threaded=True)
    target.url = f"http://127.0.0.1:{server.port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield target
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as running:
        yield running


# -- every product in both modes -----------------------------------------------------------
def exercise_every_product(client: Client) -> dict[str, str]:
    """One call per product through the SDK (Media through ``client.request``)."""
    sids = {}
    room = client.video.v1.rooms.create(unique_name="modes-room", type="group")
    assert room.status == "in-progress"
    assert client.video.v1.rooms("modes-room").fetch().sid == room.sid
    sids["video"] = room.sid
    sync_service = client.sync.v1.services.create(friendly_name="modes")
    sync_map = client.sync.v1.services(sync_service.sid).sync_maps.create(unique_name="streams")
    item = (
        client.sync.v1.services(sync_service.sid)
        .sync_maps("streams")
        .sync_map_items.create(key="RM1", data={"player_streamer_sid": "VJ1"})
    )
    assert item.data == {"player_streamer_sid": "VJ1"}
    assert sync_map.sid.startswith("MP")
    sids["sync"] = sync_service.sid
    conversation = client.conversations.v1.conversations.create(unique_name="modes-conv")
    client.conversations.v1.conversations("modes-conv").participants.create(identity="alice")
    sids["conversations"] = conversation.sid
    streamer = media_request(client, "POST", "/PlayerStreamers", {"Video": "true"})
    assert streamer["sid"].startswith("VJ")
    assert (
        media_request(client, "GET", f"/PlayerStreamers/{streamer['sid']}")["sid"]
        == (streamer["sid"])
    )
    sids["media"] = streamer["sid"]
    return sids


def test_every_product_in_mock_mode() -> None:
    with mock() as fake:
        assert isinstance(fake, FakeTwilio)
        sids = exercise_every_product(fake.client())
        dumped = fake.dump()[fake.account_sid]
        assert set(sids) <= set(dumped)
        # A Client the code under test builds itself reaches the fake too.
        plain = Client(fake.api_key_sid, fake.api_key_secret, account_sid=fake.account_sid)
        assert (
            plain.conversations.v1.conversations("modes-conv").fetch().sid
            == (sids["conversations"])
        )
        assert fake.media("GET", f"/PlayerStreamers/{sids['media']}")["sid"] == sids["media"]


def test_every_product_in_server_mode(server: FakeServer) -> None:
    sids = exercise_every_product(server.client())
    assert server.url.startswith("http://127.0.0.1:")
    dumped = server.dump()[server.account_sid]
    assert set(sids) <= set(dumped)
    keyed = server.client(api_key=True)
    assert keyed.conversations.v1.conversations("modes-conv").fetch().sid == sids["conversations"]
    assert server.media("GET", f"/PlayerStreamers/{sids['media']}")["sid"] == sids["media"]


# -- regional and edge hosts ---------------------------------------------------------------
def test_edge_and_region_hosts_in_mock_mode() -> None:
    with mock() as fake:
        regional = Client(fake.account_sid, fake.auth_token, edge="dublin", region="ie1")
        conv = regional.conversations.v1.conversations.create(unique_name="edge")
        entry = fake.journal.entries(product="conversations", method="POST")[-1]
        assert entry.path == "/conversations/v1/Conversations"
        assert fake.client().conversations.v1.conversations("edge").fetch().sid == conv.sid
        raw = requests.get(
            "https://sync.sydney.au1.twilio.com/v1/Services",
            auth=(fake.account_sid, fake.auth_token),
            timeout=5,
        )
        assert raw.status_code == 200
        assert raw.json()["meta"]["key"] == "services"


def test_edge_and_region_hosts_in_server_mode(server: FakeServer) -> None:
    regional = Client(
        server.account_sid,
        server.auth_token,
        edge="dublin",
        region="ie1",
        http_client=FakeServerHttpClient(server.url),
    )
    conv = regional.conversations.v1.conversations.create(unique_name="edge")
    # Routing by Host header, as a proxy or /etc/hosts setup would send it.
    response = requests.get(
        f"{server.url}/v1/Conversations/edge",
        headers={"Host": "conversations.dublin.ie1.twilio.com"},
        auth=(server.account_sid, server.auth_token),
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json()["sid"] == conv.sid
    # And by path prefix.
    response = requests.get(
        f"{server.url}/conversations/v1/Conversations/edge",
        auth=(server.account_sid, server.auth_token),
        timeout=5,
    )
    assert response.json()["url"] == f"https://conversations.twilio.com/v1/Conversations/{conv.sid}"


# -- paging --------------------------------------------------------------------------------
def follow_pages(client: Client, journal_entries: Callable[[], list[Any]]) -> None:
    created = [
        client.conversations.v1.conversations.create(friendly_name=f"c{i}") for i in range(5)
    ]
    listed = client.conversations.v1.conversations.list(page_size=2)
    assert [c.sid for c in listed] == [c.sid for c in created]
    pages = [e for e in journal_entries() if e.method == "GET"]
    assert [e.query.get("Page") for e in pages] == [None, ["1"], ["2"]]
    assert all(e.query.get("PageSize") == ["2"] for e in pages)


def test_next_page_url_followed_in_mock_mode() -> None:
    with mock() as fake:
        follow_pages(fake.client(), lambda: fake.journal.entries(product="conversations"))


def test_next_page_url_followed_in_server_mode(server: FakeServer) -> None:
    follow_pages(server.client(), lambda: server.journal.entries(product="conversations"))


# -- pass-through and webhooks -------------------------------------------------------------
def test_non_twilio_hosts_pass_through(receiver: Receiver) -> None:
    with mock():
        response = requests.post(f"{receiver.url}/ping", data={"a": "1"}, timeout=5)
        assert (response.status_code, response.text) == (200, "ok")
        # Twilio hosts never reach the network, even APIs the fake does not implement.
        unknown = requests.get("https://api.twilio.com/2010-04-01/Accounts.json", timeout=5)
        assert unknown.status_code == 404
        assert unknown.json()["code"] == 20404
    assert receiver.received == [
        {
            "method": "POST",
            "path": "/ping",
            "url": f"{receiver.url}/ping",
            "form": {"a": "1"},
            "signature": None,
        }
    ]


def test_an_enclosing_responses_mock_still_answers_its_hosts() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as stubs:
        stubs.add(responses.GET, "https://stubbed.example.com/data", json={"stub": True})
        with mock() as fake:
            assert requests.get("https://stubbed.example.com/data", timeout=5).json() == {
                "stub": True
            }
            assert fake.client().conversations.v1.services.list() == []


def test_webhooks_reach_a_real_url_from_mock_mode(receiver: Receiver) -> None:
    with mock() as fake:
        client = fake.client()
        callback = f"{receiver.url}/rooms-webhook"
        room = client.video.v1.rooms.create(unique_name="hooked", status_callback=callback)
        client.video.v1.rooms(room.sid).update(status="completed")
        assert fake.state.flush_webhooks(5)
        events = [r["form"].get("StatusCallbackEvent") for r in receiver.received]
        assert "room-ended" in events
        validator = RequestValidator(fake.auth_token)
        for record in receiver.received:
            assert record["path"] == "/rooms-webhook"
            assert validator.validate(callback, record["form"], record["signature"])
        deliveries = fake.webhooks.records()
        assert deliveries and all(d.status == 200 for d in deliveries)


def test_webhooks_to_an_in_process_app() -> None:
    inbox = Receiver()
    with mock() as fake:
        fake.register_webhook_app("https://backend.example.com", inbox)
        client = fake.client()
        room = client.video.v1.rooms.create(
            unique_name="inproc", status_callback="https://backend.example.com/hook"
        )
        client.video.v1.rooms(room.sid).update(status="completed")
    assert any(r["form"].get("StatusCallbackEvent") == "room-ended" for r in inbox.received)


# -- nesting, decorator, isolation ---------------------------------------------------------
def test_nested_mocks_use_the_innermost_fake() -> None:
    with mock() as outer:
        outer.client().conversations.v1.conversations.create(unique_name="outer")
        assert current() is outer
        with mock() as inner:
            assert current() is inner
            client = Client(inner.account_sid, inner.auth_token)
            assert client.conversations.v1.conversations.list() == []
            with mock(app=outer.app) as shared:
                assert shared.state is outer.state
                assert [c.unique_name for c in client.conversations.v1.conversations.list()] == [
                    "outer"
                ]
            assert client.conversations.v1.conversations.list() == []
        assert current() is outer
        names = [c.unique_name for c in outer.client().conversations.v1.conversations.list()]
        assert names == ["outer"]
    with pytest.raises(RuntimeError):
        current()


def test_decorator_gives_each_call_a_fresh_fake() -> None:
    @fake_twilio.mock()
    def create_one(name: str) -> tuple[FakeTwilio, int]:
        fake = current()
        client = fake.client()
        client.conversations.v1.conversations.create(unique_name=name)
        return fake, len(client.conversations.v1.conversations.list())

    first, count_one = create_one("a")
    second, count_two = create_one("a")
    assert (count_one, count_two) == (1, 1)
    assert first.state is not second.state
    assert create_one.__name__ == "create_one"

    async def coroutine() -> None:  # pragma: no cover - never run
        pass

    with pytest.raises(TypeError):
        fake_twilio.mock()(coroutine)


def test_start_and_stop() -> None:
    interceptor = mock()
    fake = interceptor.start()
    try:
        assert fake.client().conversations.v1.services.list() == []
    finally:
        interceptor.stop()
    interceptor.stop()  # idempotent


def test_two_fakes_in_parallel_are_isolated() -> None:
    with FakeServer() as first, FakeServer() as second, mock() as in_process:
        clients = {"first": first.client(), "second": second.client(), "mock": in_process.client()}
        errors: list[BaseException] = []

        def work(name: str, client: Client) -> None:
            try:
                for i in range(10):
                    client.conversations.v1.conversations.create(unique_name=f"{name}-{i}")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=item) for item in clients.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        for name, client in clients.items():
            names = {c.unique_name for c in client.conversations.v1.conversations.list()}
            assert names == {f"{name}-{i}" for i in range(10)}
        assert first.port != second.port


# -- handles -------------------------------------------------------------------------------
def test_handle_shortcuts() -> None:
    with mock() as fake:
        creds = fake.credentials
        assert (fake.account_sid, fake.auth_token) == (creds.account_sid, creds.auth_token)
        assert (fake.api_key_sid, fake.api_key_secret) == (creds.api_key_sid, creds.api_key_secret)
        fake.clock.freeze()
        before = fake.clock.now()
        fake.advance(60)
        assert (fake.clock.now() - before).total_seconds() == 60
        mark = fake.journal.mark()
        fake.client().conversations.v1.services.create(friendly_name="s")
        assert [e.status for e in fake.journal.entries(since=mark)] == [201]
        fake.reset()
        assert fake.client().conversations.v1.services.list() == []
        other = fake.state.accounts.create("other")
        fake.client(account_sid=other.account_sid).conversations.v1.services.create(
            friendly_name="theirs"
        )
        dumped = fake.dump(product="conversations")
        assert dumped[fake.account_sid]["conversations"]["services"] == []
        [theirs] = dumped[other.account_sid]["conversations"]["services"]
        assert theirs["friendly_name"] == "theirs"
        with pytest.raises(KeyError):
            fake.client(account_sid="AC" + "9" * 32)


def test_control_in_both_modes(server: FakeServer) -> None:
    with mock() as fake:
        assert fake.control is fake.control
        assert fake.control.health()["status"] == "ok"
    assert server.control.health()["status"] == "ok"
    health = requests.get(f"{server.url}/_fake/health", timeout=5)
    assert health.status_code == 200
    assert "conversations" in health.json()["products"]


def test_dropped_connection_is_a_network_error_in_mock_mode() -> None:
    with mock() as fake:
        fake.control.add_fault("drop", product="conversations", times=1)
        with pytest.raises(requests.exceptions.ConnectionError):
            fake.client().conversations.v1.services.list()
        assert fake.client().conversations.v1.services.list() == []


def test_server_stop_closes_the_socket() -> None:
    running = FakeServer().start()
    url = running.url
    assert requests.get(f"{url}/_fake/health", timeout=5).status_code == 200
    running.stop()
    running.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{url}/_fake/health", timeout=5)


def test_mock_and_server_side_by_side(server: FakeServer) -> None:
    with mock() as fake:
        server.client().conversations.v1.conversations.create(unique_name="on-server")
        assert fake.client().conversations.v1.conversations.list() == []
        assert [c.unique_name for c in server.client().conversations.v1.conversations.list()] == [
            "on-server"
        ]


# -- pytest fixtures (plugin) --------------------------------------------------------------
def test_fixture_fake_twilio(fake_twilio: FakeTwilio, fake_twilio_client: Client) -> None:
    conv = fake_twilio_client.conversations.v1.conversations.create(unique_name="fx")
    assert Client(fake_twilio.account_sid, fake_twilio.auth_token).conversations.v1.conversations(
        "fx"
    ).fetch().sid == (conv.sid)


def test_fixture_fake_twilio_app(fake_twilio_app: Any) -> None:
    from fake_twilio.testing import sdk_client

    client = sdk_client(fake_twilio_app)
    assert client.conversations.v1.services.list() == []


def test_fixture_fake_twilio_server(fake_twilio_server: FakeServer) -> None:
    assert isinstance(fake_twilio_server, FakeHandle)
    assert fake_twilio_server.running
    client = fake_twilio_server.client()
    assert client.conversations.v1.conversations.create().sid.startswith("CH")


def test_fixture_fake_twilio_server_session(fake_twilio_server_session: FakeServer) -> None:
    fake_twilio_server_session.reset(product="conversations")
    client = fake_twilio_server_session.client()
    client.conversations.v1.conversations.create(unique_name="session")
    assert [c.unique_name for c in client.conversations.v1.conversations.list()] == ["session"]
