"""Identities and stream names that are not URL-safe, through the whole protocol flow.

PROTOCOL.md section 2.2 allows any identity without control characters, used verbatim. The
backend puts identities (map item keys, permission identities, ``user-<identity>`` document
names, room participant identities) and stream names (room unique names) into Twilio URL
paths, where ``a/b``, ``?x``, ``#``, ``.`` and ``..`` break the path unless each value is one
percent-encoded segment. Each case runs create, join as viewer, raise hand, invite, join as
speaker, connect, remove and delete against the in-process fake, with the exact Sync state,
permissions and chat membership read back through the SDK after the steps that change them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest

import schemas

from .conftest import Harness

AWKWARD = ("a/b", "?x", "#", "%41", ".", "..", "ü", "a b", "/", "x/../y")
# (stream name, host, viewer): every value is host once and viewer once, never both together.
CASES = [(f"talk {v}", v, AWKWARD[(i + 1) % len(AWKWARD)]) for i, v in enumerate(AWKWARD)]
CASES += [(v, "host", "viewer") for v in ("a/b", ".", "..", "?x#y", "%2F")]
READ_ONLY = (True, False, False)


def expect_state(harness: Harness, service_sid: str, expected: dict[str, Any]) -> None:
    state = harness.sync_state(service_sid)
    assert state == expected
    schemas.validate("protocol/sync.state", state)


@pytest.mark.parametrize(("stream_name", "host", "viewer"), CASES, ids=repr)
def test_whole_flow_with_awkward_identities(
    harness: Harness, stream_name: str, host: str, viewer: str
) -> None:
    stream = harness.create_stream(stream_name, host)
    service = stream.sync_service_sid
    chat = harness.decode(stream.host_token)["grants"]["chat"]["service_sid"]
    room = harness.twilio.video.v1.rooms(stream.room_sid).fetch()
    assert room.unique_name == stream_name
    hosting = {host: {"host": True}}
    expect_state(
        harness, service, {"speakers": hosting, "raised_hands": {}, "viewers": {}, "documents": {}}
    )
    harness.control.connect_to_room(stream.host_token, stream_name)

    joined = harness.join(stream, viewer)
    assert joined["sync_object_names"]["user_document"] == f"user-{viewer}"
    harness.control.connect_to_player(joined["token"], stream.player_streamer_sid)
    names = {"user_identity": viewer, "stream_name": stream_name}
    assert harness.ok("viewer-connected-to-player", names) == {"success": True}
    assert harness.ok("raise-hand", {**names, "hand_raised": True}) == {"sent": True}
    watching = {"speakers": hosting, "viewers": {viewer: {}}}
    expect_state(
        harness,
        service,
        {
            **watching,
            "raised_hands": {viewer: {}},
            "documents": {f"user-{viewer}": {"speaker_invite": False}},
        },
    )
    permissions = harness.permissions(service)
    for name in ("speakers", "raised_hands", "viewers"):
        assert permissions[name] == {host: READ_ONLY, viewer: READ_ONLY}
    assert permissions[f"user-{viewer}"] == {viewer: READ_ONLY}
    assert harness.conversation_participants(chat, stream.room_sid) == sorted([host, viewer])

    invite = {"user_identity": viewer, "room_sid": stream.room_sid}
    assert harness.ok("send-speaker-invite", invite) == {"sent": True}
    speaker = harness.join(stream, viewer, role="speaker")
    harness.control.connect_to_room(speaker["token"], stream_name)
    expect_state(
        harness,
        service,
        {
            "speakers": {host: {"host": True}, viewer: {"host": False}},
            "raised_hands": {},
            "viewers": {},
            "documents": {f"user-{viewer}": {"speaker_invite": False}},
        },
    )

    removal = {"user_identity": viewer, "room_name": stream_name}
    assert harness.ok("remove-speaker", removal) == {"removed": True}
    participants = harness.twilio.video.v1.rooms(stream.room_sid).participants
    assert [p.status for p in participants.list(identity=viewer, status="disconnected")] == [
        "disconnected"
    ]
    expect_state(
        harness,
        service,
        {
            "speakers": hosting,
            "raised_hands": {},
            "viewers": {},
            "documents": {f"user-{viewer}": {"speaker_invite": False}},
        },
    )
    assert harness.ok("delete-stream", {"stream_name": stream_name}) == {"deleted": True}
    assert harness.twilio.video.v1.rooms(stream.room_sid).fetch().status == "completed"
    assert not harness.sync_service_exists(service)


@pytest.mark.parametrize("identity", AWKWARD, ids=repr)
def test_awkward_identity_is_one_path_segment_of_every_permission_call(
    harness: Harness, identity: str
) -> None:
    """Each permission request names the identity in exactly its last path segment."""
    stream = harness.create_stream("segments", "host")
    mark = harness.mark()
    harness.join(stream, identity)
    paths = [e.path for e in harness.requests_since(mark) if "/Permissions/" in e.path]
    assert len(paths) == 4, paths  # the three maps and the user document
    for path in paths:
        parent, _, last = path.rpartition("/")
        assert parent.endswith("/Permissions"), path
        assert unquote(last) == identity, path
