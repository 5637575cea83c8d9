"""Input errors (400), the form-body and get-query capabilities, and HTTP-level errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import schemas
from schemas import catalog

from .conftest import Harness

VALID = {
    "user_identity": "bob",
    "stream_name": "friday-townhall",
    "room_sid": "RM" + "0" * 32,
    "room_name": "friday-townhall",
    "hand_raised": True,
}
WRONG = {
    "user_identity": [None, 5, True, [], {}, "", "x" * 122, "a\nb", "tab\there", "\x85"],
    "stream_name": [None, 7, "", "s" * 129, "RM" + "a" * 32, "rm" + "A" * 32, "bad\x00name"],
    "room_sid": [None, 1, "", "RM" + "A" * 32, "RM123", "friday-townhall"],
    "room_name": [None, False, "", "n" * 129, "\x7f"],
    "hand_raised": [None, "true", 1, 0, "false", []],
}
ENDPOINTS = [e for e in catalog.CLIENT_ENDPOINTS if e.params]


def error(response: Any) -> tuple[int, str, str]:
    body = response.get_json()
    schemas.validate("protocol/error", body)
    return response.status_code, body["error"]["message"], body["error"]["explanation"]


def cases() -> list[tuple[str, dict[str, Any], str]]:
    """(endpoint, body, expected message) for every parameter: absent, then each wrong value."""
    found = []
    for endpoint in ENDPOINTS:
        for position, param in enumerate(endpoint.params):
            before = {p: VALID[p] for p in endpoint.params[:position]}
            after = {p: VALID[p] for p in endpoint.params[position + 1 :]}
            found.append((endpoint.name, {**before, **after}, f"missing {param}"))
            found += [
                (endpoint.name, {**before, param: value, **after}, f"invalid {param}")
                for value in WRONG[param]
            ]
    return found


@pytest.mark.parametrize(("endpoint", "body", "message"), cases())
def test_parameter_errors(shared: Harness, endpoint: str, body: dict, message: str) -> None:
    mark = shared.mark()
    status, got, explanation = error(shared.call(endpoint, body))
    assert (status, got) == (400, message)
    expected = catalog.input_error(endpoint, body)
    assert expected is not None and expected["error"]["explanation"] == explanation
    if message.startswith("missing"):
        assert explanation == f"The {message.split()[1]} parameter is missing."
    assert shared.writes_since(mark) == []


@pytest.mark.parametrize("endpoint", [e.name for e in ENDPOINTS])
def test_parameters_are_checked_in_order(shared: Harness, endpoint: str) -> None:
    params = catalog.endpoint(endpoint).params
    assert error(shared.call(endpoint, {}))[1] == f"missing {params[0]}"
    everything_wrong = {p: None for p in params}
    assert error(shared.call(endpoint, everything_wrong))[1] == f"invalid {params[0]}"


@pytest.mark.parametrize("endpoint", [e.name for e in catalog.CLIENT_ENDPOINTS])
@pytest.mark.parametrize("raw", ["not json", "[]", "3", "null", '"text"', "true", "{", "\xff"])
def test_body_must_be_a_json_object(shared: Harness, endpoint: str, raw: str) -> None:
    response = shared.call(endpoint, data=raw.encode("latin-1"), content_type="application/json")
    assert error(response)[:2] == (400, "invalid request body")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # Beyond Python's int-conversion limit: still a number, so a wrong type, not a 500.
        (b'{"user_identity": ' + b"7" * 5000 + b"}", "invalid user_identity"),
        (b'{"user_identity": "bob", "stream_name": -' + b"9" * 5000 + b"}", "invalid stream_name"),
        # Lone surrogates are not Unicode text: Twilio cannot be sent them (UTF-8).
        (b'{"user_identity": "b\\ud800b", "stream_name": "s"}', "invalid user_identity"),
        (b'{"user_identity": "bob", "stream_name": "s\\udfff"}', "invalid stream_name"),
        (b'{"user_identity": "\\udc00"}', "invalid user_identity"),  # before missing ones
    ],
)
def test_json_beyond_python_limits_is_invalid_not_internal(
    shared: Harness, raw: bytes, message: str
) -> None:
    mark = shared.mark()
    response = shared.call("raise-hand", data=raw, content_type="application/json")
    assert error(response)[:2] == (400, message)
    assert shared.writes_since(mark) == []


def test_surrogate_in_an_ignored_member_is_ignored(harness: Harness) -> None:
    stream = harness.create_stream()
    raw = f'{{"user_identity": "bob", "stream_name": "{stream.name}", "x": "\\ud800"}}'
    response = harness.call("join-stream-as-viewer", data=raw, content_type="application/json")
    assert response.status_code == 200


def test_empty_body_is_an_empty_object(shared: Harness) -> None:
    assert shared.call("verify-passcode", data=b"").status_code == 200
    assert error(shared.call("raise-hand", data=b""))[1] == "missing user_identity"
    response = shared.call("raise-hand", data=b"{}", content_type="application/json; charset=utf-8")
    assert error(response)[1] == "missing user_identity"


def test_unknown_members_are_ignored(harness: Harness) -> None:
    stream = harness.create_stream()
    body = {"user_identity": "bob", "stream_name": stream.name, "extra": [1, 2], "role": "host"}
    assert harness.call("join-stream-as-viewer", body).status_code == 200


# -- capabilities ------------------------------------------------------------------------------
def test_form_body(harness: Harness) -> None:
    stream = harness.create_stream()
    form = {"user_identity": "bob", "stream_name": stream.name}
    assert harness.call("join-stream-as-viewer", form=form).status_code == 200
    harness.ok("raise-hand", form={**form, "hand_raised": "true"})
    assert harness.sync_state(stream.sync_service_sid)["raised_hands"] == {"bob": {}}
    harness.ok("raise-hand", form={**form, "hand_raised": "false"})
    assert harness.sync_state(stream.sync_service_sid)["raised_hands"] == {}
    for value in ("True", "1", "yes", ""):
        response = harness.call("raise-hand", form={**form, "hand_raised": value})
        assert error(response)[:2] == (400, "invalid hand_raised")
    probe = harness.call("join-stream-as-viewer", form={"user_identity": "probe"})
    assert error(probe)[:2] == (400, "missing stream_name")


def test_repeated_form_or_query_parameter_is_invalid(shared: Harness) -> None:
    repeated = "user_identity=a&user_identity=b&stream_name=s"
    response = shared.call(
        "join-stream-as-viewer", data=repeated, content_type="application/x-www-form-urlencoded"
    )
    assert error(response)[:2] == (400, "invalid user_identity")
    response = shared.call("join-stream-as-viewer", method="GET", query=repeated)
    assert error(response)[:2] == (400, "invalid user_identity")


def test_get_query(harness: Harness) -> None:
    stream = harness.create_stream()
    query = {"user_identity": "bob", "stream_name": stream.name}
    body = harness.ok("join-stream-as-viewer", method="GET", query=query)
    schemas.validate("protocol/join-stream-as-viewer.response", body)
    harness.ok("raise-hand", method="GET", query={**query, "hand_raised": "true"})
    assert harness.sync_state(stream.sync_service_sid)["raised_hands"] == {"bob": {}}
    probe = harness.call("join-stream-as-viewer", method="GET", query={"user_identity": "probe"})
    assert error(probe)[:2] == (400, "missing stream_name")


def test_capabilities_can_be_switched_off(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(form_body=False, get_query=False)
    form = harness.call("join-stream-as-viewer", form={"user_identity": "probe"})
    assert error(form)[:2] == (400, "invalid request body")
    query = harness.call("join-stream-as-viewer", method="GET", query={"user_identity": "p"})
    assert error(query)[:2] == (405, "method not allowed")


# -- HTTP level ----------------------------------------------------------------------------------
def test_unknown_path_and_method(shared: Harness) -> None:
    assert error(shared.call("no-such-endpoint", {}))[:2] == (404, "not found")
    head = shared.call("create-stream", method="HEAD", query={"user_identity": "a"})
    assert head.status_code == 405  # HEAD answers carry no body
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        assert error(shared.call("create-stream", {}, method=method))[:2] == (
            405,
            "method not allowed",
        )
    assert error(shared.call("rooms-webhook", method="GET"))[:2] == (405, "method not allowed")


def test_oversized_body(shared: Harness) -> None:
    response = shared.call("create-stream", {"user_identity": "a" * 100_000, "stream_name": "s"})
    assert error(response)[:2] == (413, "request body too large")


def test_openapi_document(shared: Harness) -> None:
    response = shared.call("openapi.json", method="GET", passcode=None)
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "https://backend.example.test"}]
    assert "/create-stream" in document["paths"]


# -- invalid UTF-8 in form and query input -----------------------------------------------------
FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("user_identity=%FF%FE&stream_name=x1", "invalid user_identity"),
        ("user_identity=ok&stream_name=a%C3", "invalid stream_name"),
        ("user_identity=%ED%A0%80&stream_name=x1", "invalid user_identity"),  # UTF-8 surrogate
        ("stream_name=%FF", "missing user_identity"),  # the parameters' order still decides
        ("%FF=x&user_identity=ok&stream_name=x1", "invalid request body"),  # key: not a name
    ],
)
def test_invalid_utf8_in_form_or_query_is_refused_without_effect(
    shared: Harness, raw: str, message: str
) -> None:
    # docs/PROTOCOL.md 2.2 step 4: a value that is not UTF-8 once percent-decoded is
    # "invalid <param>" (Werkzeug alone would keep it as the literal text "%FF%FE").
    mark = shared.mark()
    by_form = shared.call("create-stream", data=raw, content_type=FORM)
    by_query = shared.call("create-stream", method="GET", query=raw)
    by_raw_bytes = shared.call(
        "create-stream", data=raw.replace("%FF", "\xff").encode("latin-1"), content_type=FORM
    )
    for response in (by_form, by_query, by_raw_bytes):
        assert error(response)[:2] == (400, message)
    assert shared.requests_since(mark) == []  # no Twilio call at all


def test_form_and_query_are_percent_decoded_as_utf8(harness: Harness) -> None:
    raw = "user_identity=J%C3%BCrgen+%F0%9F%8E%A5&stream_name=caf%C3%A9&empty="
    body = harness.ok("create-stream", data=raw, content_type=FORM)
    assert harness.decode(body["token"])["grants"]["identity"] == "Jürgen 🎥"
    viewer = "user_identity=v%C3%A9&stream_name=caf%C3%A9"
    assert harness.call("join-stream-as-viewer", method="GET", query=viewer).status_code == 200


# -- 405 and the Allow header (RFC 9110 section 15.5.6) -----------------------------------------
@pytest.mark.parametrize("get_query", [True, False])
def test_every_405_has_an_allow_header(
    make_harness: Callable[..., Harness], get_query: bool
) -> None:
    harness = make_harness(get_query=get_query)
    allowed = "POST, GET" if get_query else "POST"
    for endpoint in catalog.CLIENT_ENDPOINTS:
        methods = ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] + ([] if get_query else ["GET"])
        for method in methods:
            response = harness.call(endpoint.name, method=method)
            assert response.status_code == 405, (endpoint.name, method)
            assert response.headers["Allow"] == allowed, (endpoint.name, method)
            if method != "HEAD":
                assert error(response)[:2] == (405, "method not allowed")
    for webhook in catalog.WEBHOOK_ENDPOINTS:
        response = harness.call(webhook.name, method="GET")
        assert error(response)[:2] == (405, "method not allowed")
        assert response.headers["Allow"] == "POST"
    response = harness.call("openapi.json", method="POST", passcode=None)
    assert error(response)[:2] == (405, "method not allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
