"""Path values the way Twilio takes them: each one percent-encoded segment, decoded once.

The twilio SDK formats path parameters into the URI as they are, so a caller encodes them
(``quote(value, safe="")``, ``.``/``..`` as ``%2E``). The fake must route ``a%2Fb`` as one
segment and hand ``a/b`` to the model, in every mode: in-process through
``WSGITwilioHttpClient``, under ``fake_twilio.mock()``, and over a real socket (where the
server's ``PATH_INFO`` is already decoded). Every resource addressed by a user value is
covered: Sync map items, map and document permissions, documents by unique name, room
participants and conversation participants by identity.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from flask import Flask
from twilio.base.exceptions import TwilioRestException
from twilio.jwt.access_token.grants import VideoGrant
from twilio.rest import Client
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client as WsgiClient

import fake_twilio
from fake_twilio import create_app, state_of
from fake_twilio.control import FakeControl
from fake_twilio.core.state import FakeState
from fake_twilio.server import FakeServer
from fake_twilio.testing import sdk_client

from .support import access_token

AWKWARD = ("a/b", "?x", "#", "%41", "%2F", ".", "..", "ü", "a b", "/", "x/../y", "plain")
MODES = ("in-process", "mock", "server")


def segment(value: str) -> str:
    """``value`` as one path segment, the way a Twilio client must encode it."""
    encoded = quote(value, safe="")
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


@pytest.fixture(params=MODES)
def client(request: pytest.FixtureRequest, app: Flask) -> Iterator[Client]:
    """A real SDK client for ``app``, in each of the fake's three modes."""
    if request.param == "in-process":
        yield sdk_client(app)
    elif request.param == "mock":
        with fake_twilio.mock(app=app) as fake:
            yield fake.client()
    else:
        with FakeServer(app=app) as server:
            yield server.client()


def sync_service(client: Client) -> str:
    return client.sync.v1.services.create(friendly_name="segments", acl_enabled=True).sid


def test_map_items_by_awkward_key(client: Client) -> None:
    service = sync_service(client)
    client.sync.v1.services(service).sync_maps.create(unique_name="m")
    items = client.sync.v1.services(service).sync_maps("m").sync_map_items
    for key in AWKWARD:
        items.create(key=key, data={"key": key})
    for key in AWKWARD:
        item = client.sync.v1.services(service).sync_maps("m").sync_map_items(segment(key))
        assert item.fetch().data == {"key": key}, key
        assert item.update(data={"updated": key}).key == key
        assert item.fetch().data == {"updated": key}, key
    assert sorted(i.key for i in items.list()) == sorted(AWKWARD)
    for key in AWKWARD:
        items(segment(key)).delete()
        with pytest.raises(TwilioRestException) as error:
            items(segment(key)).fetch()
        assert error.value.status == 404, key
    assert items.list() == []


def test_map_and_document_permissions_by_awkward_identity(client: Client) -> None:
    service = client.sync.v1.services(sync_service(client))
    service.sync_maps.create(unique_name="m")
    service.documents.create(unique_name="d", data={})
    containers = (service.sync_maps("m").sync_map_permissions, service.documents("d"))
    map_permissions, document = containers
    for identity in AWKWARD:
        map_permissions(segment(identity)).update(read=True, write=False, manage=False)
        document.document_permissions(segment(identity)).update(read=True, write=True, manage=False)
    for identity in AWKWARD:
        fetched = map_permissions(segment(identity)).fetch()
        assert (fetched.identity, fetched.read, fetched.write) == (identity, True, False)
        fetched = document.document_permissions(segment(identity)).fetch()
        assert (fetched.identity, fetched.write) == (identity, True)
    assert sorted(p.identity for p in map_permissions.list()) == sorted(AWKWARD)
    assert sorted(p.identity for p in document.document_permissions.list()) == sorted(AWKWARD)
    for identity in AWKWARD:
        map_permissions(segment(identity)).delete()
        document.document_permissions(segment(identity)).delete()
    assert map_permissions.list() == [] and document.document_permissions.list() == []


def test_documents_by_awkward_unique_name(client: Client) -> None:
    documents = client.sync.v1.services(sync_service(client)).documents
    names = [f"user-{value}" for value in AWKWARD] + [".", ".."]
    for name in names:
        documents.create(unique_name=name, data={"name": name})
    for name in names:
        assert documents(segment(name)).fetch().data == {"name": name}, name
        updated = documents(segment(name)).update(data={"seen": True})
        assert (updated.unique_name, updated.data) == (name, {"seen": True})
    assert sorted(d.unique_name for d in documents.list()) == sorted(names)
    for name in names:
        documents(segment(name)).delete()
    assert documents.list() == []


def test_room_participants_by_awkward_identity(client: Client, state: FakeState) -> None:
    room = client.video.v1.rooms.create(unique_name="a/b ?#.", type="group")
    assert client.video.v1.rooms(segment("a/b ?#.")).fetch().sid == room.sid
    control = FakeControl(state)
    for identity in AWKWARD:
        token = access_token(state, VideoGrant(room=room.unique_name), identity=identity)
        control.connect_to_room(token, room.sid)
    participants = client.video.v1.rooms(room.sid).participants
    for identity in AWKWARD:
        assert participants(segment(identity)).fetch().identity == identity
        assert participants(segment(identity)).update(status="disconnected").status == (
            "disconnected"
        )
    assert participants.list(status="connected") == []


def test_conversation_participants_by_awkward_identity(client: Client) -> None:
    service = client.conversations.v1.services.create(friendly_name="chat")
    conversations = client.conversations.v1.services(service.sid).conversations
    conversation = conversations.create(unique_name="talk/1 ?#")
    by_name = conversations(segment("talk/1 ?#"))
    assert by_name.fetch().sid == conversation.sid
    for identity in AWKWARD:
        by_name.participants.create(identity=identity)
    for identity in AWKWARD:
        assert by_name.participants(segment(identity)).fetch().identity == identity
    assert sorted(p.identity for p in by_name.participants.list()) == sorted(AWKWARD)
    for identity in AWKWARD:
        by_name.participants(segment(identity)).delete()
    assert by_name.participants.list() == []


@pytest.mark.parametrize("name", ["..", "a/b ü", "?x#"])
def test_page_urls_lead_back_to_the_same_list(client: Client, name: str) -> None:
    """The SDK follows ``next_page_url``: the fake writes it with the map name encoded."""
    maps = client.sync.v1.services(sync_service(client)).sync_maps
    maps.create(unique_name=name)
    items = maps(segment(name)).sync_map_items
    for n in range(5):
        items.create(key=f"k{n}", data={})
    page = items.page(page_size=2)
    assert page.next_page_url.endswith("?PageSize=2&Page=1&PageToken=PT2")
    assert f"/Maps/{segment(name)}/Items?" in page.next_page_url
    assert [i.key for i in items.list(page_size=2)] == [f"k{n}" for n in range(5)]


def test_a_plain_slash_still_separates_segments(client: Client) -> None:
    documents = client.sync.v1.services(sync_service(client)).documents
    documents.create(unique_name="a/b", data={})
    with pytest.raises(TwilioRestException) as error:
        documents("a/b").fetch()  # unencoded: /Documents/a/b is no route
    assert (error.value.status, error.value.code) == (404, 20404)
    assert documents(segment("a/b")).fetch().unique_name == "a/b"


def test_a_plain_slash_in_an_item_key_is_a_separator(client: Client) -> None:
    """``/Items/a/b`` is no route (Twilio 404), for map and list items alike; only the
    encoded ``a%2Fb`` reaches the key ``a/b``."""
    service = client.sync.v1.services(sync_service(client))
    service.sync_maps.create(unique_name="m")
    service.sync_lists.create(unique_name="l")
    map_items = service.sync_maps("m").sync_map_items
    map_items.create(key="a/b", data={})
    service.sync_lists("l").sync_list_items.create(data={})
    calls = (
        lambda: map_items("a/b").fetch(),
        lambda: map_items("a/b").update(data={"x": 1}),
        lambda: map_items("a/b").delete(),
        lambda: service.sync_lists("l").sync_list_items("0/x").fetch(),
    )
    for call in calls:
        with pytest.raises(TwilioRestException) as error:
            call()
        assert (error.value.status, error.value.code) == (404, 20404)
    assert map_items(segment("a/b")).fetch().data == {}


def test_the_journal_records_the_path_as_sent(client: Client, state: FakeState) -> None:
    service = sync_service(client)
    documents = client.sync.v1.services(service).documents
    documents.create(unique_name="a/b ü", data={})
    mark = state.journal.mark()
    documents(segment("a/b ü")).fetch()
    (entry,) = state.journal.entries(since=mark)
    assert entry.path == f"/sync/v1/Services/{service}/Documents/a%2Fb%20%C3%BC"
    assert entry.status == 200


def test_host_routed_requests_keep_encoded_segments(app: Flask, state: FakeState) -> None:
    """``Host: sync.twilio.com`` with ``/v1/...`` over a real socket, no SDK involved."""
    service = sdk_client(app).sync.v1.services.create(friendly_name="host").sid
    creds = state.default_credentials
    auth = (creds.account_sid, creds.auth_token)
    with FakeServer(app=app) as server:
        url = f"{server.url}/v1/Services/{service}/Documents"
        headers = {"Host": "sync.eu1.twilio.com"}
        created = requests.post(url, data={"UniqueName": "x/y"}, auth=auth, headers=headers)
        assert created.status_code == 201, created.text
        fetched = requests.get(f"{url}/x%2Fy", auth=auth, headers=headers)
        assert fetched.status_code == 200, fetched.text
        assert fetched.json()["unique_name"] == "x/y"
        missing = requests.get(f"{url}/x/y", auth=auth, headers=headers)
        assert missing.status_code == 404
        assert missing.json()["code"] == 20404


def test_mounted_under_a_prefix_and_through_the_werkzeug_test_client(
    app: Flask, state: FakeState
) -> None:
    """``SCRIPT_NAME`` set by a dispatcher: the raw path below it is what routes."""
    service = sdk_client(app).sync.v1.services.create(friendly_name="mounted").sid
    sdk_client(app).sync.v1.services(service).documents.create(unique_name="%2F/.", data={})
    mounted = WsgiClient(DispatcherMiddleware(create_app(), {"/twilio": app}))
    creds = state.default_credentials
    path = f"/twilio/sync/v1/Services/{service}/Documents/{segment('%2F/.')}"
    response = mounted.get(path, auth=(creds.account_sid, creds.auth_token))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["unique_name"] == "%2F/."


def test_without_a_raw_uri_the_decoded_path_still_routes(app: Flask, state: FakeState) -> None:
    """A server that gives no ``RAW_URI``/``REQUEST_URI``: ``%`` in values survives, an
    encoded ``/`` cannot be told from a separator (nothing can, from ``PATH_INFO``)."""
    service = sdk_client(app).sync.v1.services.create(friendly_name="bare").sid
    sdk_client(app).sync.v1.services(service).documents.create(unique_name="%41 b", data={})
    creds = state.default_credentials

    def bare(environ: dict[str, Any], start_response: Any) -> Any:
        environ.pop("RAW_URI", None)
        environ.pop("REQUEST_URI", None)
        return app(environ, start_response)

    response = WsgiClient(bare).get(
        f"/sync/v1/Services/{service}/Documents/%2541%20b",
        auth=(creds.account_sid, creds.auth_token),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["unique_name"] == "%41 b"
    assert state_of(app).journal.entries()[-1].path.endswith("/Documents/%2541%20b")
