"""Least privilege of the tokens the reference backend issues, proven at the fake.

Every token is presented to the fake's simulated clients (``FakeControl``), which verify it as
Twilio would and enforce Sync ACLs:

- a viewer's token cannot join the room (no video grant); a host's or speaker's token joins
  only its own stream's room;
- no token -- host, speaker or viewer -- can write the shared maps, any user document (its own
  included) or read another user's document; each reads what it must;
- a token's Sync and chat grants do not reach another stream's Sync service or conversation;
- tokens expire when the protocol says (at most 4 hours): valid just before, refused (20104)
  just after, on the fake's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest

from fake_twilio import TwilioError

from .support import BackendRig, Figures

MAPS = ("speakers", "raised_hands", "viewers")


def refused(action: Callable[[], Any], *codes: int) -> int:
    with pytest.raises(TwilioError) as caught:
        action()
    assert caught.value.code in codes, (caught.value.code, caught.value.message)
    return caught.value.code


@pytest.fixture
def streams() -> dict[str, Any]:
    rig = BackendRig()
    rig.state.clock.freeze()
    a = rig.stream("stream-a", host="alice")
    b = rig.stream("stream-b", host="zoe")
    tokens = {
        "alice": a["token"],
        "bob": rig.ok("join-stream-as-viewer", {"user_identity": "bob", "stream_name": "stream-a"})[
            "token"
        ],
        "carol": rig.ok(
            "join-stream-as-speaker", {"user_identity": "carol", "stream_name": "stream-a"}
        )["token"],
        "dave": rig.ok(
            "join-stream-as-viewer", {"user_identity": "dave", "stream_name": "stream-b"}
        )["token"],
    }
    return {"rig": rig, "a": a, "b": b, "tokens": tokens}


def test_viewer_tokens_cannot_join_rooms_and_speakers_only_their_own(
    streams: dict[str, Any], figures: Figures
) -> None:
    rig, tokens, a, b = streams["rig"], streams["tokens"], streams["a"], streams["b"]
    control = rig.control
    refusals = 0
    for room in ("stream-a", a["room_sid"], "stream-b"):
        refused(lambda room=room: control.connect_to_room(tokens["bob"], room), 20106)
        refusals += 1
    control.connect_to_player(tokens["bob"])  # what a viewer's token is for
    for who in ("alice", "carol"):
        refused(lambda who=who: control.connect_to_room(tokens[who], "stream-b"), 20106)
        refused(lambda who=who: control.connect_to_room(tokens[who], b["room_sid"]), 20106)
        refusals += 2
        assert control.connect_to_room(tokens[who], "stream-a")["identity"] == who
    refused(lambda: control.connect_to_player(tokens["alice"]), 20106)  # no player grant
    figures.add(room_refusals=refusals + 1)


def test_no_token_writes_shared_state_or_reads_another_users_document(
    streams: dict[str, Any], figures: Figures
) -> None:
    rig, tokens = streams["rig"], streams["tokens"]
    control = rig.control
    refusals = 0
    for who in ("alice", "bob", "carol"):
        token = tokens[who]
        for name in MAPS:
            control.sync_read(token, "map", name)  # reading is what the grant is for
            refused(
                lambda n=name, t=token, w=who: control.sync_write(t, "map", n, {}, key=w), 54007
            )
            refused(
                lambda n=name, t=token: control.sync_write(
                    t, "map", n, {"host": True}, key="alice"
                ),
                54007,
            )
            refusals += 2
        for owner in ("bob", "carol"):
            document = f"user-{owner}"
            write = lambda t=token, d=document: control.sync_write(  # noqa: E731
                t, "document", d, {"speaker_invite": True}
            )
            refused(write, 54007)
            refusals += 1
            if owner == who:
                assert control.sync_read(token, "document", document)["data"] == {
                    "speaker_invite": False
                }
            else:
                refused(lambda t=token, d=document: control.sync_read(t, "document", d), 54007)
                refusals += 1
    # a stream's Sync grant does not reach the other stream's service
    other_service = rig.service_of(streams["b"]["room_sid"])
    refused(
        lambda: control.sync_read(tokens["bob"], "map", "speakers", service_sid=other_service),
        20106,
    )
    # nor does the chat grant open the other stream's conversation
    control.join_conversation(tokens["bob"], streams["a"]["room_sid"])
    refused(lambda: control.join_conversation(tokens["dave"], streams["a"]["room_sid"]), 50432)
    state = rig.stream_state(streams["a"]["room_sid"])
    assert state["speakers"] == {"alice": {"host": True}}
    assert state["documents"] == {
        "user-bob": {"speaker_invite": False},
        "user-carol": {"speaker_invite": False},
    }
    figures.add(sync_refusals=refusals + 2)


def test_tokens_expire_after_four_hours_on_the_fake_clock(
    streams: dict[str, Any], figures: Figures
) -> None:
    rig, tokens = streams["rig"], streams["tokens"]
    control = rig.control
    secret = rig.credentials.api_key_secret
    lifetimes = set()
    for token in tokens.values():
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"verify_exp": False})
        lifetime = claims["exp"] - claims.get("nbf", claims["exp"] - 14400)
        assert lifetime <= 14400, claims
        lifetimes.add(lifetime)
    control.connect_to_room(tokens["alice"], "stream-a")  # keep the room in progress
    issued = (
        max(
            jwt.decode(t, secret, algorithms=["HS256"], options={"verify_exp": False})["exp"]
            for t in tokens.values()
        )
        - 14400
    )
    control.freeze(issued + 14400 - 60)  # one minute before expiry: still accepted
    assert control.connect_to_room(tokens["carol"], "stream-a")["identity"] == "carol"
    control.sync_read(tokens["bob"], "map", "speakers")
    control.advance(61)  # one second past
    for who, action in {
        "carol (room)": lambda: control.connect_to_room(tokens["carol"], "stream-a"),
        "bob (sync)": lambda: control.sync_read(tokens["bob"], "map", "speakers"),
        "alice (sync)": lambda: control.sync_read(tokens["alice"], "map", "speakers"),
        "bob (chat)": lambda: control.join_conversation(tokens["bob"], streams["a"]["room_sid"]),
    }.items():
        assert refused(action, 20104) == 20104, who
    figures.add(token_lifetimes_s=sorted(lifetimes), expired_refusals=4)
