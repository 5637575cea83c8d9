"""The webhooks: signatures (WH-1, WH-2), events (FLOW-4/5/7/11, WH-3/4), replays, duplicates
and stale or late deliveries (IDEM-2/3/4), and Twilio failures while handling them."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import schemas
from fake_twilio.core.webhooks import sign
from reference_backend import backend_of

from .conftest import CREDENTIALS, PUBLIC_URL, Harness, Stream


def deliver(
    harness: Harness,
    path: str,
    params: dict[str, str],
    *,
    signed_url: str | None = None,
    signature: str | None = None,
    base_url: str = PUBLIC_URL,
    token: str = CREDENTIALS.auth_token,
) -> Any:
    """POST a webhook as Twilio would, signed over ``signed_url`` (default: the registered URL)."""
    url = signed_url or f"{PUBLIC_URL}/{path}"
    headers = {}
    if signature is None:
        signature = sign(token, url, params)
    if signature:
        headers["X-Twilio-Signature"] = signature
    return harness.client.post(f"/{path}", data=params, headers=headers, base_url=base_url)


def rooms_event(stream: Stream, event: str, identity: str | None = None, **extra: str) -> dict:
    params = {
        "AccountSid": CREDENTIALS.account_sid,
        "RoomSid": stream.room_sid,
        "RoomName": stream.name,
        "StatusCallbackEvent": event,
        **extra,
    }
    if identity is not None:
        params["ParticipantIdentity"] = identity
        params.setdefault("ParticipantSid", "PA" + "1" * 32)
    schemas.validate("protocol/webhook.rooms", params)
    return params


def sync_event(stream: Stream, identity: str, event: str = "endpoint_disconnected") -> dict:
    params = {
        "AccountSid": CREDENTIALS.account_sid,
        "ServiceSid": stream.sync_service_sid,
        "EventType": event,
        "Identity": identity,
    }
    schemas.validate("protocol/webhook.sync", params)
    return params


def deliveries(harness: Harness, **match: str) -> list[Any]:
    """The fake's recorded deliveries whose params include ``match``."""
    return [
        d
        for d in harness.state.webhooks.records()
        if all(d.params.get(k) == v for k, v in match.items())
    ]


def replay(harness: Harness, record: Any) -> Any:
    path = record.url.removeprefix(PUBLIC_URL + "/")
    return harness.client.post(
        f"/{path}", data=record.params, headers={"X-Twilio-Signature": record.signature}
    )


def audience(harness: Harness, stream: Stream, identity: str) -> dict[str, Any]:
    """``identity`` as a viewer with a raised hand and a pending invitation."""
    body = harness.join(stream, identity, "viewer")
    who = {"user_identity": identity, "stream_name": stream.name}
    harness.ok("viewer-connected-to-player", who)
    harness.ok("raise-hand", {**who, "hand_raised": True})
    harness.ok("send-speaker-invite", {"user_identity": identity, "room_sid": stream.room_sid})
    return body


# -- signatures ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["rooms-webhook", "sync-webhook"])
def test_unsigned_or_forged_deliveries_are_refused(
    harness: Harness, stream: Stream, path: str
) -> None:
    audience(harness, stream, "bob")
    before = harness.sync_state(stream.sync_service_sid)
    params = (
        rooms_event(stream, "participant-connected", "bob")
        if path == "rooms-webhook"
        else sync_event(stream, "bob")
    )
    forged = [
        deliver(harness, path, params, signature=""),
        deliver(harness, path, params, signature="c2lnbmF0dXJl"),
        deliver(harness, path, params, token="another-auth-token-0000000000000"),
        deliver(harness, path, params, signed_url=f"http://localhost/{path}"),
        deliver(harness, path, params, signed_url=f"{PUBLIC_URL}/other"),
        altered(harness, path, params),
    ]
    for response in forged:
        assert response.status_code == 403
        assert response.get_json()["error"]["message"] == "invalid signature"
        schemas.validate("protocol/error", response.get_json())
    assert harness.sync_state(stream.sync_service_sid) == before


def test_signature_is_checked_against_the_public_url(harness: Harness, stream: Stream) -> None:
    params = rooms_event(stream, "room-created")
    response = deliver(harness, "rooms-webhook", params, base_url="http://10.0.0.5:8080")
    assert (response.status_code, response.get_json()) == (200, {})


def test_the_passcode_is_not_required(harness: Harness, stream: Stream) -> None:
    response = deliver(harness, "sync-webhook", sync_event(stream, "bob", "endpoint_connected"))
    assert response.status_code == 200


def altered(harness: Harness, path: str, params: dict[str, str]) -> Any:
    """A genuine signature sent with one parameter changed."""
    signature = sign(CREDENTIALS.auth_token, f"{PUBLIC_URL}/{path}", params)
    changed = {**params, "Identity": "carol", "ParticipantIdentity": "carol"}
    return harness.client.post(f"/{path}", data=changed, headers={"X-Twilio-Signature": signature})


# -- events --------------------------------------------------------------------------------------
def test_participant_connected_makes_a_speaker(harness: Harness, stream: Stream) -> None:
    body = audience(harness, stream, "bob")
    speaker = harness.join(stream, "bob", "speaker")
    assert body["room_sid"] == speaker["room_sid"]
    harness.control.connect_to_room(speaker["token"], stream.name)
    assert harness.sync_state(stream.sync_service_sid) == {
        "speakers": {"alice": {"host": True}, "bob": {"host": False}},
        "raised_hands": {},
        "viewers": {},
        "documents": {"user-bob": {"speaker_invite": False}},
    }


def test_the_composer_is_ignored(harness: Harness, stream: Stream) -> None:
    composer = deliveries(harness, StatusCallbackEvent="participant-connected")
    assert [d.params["ParticipantIdentity"][:14] for d in composer] == ["video-composer"]
    assert composer[0].status == 200
    mark = harness.mark()
    for event in ("participant-connected", "participant-disconnected"):
        params = rooms_event(stream, event, "video-composer-1")
        assert deliver(harness, "rooms-webhook", params).status_code == 200
    assert harness.requests_since(mark) == []


@pytest.mark.parametrize(
    "event", ["room-created", "track-added", "recording-started", "participant-reconnecting"]
)
def test_other_room_events_are_ignored(harness: Harness, stream: Stream, event: str) -> None:
    mark = harness.mark()
    response = deliver(harness, "rooms-webhook", rooms_event(stream, event, "bob"))
    assert (response.status_code, response.get_json()) == (200, {})
    assert harness.writes_since(mark) == []


@pytest.mark.parametrize("event", ["endpoint_connected", "map_item_added", "document_updated"])
def test_other_sync_events_are_ignored(harness: Harness, stream: Stream, event: str) -> None:
    mark = harness.mark()
    assert deliver(harness, "sync-webhook", sync_event(stream, "bob", event)).status_code == 200
    assert harness.requests_since(mark) == []


def test_unknown_rooms_and_services_are_acknowledged(harness: Harness) -> None:
    unknown = Stream("x", "h", "RM" + "9" * 32, "IS" + "9" * 32, "", "", "", {})
    for path, params in (
        ("rooms-webhook", rooms_event(unknown, "participant-connected", "bob")),
        ("rooms-webhook", rooms_event(unknown, "participant-disconnected", "bob")),
        ("rooms-webhook", rooms_event(unknown, "room-ended")),
        ("sync-webhook", sync_event(unknown, "bob")),
    ):
        for _ in range(2):  # before and after the backend has any stream
            mark = harness.mark()
            assert deliver(harness, path, params).status_code == 200
            assert harness.writes_since(mark) == []
            harness.create_stream(f"s{harness.mark()}")


def test_sync_disconnect_clears_the_audience(harness: Harness, stream: Stream) -> None:
    viewer = audience(harness, stream, "bob")
    harness.control.connect_to_sync(viewer["token"])
    harness.control.disconnect_from_sync(stream.sync_service_sid, "bob")
    harness.control.advance(6)  # the debouncing window
    assert deliveries(harness, EventType="endpoint_disconnected", Identity="bob")[0].status == 200
    assert harness.sync_state(stream.sync_service_sid) == {
        "speakers": {"alice": {"host": True}},
        "raised_hands": {},
        "viewers": {},
        "documents": {"user-bob": {"speaker_invite": True}},
    }


def test_sync_disconnect_keeps_a_speaker_still_in_the_room(
    harness: Harness, stream: Stream
) -> None:
    harness.control.connect_to_room(stream.host_token, stream.name)
    response = deliver(harness, "sync-webhook", sync_event(stream, "alice"))
    assert response.status_code == 200
    assert harness.sync_state(stream.sync_service_sid)["speakers"] == {"alice": {"host": True}}
    harness.control.disconnect_from_room(stream.name, "alice")
    harness.ok("join-stream-as-speaker", {"user_identity": "alice", "stream_name": stream.name})
    deliver(harness, "sync-webhook", sync_event(stream, "alice"))
    assert harness.sync_state(stream.sync_service_sid)["speakers"] == {}


# -- replays, duplicates, stale and late deliveries ---------------------------------------------
def test_duplicate_deliveries_change_nothing(harness: Harness, stream: Stream) -> None:
    speaker = harness.join(stream, "bob", "speaker")
    harness.control.connect_to_room(speaker["token"], stream.name)
    (connected,) = deliveries(harness, StatusCallbackEvent="participant-connected",
                              ParticipantIdentity="bob")  # fmt: skip
    state = harness.sync_state(stream.sync_service_sid)
    for _ in range(2):
        assert replay(harness, connected).status_code == 200
        assert harness.sync_state(stream.sync_service_sid) == state
    harness.ok("remove-speaker", {"user_identity": "bob", "room_name": stream.name})
    (disconnected,) = deliveries(harness, StatusCallbackEvent="participant-disconnected",
                                 ParticipantIdentity="bob")  # fmt: skip
    state = harness.sync_state(stream.sync_service_sid)
    for _ in range(2):
        assert replay(harness, disconnected).status_code == 200
        assert harness.sync_state(stream.sync_service_sid) == state


def test_stale_participant_connected_does_not_readd_the_speaker(
    harness: Harness, stream: Stream
) -> None:
    speaker = harness.join(stream, "bob", "speaker")
    harness.control.connect_to_room(speaker["token"], stream.name)
    (connected,) = deliveries(harness, StatusCallbackEvent="participant-connected",
                              ParticipantIdentity="bob")  # fmt: skip
    harness.control.disconnect_from_room(stream.name, "bob")
    audience(harness, stream, "bob")  # back in the audience, invited again
    state = harness.sync_state(stream.sync_service_sid)
    assert replay(harness, connected).status_code == 200
    assert harness.sync_state(stream.sync_service_sid) == state


def test_participant_connected_without_twilio_record_is_trusted(
    harness: Harness, stream: Stream
) -> None:
    audience(harness, stream, "bob")
    deliver(harness, "rooms-webhook", rooms_event(stream, "participant-connected", "bob"))
    state = harness.sync_state(stream.sync_service_sid)
    assert state["speakers"]["bob"] == {"host": False}
    assert "bob" not in state["viewers"] and "bob" not in state["raised_hands"]


def test_late_disconnect_of_a_replaced_connection_keeps_the_speaker(
    harness: Harness, stream: Stream
) -> None:
    speaker = harness.join(stream, "bob", "speaker")
    harness.control.connect_to_room(speaker["token"], stream.name)
    harness.control.connect_to_room(speaker["token"], stream.name)  # replaces the first
    first_left = deliveries(harness, StatusCallbackEvent="participant-disconnected",
                            ParticipantIdentity="bob")  # fmt: skip
    assert len(first_left) == 1
    assert harness.sync_state(stream.sync_service_sid)["speakers"]["bob"] == {"host": False}
    assert replay(harness, first_left[0]).status_code == 200
    assert harness.sync_state(stream.sync_service_sid)["speakers"]["bob"] == {"host": False}


def test_late_deliveries_after_room_ended_resurrect_nothing(
    harness: Harness, stream: Stream
) -> None:
    viewer = audience(harness, stream, "bob")
    harness.control.connect_to_sync(viewer["token"])
    speaker = harness.join(stream, "carol", "speaker")
    harness.control.connect_to_room(speaker["token"], stream.name)
    harness.control.disconnect_from_sync(stream.sync_service_sid, "bob")
    harness.control.advance(6)
    harness.ok("delete-stream", {"stream_name": stream.name})
    recorded = [d for d in harness.state.webhooks.records() if d.url.startswith(PUBLIC_URL)]
    assert {d.params.get("StatusCallbackEvent") or d.params.get("EventType") for d in recorded} >= {
        "participant-connected",
        "participant-disconnected",
        "room-ended",
        "endpoint_disconnected",
    }
    mark = harness.mark()
    for record in recorded:
        assert replay(harness, record).status_code == 200
    assert deliver(harness, "sync-webhook", sync_event(stream, "carol")).status_code == 200
    assert harness.writes_since(mark) == []
    assert not harness.sync_service_exists(stream.sync_service_sid)
    assert backend_of(harness.app).storage.get_stream(stream.room_sid) is None


# -- Twilio failures while handling a delivery -------------------------------------------------
WEBHOOK_STEPS = [
    ("rooms-webhook", "participant-connected", "sync", "GET", ".*/Maps/streams/Items/.*",
     "error getting stream sync client"),
    ("rooms-webhook", "participant-connected", "sync", "DELETE", ".*/Maps/viewers/Items/bob",
     "error removing user from viewers map"),
    ("rooms-webhook", "participant-connected", "sync", "DELETE", ".*/Maps/raised_hands/Items/bob",
     "error removing user from raised hands map"),
    ("rooms-webhook", "participant-connected", "sync", "POST", ".*/Maps/speakers/Items",
     "error adding user to speakers map"),
    ("rooms-webhook", "participant-connected", "sync", "POST", ".*/Documents/user-bob",
     "error updating user document"),
    ("rooms-webhook", "participant-disconnected", "sync", "DELETE", ".*/Maps/speakers/Items/bob",
     "error removing user from speakers map"),
    ("rooms-webhook", "room-ended", "media", "POST", "/v1/MediaProcessors/.*",
     "error deleting stream"),
    ("rooms-webhook", "room-ended", "sync", "DELETE", "/v1/Services/IS[0-9a-f]{32}",
     "error deleting stream"),
    ("sync-webhook", "endpoint_disconnected", "sync", "GET", "/v1/Services/IS[0-9a-f]{32}",
     "error getting stream sync client"),
    ("sync-webhook", "endpoint_disconnected", "sync", "DELETE", ".*/Maps/speakers/Items/bob",
     "error removing user from speakers map"),
    ("sync-webhook", "endpoint_disconnected", "sync", "DELETE", ".*/Maps/raised_hands/Items/bob",
     "error removing user from raised hands map"),
    ("sync-webhook", "endpoint_disconnected", "sync", "DELETE", ".*/Maps/viewers/Items/bob",
     "error removing user from viewers map"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "event", "product", "method", "pattern", "message"),
    WEBHOOK_STEPS,
    ids=[f"{s[1]}:{s[5]}" for s in WEBHOOK_STEPS],
)
def test_twilio_failure_while_handling_a_delivery(
    harness: Harness,
    stream: Stream,
    path: str,
    event: str,
    product: str,
    method: str,
    pattern: str,
    message: str,
) -> None:
    audience(harness, stream, "bob")
    if event == "participant-disconnected":
        deliver(harness, path, rooms_event(stream, "participant-connected", "bob"))
    if path == "rooms-webhook":
        params = rooms_event(stream, event, None if event == "room-ended" else "bob")
    else:
        params = sync_event(stream, "bob", event)
    harness.fail(product, method, pattern, message="Sync is down")
    response = deliver(harness, path, params)
    assert response.status_code == 502
    assert response.get_json() == {"error": {"message": message, "explanation": "Sync is down"}}
    assert deliver(harness, path, params).status_code == 200  # Twilio's retry completes it


# -- concurrent deliveries about one stream -----------------------------------------------------
class _Interleaving:
    """Wraps the backend's Twilio transport: right after the first request whose URL contains
    ``marker`` is answered, runs ``meanwhile`` in another thread and gives it ``grace``
    seconds to finish before the interrupted request returns.

    This reproduces the worst interleaving of two concurrent deliveries on purpose. A backend
    that serialises the deliveries of a stream makes ``meanwhile`` wait (the grace runs out),
    and the final state must be right either way, so no assertion depends on timing.
    """

    def __init__(self, inner: Any, marker: str, meanwhile: Any, grace: float = 1.0) -> None:
        self.inner = inner
        self.marker = marker
        self.meanwhile = meanwhile
        self.grace = grace
        self.thread: threading.Thread | None = None

    def request(self, method: str, uri: str, **kwargs: Any) -> Any:
        response = self.inner.request(method, uri, **kwargs)
        if self.thread is None and self.marker in uri:
            self.thread = threading.Thread(target=self.meanwhile)
            self.thread.start()
            self.thread.join(self.grace)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _interleave(harness: Harness, marker: str, meanwhile: Any) -> _Interleaving:
    transport = backend_of(harness.app).gateway.client.http_client
    interleaving = _Interleaving(transport.inner, marker, meanwhile)
    transport.inner = interleaving
    return interleaving


def test_connect_during_a_sync_disconnect_keeps_the_speaker(
    harness: Harness, stream: Stream
) -> None:
    """A participant-connected handled while the sync-webhook of the same identity is between
    its "is it in the room?" check and its removal must not lose the speakers item."""
    speaker = harness.join(stream, "bob", "speaker")
    interleaving = _interleave(
        harness,
        "/Participants",
        lambda: harness.control.connect_to_room(speaker["token"], stream.name),
    )
    assert deliver(harness, "sync-webhook", sync_event(stream, "bob")).status_code == 200
    assert interleaving.thread is not None
    interleaving.thread.join()
    (connected,) = deliveries(harness, StatusCallbackEvent="participant-connected",
                              ParticipantIdentity="bob")  # fmt: skip
    assert connected.status == 200
    assert harness.sync_state(stream.sync_service_sid)["speakers"] == {
        "alice": {"host": True},
        "bob": {"host": False},
    }
    assert len(backend_of(harness.app).webhooks.locks) == 0


def test_participant_event_during_room_ended_is_acknowledged(
    harness: Harness, stream: Stream
) -> None:
    """A participant-connected delivered while room-ended is cleaning up answers 2xx and
    recreates nothing (IDEM-3), instead of failing on the Sync service being deleted."""
    results: list[Any] = []
    interleaving = _interleave(
        harness,
        f"/Services/{stream.sync_service_sid}",  # its deletion, before the record's
        lambda: results.append(
            deliver(harness, "rooms-webhook", rooms_event(stream, "participant-connected", "bob"))
        ),
    )
    assert deliver(harness, "rooms-webhook", rooms_event(stream, "room-ended")).status_code == 200
    assert interleaving.thread is not None
    interleaving.thread.join()
    assert [r.status_code for r in results] == [200]
    assert not harness.sync_service_exists(stream.sync_service_sid)
    assert backend_of(harness.app).storage.get_stream(stream.room_sid) is None
