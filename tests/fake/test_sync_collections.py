"""Fake Sync v1 through the real twilio SDK: Maps, Lists, their Items and Permissions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

import schemas

SYNC = "https://sync.twilio.com/v1"
ITEM_KEYS = {
    "account_sid", "service_sid", "url", "revision", "data", "date_expires", "date_created",
    "date_updated", "created_by",
}  # fmt: skip


def raw(client: Client, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
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


@pytest.fixture
def speakers(client: Client, service_sid: str) -> Any:
    client.sync.v1.services(service_sid).sync_maps.create(unique_name="speakers")
    return client.sync.v1.services(service_sid).sync_maps("speakers")


@pytest.fixture
def mylist(client: Client, service_sid: str) -> Any:
    client.sync.v1.services(service_sid).sync_lists.create(unique_name="mylist")
    return client.sync.v1.services(service_sid).sync_lists("mylist")


# -- Maps ----------------------------------------------------------------------------------
def test_map_crud(client: Client, service_sid: str) -> None:
    maps = client.sync.v1.services(service_sid).sync_maps
    created = maps.create(unique_name="speakers", ttl=0, collection_ttl=100)
    assert created.sid.startswith("MP")
    assert created.date_expires is not None  # CollectionTtl wins over its alias Ttl
    status, body = raw(client, "GET", f"/Services/{service_sid}/Maps/speakers")
    schemas.validate("twilio/sync-map", body)
    base = f"{SYNC}/Services/{service_sid}/Maps/{created.sid}"
    assert body["links"] == {"items": f"{base}/Items", "permissions": f"{base}/Permissions"}
    assert maps(created.sid).update(collection_ttl=0).date_expires is None
    status, page = raw(client, "GET", f"/Services/{service_sid}/Maps")
    assert status == 200
    schemas.validate("twilio/sync-map-page", page)
    with pytest.raises(TwilioRestException) as excinfo:
        maps.create(unique_name="speakers")
    assert_error(excinfo, 54301, 409)
    assert maps("speakers").delete() is True
    with pytest.raises(TwilioRestException) as excinfo:
        maps("speakers").fetch()
    assert_error(excinfo, 20404, 404)


def test_map_item_crud(client: Client, service_sid: str, speakers: Any) -> None:
    item = speakers.sync_map_items.create(key="bob", data={"host": True})
    assert (item.key, item.data, item.revision, item.created_by) == (
        "bob",
        {"host": True},
        "0",
        "system",
    )
    assert speakers.sync_map_items("bob").fetch().data == {"host": True}
    status, body = raw(client, "GET", f"/Services/{service_sid}/Maps/speakers/Items/bob")
    assert status == 200
    schemas.validate("twilio/sync-map-item", body)
    assert set(body) == ITEM_KEYS | {"key", "map_sid"}
    assert body["url"].endswith("/Items/bob") and body["url"].startswith(SYNC)

    updated = speakers.sync_map_items("bob").update(data={"host": False})
    assert updated.data == {"host": False} and updated.revision == "1"
    assert speakers.sync_map_items("bob").delete() is True
    for call in (
        lambda: speakers.sync_map_items("bob").fetch(),
        lambda: speakers.sync_map_items("bob").delete(),
        lambda: speakers.sync_map_items("bob").update(data={}),
    ):
        with pytest.raises(TwilioRestException) as excinfo:
            call()
        assert_error(excinfo, 20404, 404)


def test_map_item_key_with_special_characters(speakers: Any) -> None:
    speakers.sync_map_items.create(key="user@example.com", data={})
    speakers.sync_map_items.create(key="a b/c", data={"x": 1})
    # The caller encodes the key as one segment; an unencoded "/" would be a separator.
    assert speakers.sync_map_items("a%20b%2Fc").fetch().data == {"x": 1}
    assert speakers.sync_map_items("a%20b%2Fc").delete() is True
    assert [i.key for i in speakers.sync_map_items.list()] == ["user@example.com"]


def test_map_item_duplicate_key(speakers: Any) -> None:
    speakers.sync_map_items.create(key="bob", data={"host": True})
    with pytest.raises(TwilioRestException) as excinfo:
        speakers.sync_map_items.create(key="bob", data={"host": False})
    assert_error(excinfo, 54208, 409)
    assert speakers.sync_map_items("bob").fetch().data == {"host": True}


def test_map_item_validation(client: Client, service_sid: str, speakers: Any) -> None:
    with pytest.raises(TwilioRestException) as excinfo:
        speakers.sync_map_items.create(key="k", data=None)
    assert_error(excinfo, 20001, 400)
    status, body = raw(
        client, "POST", f"/Services/{service_sid}/Maps/speakers/Items", data={"Data": "{}"}
    )
    assert (status, body["code"]) == (400, 20001)
    with pytest.raises(TwilioRestException) as excinfo:
        speakers.sync_map_items.create(key="k" * 321, data={})
    assert_error(excinfo, 54209, 400)
    with pytest.raises(TwilioRestException) as excinfo:
        speakers.sync_map_items.create(key="k", data="{oops")
    assert_error(excinfo, 54008, 400)
    with pytest.raises(TwilioRestException) as excinfo:
        speakers.sync_map_items.create(key="k", data={"blob": "x" * 16384})
    assert_error(excinfo, 54006, 413)
    with pytest.raises(TwilioRestException) as excinfo:
        speakers.sync_map_items.create(key="k", data={}, item_ttl=31_536_001)
    assert_error(excinfo, 54011, 400)
    status, body = raw(
        client,
        "POST",
        f"/Services/{service_sid}/Maps/speakers/Items",
        data={"Key": "k", "Data": "{}", "Index": "1"},
    )
    assert (status, body["code"]) == (400, 20001)
    assert list(speakers.sync_map_items.list()) == []


def test_map_item_revision_mismatch(client: Client, service_sid: str, speakers: Any) -> None:
    item = speakers.sync_map_items.create(key="bob", data={"n": 1})
    with pytest.raises(TwilioRestException) as excinfo:
        speakers.sync_map_items("bob").update(data={"n": 2}, if_match="41")
    assert_error(excinfo, 54205, 412)
    assert speakers.sync_map_items("bob").update(data={"n": 3}, if_match=item.revision).data == {
        "n": 3
    }

    # twilio 9.13 drops If-Match on item delete (contract §3), so this deletes regardless...
    speakers.sync_map_items.create(key="alice", data={})
    assert speakers.sync_map_items("alice").delete(if_match="not-the-revision") is True
    # ...while a client that does send the header gets the mismatch.
    path = f"/Services/{service_sid}/Maps/speakers/Items/bob"
    status, body = raw(client, "DELETE", path, headers={"If-Match": "17"})
    assert (status, body["code"]) == (412, 54205)
    status, _ = raw(client, "DELETE", path, headers={"If-Match": "1"})
    assert status == 204


def test_map_items_order_from_bounds_and_paging(
    client: Client, service_sid: str, speakers: Any
) -> None:
    for key in ["d", "a", "e", "c", "b"]:
        speakers.sync_map_items.create(key=key, data={"key": key})
    items = speakers.sync_map_items
    assert [i.key for i in items.list()] == ["a", "b", "c", "d", "e"]
    assert [i.key for i in items.list(order="desc")] == ["e", "d", "c", "b", "a"]
    assert [i.key for i in items.list(from_="c")] == ["c", "d", "e"]
    assert [i.key for i in items.list(from_="c", bounds="exclusive")] == ["d", "e"]
    assert [i.key for i in items.list(order="desc", from_="c")] == ["c", "b", "a"]
    assert [i.key for i in items.list(order="desc", from_="c", bounds="exclusive")] == ["b", "a"]
    assert [i.key for i in items.list(from_="bb")] == ["c", "d", "e"]
    assert [i.key for i in items.list(order="desc", page_size=2)] == ["e", "d", "c", "b", "a"]
    assert [i.key for i in items.list(from_="b", page_size=2, limit=3)] == ["b", "c", "d"]

    path = f"/Services/{service_sid}/Maps/speakers/Items"
    status, page = raw(client, "GET", path, params={"Order": "desc", "From": "d", "PageSize": 2})
    assert status == 200
    schemas.validate("twilio/sync-map-item-page", page)
    assert [i["key"] for i in page["items"]] == ["d", "c"]
    assert "Order=desc" in page["meta"]["next_page_url"]
    assert "From=d" in page["meta"]["next_page_url"]
    status, page = raw(client, "GET", page["meta"]["next_page_url"].removeprefix(SYNC))
    assert [i["key"] for i in page["items"]] == ["b", "a"]
    assert page["meta"]["next_page_url"] is None

    status, body = raw(client, "GET", path, params={"Order": "sideways"})
    assert (status, body["code"]) == (400, 54451)
    status, body = raw(client, "GET", path, params={"Bounds": "both"})
    assert (status, body["code"]) == (400, 54452)
    status, body = raw(client, "GET", path, params={"PageSize": 101})
    assert (status, body["code"]) == (400, 20007)


def test_map_item_update_collection_ttl_sets_parent(
    client: Client, service_sid: str, speakers: Any
) -> None:
    speakers.sync_map_items.create(key="bob", data={}, item_ttl=30)
    assert speakers.sync_map_items("bob").fetch().date_expires is not None
    assert speakers.fetch().date_expires is None
    speakers.sync_map_items("bob").update(collection_ttl=600)
    assert speakers.fetch().date_expires is not None
    with pytest.raises(TwilioRestException) as excinfo:
        speakers.sync_map_items("bob").update()
    assert_error(excinfo, 54010, 400)


# -- Lists ---------------------------------------------------------------------------------
def test_list_and_items_crud(client: Client, service_sid: str, mylist: Any) -> None:
    fetched = mylist.fetch()
    assert fetched.sid.startswith("ES") and fetched.unique_name == "mylist"
    status, body = raw(client, "GET", f"/Services/{service_sid}/Lists/{fetched.sid}")
    schemas.validate("twilio/sync-list", body)
    indexes = [mylist.sync_list_items.create(data={"n": n}).index for n in range(4)]
    assert indexes == [0, 1, 2, 3]
    status, body = raw(client, "GET", f"/Services/{service_sid}/Lists/mylist/Items/2")
    schemas.validate("twilio/sync-list-item", body)
    assert set(body) == ITEM_KEYS | {"index", "list_sid"}
    assert body["url"] == f"{SYNC}/Services/{service_sid}/Lists/{fetched.sid}/Items/2"

    assert mylist.sync_list_items(1).update(data={"n": 10}).data == {"n": 10}
    assert mylist.sync_list_items(1).delete() is True
    assert mylist.sync_list_items.create(data={"n": 4}).index == 4  # indexes never reused
    assert [i.index for i in mylist.sync_list_items.list()] == [0, 2, 3, 4]
    assert [i.index for i in mylist.sync_list_items.list(order="desc", from_="3")] == [3, 2, 0]
    assert [i.index for i in mylist.sync_list_items.list(from_="2", bounds="exclusive")] == [3, 4]
    status, page = raw(
        client, "GET", f"/Services/{service_sid}/Lists/mylist/Items", params={"PageSize": 3}
    )
    schemas.validate("twilio/sync-list-item-page", page)
    assert page["meta"]["next_page_url"] is not None

    for index in (1, 99, "abc"):
        with pytest.raises(TwilioRestException) as excinfo:
            mylist.sync_list_items(index).fetch()
        assert_error(excinfo, 20404, 404)
    status, body = raw(
        client, "GET", f"/Services/{service_sid}/Lists/mylist/Items", params={"From": "x"}
    )
    assert (status, body["code"]) == (400, 54458)

    assert mylist.delete() is True
    with pytest.raises(TwilioRestException) as excinfo:
        mylist.sync_list_items.create(data={})
    assert_error(excinfo, 20404, 404)


def test_list_item_revision_mismatch(mylist: Any) -> None:
    mylist.sync_list_items.create(data={"k": "v"})
    with pytest.raises(TwilioRestException) as excinfo:
        mylist.sync_list_items(0).update(data={"k": "w"}, if_match="5")
    assert_error(excinfo, 54155, 412)
    assert mylist.sync_list_items(0).update(data={"k": "w"}, if_match="0").revision == "1"


def test_list_item_requires_data(client: Client, service_sid: str, mylist: Any) -> None:
    with pytest.raises(TwilioRestException) as excinfo:
        mylist.sync_list_items.create(data=None)
    assert_error(excinfo, 20001, 400)
    status, body = raw(
        client,
        "POST",
        f"/Services/{service_sid}/Lists/mylist/Items",
        data={"Data": "{}", "Key": "x"},
    )
    assert (status, body["code"]) == (400, 20001)


# -- Permissions ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["documents", "sync_maps", "sync_lists"])
def test_permissions_upsert_fetch_list_delete(client: Client, service_sid: str, kind: str) -> None:
    collection = getattr(client.sync.v1.services(service_sid), kind)
    target = collection.create(unique_name="target")
    context = collection("target")
    permissions = {
        "documents": lambda: context.document_permissions,
        "sync_maps": lambda: context.sync_map_permissions,
        "sync_lists": lambda: context.sync_list_permissions,
    }[kind]()
    granted = permissions("bob").update(read=True, write=False, manage=False)
    assert (granted.identity, granted.read, granted.write, granted.manage) == (
        "bob",
        True,
        False,
        False,
    )
    again = permissions("bob").update(read=True, write=True, manage=False)
    assert again.write is True
    assert permissions("bob").fetch().write is True
    assert [p.identity for p in permissions.list()] == ["bob"]

    segment = {"documents": "Documents", "sync_maps": "Maps", "sync_lists": "Lists"}[kind]
    schema = {"documents": "document", "sync_maps": "map", "sync_lists": "list"}[kind]
    status, body = raw(
        client, "GET", f"/Services/{service_sid}/{segment}/{target.sid}/Permissions/bob"
    )
    schemas.validate(f"twilio/sync-{schema}-permission", body)
    assert body["url"] == f"{SYNC}/Services/{service_sid}/{segment}/{target.sid}/Permissions/bob"
    status, page = raw(client, "GET", f"/Services/{service_sid}/{segment}/target/Permissions")
    schemas.validate(f"twilio/sync-{schema}-permission-page", page)

    status, body = raw(
        client,
        "POST",
        f"/Services/{service_sid}/{segment}/target/Permissions/eve",
        data={"Read": "true"},
    )
    assert (status, body["code"]) == (400, 20001)
    assert permissions("bob").delete() is True
    with pytest.raises(TwilioRestException) as excinfo:
        permissions("bob").fetch()
    assert_error(excinfo, 20404, 404)
    with pytest.raises(TwilioRestException) as excinfo:
        permissions("x" * 321).update(read=True, write=True, manage=True)
    assert_error(excinfo, 54351, 400)
