"""The fault matrix of the reference backend: scenarios, their Twilio calls, and injections.

A **scenario** is one backend operation (a client endpoint, or one webhook delivery) with the
state it needs. Run once without faults, the fake's journal lists every Twilio request the
operation makes (:func:`enumerate_calls`); each becomes a fault **target**: a rule matching
exactly that request (method, product-relative path with SIDs generalized, ``after`` = how many
earlier requests of the operation match the same rule). A **kind** is what the rule does:

========== ================================================================ ===============
kind       injected                                                         tries expected
========== ================================================================ ===============
http500    Twilio error 20500, HTTP 500                                     1
http503    Twilio error 20503, HTTP 503 (transient: retried with backoff)   the cap
http429    Twilio error 20429, HTTP 429 (transient: retried with backoff)   the cap
code       Twilio error 20403, HTTP 403 (a plain Twilio refusal)            1
drop       the connection is closed without an answer                       GET: cap, else 1
latency    the answer comes after the backend's Twilio timeout               GET: cap, else 1
========== ================================================================ ===============

Rules persist (they fire on every retry), so the backend must give up after its cap.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fake_twilio.core.faults import DROPPED_STATUS
from fake_twilio.server import FakeServer

from .support import Answer, BackendRig, Held, wait_until

TIMEOUT = 1.0  # the backend's Twilio timeout in these tests (seconds)
LATENCY_MS = 1500  # past the timeout
ATTEMPTS = 3
RETRY_BASE = 0.01

KINDS = ("http500", "http503", "http429", "code", "drop", "latency")
FAULTS: dict[str, dict[str, Any]] = {
    "http500": {"action": "error", "code": 20500, "status": 500},
    "http503": {"action": "error", "code": 20503, "status": 503},
    "http429": {"action": "error", "code": 20429, "status": 429},
    "code": {"action": "error", "code": 20403, "status": 403, "message": "Forbidden (injected)"},
    "drop": {"action": "drop"},
    "latency": {"action": "latency", "latency_ms": LATENCY_MS},
}
SID_RE = re.compile(r"[A-Z]{2}[0-9a-f]{32}")


def rig_for(server: FakeServer, *, over_http: bool = False) -> BackendRig:
    """A fresh backend on a freshly reset fake (faults, journal, webhooks, clock cleared).

    ``over_http``: the backend reaches the fake through its socket (real timeouts, real
    dropped connections); otherwise in-process through the same app (the fault rules act the
    same, a dropped connection is a ``requests.ConnectionError``; much faster).
    """
    server.state.reset()
    return BackendRig(
        server if over_http else server.app,
        twilio_timeout=TIMEOUT,
        twilio_attempts=ATTEMPTS,
        twilio_retry_base=RETRY_BASE,
    )


# -- scenarios ------------------------------------------------------------------------------
@dataclass
class Scenario:
    """``prepare`` builds the state and returns a context; ``act`` runs the operation."""

    name: str
    endpoint: str  # the catalogue entry whose errors apply
    prepare: Callable[[BackendRig], dict[str, Any]]
    act: Callable[[BackendRig, dict[str, Any]], Answer]
    webhook: bool = False


def _stream(rig: BackendRig) -> dict[str, Any]:
    body = rig.stream("faulty", host="alice")
    return {"room_sid": body["room_sid"], "host_token": body["token"]}


def _viewer(rig: BackendRig) -> dict[str, Any]:
    ctx = _stream(rig)
    ctx["viewer"] = rig.ok(
        "join-stream-as-viewer", {"user_identity": "bob", "stream_name": "faulty"}
    )
    return ctx


def _hand_up(rig: BackendRig) -> dict[str, Any]:
    ctx = _viewer(rig)
    rig.ok("viewer-connected-to-player", {"user_identity": "bob", "stream_name": "faulty"})
    rig.ok("raise-hand", {"user_identity": "bob", "stream_name": "faulty", "hand_raised": True})
    return ctx


def _speaker_in_room(rig: BackendRig) -> dict[str, Any]:
    ctx = _hand_up(rig)
    rig.ok("send-speaker-invite", {"user_identity": "bob", "room_sid": ctx["room_sid"]})
    speaker = rig.ok("join-stream-as-speaker", {"user_identity": "bob", "stream_name": "faulty"})
    rig.control.connect_to_room(ctx["host_token"], "faulty")
    rig.control.connect_to_room(speaker["token"], "faulty")
    return ctx


def _capture(rig: BackendRig, action: Callable[[], Any], want: str) -> Held:
    """Run ``action`` with webhooks held; the held delivery whose form matches ``want``."""
    with rig.gate.holding() as held:
        action()
    matching = [h for h in held if want in h.body.decode()]
    assert len(matching) == 1, [h.form for h in held]
    for other in held:  # the rest is delivered normally
        if other is not matching[0]:
            rig.deliver(other)
    return matching[0]


def _connected_hook(rig: BackendRig) -> dict[str, Any]:
    ctx = _hand_up(rig)
    rig.ok("send-speaker-invite", {"user_identity": "bob", "room_sid": ctx["room_sid"]})
    speaker = rig.ok("join-stream-as-speaker", {"user_identity": "bob", "stream_name": "faulty"})
    rig.control.connect_to_room(ctx["host_token"], "faulty")
    ctx["hook"] = _capture(
        rig,
        lambda: rig.control.connect_to_room(speaker["token"], "faulty"),
        "StatusCallbackEvent=participant-connected",
    )
    return ctx


def _disconnected_hook(rig: BackendRig) -> dict[str, Any]:
    ctx = _speaker_in_room(rig)
    ctx["hook"] = _capture(
        rig,
        lambda: rig.control.disconnect_from_room("faulty", "bob"),
        "StatusCallbackEvent=participant-disconnected",
    )
    return ctx


def _ended_hook(rig: BackendRig) -> dict[str, Any]:
    ctx = _speaker_in_room(rig)
    ctx["hook"] = _capture(
        rig,
        lambda: rig.control.complete_room("faulty"),
        "StatusCallbackEvent=room-ended",
    )
    return ctx


def _sync_disconnected_hook(rig: BackendRig) -> dict[str, Any]:
    ctx = _hand_up(rig)
    rig.control.connect_to_sync(ctx["viewer"]["token"])
    rig.control.disconnect_from_sync(rig.service_of(ctx["room_sid"]) or "", "bob")

    def debounce() -> None:
        rig.control.advance(10)  # past the reachability debouncing window

    ctx["hook"] = _capture(rig, debounce, "EventType=endpoint_disconnected")
    return ctx


def _post(endpoint: str, body: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    return lambda rig, ctx: rig.call(endpoint, body(ctx))


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            "create-stream",
            "create-stream",
            lambda rig: {},
            _post("create-stream", lambda c: {"user_identity": "alice", "stream_name": "faulty"}),
        ),
        Scenario(
            "join-stream-as-viewer",
            "join-stream-as-viewer",
            _stream,
            _post(
                "join-stream-as-viewer", lambda c: {"user_identity": "bob", "stream_name": "faulty"}
            ),
        ),
        Scenario(
            "join-stream-as-speaker",
            "join-stream-as-speaker",
            _viewer,
            _post(
                "join-stream-as-speaker",
                lambda c: {"user_identity": "bob", "stream_name": "faulty"},
            ),
        ),
        Scenario(
            "viewer-connected-to-player",
            "viewer-connected-to-player",
            _viewer,
            _post(
                "viewer-connected-to-player",
                lambda c: {"user_identity": "bob", "stream_name": "faulty"},
            ),
        ),
        Scenario(
            "raise-hand-true",
            "raise-hand",
            _viewer,
            _post(
                "raise-hand",
                lambda c: {"user_identity": "bob", "stream_name": "faulty", "hand_raised": True},
            ),
        ),
        Scenario(
            "raise-hand-false",
            "raise-hand",
            _hand_up,
            _post(
                "raise-hand",
                lambda c: {"user_identity": "bob", "stream_name": "faulty", "hand_raised": False},
            ),
        ),
        Scenario(
            "send-speaker-invite",
            "send-speaker-invite",
            _viewer,
            _post(
                "send-speaker-invite",
                lambda c: {"user_identity": "bob", "room_sid": c["room_sid"]},
            ),
        ),
        Scenario(
            "remove-speaker",
            "remove-speaker",
            _speaker_in_room,
            _post("remove-speaker", lambda c: {"user_identity": "bob", "room_name": "faulty"}),
        ),
        Scenario(
            "delete-stream",
            "delete-stream",
            _speaker_in_room,
            _post("delete-stream", lambda c: {"stream_name": "faulty"}),
        ),
        Scenario(
            "rooms-webhook:participant-connected",
            "rooms-webhook",
            _connected_hook,
            lambda rig, ctx: rig.deliver(ctx["hook"]),
            webhook=True,
        ),
        Scenario(
            "rooms-webhook:participant-disconnected",
            "rooms-webhook",
            _disconnected_hook,
            lambda rig, ctx: rig.deliver(ctx["hook"]),
            webhook=True,
        ),
        Scenario(
            "rooms-webhook:room-ended",
            "rooms-webhook",
            _ended_hook,
            lambda rig, ctx: rig.deliver(ctx["hook"]),
            webhook=True,
        ),
        Scenario(
            "sync-webhook:endpoint_disconnected",
            "sync-webhook",
            _sync_disconnected_hook,
            lambda rig, ctx: rig.deliver(ctx["hook"]),
            webhook=True,
        ),
    ]
}


# -- calls and targets ----------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    product: str
    method: str
    path: str  # product-relative, SIDs generalized to a regex
    after: int  # earlier calls of the operation matching the same rule
    example: str  # the concrete product-relative path seen

    @property
    def label(self) -> str:
        return f"{self.method} /{self.product}{SID_RE.sub('<SID>', self.example)}"

    @property
    def creates(self) -> bool:
        """A POST to a collection (a create) rather than to a resource (an update)."""
        last = self.example.rstrip("/").rsplit("/", 1)[-1]
        collections = {
            "Rooms", "PlayerStreamers", "MediaProcessors", "Services", "Maps", "Documents",
            "Lists", "Items", "Conversations", "Participants", "PlaybackGrant",
        }  # fmt: skip
        return self.method == "POST" and last in collections

    def rule(self, kind: str) -> dict[str, Any]:
        return {"product": self.product, "method": self.method, "path": self.path,
                "after": self.after, **FAULTS[kind]}  # fmt: skip

    def matches(self, method: str, product: str, path: str) -> bool:
        return (
            method == self.method
            and product == self.product
            and re.fullmatch(self.path, path) is not None
        )


def relative(path: str) -> tuple[str, str]:
    product, _, rest = path.lstrip("/").partition("/")
    return product, "/" + rest


def to_calls(entries: list[Any]) -> list[Call]:
    calls: list[Call] = []
    for entry in entries:
        product, rel = relative(entry.path)
        pattern = "".join(
            SID_RE.pattern if SID_RE.fullmatch(part) else re.escape(part)
            for part in re.split(f"({SID_RE.pattern})", rel)
        )
        earlier = sum(
            1
            for c in calls
            if c.product == product
            and c.method == entry.method
            and re.fullmatch(pattern, c.example)
        )
        calls.append(Call(product, entry.method, pattern, earlier, rel))
    return calls


@dataclass
class Baseline:
    calls: list[Call]
    answer: Answer
    final: dict[str, Any]


def snapshot(rig: BackendRig, ctx: dict[str, Any]) -> dict[str, Any]:
    """What must be identical after a fault and a successful retry as after a clean run."""
    room_sid = ctx.get("room_sid")
    live = rig.live()
    return {
        "stream": rig.stream_state(room_sid) if room_sid else None,
        "rooms": live["rooms"],
        "player_streamers": live["player_streamers"],
        "media_processors": live["media_processors"],
        "stream_services": live["stream_services"],
        "stream_records": len(live["stream_records"]),
        "conversations": len(live["conversations"]),
    }


def finish(rig: BackendRig, ctx: dict[str, Any], held: list[Held]) -> None:
    """Deliver the webhooks the operation caused (held while it ran)."""
    for hook in held:
        answer = rig.deliver(hook)
        assert 200 <= answer.status < 300, (hook.form, answer.status, answer.body)


def enumerate_calls(server: FakeServer, scenario: Scenario) -> Baseline:
    rig = rig_for(server)
    ctx = scenario.prepare(rig)
    mark = server.state.journal.mark()
    with rig.gate.holding() as held:
        answer = scenario.act(rig, ctx)
    assert 200 <= answer.status < 300, (scenario.name, answer.status, answer.body)
    calls = to_calls(server.state.journal.entries(since=mark))
    finish(rig, ctx, held)
    if scenario.name == "create-stream":
        ctx["room_sid"] = answer.body["room_sid"]
    return Baseline(calls, answer, snapshot(rig, ctx))


def expected_tries(call: Call, kind: str) -> int:
    if kind in ("http503", "http429"):
        return ATTEMPTS
    if kind in ("drop", "latency") and call.method == "GET":
        return ATTEMPTS
    return 1


def time_bound(call: Call, kind: str) -> float:
    """How long the failed answer may take: the tries, their timeouts and backoff, + slack."""
    tries = expected_tries(call, kind)
    backoff = sum(RETRY_BASE * 2**n for n in range(tries - 1))
    waiting = tries * TIMEOUT if kind == "latency" else 0.0
    return waiting + backoff + 2.0


def plan(calls: list[Call], *, full: bool, offset: int = 0) -> list[tuple[int, str]]:
    """(call index, kind) pairs: every kind for every call (``full``), or every call once with
    the kinds in rotation (so each operation sees each kind when it has enough calls) plus
    latency on its first call."""
    if full:
        return [(i, kind) for i in range(len(calls)) for kind in KINDS]
    fast = [k for k in KINDS if k != "latency"]
    pairs = [(i, fast[(i + offset) % len(fast)]) for i in range(len(calls))]
    return [*pairs, (0, "latency")]


@dataclass
class Outcome:
    """What one injection did: the failed answer, the tries, what was left, the retry."""

    answer: Answer
    tries: int
    leftovers: dict[str, Any]
    retry: Answer
    final: dict[str, Any] | None
    late_requests: int = 0
    journal_tries: int | None = None  # failed tries of the call in the journal (not latency)


def wait_for_late_requests(server: FakeServer, call: Call, mark: int, fired: int) -> int:
    """Latency faults: wait until the fake processed every request the backend gave up on."""

    def seen() -> int:
        return sum(
            1
            for e in server.state.journal.entries(since=mark)
            if call.matches(e.method, *relative(e.path))
        )

    assert wait_until(
        lambda: seen() >= call.after + fired, timeout=LATENCY_MS / 1000 * (ATTEMPTS + 2) + 5
    )
    time.sleep(0.05)
    return fired


def run_fault(
    server: FakeServer, scenario: Scenario, baseline: Baseline, index: int, kind: str
) -> Outcome:
    """Inject ``kind`` on call ``index`` of ``scenario`` and run it; then clear the fault,
    deliver the webhooks the failed attempt caused, and retry the same request."""
    call = baseline.calls[index]
    rig = rig_for(server, over_http=kind == "latency")
    ctx = scenario.prepare(rig)
    rule = rig.control.add_fault(**call.rule(kind))
    mark = server.state.journal.mark()
    with rig.gate.holding() as held_during_fault:
        answer = scenario.act(rig, ctx)
    fired = next(r["fired"] for r in rig.control.faults() if r["id"] == rule["id"])
    journal_tries = None
    if kind != "latency":
        failed_status = FAULTS[kind].get("status", DROPPED_STATUS)
        journal_tries = sum(
            1
            for e in server.state.journal.entries(since=mark, status=failed_status)
            if call.matches(e.method, *relative(e.path))
        )
    rig.control.clear_faults()
    # Twilio delivers what the failed attempt caused (room-ended after a teardown) at once
    for hook in held_during_fault:
        finish(rig, ctx, [hook])
    late = wait_for_late_requests(server, call, mark, fired) if kind == "latency" else 0
    leftovers = {}
    if scenario.name == "create-stream":
        leftovers = {k: v for k, v in rig.live().items() if v}
        if leftovers.get("rooms") == ["faulty"]:
            # the room Twilio created after the timeout stays until it times out unused
            rig.control.advance(6 * 60)
    with rig.gate.holding() as held:
        retry = scenario.act(rig, ctx)
    final = None
    if 200 <= retry.status < 300 or retry.status == 404:
        finish(rig, ctx, held)
        if scenario.name == "create-stream" and retry.status == 200:
            ctx["room_sid"] = retry.body["room_sid"]
        final = snapshot(rig, ctx)
    return Outcome(answer, fired, leftovers, retry, final, late, journal_tries)
