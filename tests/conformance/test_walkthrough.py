"""``live-conformance walkthrough`` through real subprocesses, and docs/WALKTHROUGH.md.

The walkthrough plays one stream against the embedded reference backend and fake Twilio; the
JSON rendering is checked for the story's facts (not only its shape), the Markdown rendering
must equal the committed docs file byte for byte (the story is deterministic), and bad usage
gives one readable line and exit code 2.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import schemas
from conformance.walkthrough import SidRenumbering, tell

DOC = Path(__file__).resolve().parents[2] / "docs" / "WALKTHROUGH.md"
FULL_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
TIMEOUT = 300


def walkthrough(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_CONFORMANCE_")}
    environ.pop("NO_COLOR", None)
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "conformance", "walkthrough", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=environ,
    )


@pytest.fixture(scope="module")
def steps() -> list[dict[str, Any]]:
    result = walkthrough("--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    document = json.loads(result.stdout)
    return document["steps"]


def _step(steps: list[dict[str, Any]], title: str) -> dict[str, Any]:
    found = [s for s in steps if s["title"] == title]
    assert len(found) == 1, [s["title"] for s in steps]
    return found[0]


def test_every_step_has_its_parts(steps: list[dict[str, Any]]) -> None:
    known = {r["id"] for r in schemas.requirements()}
    assert [s["number"] for s in steps] == list(range(1, len(steps) + 1))
    for step in steps:
        assert step["story"] and step["requirements"], step["title"]
        assert {r["id"] for r in step["requirements"]} <= known
        assert step["exchanges"] or step["actions"], step["title"]
        for exchange in step["exchanges"]:
            assert set(exchange) >= {"request", "response", "tokens"}
            assert exchange["request"]["method"] == "POST"
            assert isinstance(exchange["response"]["status"], int)
        assert "state" in step and "twilio_calls" in step and "webhooks" in step
    endpoints = [e["endpoint"] for s in steps for e in s["exchanges"]]
    for endpoint in (
        "verify-passcode",
        "create-stream",
        "join-stream-as-viewer",
        "viewer-connected-to-player",
        "raise-hand",
        "send-speaker-invite",
        "join-stream-as-speaker",
        "remove-speaker",
        "delete-stream",
    ):
        assert endpoint in endpoints


def test_no_secret_is_shown(steps: list[dict[str, Any]]) -> None:
    text = json.dumps(steps)
    assert not FULL_JWT.search(text), "a whole token is shown"
    shown = {e["request"]["headers"].get("Authorization") for s in steps for e in s["exchanges"]}
    assert shown == {"<passcode>", "not-the-passcode"}
    assert "?token=<playback-token>" in text


def test_the_story_tells_what_happened(steps: list[dict[str, Any]]) -> None:
    wrong = _step(steps, "A wrong passcode is refused")
    assert wrong["exchanges"][0]["response"]["status"] == 401
    assert wrong["exchanges"][0]["response"]["body"]["error"]["message"] == "passcode incorrect"
    assert wrong["twilio_calls"] == [] and wrong["state"] is None

    created = _step(steps, "The host creates the stream")
    token = created["exchanges"][0]["tokens"][0]
    assert token["identity"] == "alice" and "video" in token["grants"]
    assert 0 < token["ttl_seconds"] <= 14400
    assert created["state"]["sync"]["speakers"] == {"alice": {"host": True}}
    assert created["state"]["room"]["status"] == "in-progress"
    assert created["state"]["player_streamer"]["status"] == "started"
    assert ("POST", "/video/v1/Rooms") in {
        (c["method"], c["path"]) for c in created["twilio_calls"]
    }

    joined = _step(steps, "A viewer joins")
    viewer_token = joined["exchanges"][0]["tokens"][0]
    assert "player" in viewer_token["grants"] and "video" not in viewer_token["grants"]
    assert joined["state"]["sync"]["documents"] == {"user-bob": {"speaker_invite": False}}

    invited = _step(steps, "The host invites the viewer to speak")
    assert invited["state"]["sync"]["documents"]["user-bob"]["speaker_invite"] is True
    assert invited["state"]["sync"]["raised_hands"] == {"bob": {}}

    connected = _step(steps, "The speaker connects to the room")
    events = [w["params"].get("StatusCallbackEvent") for w in connected["webhooks"]]
    assert events == ["participant-connected"]
    sync = connected["state"]["sync"]
    assert sync["speakers"]["bob"] == {"host": False}
    assert sync["viewers"] == {} and sync["raised_hands"] == {}
    assert sync["documents"]["user-bob"]["speaker_invite"] is False

    removed = _step(steps, "The host removes the speaker")
    assert "bob" not in removed["state"]["sync"]["speakers"]
    assert "bob" not in removed["state"]["room"]["connected"]

    ended = _step(steps, "The host ends the stream")
    assert "room-ended" in [w["params"].get("StatusCallbackEvent") for w in ended["webhooks"]]
    assert ended["state"]["sync"] is None
    assert ended["state"]["room"]["status"] == "completed"
    assert ended["state"]["media_processor"]["status"] == "ended"

    late = _step(steps, "An ended stream is unknown")
    response = late["exchanges"][0]["response"]
    assert response["status"] == 404
    assert response["body"]["error"]["message"] == "error finding room"
    assert not [c for c in late["twilio_calls"] if c["method"] != "GET"]


def test_text_is_the_default_format_without_colour_off_a_terminal() -> None:
    result = walkthrough()
    assert result.returncode == 0, result.stderr
    assert "Step 1. A wrong passcode is refused" in result.stdout
    assert "Step 13. An ended stream is unknown" in result.stdout
    assert "\x1b[" not in result.stdout


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("no_color", "environ", "coloured"),
    [(False, {}, True), (True, {}, False), (False, {"NO_COLOR": "1"}, False)],
)
def test_colour_on_a_terminal_unless_refused(
    no_color: bool, environ: dict[str, str], coloured: bool
) -> None:
    out, err = _Terminal(), io.StringIO()
    assert tell("text", no_color=no_color, environ=environ, stdout=out, stderr=err) == 0
    assert ("\x1b[" in out.getvalue()) is coloured
    assert err.getvalue() == ""


def test_the_docs_file_is_up_to_date(tmp_path: Path) -> None:
    target = tmp_path / "WALKTHROUGH.md"
    result = walkthrough("--format", "markdown", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert target.read_bytes() == DOC.read_bytes(), (
        "docs/WALKTHROUGH.md is stale: regenerate it with "
        "live-conformance walkthrough --format markdown --output docs/WALKTHROUGH.md"
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--format", "yaml"), "invalid choice: 'yaml'"),
        (("--colour",), "unrecognized arguments: --colour"),
        (("--output", "/nonexistent-dir/walkthrough.md"), "cannot write"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args: tuple[str, ...], fragment: str) -> None:
    result = walkthrough(*args)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("live-conformance: "), result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_sids_are_renumbered_by_first_appearance() -> None:
    kept = "AC" + "ab" * 16
    first, second = "RM" + "1f" * 16, "RM" + "e0" * 16
    renumbering = SidRenumbering({kept})
    shown = renumbering.data(
        {second: [f"/Rooms/{second}", first], "account": kept, "n": 3, "who": f"x-{first}"}
    )
    one, two = "RM" + "0" * 31 + "1", "RM" + "0" * 31 + "2"
    assert shown == {one: [f"/Rooms/{one}", two], "account": kept, "n": 3, "who": f"x-{two}"}
