"""Conversations v1 through the real twilio SDK: services, conversations, participants, timers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

import schemas
from fake_twilio import state_of
from fake_twilio.conversations.durations import parse_duration
from fake_twilio.core.errors import TwilioError
from fake_twilio.testing import sdk_client

DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
BASE = "https://conversations.twilio.com/v1"
CONVERSATION_KEYS = {
    "sid",
    "account_sid",
    "chat_service_sid",
    "messaging_service_sid",
    "friendly_name",
    "unique_name",
    "attributes",
    "date_created",
    "date_updated",
    "state",
    "timers",
    "bindings",
    "url",
    "links",
}
PARTICIPANT_KEYS = {
    "account_sid",
    "conversation_sid",
    "sid",
    "identity",
    "attributes",
    "messaging_binding",
    "role_sid",
    "date_created",
    "date_updated",
    "url",
    "last_read_message_index",
    "last_read_timestamp",
}
SERVICE_KEYS = {
    "sid",
    "account_sid",
    "friendly_name",
    "date_created",
    "date_updated",
    "url",
    "links",
}
ROLE_SID = "RL" + "0" * 32
MESSAGING_SERVICE_SID = "MG" + "a" * 32


def last_json(client: Client) -> Any:
    """The JSON body of the client's last response (what the SDK parsed)."""
    response = client.http_client._test_only_last_response
    assert response is not None
    return json.loads(response.text)


def expect_error(code: int, status: int, call: Any, *args: Any, **kwargs: Any) -> None:
    with pytest.raises(TwilioRestException) as info:
        call(*args, **kwargs)
    assert (info.value.code, info.value.status) == (code, status), info.value.msg


def expect_page_error(code: int, status: int, call: Any, *args: Any, **kwargs: Any) -> None:
    """A failed list page: the SDK raises a plain TwilioException carrying the response."""
    with pytest.raises(TwilioException) as info:
        call(*args, **kwargs)
    response = info.value.args[1]
    assert (json.loads(response.text)["code"], response.status_code) == (code, status)


@pytest.fixture
def service_sid(client: Client) -> str:
    return client.conversations.v1.services.create(friendly_name="Live chat").sid


# -- services ------------------------------------------------------------------------------
def test_service_create_fetch_list_delete(client: Client) -> None:
    service = client.conversations.v1.services.create(friendly_name="Live chat")
    body = last_json(client)
    schemas.validate("twilio/conversation-service", body)
    assert set(body) == SERVICE_KEYS
    assert body["url"] == f"{BASE}/Services/{service.sid}"
    assert body["links"]["conversations"] == f"{BASE}/Services/{service.sid}/Conversations"
    assert DATETIME_RE.match(body["date_created"])

    fetched = client.conversations.v1.services(service.sid).fetch()
    assert (fetched.sid, fetched.friendly_name) == (service.sid, "Live chat")
    listed = client.conversations.v1.services.list()
    assert [s.sid for s in listed] == [service.sid]
    schemas.validate("twilio/conversation-service-page", last_json(client))

    assert client.conversations.v1.services(service.sid).delete() is True
    expect_error(20404, 404, client.conversations.v1.services(service.sid).fetch)
    expect_error(20404, 404, client.conversations.v1.services(service.sid).delete)


def test_service_requires_friendly_name(client: Client) -> None:
    expect_error(20001, 400, client.conversations.v1.services.create, friendly_name="")
    expect_error(50003, 400, client.conversations.v1.services.create, friendly_name="x" * 257)
    assert client.conversations.v1.services.list() == []


def test_deleting_a_service_deletes_its_conversations(client: Client, service_sid: str) -> None:
    service = client.conversations.v1.services(service_sid)
    service.conversations.create(unique_name="RM1")
    client.conversations.v1.services(service_sid).delete()
    fresh = client.conversations.v1.services.create(friendly_name="again")
    assert fresh.sid != service_sid
    expect_error(20404, 404, service.conversations("RM1").fetch)


# -- conversations in the default service ---------------------------------------------------
def test_default_service_created_lazily_and_remembered(client: Client, fake_app: Flask) -> None:
    assert client.conversations.v1.services.list() == []
    first = client.conversations.v1.conversations.create(friendly_name="one")
    body = last_json(client)
    schemas.validate("twilio/conversation", body)
    assert set(body) == CONVERSATION_KEYS
    assert body["url"] == f"{BASE}/Conversations/{first.sid}"
    assert body["links"] == {
        name: f"{BASE}/Conversations/{first.sid}/{segment}"
        for name, segment in (
            ("participants", "Participants"),
            ("messages", "Messages"),
            ("webhooks", "Webhooks"),
            ("export", "Export"),
        )
    }
    assert (body["state"], body["attributes"], body["timers"], body["bindings"]) == (
        "active",
        "{}",
        {},
        {},
    )
    assert body["unique_name"] is None and body["messaging_service_sid"] is None
    second = client.conversations.v1.conversations.create()
    assert first.chat_service_sid == second.chat_service_sid
    services = client.conversations.v1.services.list()
    assert [s.sid for s in services] == [first.chat_service_sid]

    state = state_of(fake_app)
    with state.locked():
        backend = state.backend(state.default_credentials.account_sid, "conversations")
        assert backend.default_service_sid() == first.chat_service_sid


def test_create_with_every_field(client: Client) -> None:
    created = client.conversations.v1.conversations.create(
        friendly_name="Stream chat",
        unique_name="RMroom",
        attributes='{"topic": "live"}',
        messaging_service_sid=MESSAGING_SERVICE_SID,
        state="inactive",
        timers_closed="P1D",
        bindings_email_address="host@example.com",
        bindings_email_name="Host",
        date_created=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        x_twilio_webhook_enabled="true",
    )
    body = last_json(client)
    schemas.validate("twilio/conversation", body)
    assert body["friendly_name"] == "Stream chat"
    assert body["unique_name"] == "RMroom"
    assert body["attributes"] == '{"topic": "live"}'
    assert body["messaging_service_sid"] == MESSAGING_SERVICE_SID
    assert body["state"] == "inactive"
    assert body["date_created"] == "2024-01-02T03:04:05Z"
    assert body["bindings"] == {"email": {"projected_address": "host@example.com", "name": "Host"}}
    assert set(body["timers"]) == {"date_closed"}
    assert created.timers == body["timers"]


def test_timers_are_computed_and_run_on_the_fake_clock(client: Client, fake_app: Flask) -> None:
    state = state_of(fake_app)
    start = state.clock.freeze(datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC))
    conv = client.conversations.v1.conversations.create(
        unique_name="timed", timers_inactive="PT5M", timers_closed="PT10M"
    )
    assert conv.timers == {
        "date_inactive": "2025-05-01T12:05:00Z",
        "date_closed": "2025-05-01T12:10:00Z",
    }
    assert start == datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)
    state.advance_clock(299)
    assert client.conversations.v1.conversations("timed").fetch().state == "active"
    state.advance_clock(1)
    fetched = client.conversations.v1.conversations("timed").fetch()
    assert (fetched.state, fetched.timers) == ("inactive", {"date_closed": "2025-05-01T12:10:00Z"})
    state.advance_clock(300)
    fetched = client.conversations.v1.conversations("timed").fetch()
    assert (fetched.state, fetched.timers) == ("closed", {})
    assert fetched.date_updated == datetime(2025, 5, 1, 12, 10, 0, tzinfo=UTC)
    expect_error(
        50377, 400, client.conversations.v1.conversations("timed").update, friendly_name="x"
    )


def test_updating_timers_restarts_them(client: Client, fake_app: Flask) -> None:
    state = state_of(fake_app)
    state.clock.freeze(datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC))
    client.conversations.v1.conversations.create(unique_name="t", timers_closed="PT10M")
    state.advance_clock(540)
    updated = client.conversations.v1.conversations("t").update(timers_closed="PT1H")
    assert updated.timers == {"date_closed": "2025-05-01T13:09:00Z"}
    state.advance_clock(120)
    assert client.conversations.v1.conversations("t").fetch().state == "active"


def test_fetch_update_delete_by_sid_and_unique_name(client: Client) -> None:
    conv = client.conversations.v1.conversations.create(unique_name="RMa", friendly_name="a")
    assert client.conversations.v1.conversations("RMa").fetch().sid == conv.sid
    assert client.conversations.v1.conversations(conv.sid).fetch().unique_name == "RMa"
    updated = client.conversations.v1.conversations("RMa").update(
        unique_name="RMb", attributes='{"x": [1]}', friendly_name="b", state="inactive"
    )
    body = last_json(client)
    schemas.validate("twilio/conversation", body)
    assert (updated.unique_name, updated.attributes, updated.friendly_name, updated.state) == (
        "RMb",
        '{"x": [1]}',
        "b",
        "inactive",
    )
    expect_error(20404, 404, client.conversations.v1.conversations("RMa").fetch)
    assert client.conversations.v1.conversations("RMb").delete(x_twilio_webhook_enabled="false")
    expect_error(20404, 404, client.conversations.v1.conversations(conv.sid).fetch)
    expect_error(20404, 404, client.conversations.v1.conversations(conv.sid).delete)


def test_unknown_conversation_is_20404_with_twilio_path(client: Client) -> None:
    with pytest.raises(TwilioRestException) as info:
        client.conversations.v1.conversations("CH" + "0" * 32).fetch()
    assert (info.value.code, info.value.status) == (20404, 404)
    assert info.value.msg.endswith(f"resource /Conversations/CH{'0' * 32} was not found")
    expect_error(
        20404, 404, client.conversations.v1.conversations("nope").update, friendly_name="x"
    )
    expect_error(
        20404, 404, client.conversations.v1.conversations("nope").participants.create, identity="a"
    )


@pytest.mark.parametrize(
    ("kwargs", "code", "status"),
    [
        ({"attributes": "{not json"}, 50304, 400),
        ({"attributes": '"' + "x" * 17000 + '"'}, 50303, 400),
        ({"timers_closed": "1 day"}, 50380, 400),
        ({"timers_inactive": "P1X"}, 50379, 400),
        ({"timers_closed": "PT9M"}, 50376, 400),
        ({"timers_inactive": "PT30S"}, 50375, 400),
        ({"state": "sleeping"}, 50378, 400),
        ({"state": "closed"}, 50384, 400),
        ({"unique_name": "CH" + "a" * 32}, 50390, 400),
        ({"unique_name": "u" * 257}, 50004, 400),
        ({"friendly_name": "f" * 257}, 50003, 400),
        ({"messaging_service_sid": "MG123"}, 50341, 400),
        ({"date_created": "yesterday"}, 50308, 400),
        ({"x_twilio_webhook_enabled": "maybe"}, 20001, 400),
    ],
)
def test_invalid_conversation_input_changes_nothing(
    client: Client, kwargs: dict[str, Any], code: int, status: int
) -> None:
    expect_error(code, status, client.conversations.v1.conversations.create, **kwargs)
    assert client.conversations.v1.conversations.list() == []


def test_unknown_parameter_is_refused(client: Client) -> None:
    response = client.request(
        "POST", f"{BASE}/Conversations", data={"FriendlyName": "x", "Colour": "red"}
    )
    assert response.status_code == 400
    assert json.loads(response.text)["code"] == 20001


def test_unique_name_is_unique_per_service(client: Client, service_sid: str) -> None:
    client.conversations.v1.conversations.create(unique_name="RMdup")
    expect_error(50353, 409, client.conversations.v1.conversations.create, unique_name="RMdup")
    scoped = client.conversations.v1.services(service_sid).conversations
    scoped.create(unique_name="RMdup")  # another service: allowed
    expect_error(50353, 409, scoped.create, unique_name="RMdup")
    other = client.conversations.v1.conversations.create(unique_name="RMother")
    expect_error(
        50353, 409, client.conversations.v1.conversations(other.sid).update, unique_name="RMdup"
    )
    assert client.conversations.v1.conversations(other.sid).fetch().unique_name == "RMother"


def test_list_paging_and_filters(client: Client, fake_app: Flask) -> None:
    state = state_of(fake_app)
    state.clock.freeze(datetime(2025, 1, 1, tzinfo=UTC))
    first = client.conversations.v1.conversations.create(friendly_name="old")
    state.advance_clock(2 * 86400)
    sids = []
    for i in range(4):
        sids.append(client.conversations.v1.conversations.create(friendly_name=f"c{i}").sid)
        state.advance_clock(1)
    client.conversations.v1.conversations(sids[0]).update(state="inactive")

    listed = client.conversations.v1.conversations.list(page_size=2)
    assert [c.sid for c in listed] == [first.sid, *sids]
    page = client.conversations.v1.conversations.page(page_size=2)
    schemas.validate("twilio/conversation-page", last_json(client))
    assert page.next_page_url.startswith(f"{BASE}/Conversations?")

    inactive = client.conversations.v1.conversations.list(state="inactive", page_size=1)
    assert [c.sid for c in inactive] == [sids[0]]
    recent = client.conversations.v1.conversations.list(start_date="2025-01-02")
    assert [c.sid for c in recent] == list(reversed(sids))
    old = client.conversations.v1.conversations.list(end_date="2025-01-01")
    assert [c.sid for c in old] == [first.sid]
    expect_page_error(
        50396,
        400,
        client.conversations.v1.conversations.page,
        start_date="2025-01-03",
        end_date="2025-01-01",
    )
    expect_page_error(20007, 400, client.conversations.v1.conversations.page, page_size=101)
    expect_page_error(50378, 400, client.conversations.v1.conversations.page, state="initializing")


# -- service-scoped conversations -----------------------------------------------------------
def test_service_scoped_conversations(client: Client, service_sid: str) -> None:
    scoped = client.conversations.v1.services(service_sid).conversations
    conv = scoped.create(unique_name="RMscoped", timers_closed="P1D")
    body = last_json(client)
    schemas.validate("twilio/conversation", body)
    assert set(body) == CONVERSATION_KEYS
    assert conv.chat_service_sid == service_sid
    assert body["url"] == f"{BASE}/Services/{service_sid}/Conversations/{conv.sid}"
    assert body["links"]["participants"] == body["url"] + "/Participants"
    assert scoped("RMscoped").fetch().sid == conv.sid
    assert [c.sid for c in scoped.list()] == [conv.sid]
    schemas.validate("twilio/conversation-page", last_json(client))
    # Not in the default service.
    expect_error(20404, 404, client.conversations.v1.conversations("RMscoped").fetch)
    assert scoped("RMscoped").update(friendly_name="renamed").friendly_name == "renamed"
    assert scoped(conv.sid).delete() is True
    expect_error(20404, 404, scoped(conv.sid).fetch)


def test_default_conversation_reachable_under_its_service(client: Client) -> None:
    conv = client.conversations.v1.conversations.create(unique_name="RMd")
    scoped = client.conversations.v1.services(conv.chat_service_sid).conversations("RMd").fetch()
    assert scoped.sid == conv.sid
    assert last_json(client)["url"].startswith(f"{BASE}/Services/{conv.chat_service_sid}/")


def test_unknown_service_is_20404(client: Client) -> None:
    unknown = client.conversations.v1.services("IS" + "0" * 32)
    expect_error(20404, 404, unknown.conversations.create, unique_name="x")
    expect_page_error(20404, 404, unknown.conversations.list)


# -- participants --------------------------------------------------------------------------
def test_participant_lifecycle(client: Client) -> None:
    conv = client.conversations.v1.conversations.create(unique_name="RMp")
    participants = client.conversations.v1.conversations("RMp").participants
    created = participants.create(
        identity="alice", attributes='{"role": "host"}', role_sid=ROLE_SID
    )
    body = last_json(client)
    schemas.validate("twilio/conversation-participant", body)
    assert set(body) == PARTICIPANT_KEYS
    assert body["conversation_sid"] == conv.sid
    assert body["url"] == f"{BASE}/Conversations/{conv.sid}/Participants/{created.sid}"
    assert (body["identity"], body["messaging_binding"], body["role_sid"]) == (
        "alice",
        None,
        ROLE_SID,
    )
    assert participants("alice").fetch().sid == created.sid
    assert participants(created.sid).fetch().identity == "alice"

    updated = participants(created.sid).update(
        attributes='{"role": "speaker"}', last_read_message_index=3, identity="alice2"
    )
    schemas.validate("twilio/conversation-participant", last_json(client))
    assert (updated.attributes, updated.last_read_message_index, updated.identity) == (
        '{"role": "speaker"}',
        3,
        "alice2",
    )
    expect_error(20404, 404, participants("alice").fetch)
    participants.create(identity="bob")
    assert [p.identity for p in participants.list()] == ["alice2", "bob"]
    schemas.validate("twilio/conversation-participant-page", last_json(client))
    assert participants("alice2").delete() is True
    expect_error(20404, 404, participants(created.sid).fetch)
    expect_error(20404, 404, participants(created.sid).delete)
    assert [p.identity for p in participants.list()] == ["bob"]


def test_duplicate_identity_is_50433(client: Client, service_sid: str) -> None:
    client.conversations.v1.conversations.create(unique_name="RMdup")
    participants = client.conversations.v1.conversations("RMdup").participants
    participants.create(identity="bob")
    expect_error(50433, 409, participants.create, identity="bob")
    carol = participants.create(identity="carol")
    expect_error(50433, 409, participants(carol.sid).update, identity="bob")
    assert len(participants.list()) == 2
    # The same identity in another conversation is fine.
    client.conversations.v1.conversations.create(unique_name="RMother")
    client.conversations.v1.conversations("RMother").participants.create(identity="bob")


def test_service_scoped_participants(client: Client, service_sid: str) -> None:
    conv = client.conversations.v1.services(service_sid).conversations.create(unique_name="RMs")
    participants = client.conversations.v1.services(service_sid).conversations("RMs").participants
    created = participants.create(identity="viewer-1")
    body = last_json(client)
    schemas.validate("twilio/conversation-participant", body)
    assert set(body) == PARTICIPANT_KEYS | {"chat_service_sid"}
    assert body["chat_service_sid"] == service_sid
    assert body["url"] == (
        f"{BASE}/Services/{service_sid}/Conversations/{conv.sid}/Participants/{created.sid}"
    )
    assert created.chat_service_sid == service_sid
    expect_error(50433, 409, participants.create, identity="viewer-1")
    assert participants("viewer-1").update(attributes="{}").sid == created.sid
    assert participants(created.sid).delete() is True
    assert participants.list() == []


def test_messaging_binding_participants(client: Client) -> None:
    client.conversations.v1.conversations.create(unique_name="RMsms")
    participants = client.conversations.v1.conversations("RMsms").participants
    sms = participants.create(
        messaging_binding_address="+15558675310", messaging_binding_proxy_address="+15017122661"
    )
    body = last_json(client)
    schemas.validate("twilio/conversation-participant", body)
    assert body["identity"] is None
    assert body["messaging_binding"] == {
        "type": "sms",
        "address": "+15558675310",
        "proxy_address": "+15017122661",
    }
    expect_error(
        50416,
        409,
        participants.create,
        messaging_binding_address="+15558675310",
        messaging_binding_proxy_address="+15017122661",
    )
    expect_error(50412, 400, participants.create, messaging_binding_address="+15550000000")
    expect_error(50411, 400, participants.create, messaging_binding_proxy_address="+15550000000")
    updated = participants(sms.sid).update(messaging_binding_proxy_address="null")
    assert updated.messaging_binding == {"type": "sms", "address": "+15558675310"}
    gmms = participants.create(identity="g", messaging_binding_projected_address="+15017122661")
    assert gmms.messaging_binding == {"type": "sms", "projected_address": "+15017122661"}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({}, 20001),
        ({"identity": "x" * 257}, 50207),
        ({"identity": "a", "attributes": "nope"}, 50304),
        ({"identity": "a", "role_sid": "RL1"}, 50109),
        ({"identity": "a", "date_created": "soon"}, 50308),
        ({"identity": "a", "x_twilio_webhook_enabled": "yes"}, 20001),
    ],
)
def test_invalid_participant_input_changes_nothing(
    client: Client, kwargs: dict[str, Any], code: int
) -> None:
    client.conversations.v1.conversations.create(unique_name="RMv")
    participants = client.conversations.v1.conversations("RMv").participants
    expect_error(code, 400, participants.create, **kwargs)
    assert participants.list() == []


def test_accounts_are_isolated(fake_app: Flask, client: Client) -> None:
    other = state_of(fake_app).accounts.create("other")
    other_client = sdk_client(fake_app, account_sid=other.account_sid)
    conv = other_client.conversations.v1.conversations.create(unique_name="RMmine")
    assert conv.account_sid == other.account_sid
    expect_error(20404, 404, client.conversations.v1.conversations("RMmine").fetch)
    assert client.conversations.v1.conversations.list() == []


def test_api_key_authentication(fake_app: Flask) -> None:
    keyed = sdk_client(fake_app, api_key=True)
    conv = keyed.conversations.v1.conversations.create(unique_name="RMkey")
    assert conv.account_sid == state_of(fake_app).default_credentials.account_sid


# -- Python-level operations ---------------------------------------------------------------
def test_client_join_and_get_conversation(
    fake_app: Flask, client: Client, service_sid: str
) -> None:
    conv = client.conversations.v1.services(service_sid).conversations.create(unique_name="RMj")
    client.conversations.v1.services(service_sid).conversations("RMj").participants.create(
        identity="alice"
    )
    state = state_of(fake_app)
    with state.locked():
        backend = state.backend(state.default_credentials.account_sid, "conversations")
        assert backend.client_join(service_sid, "RMj", "alice").sid == conv.sid
        assert backend.client_join(service_sid, conv.sid, "alice").sid == conv.sid
        assert backend.get_conversation("RMj", service_sid).sid == conv.sid
        assert [p.identity for p in backend.participants("RMj", service_sid)] == ["alice"]
        with pytest.raises(TwilioError) as info:
            backend.client_join(service_sid, "RMj", "mallory")
        assert (info.value.code, info.value.status) == (50432, 404)
        with pytest.raises(TwilioError) as info:
            backend.client_join(backend.default_service_sid(), "RMj", "alice")
        assert info.value.code == 50350
        with pytest.raises(TwilioError) as info:
            backend.client_join("IS" + "0" * 32, "RMj", "alice")
        assert info.value.code == 50350
        with pytest.raises(TwilioError) as info:
            backend.get_conversation("RMj")  # not in the default service
        assert info.value.code == 50350
        with pytest.raises(TwilioError) as info:
            backend.get_conversation("RMj", "IS" + "0" * 32)
        assert info.value.code == 50050
    dumped = state.dump(product="conversations")
    services = dumped[state.default_credentials.account_sid]["conversations"]["services"]
    [scoped] = [s for s in services if s["sid"] == service_sid]
    assert scoped["conversations"][0]["participants"][0]["identity"] == "alice"
    json.dumps(dumped)


def test_parse_duration() -> None:
    assert parse_duration("P1D") == timedelta(days=1)
    assert parse_duration("PT10M") == timedelta(minutes=10)
    assert parse_duration("P1W") == timedelta(days=7)
    assert parse_duration("P1DT1H30M15.5S") == timedelta(days=1, hours=1, minutes=30, seconds=15.5)
    for bad in ("P", "PT", "1D", "P1H", "PT1D", "", "P-1D"):
        with pytest.raises(ValueError):
            parse_duration(bad)
