"""Client retries (IDEM-1), invitations kept and merged (FLOW-2, FLOW-3), and races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from .conftest import Harness, Stream


def observed(harness: Harness, stream: Stream) -> tuple[Any, ...]:
    """Everything a retry must leave as the first request left it."""
    chat = harness.decode(stream.host_token)["grants"]["chat"]["service_sid"]
    return (
        harness.sync_state(stream.sync_service_sid),
        harness.permissions(stream.sync_service_sid),
        harness.conversation_participants(chat, stream.room_sid),
    )


def without_token(response: Any) -> tuple[int, dict[str, Any]]:
    body = dict(response.get_json())
    body.pop("token", None)
    return response.status_code, body


REQUESTS = [
    ("join-stream-as-viewer", {"user_identity": "bob"}),
    ("join-stream-as-speaker", {"user_identity": "bob"}),
    ("viewer-connected-to-player", {"user_identity": "bob"}),
    ("raise-hand", {"user_identity": "bob", "hand_raised": True}),
    ("raise-hand", {"user_identity": "bob", "hand_raised": False}),
    ("send-speaker-invite", {"user_identity": "bob"}),
]


@pytest.mark.parametrize(("endpoint", "body"), REQUESTS)
def test_retries_give_the_same_answer_and_state(
    harness: Harness, stream: Stream, endpoint: str, body: dict[str, Any]
) -> None:
    harness.join(stream, "bob", "viewer")
    where = (
        {"room_sid": stream.room_sid}
        if endpoint == "send-speaker-invite"
        else {"stream_name": stream.name}
    )
    first = without_token(harness.call(endpoint, {**body, **where}))
    assert first[0] == 200
    state = observed(harness, stream)
    for _ in range(2):
        assert without_token(harness.call(endpoint, {**body, **where})) == first
        assert observed(harness, stream) == state


def test_pending_invitation_survives_rejoining(harness: Harness, stream: Stream) -> None:
    harness.join(stream, "bob", "viewer")
    harness.ok("send-speaker-invite", {"user_identity": "bob", "room_sid": stream.room_sid})
    for role in ("viewer", "viewer", "speaker", "viewer"):
        harness.join(stream, "bob", role)
        documents = harness.sync_state(stream.sync_service_sid)["documents"]
        assert documents == {"user-bob": {"speaker_invite": True}}


def test_document_writes_merge(harness: Harness, stream: Stream) -> None:
    harness.join(stream, "bob", "viewer")
    documents = harness.twilio.sync.v1.services(stream.sync_service_sid).documents
    documents("user-bob").update(data={"speaker_invite": False, "nickname": "Bobby"})
    harness.ok("send-speaker-invite", {"user_identity": "bob", "room_sid": stream.room_sid})
    assert documents("user-bob").fetch().data == {"speaker_invite": True, "nickname": "Bobby"}
    speaker = harness.join(stream, "bob", "speaker")
    harness.control.connect_to_room(speaker["token"], stream.name)
    assert documents("user-bob").fetch().data == {"speaker_invite": False, "nickname": "Bobby"}


def test_invitation_survives_a_concurrent_document_write(harness: Harness, stream: Stream) -> None:
    harness.join(stream, "bob", "viewer")
    harness.fail(
        "sync", "POST", ".*/Documents/user-bob", code=54103, status=412, message="Revision mismatch"
    )
    harness.ok("send-speaker-invite", {"user_identity": "bob", "room_sid": stream.room_sid})
    documents = harness.sync_state(stream.sync_service_sid)["documents"]
    assert documents == {"user-bob": {"speaker_invite": True}}


def test_racing_creates(harness: Harness) -> None:
    def create(name: str) -> int:
        body = {"user_identity": "alice", "stream_name": name}
        return (
            harness.app.test_client()
            .post("/create-stream", json=body, headers={"Authorization": harness.settings.passcode})
            .status_code
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(create, ["a", "b", "c", "d", "same", "same"]))
    assert sorted(statuses) == [200] * 5 + [409]
    storage = [
        s
        for s in harness.twilio.sync.v1.services.list()
        if s.friendly_name == "Live Video Backend Storage"
    ]
    assert len(storage) == 1
    assert len(harness.twilio.conversations.v1.services.list()) == 1


def test_a_restarted_backend_finds_its_streams(harness: Harness, stream: Stream) -> None:
    from fake_twilio.http_client import WSGITwilioHttpClient
    from reference_backend import create_app

    restarted = create_app(harness.settings, twilio_http_client=WSGITwilioHttpClient(harness.fake))
    harness.state.webhooks.register_wsgi("https://backend.example.test", restarted)
    client = restarted.test_client()
    auth = {"Authorization": harness.settings.passcode}
    joined = client.post(
        "/join-stream-as-viewer", json={"user_identity": "bob", "stream_name": stream.name},
        headers=auth,
    )  # fmt: skip
    assert joined.status_code == 200
    assert client.post("/delete-stream", json={"stream_name": stream.name}, headers=auth).json == {
        "deleted": True
    }
    assert not harness.sync_service_exists(stream.sync_service_sid)
