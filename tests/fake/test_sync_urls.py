"""Sync ``url`` fields of keyed resources lead back to the resource, whatever the key.

Map Item keys and Permission identities are user values put into one path segment. The
fake spells them with the same rule as its page URLs (:func:`encode_segment`): RFC 3986
segment characters stay, everything else is percent-encoded, and a ``.``/``..`` key is
``%2E``/``%2E%2E`` -- a bare ``..`` in a URL is a dot segment that HTTP clients remove
before sending, so following it would land on the parent list instead.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from twilio.rest import Client

AWKWARD = (".", "..", "a/b", "a b", "?x", "#", "%41", "ü", "a:b@c", "plain")


def follow(client: Client, url: str) -> dict:
    response = client.request("GET", url)
    assert response.status_code == 200, (url, response.text)
    return json.loads(response.text)


def test_map_item_urls_lead_back_to_the_item(client: Client) -> None:
    service = client.sync.v1.services.create(friendly_name="urls").sid
    client.sync.v1.services(service).sync_maps.create(unique_name="m")
    items = client.sync.v1.services(service).sync_maps("m").sync_map_items
    for key in AWKWARD:
        created = items.create(key=key, data={"k": key})
        assert follow(client, created.url)["key"] == key, created.url
    assert items.list()[0].url.startswith(f"https://sync.twilio.com/v1/Services/{service}/")


def test_dot_keys_are_escaped_in_urls(client: Client) -> None:
    service = client.sync.v1.services.create(friendly_name="dots").sid
    sync_map = client.sync.v1.services(service).sync_maps.create(unique_name="m")
    items = client.sync.v1.services(service).sync_maps("m").sync_map_items
    assert items.create(key="..", data={}).url.endswith(f"/Maps/{sync_map.sid}/Items/%2E%2E")
    assert items.create(key=".", data={}).url.endswith("/Items/%2E")
    assert items.create(key="a:b", data={}).url.endswith("/Items/a:b")
    assert items.create(key="a b", data={}).url.endswith("/Items/a%20b")


def test_permission_urls_lead_back_to_the_permission(client: Client) -> None:
    service = client.sync.v1.services.create(friendly_name="perms", acl_enabled=True).sid
    client.sync.v1.services(service).sync_maps.create(unique_name="m")
    sync_map = client.sync.v1.services(service).sync_maps("m")
    for identity in AWKWARD:
        segment = {".": "%2E", "..": "%2E%2E"}.get(identity) or quote(identity, safe="")
        permission = sync_map.sync_map_permissions(segment).update(
            read=True, write=False, manage=False
        )
        assert permission.identity == identity
        assert follow(client, permission.url)["identity"] == identity, permission.url
