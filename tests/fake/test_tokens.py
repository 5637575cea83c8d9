"""Access tokens: verification as Twilio does it, and the simulated clients that present them.

Tokens are minted with the official ``twilio.jwt.access_token.AccessToken`` (or, for the
malformed cases, hand-built with PyJWT); resources are created through the real SDK.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant, PlaybackGrant, SyncGrant, VideoGrant
from twilio.rest import Client

import schemas
from fake_twilio import TwilioError
from fake_twilio.control import FakeControl
from fake_twilio.core.accounts import Credentials
from fake_twilio.core.state import FakeState
from fake_twilio.testing import media_request, sdk_client
from fake_twilio.tokens import VerifiedToken, verify_access_token

from .support import access_token

Mint = Callable[..., str]


@pytest.fixture
def creds(state: FakeState) -> Credentials:
    return state.default_credentials


@pytest.fixture
def mint(state: FakeState) -> Mint:
    """A token from the official AccessToken class with the default API key."""
    return functools.partial(access_token, state)


def raw_token(
    creds: Credentials,
    *,
    header: dict[str, Any] | None = None,
    secret: str | None = None,
    algorithm: str = "HS256",
    **claims: Any,
) -> str:
    """A hand-made JWT: what AccessToken makes unless overridden (None drops a claim)."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "jti": f"{creds.api_key_sid}-{now}",
        "iss": creds.api_key_sid,
        "sub": creds.account_sid,
        "nbf": now,
        "exp": now + 3600,
        "grants": {"identity": "alice", "video": {}},
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    headers = {"cty": "twilio-fpa;v=1"} if header is None else header
    return jwt.encode(payload, secret or creds.api_key_secret, algorithm=algorithm, headers=headers)


def expect_error(code: int, call: Callable[[], Any], status: int | None = None) -> TwilioError:
    with pytest.raises(TwilioError) as caught:
        call()
    assert caught.value.code == code, caught.value
    assert caught.value.status == (status if status is not None else caught.value.status)
    return caught.value


# -- verification ------------------------------------------------------------------------------
def test_official_token_is_accepted(state: FakeState, creds: Credentials, mint: Mint) -> None:
    verified = verify_access_token(state, mint(VideoGrant(room="r1")))
    assert isinstance(verified, VerifiedToken)
    assert verified.identity == "alice"
    assert verified.account_sid == creds.account_sid
    assert verified.api_key_sid == creds.api_key_sid
    assert verified.grants["video"] == {"room": "r1"}
    assert verified.expires_at - verified.not_before == timedelta(hours=1)


def test_token_with_region_header_is_accepted(state: FakeState, mint: Mint) -> None:
    assert verify_access_token(state, mint(VideoGrant(), region="ie1")).region == "ie1"


def test_token_of_another_account_is_accepted_with_its_account(state: FakeState) -> None:
    other = state.accounts.create("other")
    token = AccessToken(
        other.account_sid, other.api_key_sid, other.api_key_secret, identity="bob"
    ).to_jwt()
    assert verify_access_token(state, token).account_sid == other.account_sid


@pytest.mark.parametrize(
    ("case", "code", "fragment"),
    [
        ("wrong secret", 20107, "signature"),
        ("expired", 20104, "expired"),
        ("not yet valid", 20105, "not valid before"),
        ("wrong cty", 20102, "content type"),
        ("no cty", 20102, "content type"),
        ("HS512", 20102, "algorithm"),
        ("unknown iss", 20103, "not a known API key"),
        ("sub mismatch", 20103, "subject"),
        ("no sub", 20103, "sub"),
        ("over 24 h", 20157, "24 hours"),
        ("over 24 h without nbf", 20157, "24 hours"),
        ("no identity", 20106, "no identity"),
        ("no grants", 20106, "grants"),
        ("no exp", 20104, "exp"),
        ("not a jwt", 20101, "not a JWT"),
        ("garbage", 20101, "cannot be decoded"),
        ("empty", 20101, "empty"),
    ],
)
def test_token_rejections(
    state: FakeState, creds: Credentials, mint: Mint, case: str, code: int, fragment: str
) -> None:
    now = int(time.time())
    tokens = {
        "wrong secret": lambda: AccessToken(
            creds.account_sid, creds.api_key_sid, "x" * 32, identity="alice"
        ).to_jwt(),
        "expired": lambda: mint(nbf=now - 7200, valid_until=now - 60),
        "not yet valid": lambda: mint(nbf=now + 600, valid_until=now + 1200),
        "wrong cty": lambda: raw_token(creds, header={"cty": "twilio-capability;v=1"}),
        "no cty": lambda: raw_token(creds, header={}),
        "HS512": lambda: raw_token(creds, algorithm="HS512", secret="k" * 64),
        "unknown iss": lambda: raw_token(creds, iss="SK" + "0" * 32),
        "sub mismatch": lambda: raw_token(creds, sub=state.accounts.create().account_sid),
        "no sub": lambda: raw_token(creds, sub=None),
        "over 24 h": lambda: mint(ttl=24 * 3600 + 1),
        "over 24 h without nbf": lambda: mint(nbf=None, ttl=25 * 3600),
        "no identity": lambda: mint(VideoGrant(), identity=None),
        "no grants": lambda: raw_token(creds, grants=None),
        "no exp": lambda: raw_token(creds, exp=None),
        "not a jwt": lambda: "not-a-token",
        "garbage": lambda: "abc.def.ghi",
        "empty": lambda: "",
    }
    error = expect_error(code, lambda: verify_access_token(state, tokens[case]()), 401)
    assert fragment in error.message


def test_exactly_24_hours_is_allowed(state: FakeState, mint: Mint) -> None:
    assert verify_access_token(state, mint(ttl=24 * 3600)).identity == "alice"


def test_verification_uses_the_fake_clock(control: FakeControl, mint: Mint) -> None:
    token = mint(VideoGrant(), ttl=60)
    control.freeze()
    assert control.verify_token(token)["identity"] == "alice"
    control.advance(59)
    assert control.verify_token(token)["identity"] == "alice"
    control.advance(2)
    expect_error(20104, lambda: control.verify_token(token), 401)


def test_token_minted_in_the_future_of_a_frozen_clock(control: FakeControl, mint: Mint) -> None:
    control.freeze(datetime.now(UTC) - timedelta(hours=1))
    expect_error(20105, lambda: control.verify_token(mint()), 401)
    control.advance(3600)
    assert control.verify_token(mint())["identity"] == "alice"


# -- Video -------------------------------------------------------------------------------------
def test_connect_to_room_with_a_video_grant(
    control: FakeControl, client: Client, mint: Mint
) -> None:
    room = client.video.v1.rooms.create(unique_name="standup")
    participant = control.connect_to_room(mint(VideoGrant(room="standup")), "standup")
    schemas.validate("twilio/room-participant", participant)
    assert participant["identity"] == "alice"
    assert participant["status"] == "connected"
    assert participant["room_sid"] == room.sid
    listed = client.video.v1.rooms(room.sid).participants.list()
    assert [p.sid for p in listed] == [participant["sid"]]


def test_video_grant_without_room_and_by_room_sid(
    control: FakeControl, client: Client, mint: Mint
) -> None:
    room = client.video.v1.rooms.create(unique_name="any")
    control.connect_to_room(mint(VideoGrant(), identity="a"), "any")
    control.connect_to_room(mint(VideoGrant(room=room.sid), identity="b"), "any")
    control.connect_to_room(mint(VideoGrant(room="any"), identity="c"), room.sid)
    identities = {p.identity for p in client.video.v1.rooms(room.sid).participants.list()}
    assert identities == {"a", "b", "c"}


def test_video_grant_for_another_room_is_refused(
    control: FakeControl, client: Client, mint: Mint
) -> None:
    room = client.video.v1.rooms.create(unique_name="mine")
    client.video.v1.rooms.create(unique_name="theirs")
    error = expect_error(
        20106, lambda: control.connect_to_room(mint(VideoGrant(room="theirs")), "mine"), 401
    )
    assert "'theirs'" in error.message
    assert client.video.v1.rooms(room.sid).participants.list() == []


def test_no_video_grant_is_refused(control: FakeControl, client: Client, mint: Mint) -> None:
    client.video.v1.rooms.create(unique_name="r")
    error = expect_error(
        20106, lambda: control.connect_to_room(mint(SyncGrant("IS" + "0" * 32)), "r")
    )
    assert "video grant" in error.message


def test_bad_token_never_reaches_the_room(
    control: FakeControl, client: Client, creds: Credentials
) -> None:
    room = client.video.v1.rooms.create(unique_name="r")
    forged = AccessToken(
        creds.account_sid, creds.api_key_sid, "y" * 32, grants=[VideoGrant()], identity="eve"
    ).to_jwt()
    expect_error(20107, lambda: control.connect_to_room(forged, "r"), 401)
    assert client.video.v1.rooms(room.sid).participants.list() == []


def test_completed_and_unknown_rooms(control: FakeControl, client: Client, mint: Mint) -> None:
    room = client.video.v1.rooms.create(unique_name="done")
    client.video.v1.rooms(room.sid).update(status="completed")
    expect_error(53118, lambda: control.connect_to_room(mint(VideoGrant()), room.sid), 400)
    expect_error(53106, lambda: control.connect_to_room(mint(VideoGrant()), "nowhere"), 404)


def test_account_sid_must_match_the_token(
    control: FakeControl, client: Client, state: FakeState, mint: Mint
) -> None:
    client.video.v1.rooms.create(unique_name="r")
    other = state.accounts.create()
    error = expect_error(
        20103,
        lambda: control.connect_to_room(mint(VideoGrant()), "r", account_sid=other.account_sid),
    )
    assert other.account_sid in error.message


def test_duplicate_identity_replaces_the_first_connection(
    control: FakeControl, client: Client, mint: Mint
) -> None:
    room = client.video.v1.rooms.create(unique_name="r")
    first = control.connect_to_room(mint(VideoGrant()), "r")
    second = control.connect_to_room(mint(VideoGrant()), "r")
    assert first["sid"] != second["sid"]
    old = client.video.v1.rooms(room.sid).participants(first["sid"]).fetch()
    assert old.status == "disconnected"
    left = control.disconnect_from_room("r", "alice")
    assert left["status"] == "disconnected"
    expect_error(53204, lambda: control.disconnect_from_room("r", "alice"), 404)


def test_room_of_another_account(state: FakeState, app: Flask, control: FakeControl) -> None:
    other = state.accounts.create()
    other_client = sdk_client(app, account_sid=other.account_sid)
    room = other_client.video.v1.rooms.create(unique_name="theirs")
    token = AccessToken(
        other.account_sid,
        other.api_key_sid,
        other.api_key_secret,
        grants=[VideoGrant()],
        identity="bob",
    ).to_jwt()
    joined = control.connect_to_room(token, "theirs")
    assert joined["account_sid"] == other.account_sid
    assert joined["room_sid"] == room.sid
    expect_error(20404, lambda: control.complete_room("theirs"), 404)
    ended = control.complete_room("theirs", account_sid=other.account_sid)
    assert ended["status"] == "completed"


# -- Live player -------------------------------------------------------------------------------
def started_streamer(client: Client, state: FakeState) -> str:
    streamer = media_request(client, "POST", "/PlayerStreamers", {})
    with state.locked():
        state.backend(state.default_credentials.account_sid, "media").start_player_streamer(
            streamer["sid"]
        )
    return streamer["sid"]


def playback_grant(client: Client, sid: str) -> dict[str, Any]:
    body = media_request(client, "POST", f"/PlayerStreamers/{sid}/PlaybackGrant", {"Ttl": "60"})
    return body["grant"]


def test_connect_to_player_with_a_playback_grant(
    control: FakeControl, client: Client, state: FakeState, mint: Mint
) -> None:
    sid = started_streamer(client, state)
    token = mint(PlaybackGrant(grant=playback_grant(client, sid)), identity="viewer-1")
    viewer = control.connect_to_player(token, sid)
    assert viewer["identity"] == "viewer-1"
    assert viewer["player_streamer_sid"] == sid
    dumped = control.dump("media")
    assert "viewer-1" in str(dumped)
    control.disconnect_from_player(sid, "viewer-1")


def test_player_grant_for_another_streamer(
    control: FakeControl, client: Client, state: FakeState, mint: Mint
) -> None:
    first, second = started_streamer(client, state), started_streamer(client, state)
    token = mint(PlaybackGrant(grant=playback_grant(client, first)))
    error = expect_error(20106, lambda: control.connect_to_player(token, second), 401)
    assert second in error.message


def test_player_grant_for_an_ended_streamer(
    control: FakeControl, client: Client, state: FakeState, mint: Mint
) -> None:
    sid = started_streamer(client, state)
    token = mint(PlaybackGrant(grant=playback_grant(client, sid)))
    media_request(client, "POST", f"/PlayerStreamers/{sid}", {"Status": "ENDED"})
    expect_error(20409, lambda: control.connect_to_player(token, sid), 409)


def test_forged_player_grant(
    control: FakeControl, client: Client, state: FakeState, mint: Mint
) -> None:
    sid = started_streamer(client, state)
    genuine = playback_grant(client, sid)
    forged = dict(genuine, playbackUrl=genuine["playbackUrl"] + "x")
    expect_error(20106, lambda: control.connect_to_player(mint(PlaybackGrant(grant=forged))), 401)
    expect_error(20106, lambda: control.connect_to_player(mint(PlaybackGrant(grant=None))), 401)
    expect_error(20106, lambda: control.connect_to_player(mint(VideoGrant())), 401)


# -- Sync --------------------------------------------------------------------------------------
def acl_service(client: Client) -> tuple[str, str]:
    service = client.sync.v1.services.create(friendly_name="acl", acl_enabled=True)
    document = client.sync.v1.services(service.sid).documents.create(
        unique_name="state", data={"v": 1}
    )
    return service.sid, document.sid


def test_sync_acl_read_only_identity_cannot_write(
    control: FakeControl, client: Client, mint: Mint
) -> None:
    service, document = acl_service(client)
    client.sync.v1.services(service).documents(document).document_permissions("alice").update(
        read=True, write=False, manage=False
    )
    token = mint(SyncGrant(service_sid=service))
    assert control.sync_read(token, "document", "state")["data"] == {"v": 1}
    error = expect_error(54007, lambda: control.sync_write(token, "document", "state", {"v": 2}))
    assert error.status == 403
    assert client.sync.v1.services(service).documents(document).fetch().data == {"v": 1}


def test_sync_acl_write_permission_allows_writes(
    control: FakeControl, client: Client, mint: Mint
) -> None:
    service, document = acl_service(client)
    client.sync.v1.services(service).documents(document).document_permissions("alice").update(
        read=True, write=True, manage=False
    )
    written = control.sync_write(
        mint(SyncGrant(service_sid=service)), "document", "state", {"v": 2}
    )
    assert written["data"] == {"v": 2}
    assert client.sync.v1.services(service).documents(document).fetch().data == {"v": 2}
    bob = mint(SyncGrant(service_sid=service), identity="bob")
    expect_error(54007, lambda: control.sync_read(bob, "document", "state"), 403)


def test_sync_grant_checks(control: FakeControl, client: Client, mint: Mint) -> None:
    service = client.sync.v1.services.create(friendly_name="s").sid
    other = client.sync.v1.services.create(friendly_name="t").sid
    expect_error(20106, lambda: control.connect_to_sync(mint(VideoGrant())), 401)
    expect_error(20106, lambda: control.connect_to_sync(mint(SyncGrant())), 401)
    expect_error(
        20106, lambda: control.connect_to_sync(mint(SyncGrant(service_sid=service)), other), 401
    )
    endpoint = control.connect_to_sync(mint(SyncGrant(service_sid=service, endpoint_id="e1")))
    assert endpoint == {
        "account_sid": control.credentials()["account_sid"],
        "service_sid": service,
        "identity": "alice",
        "endpoint_id": "e1",
    }
    generated = control.connect_to_sync(mint(SyncGrant(service_sid=service)))
    assert generated["endpoint_id"] and generated["endpoint_id"] != "e1"
    left = control.disconnect_from_sync(service, "alice")
    assert sorted(left["endpoint_ids"]) == sorted(["e1", generated["endpoint_id"]])


def test_sync_grant_for_an_unknown_service(control: FakeControl, mint: Mint) -> None:
    error = expect_error(
        54050, lambda: control.connect_to_sync(mint(SyncGrant(service_sid="IS" + "1" * 32)))
    )
    assert error.status == 404


# -- Conversations -----------------------------------------------------------------------------
def test_join_conversation(control: FakeControl, client: Client, mint: Mint) -> None:
    conversation = client.conversations.v1.conversations.create(unique_name="chat")
    conversation.participants.create(identity="alice")
    token = mint(ChatGrant(service_sid=conversation.chat_service_sid))
    joined = control.join_conversation(token, "chat")
    schemas.validate("twilio/conversation", joined)
    assert joined["sid"] == conversation.sid


def test_join_conversation_refusals(control: FakeControl, client: Client, mint: Mint) -> None:
    conversation = client.conversations.v1.conversations.create(unique_name="chat")
    conversation.participants.create(identity="alice")
    service = conversation.chat_service_sid
    expect_error(
        50432, lambda: control.join_conversation(mint(ChatGrant(service), identity="bob"), "chat")
    )
    expect_error(20106, lambda: control.join_conversation(mint(ChatGrant()), "chat"), 401)
    expect_error(20106, lambda: control.join_conversation(mint(VideoGrant()), "chat"), 401)
    other = client.conversations.v1.services.create(friendly_name="other").sid
    expect_error(50350, lambda: control.join_conversation(mint(ChatGrant(other)), "chat"), 404)
