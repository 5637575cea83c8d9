"""BackendClient and Exchange: encodings, headers, webhooks, curl repros and redaction."""

from __future__ import annotations

import json
import shlex
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from twilio.request_validator import RequestValidator

from conformance.outcomes import BackendNoAnswer
from conformance.transport import BackendClient, Redactor

PASSCODE = "12345678901234"
AUTH_TOKEN = "auth-token-value-0001"


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with what it received, as JSON."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    answer = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ.get("QUERY_STRING", ""),
        "headers": headers,
        "body": body.decode("utf-8", "replace"),
        "remote": environ.get("REMOTE_ADDR"),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(answer).encode()]


def client(**kwargs: Any) -> BackendClient:
    return BackendClient(
        "http://backend.test/base",
        passcode=PASSCODE,
        transport=httpx.WSGITransport(app=echo_app, remote_addr=kwargs.pop("remote", "10.0.0.7")),
        auth_token=AUTH_TOKEN,
        **kwargs,
    )


def test_json_form_and_query_encodings() -> None:
    backend = client()
    sent = backend.call("raise-hand", {"user_identity": "bob", "hand_raised": True}).json
    assert sent["method"] == "POST" and sent["path"] == "/base/raise-hand"
    assert sent["headers"]["content-type"] == "application/json"
    assert sent["headers"]["authorization"] == PASSCODE
    assert json.loads(sent["body"]) == {"user_identity": "bob", "hand_raised": True}
    assert sent["remote"] == "10.0.0.7"

    form = backend.call(
        "raise-hand",
        {"user_identity": ["a", "b"], "hand_raised": False, "x": None},
        encoding="form",
    ).json
    assert form["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(form["body"]) == [
        ("user_identity", "a"),
        ("user_identity", "b"),
        ("hand_raised", "false"),
    ]

    query = backend.call("verify-passcode", {"user_identity": "é x"}, encoding="query")
    assert query.json["method"] == "GET" and query.json["body"] == ""
    assert parse_qsl(query.json["query"]) == [("user_identity", "é x")]
    assert "content-type" not in query.json["headers"]

    empty = backend.call("verify-passcode").json
    assert empty["body"] == "{}"


def test_passcode_headers_body_and_method_overrides() -> None:
    backend = client()
    assert "authorization" not in backend.call("verify-passcode", passcode=None).json["headers"]
    assert backend.call("verify-passcode", passcode="Bearer x").json["headers"][
        "authorization"
    ] == ("Bearer x")
    raw = backend.call(
        "create-stream",
        body=b"\x00not json",
        content_type="text/plain",
        method="PUT",
        headers={"X-Extra": "1"},
    ).json
    assert raw["method"] == "PUT" and raw["body"] == "\x00not json"
    assert raw["headers"]["content-type"] == "text/plain" and raw["headers"]["x-extra"] == "1"
    no_type = backend.call("create-stream", {}, headers={"Content-Type": None}).json
    assert "content-type" not in no_type["headers"]


def test_observers_share_settings_and_record() -> None:
    backend = client()
    seen: list[Any] = []
    observed = backend.observed(seen.append)
    observed.webhook_urls["rooms-webhook"] = "https://public.example/rooms-webhook"
    observed.call("verify-passcode")
    backend.call("verify-passcode")
    assert len(seen) == 1 and seen[0].endpoint == "verify-passcode"
    assert backend.webhook_url("rooms-webhook") == "https://public.example/rooms-webhook"


def test_webhooks_are_signed_over_the_registered_url() -> None:
    backend = client(public_base_url="https://public.example/app")
    form = {"StatusCallbackEvent": "room-ended", "RoomSid": "RM" + "a" * 32}
    exchange = backend.post_webhook("rooms-webhook", form)
    sent = exchange.json
    assert sent["path"] == "/base/rooms-webhook" and "authorization" not in sent["headers"]
    signature = sent["headers"]["x-twilio-signature"]
    validator = RequestValidator(AUTH_TOKEN)
    assert validator.validate("https://public.example/app/rooms-webhook", form, signature)
    assert dict(parse_qsl(sent["body"])) == form

    unsigned = backend.post_webhook("sync-webhook", {"EventType": "x"}, signature=None).json
    assert "x-twilio-signature" not in unsigned["headers"]
    forged = backend.post_webhook("sync-webhook", {"EventType": "x"}, signature="abc").json
    assert forged["headers"]["x-twilio-signature"] == "abc"
    other = backend.post_webhook(
        "sync-webhook", {"EventType": "x"}, url_for_signature="https://elsewhere/sync-webhook"
    ).json
    assert validator.validate(
        "https://elsewhere/sync-webhook", {"EventType": "x"}, other["headers"]["x-twilio-signature"]
    )


def test_no_answer_is_a_check_failure() -> None:
    backend = BackendClient("http://127.0.0.1:1", passcode=PASSCODE, timeout=2)
    with pytest.raises(BackendNoAnswer) as raised:
        backend.call("verify-passcode")
    exchange = raised.value.exchange
    assert exchange.status is None and "ConnectError" in exchange.response.error
    assert "got: no answer" in exchange.describe()
    probe = backend.try_send("POST", backend.url("verify-passcode"), {})
    assert probe.status is None


def test_curl_lines_round_trip_through_the_shell() -> None:
    backend = client()
    exchange = backend.call("create-stream", {"user_identity": "o'neil", "stream_name": "a b"})
    line = exchange.curl(redact=False)
    argv = shlex.split(line)
    assert argv[:6] == ["curl", "-sS", "-i", "-X", "POST", "http://backend.test/base/create-stream"]
    assert "Authorization: " + PASSCODE in argv
    assert json.loads(argv[argv.index("--data-binary") + 1]) == {
        "user_identity": "o'neil",
        "stream_name": "a b",
    }
    binary = backend.call("create-stream", body=b"\x01\xff'x", content_type="text/plain")
    assert "$'\\x01\\xff\\'x'" in binary.curl()
    get = backend.call("verify-passcode", {"a": "1"}, encoding="query")
    assert get.curl().startswith("curl -sS -i 'http://backend.test/base/verify-passcode?a=1' -H")


@pytest.mark.parametrize(
    ("header", "shown"),
    [
        (PASSCODE, "<passcode>"),
        ("Bearer " + PASSCODE, "Bearer <passcode>"),
        (" " + PASSCODE, " <passcode>"),
        (PASSCODE + "0", "<passcode>0"),
        (PASSCODE[:-1], "<first 13 characters of passcode>"),
        (PASSCODE[:5] + "9" + PASSCODE[6:], "<passcode with 1 character changed>"),
        ("wrong", "wrong"),
    ],
)
def test_authorization_near_misses_are_redacted(header: str, shown: str) -> None:
    exchange = client().call("verify-passcode", passcode=header)
    assert f"Authorization: {shown}" in exchange.describe()
    assert f"Authorization: {shown}" in shlex.split(exchange.curl())
    if header != "wrong":
        assert PASSCODE[:-1] not in exchange.describe() + exchange.curl()
        assert PASSCODE[:-1] not in json.dumps(exchange.as_dict())
    assert header in exchange.curl(redact=False)


def test_secrets_and_token_signatures_are_redacted_in_bodies() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJncmFudHMiOnt9fQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    redactor = Redactor({"<passcode>": PASSCODE, "<auth-token>": AUTH_TOKEN})
    backend = client(redactor=redactor)
    exchange = backend.call("create-stream", {"note": f"{PASSCODE} {AUTH_TOKEN} {token}"})
    text = exchange.describe() + exchange.curl() + json.dumps(exchange.as_dict())
    assert PASSCODE not in text and AUTH_TOKEN not in text
    assert "c2lnbmF0dXJlLXNpZ25hdHVyZQ" not in text
    assert "eyJhbGciOiJIUzI1NiJ9.eyJncmFudHMiOnt9fQ.<signature>" in text
    assert PASSCODE in exchange.describe(redact=False)


def test_a_header_the_http_client_refuses_is_a_harness_problem() -> None:
    import threading

    from werkzeug.serving import make_server

    from conformance import runner
    from conformance.config import SuiteConfig
    from conformance.outcomes import UnsendableRequest
    from conformance.registry import Registry

    server = make_server("127.0.0.1", 0, echo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.port}"
        backend = BackendClient(url, passcode=PASSCODE)
        with pytest.raises(UnsendableRequest) as raised:
            backend.call("verify-passcode", passcode=" " + PASSCODE)
        assert raised.value.summary.startswith("POST /verify-passcode could not be sent:")
        assert PASSCODE not in raised.value.summary
        assert "could not send it" in raised.value.exchange.describe()
        reg = Registry()
        reg.add("AUTH-1", lambda ctx: ctx.call("verify-passcode", passcode=PASSCODE + " "))
        result = runner.execute(reg.get("AUTH-1"), config=SuiteConfig(), backend=backend)
        assert result.status == "error" and result.summary.startswith("harness error: POST")
        assert PASSCODE not in result.summary + json.dumps(result.exchange.as_dict())
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
