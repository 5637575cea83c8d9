"""The pieces of the ``schemathesis`` tox env that run without Schemathesis: the driver's
command line and the hooks' form encoding and webhook signature, checked against the
reference backend's own verification."""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.backend.conftest import CREDENTIALS, PUBLIC_URL, Harness

from . import run_schemathesis, schemathesis_hooks

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def harness() -> Harness:
    """One fake Twilio and one reference backend, in-process (tests/backend's harness)."""
    return Harness()


def test_form_pairs_spell_booleans_as_the_protocol_does() -> None:
    body = {"user_identity": "Jürgen", "hand_raised": True, "n": 3, "many": ["a", False]}
    encoded = schemathesis_hooks.form_bytes(body)
    assert encoded is not None
    assert parse_qsl(encoded.decode("ascii")) == [
        ("user_identity", "Jürgen"),
        ("hand_raised", "true"),
        ("n", "3"),
        ("many", "a"),
        ("many", "false"),
    ]
    assert schemathesis_hooks.form_bytes(None) is None
    assert schemathesis_hooks.form_bytes([1]) == b"[1]"


def test_form_body_as_the_hooks_encode_it_is_accepted(harness: Harness) -> None:
    stream = harness.create_stream()
    body = {"user_identity": "bob", "stream_name": stream.name, "hand_raised": True}
    harness.ok("join-stream-as-viewer", data=schemathesis_hooks.form_bytes(body), content_type=FORM)
    harness.ok("raise-hand", data=schemathesis_hooks.form_bytes(body), content_type=FORM)
    assert harness.sync_state(stream.sync_service_sid)["raised_hands"] == {"bob": {}}


@pytest.mark.parametrize(
    "body",
    [
        {"AccountSid": CREDENTIALS.account_sid, "StatusCallbackEvent": "room-created", "x": 1},
        {"StatusCallbackEvent": ["a", "b"], "RoomName": "Jürgen 🎥"},
        None,  # no body at all
    ],
)
def test_hook_signature_verifies_at_the_backend(harness: Harness, body: object) -> None:
    url = f"{PUBLIC_URL}/rooms-webhook"
    signed = schemathesis_hooks.signature(url, body, CREDENTIALS.auth_token)
    data = schemathesis_hooks.form_bytes(body) or b""
    headers = {"X-Twilio-Signature": signed}
    response = harness.call("rooms-webhook", data=data, content_type=FORM, headers=headers)
    assert response.status_code == 200, response.get_json()
    headers = {"X-Twilio-Signature": signed[::-1]}
    forged = harness.call("rooms-webhook", data=data, content_type=FORM, headers=headers)
    assert forged.status_code == 403


def test_driver_command_line_is_bounded_and_reproducible() -> None:
    options = argparse.Namespace(max_examples=20, seed=7, extra=["--phases", "fuzzing"])
    command = run_schemathesis.schemathesis_command(Path("o.json"), "http://127.0.0.1:1", options)
    assert command[1:4] == ["--config-file", str(run_schemathesis.CONFIG), "run"]
    for flag, value in (("--max-examples", "20"), ("--seed", "7"), ("--url", "http://127.0.0.1:1")):
        assert command[command.index(flag) + 1] == value
    assert f"Authorization: {run_schemathesis.PASSCODE}" in command
    assert command[-2:] == ["--phases", "fuzzing"]
    assert "--checks" not in command  # chosen in the config file (every check on)
    assert "enabled = true" in run_schemathesis.CONFIG.read_text(encoding="utf-8")
