"""The original-like backend (:mod:`.original_like`) really behaves like the original: two of
its documented quirks, shown with real requests against it and the fake Twilio."""

from __future__ import annotations

from typing import Any

import jwt

from conformance import embedded

from .conftest import TEST_SETTINGS
from .original_like import factory


def _sync_service(token: str) -> str:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return str(claims["grants"]["data_sync"]["service_sid"])


def test_remove_speaker_needs_no_passcode_and_viewer_join_resets_the_document() -> None:
    run = embedded.start(backend_factory=factory, **TEST_SETTINGS)
    try:
        client = run.backend_client()
        created = client.call("create-stream", {"user_identity": "host", "stream_name": "show"})
        assert created.status == 200, created.text
        room_sid = created.json["room_sid"]
        service = _sync_service(created.json["token"])

        # join-stream-as-viewer overwrites the user document with {"speaker_invite": false}
        joined = client.call(
            "join-stream-as-viewer", {"user_identity": "bob", "stream_name": "show"}
        )
        assert joined.status == 200, joined.text
        invited = client.call("send-speaker-invite", {"user_identity": "bob", "room_sid": room_sid})
        assert invited.json == {"sent": True}
        assert run.twilio.document(service, "user-bob") == {"speaker_invite": True}
        again = client.call(
            "join-stream-as-viewer", {"user_identity": "bob", "stream_name": "show"}
        )
        assert again.status == 200, again.text
        assert run.twilio.document(service, "user-bob") == {"speaker_invite": False}

        # remove-speaker runs no passcode check: without Authorization it still disconnects
        speaker = client.call(
            "join-stream-as-speaker", {"user_identity": "eve", "stream_name": "show"}
        )
        assert speaker.status == 200, speaker.text
        assert run.twilio.document(service, "user-eve") == {}
        run.twilio.connect_to_room(speaker.json["token"], "show")
        removed = client.call(
            "remove-speaker", {"user_identity": "eve", "room_name": "show"}, passcode=None
        )
        assert (removed.status, removed.json) == (200, {"removed": True})
        identities = [p["identity"] for p in run.twilio.room_participants(room_sid)]
        assert "eve" not in identities
    finally:
        run.close()


def test_a_trailing_space_in_an_identity_breaks_the_viewer_and_leaves_stale_state() -> None:
    """twilio-node's URLs lose a trailing space (axios trims them): the viewer join updates a
    document that does not exist, and the rooms-webhook of a viewer who became a speaker
    removes items that do not exist, so the viewers and raised_hands items stay."""
    run = embedded.start(backend_factory=factory, **TEST_SETTINGS)
    try:
        client = run.backend_client()
        created = client.call("create-stream", {"user_identity": "host", "stream_name": "show"})
        assert created.status == 200, created.text
        service = _sync_service(created.json["token"])
        user = {"user_identity": "ann ", "stream_name": "show"}

        viewer = client.call("join-stream-as-viewer", user)
        assert viewer.status == 500, viewer.text
        assert viewer.json["error"]["message"] == "error updating user  document"
        assert run.twilio.document(service, "user-ann ") == {}  # created before the update

        for endpoint, extra in (
            ("viewer-connected-to-player", {}),
            ("raise-hand", {"hand_raised": True}),
        ):
            answer = client.call(endpoint, {**user, **extra})
            assert answer.status == 200, answer.text
        speaker = client.call("join-stream-as-speaker", user)
        assert speaker.status == 200, speaker.text
        run.twilio.connect_to_room(speaker.json["token"], "show")
        assert run.twilio.flush_webhooks()

        assert "ann " in (run.twilio.map_items(service, "speakers") or {})
        assert "ann " in (run.twilio.map_items(service, "viewers") or {})
        assert "ann " in (run.twilio.map_items(service, "raised_hands") or {})
    finally:
        run.close()
