"""Fake Sync v1 through the real twilio SDK: Services, Documents, Streams and common errors.

Maps, Lists and their items are in ``test_sync_collections.py``; TTLs, cascades, ACL and
webhooks in ``test_sync_clients.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

import schemas
from fake_twilio import state_of

SYNC = "https://sync.twilio.com/v1"
DATETIME_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"


def raw(client: Client, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    """Call ``https://sync.twilio.com/v1<path>`` through the SDK's client; (status, JSON)."""
    response = client.request(method, f"{SYNC}{path}", **kwargs)
    return response.status_code, json.loads(response.text) if response.text else None


def assert_error(
    excinfo: pytest.ExceptionInfo[TwilioRestException], code: int, status: int
) -> None:
    assert excinfo.value.code == code, excinfo.value.msg
    assert excinfo.value.status == status


@pytest.fixture
def service_sid(client: Client) -> str:
    return client.sync.v1.services.create(friendly_name="Live Video Stream").sid


# -- Services ------------------------------------------------------------------------------
def test_service_create_fetch_body_matches_schema(client: Client) -> None:
    created = client.sync.v1.services.create(
        friendly_name="Svc",
        webhook_url="https://example.com/sync",
        reachability_webhooks_enabled=True,
        acl_enabled=True,
        reachability_debouncing_enabled=True,
    )
    assert created.sid.startswith("IS") and len(created.sid) == 34
    assert created.acl_enabled is True
    assert created.reachability_debouncing_window == 5000
    assert created.webhooks_from_rest_enabled is False
    status, body = raw(client, "GET", f"/Services/{created.sid}")
    assert status == 200
    schemas.validate("twilio/sync-service", body)
    assert set(body) == {
        "sid", "unique_name", "account_sid", "friendly_name", "date_created", "date_updated",
        "url", "webhook_url", "webhooks_from_rest_enabled", "reachability_webhooks_enabled",
        "acl_enabled", "reachability_debouncing_enabled", "reachability_debouncing_window",
        "links",
    }  # fmt: skip
    assert body["url"] == f"{SYNC}/Services/{created.sid}"
    assert body["links"]["maps"] == f"{SYNC}/Services/{created.sid}/Maps"


def test_service_update_and_delete(client: Client) -> None:
    sid = client.sync.v1.services.create().sid
    updated = client.sync.v1.services(sid).update(
        friendly_name="renamed",
        reachability_debouncing_window=12000,
        webhooks_from_rest_enabled=True,
        webhook_url="https://example.com/hook",
    )
    assert updated.friendly_name == "renamed"
    assert updated.reachability_debouncing_window == 12000
    assert updated.webhooks_from_rest_enabled is True
    assert client.sync.v1.services(sid).delete() is True
    with pytest.raises(TwilioRestException) as excinfo:
        client.sync.v1.services(sid).fetch()
    assert_error(excinfo, 20404, 404)


@pytest.mark.parametrize("window", [999, 30001])
def test_service_debouncing_window_out_of_range(client: Client, window: int) -> None:
    with pytest.raises(TwilioRestException) as excinfo:
        client.sync.v1.services.create(reachability_debouncing_window=window)
    assert_error(excinfo, 20001, 400)
    assert list(client.sync.v1.services.list()) == []


def test_service_invalid_webhook_url(client: Client) -> None:
    with pytest.raises(TwilioRestException) as excinfo:
        client.sync.v1.services.create(webhook_url="ftp://example.com")
    assert_error(excinfo, 54051, 400)


def test_service_list_pages(client: Client) -> None:
    sids = [client.sync.v1.services.create(friendly_name=f"s{i}").sid for i in range(5)]
    assert [s.sid for s in client.sync.v1.services.list(page_size=2)] == sids
    status, body = raw(client, "GET", "/Services", params={"PageSize": 2})
    assert status == 200
    schemas.validate("twilio/sync-service-page", body)
    assert body["meta"]["next_page_url"] == f"{SYNC}/Services?PageSize=2&Page=1&PageToken=PT2"
    status, body = raw(client, "GET", "/Services", params={"PageSize": 101})
    assert (status, body["code"]) == (400, 20007)


def test_unknown_service_is_20404(client: Client) -> None:
    missing = "IS" + "0" * 32
    with pytest.raises(TwilioRestException) as excinfo:
        client.sync.v1.services(missing).documents.create(unique_name="x")
    assert_error(excinfo, 20404, 404)
    with pytest.raises(TwilioRestException) as excinfo:
        client.sync.v1.services(missing).update(friendly_name="x")
    assert_error(excinfo, 20404, 404)


def test_unknown_parameter_is_refused(client: Client, service_sid: str) -> None:
    status, body = raw(client, "POST", "/Services", data={"FriendlyName": "x", "Bogus": "1"})
    assert (status, body["code"]) == (400, 20001)
    status, body = raw(
        client, "POST", f"/Services/{service_sid}/Documents", data={"UniqueName": "a", "Key": "k"}
    )
    assert (status, body["code"]) == (400, 20001)
    assert list(client.sync.v1.services(service_sid).documents.list()) == []


def test_wrong_method_and_unknown_route(client: Client, service_sid: str) -> None:
    status, body = raw(client, "PUT", f"/Services/{service_sid}")
    assert (status, body["code"]) == (405, 20004)
    status, body = raw(client, "GET", f"/Services/{service_sid}/Nothing")
    assert (status, body["code"]) == (404, 20404)


# -- Documents -----------------------------------------------------------------------------
def test_document_crud_by_sid_and_unique_name(client: Client, service_sid: str) -> None:
    documents = client.sync.v1.services(service_sid).documents
    doc = documents.create(unique_name="user-bob", data={"speaker_invite": False, "n": [1, 2]})
    assert doc.sid.startswith("ET")
    assert (doc.revision, doc.created_by, doc.date_expires) == ("0", "system", None)
    assert doc.data == {"speaker_invite": False, "n": [1, 2]}
    assert documents("user-bob").fetch().sid == doc.sid
    assert documents(doc.sid).fetch().unique_name == "user-bob"

    updated = documents("user-bob").update(data={"speaker_invite": True})
    assert updated.data == {"speaker_invite": True}
    assert updated.revision != doc.revision
    status, body = raw(client, "GET", f"/Services/{service_sid}/Documents/{doc.sid}")
    assert status == 200
    schemas.validate("twilio/sync-document", body)
    assert body["links"] == {
        "permissions": f"{SYNC}/Services/{service_sid}/Documents/{doc.sid}/Permissions"
    }
    assert body["url"] == f"{SYNC}/Services/{service_sid}/Documents/{doc.sid}"

    status, page = raw(client, "GET", f"/Services/{service_sid}/Documents")
    schemas.validate("twilio/sync-document-page", page)
    assert [d["sid"] for d in page["documents"]] == [doc.sid]

    assert documents("user-bob").delete() is True
    with pytest.raises(TwilioRestException) as excinfo:
        documents("user-bob").fetch()
    assert_error(excinfo, 20404, 404)
    with pytest.raises(TwilioRestException) as excinfo:
        documents(doc.sid).delete()
    assert_error(excinfo, 20404, 404)


def test_document_without_data_is_empty_object(client: Client, service_sid: str) -> None:
    doc = client.sync.v1.services(service_sid).documents.create(unique_name="user-alice")
    assert doc.data == {}
    assert doc.unique_name == "user-alice"
    anonymous = client.sync.v1.services(service_sid).documents.create()
    assert anonymous.unique_name is None


def test_document_unique_name_conflict(client: Client, service_sid: str) -> None:
    documents = client.sync.v1.services(service_sid).documents
    documents.create(unique_name="user-bob")
    with pytest.raises(TwilioRestException) as excinfo:
        documents.create(unique_name="user-bob", data={"other": 1})
    assert_error(excinfo, 54301, 409)
    assert documents("user-bob").fetch().data == {}
    # unique per kind: a Map may use the same name
    client.sync.v1.services(service_sid).sync_maps.create(unique_name="user-bob")


@pytest.mark.parametrize("name", ["x" * 321, "ET" + "a" * 32])
def test_document_invalid_unique_name(client: Client, service_sid: str, name: str) -> None:
    with pytest.raises(TwilioRestException) as excinfo:
        client.sync.v1.services(service_sid).documents.create(unique_name=name)
    assert_error(excinfo, 54302, 400)


def test_document_revision_mismatch(client: Client, service_sid: str) -> None:
    documents = client.sync.v1.services(service_sid).documents
    doc = documents.create(unique_name="user-bob", data={"a": 1})
    with pytest.raises(TwilioRestException) as excinfo:
        documents("user-bob").update(data={"a": 2}, if_match="999")
    assert_error(excinfo, 54103, 412)
    assert documents("user-bob").fetch().data == {"a": 1}
    ok = documents("user-bob").update(data={"a": 3}, if_match=doc.revision)
    assert ok.data == {"a": 3}
    wildcard = documents("user-bob").update(data={"a": 4}, if_match="*")
    assert wildcard.data == {"a": 4}


@pytest.mark.parametrize("data", ["not json", "[1, 2]", "42", [1, 2]])
def test_document_data_must_be_a_json_object(client: Client, service_sid: str, data: Any) -> None:
    with pytest.raises(TwilioRestException) as excinfo:
        client.sync.v1.services(service_sid).documents.create(unique_name="d", data=data)
    assert_error(excinfo, 54008, 400)
    assert list(client.sync.v1.services(service_sid).documents.list()) == []


def test_document_data_too_large(client: Client, service_sid: str) -> None:
    documents = client.sync.v1.services(service_sid).documents
    with pytest.raises(TwilioRestException) as excinfo:
        documents.create(unique_name="d", data={"blob": "x" * (16 * 1024)})
    assert_error(excinfo, 54006, 413)
    documents.create(unique_name="d", data={"blob": "x" * (16 * 1024 - 20)})


@pytest.mark.parametrize("ttl", [-1, 31_536_001])
def test_document_invalid_ttl(client: Client, service_sid: str, ttl: int) -> None:
    with pytest.raises(TwilioRestException) as excinfo:
        client.sync.v1.services(service_sid).documents.create(unique_name="d", ttl=ttl)
    assert_error(excinfo, 54011, 400)


def test_document_ttl_sets_date_expires(fake_app: Flask, client: Client, service_sid: str) -> None:
    start = state_of(fake_app).clock.freeze(datetime(2030, 1, 1, tzinfo=UTC))
    documents = client.sync.v1.services(service_sid).documents
    doc = documents.create(unique_name="d", ttl=60)
    assert (doc.date_expires - start).total_seconds() == 60
    assert documents("d").update(ttl=0).date_expires is None


def test_document_update_without_parameters(client: Client, service_sid: str) -> None:
    client.sync.v1.services(service_sid).documents.create(unique_name="d")
    with pytest.raises(TwilioRestException) as excinfo:
        client.sync.v1.services(service_sid).documents("d").update()
    assert_error(excinfo, 54010, 400)


# -- Streams -------------------------------------------------------------------------------
def test_stream_crud_and_messages(client: Client, service_sid: str) -> None:
    streams = client.sync.v1.services(service_sid).sync_streams
    stream = streams.create(unique_name="st", ttl=100)
    assert stream.sid.startswith("TO")
    status, body = raw(client, "GET", f"/Services/{service_sid}/Streams/{stream.sid}")
    schemas.validate("twilio/sync-stream", body)
    assert "revision" not in body
    assert body["links"] == {
        "messages": f"{SYNC}/Services/{service_sid}/Streams/{stream.sid}/Messages"
    }
    assert streams("st").update(ttl=200).sid == stream.sid

    message = streams("st").stream_messages.create(data={"hello": "world"})
    assert message.sid.startswith("TZ")
    assert message.data == {"hello": "world"}
    status, body = raw(
        client, "POST", f"/Services/{service_sid}/Streams/st/Messages", data={"Data": "{}"}
    )
    assert status == 201
    schemas.validate("twilio/sync-stream-message", body)
    assert set(body) == {"sid", "data"}

    with pytest.raises(TwilioRestException) as excinfo:
        streams("st").stream_messages.create(data={"blob": "x" * 4096})
    assert_error(excinfo, 54006, 413)
    status, body = raw(client, "POST", f"/Services/{service_sid}/Streams/st/Messages", data={})
    assert (status, body["code"]) == (400, 20001)

    assert [s.sid for s in streams.list()] == [stream.sid]
    assert streams("st").delete() is True
    with pytest.raises(TwilioRestException) as excinfo:
        streams("st").stream_messages.create(data={})
    assert_error(excinfo, 20404, 404)
