"""Webhook deliveries replayed, duplicated, reordered and forged (reference backend + fake).

Real deliveries are captured from the fake (held back by the WebhookGate while Twilio-side
events happen), then delivered to the backend in-process:

- forged deliveries (no or wrong signature, another account's key, altered / added / removed
  parameters, a signature for another URL or path, random forms and signatures) answer 403
  ``invalid signature`` in the error shape, make no Twilio request at all and change nothing;
  a genuine delivery reaching the backend under another host is accepted (WH-2);
- every delivery twice in a row leaves the state of single deliveries (IDEM-2), and replaying
  the whole history changes nothing;
- any order, with duplicates, converges on the state the Twilio-side truth dictates
  (IDEM-2, IDEM-4; hypothesis, derandomized in CI);
- after room-ended and its cleanup, every late delivery about the stream answers 2xx and
  writes nothing to Twilio (IDEM-3).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemas
from fake_twilio.core.webhooks import sign
from fake_twilio.testing import sdk_client

from .support import PUBLIC_URL, SOAK, BackendRig, Figures, Held, knob

pytestmark = pytest.mark.soak

ORDER_EXAMPLES = knob("webhook_order_examples", 15, 400)
FORGERY_EXAMPLES = knob("webhook_forgery_examples", 100, 2000)

VIEWERS = ("bob", "carol", "dave", "erin")


# -- a stream whose last Twilio-side events are held back -----------------------------------
def held_history(rig: BackendRig) -> tuple[dict[str, Any], list[Held]]:
    """Build a stream, then let Twilio-side events happen with their webhooks held.

    Truth at the end: alice (host) and bob are connected (bob reconnected: his first
    participant was disconnected by the second); carol connected and left; dave's and erin's
    Sync clients went away (debounced ``endpoint_disconnected``).
    """
    host = rig.stream("hooks", host="alice")
    room_sid = host["room_sid"]
    rig.control.connect_to_room(host["token"], "hooks")
    tokens: dict[str, dict[str, Any]] = {}
    for name in VIEWERS:
        tokens[name] = rig.ok(
            "join-stream-as-viewer", {"user_identity": name, "stream_name": "hooks"}
        )
        rig.control.connect_to_player(tokens[name]["token"])
        rig.ok("viewer-connected-to-player", {"user_identity": name, "stream_name": "hooks"})
        if name != "dave":
            rig.ok(
                "raise-hand", {"user_identity": name, "stream_name": "hooks", "hand_raised": True}
            )
    for name in ("bob", "carol"):
        rig.ok("send-speaker-invite", {"user_identity": name, "room_sid": room_sid})
        tokens[name] = rig.ok(
            "join-stream-as-speaker", {"user_identity": name, "stream_name": "hooks"}
        )
    for name in ("dave", "erin"):
        rig.control.connect_to_sync(tokens[name]["token"])
    with rig.gate.holding() as held:
        rig.control.connect_to_room(tokens["bob"]["token"], "hooks")
        rig.control.connect_to_room(tokens["carol"]["token"], "hooks")
        rig.control.disconnect_from_room("hooks", "carol")
        rig.control.connect_to_room(tokens["bob"]["token"], "hooks")  # reconnect: 53205
        service = rig.service_of(room_sid) or ""
        rig.control.disconnect_from_sync(service, "dave")
        rig.control.disconnect_from_sync(service, "erin")
        rig.control.advance(10)  # past the debouncing window
    relevant = [
        h
        for h in held
        if "participant-" in h.body.decode() or "endpoint_disconnected" in h.body.decode()
    ]
    composer = [h for h in relevant if "video-composer" in h.body.decode()]
    return {"room_sid": room_sid, "service": service, "host": host}, [
        h for h in relevant if h not in composer
    ]


#: The stream's Sync data the truth above dictates, whatever order the deliveries come in.
#: carol's participant-connected is stale (she left): no speakers item, her invitation and her
#: audience items stay (IDEM-4).
TRUTH = {
    "speakers": {"alice": {"host": True}, "bob": {"host": False}},
    "raised_hands": {"carol": {}},
    "viewers": {"carol": {}},
    "documents": {
        "user-bob": {"speaker_invite": False},
        "user-carol": {"speaker_invite": True},
        "user-dave": {"speaker_invite": False},
        "user-erin": {"speaker_invite": False},
    },
}


def restore(rig: BackendRig, service: str, state: dict[str, Any]) -> None:
    """Put the stream's Sync data back to ``state`` (deliveries only ever change Sync data)."""
    client = sdk_client(rig.fake_app)
    svc = client.sync.v1.services(service)
    for name in ("speakers", "raised_hands", "viewers"):
        items = svc.sync_maps(name).sync_map_items
        for item in items.list():
            items(item.key).delete()
        for key, data in state[name].items():
            items.create(key=key, data=data)
    for name, data in state["documents"].items():
        svc.documents(name).update(data=data)


@pytest.fixture
def history() -> Iterator[tuple[BackendRig, dict[str, Any], list[Held]]]:
    rig = BackendRig()
    ctx, held = held_history(rig)
    yield rig, ctx, held


def test_history_is_what_the_tests_assume(history: Any) -> None:
    _, _, held = history
    events = sorted(
        (
            h.form.get("StatusCallbackEvent") or h.form.get("EventType"),
            h.form.get("ParticipantIdentity") or h.form.get("Identity"),
        )
        for h in held
    )
    assert events == sorted(
        [
            ("participant-connected", "bob"),
            ("participant-connected", "bob"),
            ("participant-disconnected", "bob"),
            ("participant-connected", "carol"),
            ("participant-disconnected", "carol"),
            ("endpoint_disconnected", "dave"),
            ("endpoint_disconnected", "erin"),
        ]
    )


# -- forgeries ------------------------------------------------------------------------------
def forgeries(rig: BackendRig, genuine: Held, other_token: str) -> dict[str, Held]:
    form = genuine.form
    url = PUBLIC_URL + genuine.path
    other_path = "/sync-webhook" if genuine.path == "/rooms-webhook" else "/rooms-webhook"
    key = next(k for k in ("ParticipantIdentity", "Identity", "RoomSid") if k in form)
    token = rig.credentials.auth_token
    altered = {**form, key: "mallory"}
    added = {**form, "ParticipantIdentity2": "mallory"}
    removed = {k: v for k, v in form.items() if k != key}
    return {
        "no signature": genuine.with_headers(X_Twilio_Signature=None),
        "empty signature": genuine.with_headers(X_Twilio_Signature=""),
        "garbage signature": genuine.with_headers(X_Twilio_Signature="not-base64!"),
        "wrong auth token": genuine.with_headers(X_Twilio_Signature=sign("0" * 32, url, form)),
        "another account's token": genuine.with_headers(
            X_Twilio_Signature=sign(other_token, url, form)
        ),
        "altered parameter": genuine.with_form(altered),
        "added parameter": genuine.with_form(added),
        "removed parameter": genuine.with_form(removed),
        "signed for the URL it reached": genuine.with_headers(
            X_Twilio_Signature=sign(token, "http://localhost" + genuine.path, form)
        ),
        "signed for the other webhook": genuine.with_headers(
            X_Twilio_Signature=sign(token, PUBLIC_URL + other_path, form)
        ),
        "sent to the other webhook": Held(
            other_path, "", genuine.body, dict(genuine.headers), genuine.base_url
        ),
        "query added after signing": Held(
            genuine.path, "x=1", genuine.body, dict(genuine.headers), genuine.base_url
        ),
        "resigned with the API key secret": genuine.with_headers(
            X_Twilio_Signature=sign(rig.credentials.api_key_secret, url, form)
        ),
    }


def test_forged_deliveries_are_refused_and_change_nothing(history: Any, figures: Figures) -> None:
    rig, ctx, held = history
    other = rig.control.create_account("forger")
    before = rig.stream_state(ctx["room_sid"])
    refused = 0
    for genuine in held:
        for label, forged in forgeries(rig, genuine, other["auth_token"]).items():
            mark = rig.state.journal.mark()
            answer = rig.deliver(forged)
            assert answer.status == 403, (label, genuine.form, answer.status, answer.body)
            schemas.validate("protocol/error", answer.body)
            assert answer.body["error"]["message"] == "invalid signature"
            assert rig.state.journal.entries(since=mark) == [], label  # not even a read
            refused += 1
    assert rig.stream_state(ctx["room_sid"]) == before
    # WH-2: the genuine delivery is accepted even when it reaches another host and scheme
    for genuine in held[:2]:
        moved = Held(
            genuine.path, genuine.query, genuine.body, genuine.headers, "http://10.0.0.7:8080"
        )
        assert rig.deliver(moved).status == 200
    figures.add(forged_deliveries_refused=refused, genuine_deliveries=len(held))


def test_random_forgeries_make_no_twilio_request(history: Any, figures: Figures) -> None:
    rig, ctx, held = history
    before = rig.stream_state(ctx["room_sid"])
    fields = sorted({k for h in held for k in h.form} | {"X", ""})
    values = sorted({v for h in held for v in h.form.values()} | {"", "mallory", "room-ended"})
    sent = [0]

    @settings(max_examples=FORGERY_EXAMPLES, derandomize=not SOAK, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(
        path=st.sampled_from(["/rooms-webhook", "/sync-webhook"]),
        form=st.dictionaries(
            st.one_of(st.sampled_from(fields), st.text(max_size=10)),
            st.one_of(st.sampled_from(values), st.text(max_size=30)),
            max_size=12,
        ),
        signature=st.one_of(
            st.none(),
            st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
            st.sampled_from([h.headers["X-Twilio-Signature"] for h in held]),
        ),
    )
    def check(path: str, form: dict[str, str], signature: str | None) -> None:
        from urllib.parse import urlencode

        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        forged = Held(path, "", urlencode(form).encode(), headers, PUBLIC_URL)
        mark = rig.state.journal.mark()
        answer = rig.deliver(forged)
        sent[0] += 1
        assert answer.status == 403, (form, signature, answer.status, answer.body)
        schemas.validate("protocol/error", answer.body)
        assert rig.state.journal.entries(since=mark) == []

    check()
    assert rig.stream_state(ctx["room_sid"]) == before
    figures.add(random_forgeries_refused=sent[0])


# -- duplicates, replays, order -------------------------------------------------------------
def test_duplicates_and_replays_change_nothing(history: Any, figures: Figures) -> None:
    rig, ctx, held = history
    for hook in held:
        for _ in range(2):  # every delivery twice in a row
            answer = rig.deliver(hook)
            assert answer.status == 200, (hook.form, answer.body)
    assert rig.stream_state(ctx["room_sid"]) == TRUTH
    mark = rig.state.journal.mark()
    for hook in held + held[::-1]:  # the whole history again, both ways
        assert rig.deliver(hook).status == 200
    assert rig.stream_state(ctx["room_sid"]) == TRUTH
    writes = rig.state.journal.entries(since=mark, writes_only=True)
    figures.add(deliveries=len(held) * 4, writes_during_replay=len(writes))


def test_any_order_with_duplicates_converges_on_the_truth(history: Any, figures: Figures) -> None:
    rig, ctx, held = history
    start = rig.stream_state(ctx["room_sid"])
    tried = [0]

    @st.composite
    def sequences(draw: st.DrawFn) -> list[int]:
        order = list(draw(st.permutations(range(len(held)))))
        for extra in draw(st.lists(st.integers(0, len(held) - 1), max_size=4)):
            order.insert(draw(st.integers(0, len(order))), extra)
        return order

    @settings(max_examples=ORDER_EXAMPLES, derandomize=not SOAK, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(order=sequences())
    def check(order: list[int]) -> None:
        restore(rig, ctx["service"], start)
        for index in order:
            answer = rig.deliver(held[index])
            assert answer.status == 200, (held[index].form, answer.body)
        labels = [
            (held[i].form.get("StatusCallbackEvent") or held[i].form.get("EventType"),
             held[i].form.get("ParticipantIdentity") or held[i].form.get("Identity"))
            for i in order
        ]  # fmt: skip
        assert rig.stream_state(ctx["room_sid"]) == TRUTH, labels
        tried[0] += 1

    check()
    figures.add(orders_tried=tried[0], deliveries_per_order=f"{len(held)}..{len(held) + 4}")


def test_late_deliveries_after_room_ended_resurrect_nothing(history: Any, figures: Figures) -> None:
    rig, ctx, held = history
    for hook in held:
        rig.deliver(hook)
    with rig.gate.holding() as ended:
        rig.ok("delete-stream", {"stream_name": "hooks"})
    for hook in ended:
        assert rig.deliver(hook).status == 200
    assert rig.service_of(ctx["room_sid"]) is None
    live = rig.live()
    assert live["stream_records"] == [] and live["stream_services"] == 0
    assert live["player_streamers"] == 0 and live["media_processors"] == 0
    mark = rig.state.journal.mark()
    late = held + ended + held[::-1] + ended
    for hook in late:
        answer = rig.deliver(hook)
        assert answer.status == 200, (hook.form, answer.body)
    assert rig.state.journal.entries(since=mark, writes_only=True) == []
    assert rig.live() == live
    figures.add(late_deliveries=len(late))
