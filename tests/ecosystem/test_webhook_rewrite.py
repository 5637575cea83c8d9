"""Webhook destination rewriting: delivered to the local receiver, signed for the public URL."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from fake_twilio.core.webhook_rewrite import (
    ENV_VAR,
    RewriteError,
    RewriteRule,
    WebhookRewrites,
    parse_rule,
    parse_rules,
    rules_from_env,
    to_rules,
)
from fake_twilio.server import FakeServer

from .helpers import PUBLIC_URL, WebhookReceiver, start_served_fake

LOCAL = "http://127.0.0.1:3000"


# -- the rules ------------------------------------------------------------------------------
class TestRules:
    def test_prefix_is_replaced_and_the_rest_kept(self) -> None:
        rewrites = WebhookRewrites({PUBLIC_URL: LOCAL})
        assert rewrites.rewrite(f"{PUBLIC_URL}/room-status?x=1&y=2") == (
            f"{LOCAL}/room-status?x=1&y=2"
        )
        assert rewrites.rewrite(PUBLIC_URL) == f"{LOCAL}/"
        assert rewrites.rewrite(PUBLIC_URL + "/") == f"{LOCAL}/"

    def test_host_case_default_port_and_trailing_slash_do_not_matter(self) -> None:
        rewrites = WebhookRewrites({"HTTPS://My-App-1234-Dev.twil.io/": LOCAL})
        assert rewrites.rewrite("https://my-app-1234-dev.twil.io:443/a") == f"{LOCAL}/a"
        assert rewrites.as_list() == [{"public": PUBLIC_URL, "local": LOCAL}]

    def test_other_urls_are_left_alone(self) -> None:
        rewrites = WebhookRewrites({PUBLIC_URL: LOCAL})
        for url in (
            "http://my-app-1234-dev.twil.io/a",  # another scheme
            "https://my-app-1234-dev.twil.io:8443/a",  # another port
            "https://other.twil.io/a",
            "https://my-app-1234-dev.twil.io.evil.example/a",
            "not a url",
        ):
            assert rewrites.rewrite(url) == url

    def test_path_prefixes_match_at_a_segment_boundary(self) -> None:
        rewrites = WebhookRewrites({"https://example.com/hooks": "http://localhost:9/base"})
        assert rewrites.rewrite("https://example.com/hooks") == "http://localhost:9/base"
        assert rewrites.rewrite("https://example.com/hooks/a?b=c") == (
            "http://localhost:9/base/a?b=c"
        )
        assert rewrites.rewrite("https://example.com/hooks?b=c") == "http://localhost:9/base?b=c"
        assert rewrites.rewrite("https://example.com/hooksmith") == "https://example.com/hooksmith"

    def test_the_longest_prefix_wins(self) -> None:
        rewrites = WebhookRewrites(
            [
                ("https://example.com", "http://localhost:1"),
                ("https://example.com/video", "http://localhost:2/v"),
            ]
        )
        assert rewrites.rewrite("https://example.com/video/room") == "http://localhost:2/v/room"
        assert rewrites.rewrite("https://example.com/sync") == "http://localhost:1/sync"
        assert [rule.public for rule in rewrites.rules()] == [
            "https://example.com/video",
            "https://example.com",
        ]

    def test_editing(self) -> None:
        rewrites = WebhookRewrites()
        assert not rewrites and len(rewrites) == 0
        rewrites.add(PUBLIC_URL, LOCAL)
        rewrites.add(PUBLIC_URL, "http://127.0.0.1:4000")  # replaces the rule for the same URL
        assert rewrites.as_list() == [{"public": PUBLIC_URL, "local": "http://127.0.0.1:4000"}]
        rewrites.extend("https://a.example=http://localhost:1")
        assert len(rewrites) == 2
        assert rewrites.remove(PUBLIC_URL + "/") is True
        assert rewrites.remove(PUBLIC_URL) is False
        rewrites.clear()
        assert rewrites.rewrite(PUBLIC_URL) == PUBLIC_URL

    def test_a_bad_set_changes_nothing(self) -> None:
        rewrites = WebhookRewrites({PUBLIC_URL: LOCAL})
        with pytest.raises(RewriteError):
            rewrites.set([("https://ok.example", "http://localhost:1"), ("nope", LOCAL)])
        assert rewrites.as_list() == [{"public": PUBLIC_URL, "local": LOCAL}]

    def test_parsing(self) -> None:
        assert parse_rule(f"{PUBLIC_URL}={LOCAL}") == RewriteRule(PUBLIC_URL, LOCAL)
        rules = parse_rules(f" {PUBLIC_URL}={LOCAL}, https://b.example/x=http://localhost:2 ")
        assert [str(rule) for rule in rules] == [
            f"{PUBLIC_URL}={LOCAL}",
            "https://b.example/x=http://localhost:2",
        ]
        assert parse_rules("") == [] and parse_rules(None) == []
        expected = [RewriteRule(PUBLIC_URL, LOCAL)]
        assert to_rules([{"public": PUBLIC_URL, "local": LOCAL}]) == expected
        assert to_rules([f"{PUBLIC_URL}={LOCAL}"]) == expected
        assert rules_from_env({ENV_VAR: f"{PUBLIC_URL}={LOCAL}"}) == expected
        assert rules_from_env({}) == []

    @pytest.mark.parametrize(
        "text",
        [
            "no-equals-sign",
            f"{PUBLIC_URL}=ftp://localhost",
            f"ftp://x.example={LOCAL}",
            f"{PUBLIC_URL}/?a=b={LOCAL}",
            f"{PUBLIC_URL}=http://",
            f"{PUBLIC_URL}=http://localhost:99999",
        ],
    )
    def test_malformed_rules_are_refused_with_a_message(self, text: str) -> None:
        with pytest.raises(RewriteError) as excinfo:
            parse_rule(text)
        assert str(excinfo.value)

    def test_the_environment_variable_is_named_in_errors(self) -> None:
        with pytest.raises(RewriteError, match=ENV_VAR):
            rules_from_env({ENV_VAR: "garbage"})

    def test_unknown_fields_in_a_mapping_rule(self) -> None:
        with pytest.raises(RewriteError, match="unknown field"):
            to_rules([{"public": PUBLIC_URL, "local": LOCAL, "extra": 1}])


# -- delivery through a served fake -----------------------------------------------------------
def _room_with_callback(server: FakeServer, path: str, method: str = "POST") -> str:
    room = server.client().video.v1.rooms.create(
        unique_name=f"rewrite-{path.strip('/')}-{method}",
        status_callback=f"{PUBLIC_URL}{path}",
        status_callback_method=method,
    )
    return room.sid


@pytest.mark.server
def test_room_created_webhook_reaches_the_local_receiver_signed_for_the_public_url(
    receiver: WebhookReceiver,
) -> None:
    with FakeServer() as server:
        server.state.webhooks.rewrites.add(PUBLIC_URL, receiver.url)
        room_sid = _room_with_callback(server, "/video/room-status")
        received = receiver.wait_for(1)

        assert len(received) >= 1
        first = received[0]
        assert first.method == "POST"
        assert first.path == "/video/room-status"
        assert first.form["StatusCallbackEvent"] == "room-created"
        assert first.form["RoomSid"] == room_sid
        # Twilio signs the URL the backend registered: the public one, not where it was sent.
        assert first.valid_for_public_url is True
        assert first.valid_for_local_url is False

        deliveries = server.control.webhooks()
        assert deliveries[-1]["url"] == f"{PUBLIC_URL}/video/room-status"
        assert deliveries[-1]["status"] == 204
        if "delivered_to" in deliveries[-1]:
            assert deliveries[-1]["delivered_to"] == f"{receiver.url}/video/room-status"

        server.client().video.v1.rooms(room_sid).update(status="completed")
        assert receiver.events()[-1] == "room-ended"
        assert all(r.valid_for_public_url for r in receiver.received)


@pytest.mark.server
def test_get_callbacks_keep_their_query_and_signature(receiver: WebhookReceiver) -> None:
    with FakeServer() as server:
        server.state.webhooks.rewrites.add(PUBLIC_URL, receiver.url)
        _room_with_callback(server, "/hooks?tenant=7", method="GET")
        received = receiver.wait_for(1)
        assert received and received[0].method == "GET"
        assert received[0].path.startswith("/hooks?tenant=7&")
        assert received[0].form["StatusCallbackEvent"] == "room-created"
        assert received[0].valid_for_public_url is True


@pytest.mark.server
def test_without_a_rule_the_public_url_is_tried_and_the_failure_recorded(
    receiver: WebhookReceiver,
) -> None:
    with FakeServer() as server:
        server.state.webhooks.rewrites.add("https://unrelated.example", receiver.url)
        server.client().video.v1.rooms.create(status_callback="http://127.0.0.1:1/cb")
        delivery = server.control.webhooks()[-1]
        assert delivery["url"] == "http://127.0.0.1:1/cb"
        assert delivery["status"] is None and delivery["error"]
        assert receiver.received == []


@pytest.mark.server
def test_control_plane_endpoint(receiver: WebhookReceiver) -> None:
    with FakeServer() as server:
        base = f"{server.url}/_fake/webhooks/rewrites"
        assert requests.get(base, timeout=10).json() == {"rewrites": []}

        rules = [{"public": PUBLIC_URL + "/", "local": receiver.url}]
        answer = requests.put(base, json={"rewrites": rules}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"rewrites": [{"public": PUBLIC_URL, "local": receiver.url}]}
        assert server.state.webhooks.rewrites.as_list() == answer.json()["rewrites"]

        _room_with_callback(server, "/cb")
        assert receiver.wait_for(1)[0].valid_for_public_url is True

        # The mapping shape is accepted too; PUT replaces every rule.
        answer = requests.put(base, json={"rewrites": {"https://a.example": LOCAL}}, timeout=10)
        assert answer.json() == {"rewrites": [{"public": "https://a.example", "local": LOCAL}]}

        for bad in (
            {"rewrites": [{"public": "nope", "local": LOCAL}]},
            {"rewrites": "not-a-list"},
            {"rules": []},
            {"rewrites": [{"public": PUBLIC_URL}]},
        ):
            refused = requests.put(base, json=bad, timeout=10)
            assert refused.status_code == 400, bad
            assert refused.json()["code"] == 20001
        assert server.state.webhooks.rewrites.as_list() == [
            {"public": "https://a.example", "local": LOCAL}
        ]

        assert requests.delete(base, timeout=10).status_code == 204
        assert requests.get(base, timeout=10).json() == {"rewrites": []}


@pytest.mark.server
def test_rewrites_survive_a_reset(receiver: WebhookReceiver) -> None:
    with FakeServer() as server:
        server.state.webhooks.rewrites.add(PUBLIC_URL, receiver.url)
        server.state.reset()
        _room_with_callback(server, "/after-reset")
        assert receiver.wait_for(1)[0].valid_for_public_url is True


# -- configuration of `fake-twilio serve` ------------------------------------------------------
@pytest.mark.server
def test_cli_flag_and_environment_variable(tmp_path: Path, receiver: WebhookReceiver) -> None:
    served = start_served_fake(
        tmp_path,
        "--rewrite-webhooks",
        f"{PUBLIC_URL}={receiver.url}",
        "--rewrite-webhooks",
        "https://flag.example=http://127.0.0.1:1",
        env={
            ENV_VAR: "https://env.example/x=http://127.0.0.1:2,https://flag.example=http://127.0.0.1:9"
        },
    )
    try:
        rules = served.get("/_fake/webhooks/rewrites").json()["rewrites"]
        assert {rule["public"]: rule["local"] for rule in rules} == {
            PUBLIC_URL: receiver.url,
            "https://env.example/x": "http://127.0.0.1:2",
            "https://flag.example": "http://127.0.0.1:1",  # a flag wins over the variable
        }
        creds = served.info["credentials"]
        created = requests.post(
            served.url + "/video/v1/Rooms",
            data={"UniqueName": "cli-rewrite", "StatusCallback": f"{PUBLIC_URL}/cb"},
            auth=(creds["account_sid"], creds["auth_token"]),
            timeout=10,
        )
        assert created.status_code == 201, created.text
        received = receiver.wait_for(1)
        assert received and received[0].valid_for_public_url is True
    finally:
        code, _, err = served.stop()
    assert code == 0, err


@pytest.mark.server
@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--rewrite-webhooks", "nonsense"], {}),
        ([], {ENV_VAR: "https://a.example=ftp://b"}),
    ],
)
def test_cli_refuses_a_bad_rule_in_one_line(args: list[str], env: dict[str, str]) -> None:
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "fake_twilio", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fake-twilio: error:"), result.stderr
    assert "Traceback" not in result.stderr
