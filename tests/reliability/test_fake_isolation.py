"""Account isolation and scoped resets in the fake.

Account B (created through the control plane) holds valid credentials, but they never let it
see or change account A's resources: every read, update and delete of A's SIDs answers
Twilio's not-found error, lists show only B's own resources, unique names live in separate
namespaces, mixed credentials are refused, and A's state dump is byte-for-byte unchanged.
A reset of one account or one product forgets exactly that and nothing else.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask import Flask
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VideoGrant

import schemas
from fake_twilio import TwilioError, create_app, state_of
from fake_twilio.control.facade import FakeControl

from .support import Figures


def basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


class Account:
    """Raw REST access as one account (Flask test client: fast, and any method or path)."""

    def __init__(self, app: Flask, sid: str, token: str) -> None:
        self.client = app.test_client()
        self.sid = sid
        self.headers = basic(sid, token)

    def __call__(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        response = self.client.open(path, method=method, data=data, headers=self.headers)
        body = response.get_json(silent=True)
        return response.status_code, body

    def ok(self, method: str, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        status, body = self(method, path, data)
        assert status in (200, 201, 204), (method, path, status, body)
        return body or {}


def populate(acct: Account, tag: str) -> dict[str, str]:
    """One of everything in ``acct``; returns the SIDs (and names)."""
    room = acct.ok("POST", "/video/v1/Rooms", {"UniqueName": "same-name", "Type": "group"})
    streamer = acct.ok("POST", "/media/v1/PlayerStreamers", {"Video": "true"})
    context = json.dumps({"room": {"name": room["sid"]}, "outputs": [streamer["sid"]]})
    processor = acct.ok(
        "POST",
        "/media/v1/MediaProcessors",
        {"Extension": "video-composer-v2", "ExtensionContext": context},
    )
    service = acct.ok("POST", "/sync/v1/Services", {"FriendlyName": f"svc-{tag}"})
    base = f"/sync/v1/Services/{service['sid']}"
    acct.ok("POST", f"{base}/Maps", {"UniqueName": "m"})
    acct.ok("POST", f"{base}/Maps/m/Items", {"Key": "k", "Data": json.dumps({"owner": tag})})
    document = acct.ok("POST", f"{base}/Documents", {"UniqueName": "d", "Data": "{}"})
    acct.ok("POST", f"{base}/Lists", {"UniqueName": "l"})
    chat = acct.ok("POST", "/conversations/v1/Services", {"FriendlyName": f"chat-{tag}"})
    conversation = acct.ok(
        "POST",
        f"/conversations/v1/Services/{chat['sid']}/Conversations",
        {"UniqueName": "same-conversation"},
    )
    acct.ok(
        "POST",
        f"/conversations/v1/Services/{chat['sid']}/Conversations/{conversation['sid']}/Participants",
        {"Identity": "alice"},
    )
    return {
        "room": room["sid"],
        "streamer": streamer["sid"],
        "processor": processor["sid"],
        "service": service["sid"],
        "document": document["sid"],
        "chat": chat["sid"],
        "conversation": conversation["sid"],
    }


def foreign_requests(a: dict[str, str]) -> list[tuple[str, str, dict[str, str] | None]]:
    """Every way to touch account A's resources by SID (reads, updates, deletes, children)."""
    sync = f"/sync/v1/Services/{a['service']}"
    conv = f"/conversations/v1/Services/{a['chat']}/Conversations/{a['conversation']}"
    return [
        ("GET", f"/video/v1/Rooms/{a['room']}", None),
        ("POST", f"/video/v1/Rooms/{a['room']}", {"Status": "completed"}),
        ("GET", f"/video/v1/Rooms/{a['room']}/Participants", None),
        ("POST", f"/video/v1/Rooms/{a['room']}/Participants/alice", {"Status": "disconnected"}),
        ("GET", f"/media/v1/PlayerStreamers/{a['streamer']}", None),
        ("POST", f"/media/v1/PlayerStreamers/{a['streamer']}", {"Status": "ended"}),
        ("POST", f"/media/v1/PlayerStreamers/{a['streamer']}/PlaybackGrant", {"Ttl": "60"}),
        ("GET", f"/media/v1/MediaProcessors/{a['processor']}", None),
        ("POST", f"/media/v1/MediaProcessors/{a['processor']}", {"Status": "ended"}),
        ("GET", sync, None),
        ("POST", sync, {"FriendlyName": "hijacked"}),
        ("DELETE", sync, None),
        ("GET", f"{sync}/Maps", None),
        ("GET", f"{sync}/Maps/m/Items/k", None),
        ("POST", f"{sync}/Maps/m/Items/k", {"Data": json.dumps({"owner": "B"})}),
        ("POST", f"{sync}/Maps/m/Items", {"Key": "new", "Data": "{}"}),
        ("DELETE", f"{sync}/Maps/m/Items/k", None),
        ("GET", f"{sync}/Documents/{a['document']}", None),
        ("POST", f"{sync}/Documents/d", {"Data": json.dumps({"owner": "B"})}),
        ("DELETE", f"{sync}/Documents/d", None),
        ("POST", f"{sync}/Lists/l/Items", {"Data": "{}"}),
        (
            "POST",
            f"{sync}/Maps/m/Permissions/mallory",
            {"Read": "true", "Write": "true", "Manage": "true"},
        ),
        ("GET", f"/conversations/v1/Services/{a['chat']}", None),
        ("DELETE", f"/conversations/v1/Services/{a['chat']}", None),
        ("GET", conv, None),
        ("POST", conv, {"FriendlyName": "hijacked"}),
        ("DELETE", conv, None),
        ("POST", f"{conv}/Participants", {"Identity": "mallory"}),
        ("GET", f"{conv}/Participants", None),
    ]


@pytest.fixture
def fake() -> Flask:
    app = create_app()
    state_of(app).clock.freeze()
    return app


def test_credentials_of_one_account_never_reach_another(fake: Flask, figures: Figures) -> None:
    state = state_of(fake)
    control = FakeControl(state)
    creds_a = state.default_credentials
    creds_b = control.create_account("tenant B")
    a = Account(fake, creds_a.account_sid, creds_a.auth_token)
    b = Account(fake, creds_b["account_sid"], creds_b["auth_token"])
    sids_a = populate(a, "A")
    sids_b = populate(b, "B")  # same unique names: separate namespaces
    assert sids_a["room"] != sids_b["room"]
    before = json.dumps(state.dump(account_sid=a.sid), sort_keys=True)

    refused = 0
    for method, path, data in foreign_requests(sids_a):
        status, body = b(method, path, data)
        assert 400 <= status < 500, (method, path, status, body)
        schemas.validate("twilio/error", body)
        assert body["code"] in (20404, 20403), (method, path, body)
        refused += 1

    # lists show only B's own resources, and names resolve inside B's account only
    assert b.ok("GET", "/video/v1/Rooms/same-name")["sid"] == sids_b["room"]
    listings = [
        ("/video/v1/Rooms?Status=in-progress", "rooms"),
        ("/media/v1/PlayerStreamers", "player_streamers"),
        ("/media/v1/MediaProcessors", "media_processors"),
        ("/sync/v1/Services", "services"),
        ("/conversations/v1/Services", "services"),
    ]
    for path, key in listings:
        listed = {item["sid"] for item in b.ok("GET", path)[key]}
        assert not listed & set(sids_a.values()), path
        assert listed, path

    # mixed credentials: B's secret with A's key, A's SID with B's token -> 20003
    mixed = [
        basic(creds_a.api_key_sid, creds_b["api_key_secret"]),
        basic(creds_a.account_sid, creds_b["auth_token"]),
        basic(creds_b["api_key_sid"], creds_a.api_key_secret),
    ]
    for headers in mixed:
        response = fake.test_client().get("/sync/v1/Services", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["code"] == 20003
        refused += 1

    # a token signed with B's key but claiming account A is refused by A's rooms (20103)
    forged = AccessToken(
        creds_a.account_sid, creds_b["api_key_sid"], creds_b["api_key_secret"], identity="mallory"
    )
    forged.add_grant(VideoGrant(room="same-name"))
    with pytest.raises(TwilioError) as caught:
        control.connect_to_room(forged.to_jwt(), "same-name")
    assert caught.value.code == 20103
    # B's genuine token joins B's room, never A's
    genuine = AccessToken(
        creds_b["account_sid"], creds_b["api_key_sid"], creds_b["api_key_secret"], identity="bob"
    )
    genuine.add_grant(VideoGrant(room="same-name"))
    joined = control.connect_to_room(genuine.to_jwt(), "same-name")
    assert joined["room_sid"] == sids_b["room"]
    with pytest.raises(TwilioError):
        control.connect_to_room(genuine.to_jwt(), sids_a["room"])

    assert json.dumps(state.dump(account_sid=a.sid), sort_keys=True) == before
    figures.add(foreign_requests_refused=refused, accounts=2)


def test_reset_of_one_account_or_product_leaves_the_rest(fake: Flask, figures: Figures) -> None:
    state = state_of(fake)
    control = FakeControl(state)
    creds_a = state.default_credentials
    creds_b = control.create_account("tenant B")
    a = Account(fake, creds_a.account_sid, creds_a.auth_token)
    b = Account(fake, creds_b["account_sid"], creds_b["auth_token"])
    populate(a, "A")
    populate(b, "B")

    def snapshot(account: str, product: str | None = None) -> str:
        return json.dumps(state.dump(product=product, account_sid=account), sort_keys=True)

    a_before = snapshot(a.sid)
    control.reset(account_sid=b.sid)
    assert snapshot(a.sid) == a_before
    assert state.dump(account_sid=b.sid) == {}
    assert b.ok("GET", "/sync/v1/Services")["services"] == []
    assert b.sid in control.accounts()  # the account itself is kept

    populate(b, "B")
    b_before = snapshot(b.sid)
    kept = {p: snapshot(a.sid, p) for p in ("video", "media", "conversations")}
    control.reset(product="sync", account_sid=a.sid)
    assert a.ok("GET", "/sync/v1/Services")["services"] == []
    for product, dump in kept.items():
        assert snapshot(a.sid, product) == dump, product
    assert snapshot(b.sid) == b_before

    others = {
        (acct, p): snapshot(acct, p)
        for acct in (a.sid, b.sid)
        for p in ("media", "sync", "conversations")
    }
    control.reset(product="video")
    for acct in (a, b):
        assert acct.ok("GET", "/video/v1/Rooms?Status=in-progress")["rooms"] == []
        assert acct.ok("GET", "/video/v1/Rooms?Status=completed")["rooms"] == []
    for (acct, product), dump in others.items():
        assert snapshot(acct, product) == dump, (acct, product)
    figures.add(resets_checked=3)
