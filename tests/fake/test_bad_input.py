"""Hostile but well-formed input gets a Twilio-shaped 4xx, never a 500.

Two kinds found by fuzzing every route: JSON nested so deeply that Python's parser gives up
(``[`` x 10,000 is well inside the 16 KiB limits) and ISO-8601 durations too long for a
``datetime``. Each is checked on every parameter or body that takes one, through the same
client a caller would use: the SDK's generic ``client.request`` for the REST products and the
control plane over HTTP.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask import Flask
from twilio.rest import Client
from werkzeug.test import Client as WsgiClient

NESTED = "[" * 10_000


def rest(client: Client, product: str, path: str, data: dict[str, str]) -> tuple[int, Any]:
    response = client.request("POST", f"https://{product}.twilio.com/v1{path}", data=data)
    return response.status_code, json.loads(response.text)


def test_deeply_nested_sync_data_is_invalid_json(client: Client) -> None:
    service = client.sync.v1.services.create(friendly_name="bombs").sid
    status, body = rest(client, "sync", f"/Services/{service}/Documents", {"Data": NESTED})
    assert (status, body["code"]) == (400, 54008)
    client.sync.v1.services(service).sync_maps.create(unique_name="m")
    status, body = rest(
        client, "sync", f"/Services/{service}/Maps/m/Items", {"Key": "k", "Data": NESTED}
    )
    assert (status, body["code"]) == (400, 54008)


def test_deeply_nested_conversation_attributes_are_invalid_json(client: Client) -> None:
    status, body = rest(client, "conversations", "/Conversations", {"Attributes": NESTED})
    assert (status, body["code"]) == (400, 50304)


@pytest.mark.parametrize("name", ["ExtensionContext", "ExtensionEnvironment"])
def test_deeply_nested_media_processor_json_is_refused(client: Client, name: str) -> None:
    form = {"Extension": "video-composer-v2", "ExtensionContext": "{}", name: NESTED}
    status, body = rest(client, "media", "/MediaProcessors", form)
    assert (status, body["code"]) == (400, 20001)
    assert name in body["message"]


@pytest.mark.parametrize("value", ["P9000Y", "PT99999999999999999999H", "P1000000000D"])
@pytest.mark.parametrize(("name", "code"), [("Timers.Closed", 50380), ("Timers.Inactive", 50379)])
def test_timers_too_long_for_a_date_are_invalid(
    client: Client, name: str, code: int, value: str
) -> None:
    status, body = rest(client, "conversations", "/Conversations", {name: value})
    assert (status, body["code"]) == (400, code), body
    assert client.conversations.v1.conversations.list() == []


def test_a_long_but_representable_timer_still_works(client: Client) -> None:
    conversation = client.conversations.v1.conversations.create(timers_closed="P3650D")
    assert conversation.timers["date_closed"] is not None


def _segment(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).rstrip(b"=").decode()


def test_deeply_nested_control_plane_json_is_a_400(app: Flask) -> None:
    control = WsgiClient(app)
    response = control.post("/_fake/faults", data=NESTED, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    header = _segment(json.dumps({"alg": "HS256", "typ": "JWT", "cty": "twilio-fpa;v=1"}))
    token = f"{header}.{_segment(NESTED)}.c2ln"
    response = control.post("/_fake/tokens/verify", json={"token": token})
    assert (response.status_code, response.json["code"]) == (401, 20101)


@pytest.mark.parametrize("body", ['{"seconds": NaN}', '{"seconds": -Infinity}'])
def test_a_number_that_is_not_finite_is_a_400(app: Flask, body: str) -> None:
    """Python's JSON reader accepts ``NaN``, which no comparison with a limit rejects."""
    response = WsgiClient(app).post(
        "/_fake/clock/advance", data=body, content_type="application/json"
    )
    assert (response.status_code, response.json["code"]) == (400, 20001)
    assert "seconds" in response.json["message"]
    query = WsgiClient(app).get("/_fake/requests", query_string={"since": "nan"})
    assert query.status_code == 400
