"""Benchmark 6: the reference backend's Twilio REST calls per endpoint, and its latency.

The embedded pair of the conformance suite (``conformance.embedded.start()``: the reference
backend over ``WSGITwilioHttpClient`` on a fresh fake, the fake's webhooks delivered to it
in-process) walks through streams as in PROTOCOL.md section 10: create-stream, the host
connecting, a viewer joining and connecting to the player, raising a hand, being invited,
joining as a speaker and connecting, being moved back to the audience, a Sync client of the
viewer disconnecting, a second speaker leaving the room, and the stream being deleted; a second
stream per iteration ends from Twilio's side (room completed) to time the ``room-ended``
webhook alone.

For each endpoint: the number of Twilio REST calls it made (from the fake's request journal;
constant across iterations) and its in-process latency (the backend's HTTP call through
``httpx.WSGITransport``, Twilio answered in-process). An endpoint that makes Twilio call a
webhook synchronously (remove-speaker disconnects a participant, delete-stream ends the
room, create-stream starts the composer that joins the room) counts the calls of those
nested webhooks too; the breakdown is given. Webhooks are triggered from the fake's side
(participants connecting and leaving, a Sync client going offline, a room completed); their
latency is the fake's delivery time.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from typing import Any

from .measure import BenchResult, Stats

NAME = "backend"
ORIGINAL_CREATE_STREAM_CALLS = 14
_SID_RE = re.compile(r"\b[A-Z]{2}[0-9a-f]{32}\b")


class Walk:
    """One embedded pair, with helpers to call endpoints and trigger webhooks."""

    def __init__(self) -> None:
        import httpx

        from conformance.embedded import BASE_URL, start

        self.run = start()
        self.state = self.run.state
        self.account = self.state.default_credentials.account_sid
        self.http = httpx.Client(
            base_url=BASE_URL,
            transport=httpx.WSGITransport(app=self.run.backend_app),
            headers={"Authorization": self.run.passcode},
        )
        self.calls: dict[str, list[int]] = {}
        self.latency: dict[str, list[float]] = {}
        self.nested: dict[str, Counter[str]] = {}
        self.shapes: dict[str, list[str]] = {}
        self.failures: list[str] = []

    def close(self) -> None:
        self.http.close()
        self.run.close()

    def backend(self, product: str) -> Any:
        return self.state.backend(self.account, product)

    def _record(
        self, name: str, mark: int, wh_mark: int, seconds: float, names: dict[str, str]
    ) -> None:
        entries = self.state.journal.entries(since=mark)
        self.calls.setdefault(name, []).append(len(entries))
        self.latency.setdefault(name, []).append(seconds)
        deliveries = self.state.webhooks.records(since=wh_mark)
        nested = Counter(_event(d.params) for d in deliveries)
        self.nested[name] = nested
        shape = [f"{e.method} {_shape(e.path, names)}" for e in entries]
        self.shapes[name] = shape

    def _marks(self) -> tuple[int, int]:
        records = self.state.webhooks.records()
        return self.state.journal.mark(), (records[-1].seq if records else 0)

    def endpoint(self, name: str, body: dict[str, Any], names: dict[str, str]) -> Any:
        mark, wh_mark = self._marks()
        t0 = time.perf_counter()
        response = self.http.post(f"/{name}", json=body)
        seconds = time.perf_counter() - t0
        if response.status_code != 200:
            self.failures.append(f"{name}: HTTP {response.status_code} {response.text[:120]}")
        self._record(name, mark, wh_mark, seconds, names)
        return response.json()

    def webhook(
        self, name: str, trigger: Any, names: dict[str, str], label: str | None = None
    ) -> None:
        """Trigger Twilio's side; the figure is the delivery time of the webhook ``name``."""
        mark, wh_mark = self._marks()
        trigger()
        deliveries = [
            d for d in self.state.webhooks.records(since=wh_mark) if _event(d.params) == name
        ]
        if not deliveries:
            self.failures.append(f"{name}: no webhook delivered")
            return
        for delivery in deliveries:
            if delivery.status is None or not 200 <= delivery.status < 300:
                self.failures.append(f"{name}: delivery answered {delivery.status}")
        self._record(
            f"webhook {name}" + (f" ({label})" if label else ""),
            mark,
            wh_mark,
            sum(d.duration_ms for d in deliveries) / 1e3,
            names,
        )

    def locked(self, func: Any) -> Any:
        def call() -> None:
            with self.state.locked():
                func()

        return call

    def stream(self, i: int) -> None:
        """One full walkthrough (stream ``bench-<i>``)."""
        video, sync = self.backend("video"), self.backend("sync")
        host, viewer, guest = f"host-{i}", f"viewer-{i}", f"guest-{i}"
        name = f"bench-{i}"
        names = {name: "{stream}", host: "{host}", viewer: "{viewer}", guest: "{guest}"}
        self.endpoint("verify-passcode", {}, names)
        created = self.endpoint(
            "create-stream", {"user_identity": host, "stream_name": name}, names
        )
        room_sid = created.get("room_sid", "")
        self.webhook(
            "participant-connected",
            self.locked(lambda: video.connect_participant(room_sid, host)),
            names,
            "host",
        )
        self.endpoint(
            "join-stream-as-viewer", {"user_identity": viewer, "stream_name": name}, names
        )
        self.endpoint(
            "viewer-connected-to-player", {"user_identity": viewer, "stream_name": name}, names
        )
        self.endpoint(
            "raise-hand",
            {"user_identity": viewer, "stream_name": name, "hand_raised": True},
            names,
        )
        self.endpoint("send-speaker-invite", {"user_identity": viewer, "room_sid": room_sid}, names)
        self.endpoint(
            "join-stream-as-speaker", {"user_identity": viewer, "stream_name": name}, names
        )
        self.webhook(
            "participant-connected",
            self.locked(lambda: video.connect_participant(room_sid, viewer)),
            names,
            "invited viewer",
        )
        self.endpoint("remove-speaker", {"user_identity": viewer, "room_name": name}, names)
        # a Sync client of the viewer goes offline (debounced by the stream's Sync service)
        service_sid = _stream_service(self, room_sid)
        if service_sid:
            window = sync.get_service(service_sid).reachability_debouncing_window / 1000
            with self.state.locked():
                sync.client_connect(service_sid, viewer, f"ep-{i}")
                sync.client_disconnect(service_sid, viewer, f"ep-{i}")
            self.webhook(
                "endpoint_disconnected", lambda w=window: self.state.advance_clock(w + 1), names
            )
        # a second speaker joins, connects, and leaves the room by itself
        self.endpoint(
            "join-stream-as-speaker", {"user_identity": guest, "stream_name": name}, names
        )
        with self.state.locked():
            video.connect_participant(room_sid, guest)
        self.webhook(
            "participant-disconnected",
            self.locked(lambda: video.disconnect_participant(room_sid, guest)),
            names,
        )
        self.endpoint("delete-stream", {"stream_name": name}, names)
        # another stream, ended from Twilio's side: the room-ended webhook alone
        other = f"bench-{i}-b"
        names_b = {**names, other: "{stream}"}
        created_b = self.endpoint(
            "create-stream", {"user_identity": host, "stream_name": other}, names_b
        )
        room_b = created_b.get("room_sid", "")
        self.webhook("room-ended", self.locked(lambda: video.complete_room(room_b)), names_b)


def _event(params: dict[str, str]) -> str:
    return params.get("StatusCallbackEvent") or params.get("EventType") or "?"


def _shape(path: str, names: dict[str, str]) -> str:
    shaped = _SID_RE.sub(lambda m: "{" + m.group(0)[:2] + "}", path)
    for value, placeholder in sorted(names.items(), key=lambda kv: -len(kv[0])):
        shaped = shaped.replace(value, placeholder)
    return shaped


def _stream_service(walk: Walk, room_sid: str) -> str | None:
    """The Sync service of the stream of ``room_sid`` (named after the room by the backend)."""
    sync = walk.backend("sync")
    for service in sync.list_services():
        if service.friendly_name and service.friendly_name.endswith(room_sid):
            return service.sid
    return None


def run(quick: bool = False) -> BenchResult:
    iterations = 3 if quick else 15
    result = BenchResult(
        NAME,
        "Reference backend: Twilio calls and latency per endpoint",
        "Twilio REST calls per endpoint (the fake's journal; the median over iterations, "
        "range shown) and in-process latency in ms (median, IQR) of the reference backend, "
        "embedded with the fake as the conformance suite runs it. Webhooks are triggered from "
        "the fake; their latency is the delivery time. Endpoint counts include the calls of "
        "webhooks Twilio delivers while the endpoint runs (see notes).",
    )
    quiet = logging.getLogger("reference_backend")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    walk = Walk()
    try:
        first_mark, _ = walk._marks()
        walk.endpoint(
            "create-stream",
            {"user_identity": "warmup-host", "stream_name": "warmup"},
            {"warmup": "{stream}", "warmup-host": "{host}"},
        )
        bootstrap_calls = len(walk.state.journal.entries(since=first_mark))
        bootstrap_shape = list(walk.shapes["create-stream"])
        walk.calls.clear()
        walk.latency.clear()
        for i in range(iterations):
            walk.stream(i)
    finally:
        walk.close()
        quiet.setLevel(level)
    for name in walk.calls:
        calls = Stats.of([float(c) for c in walk.calls[name]])
        latency = Stats.of(walk.latency[name]).scaled(1e3)
        nested = walk.nested.get(name) or Counter()
        note = None
        if nested and not name.startswith("webhook"):
            note = "incl. nested webhooks: " + ", ".join(f"{k} x{v}" for k, v in nested.items())
        if name == "create-stream":
            result.add(
                f"{name}: Twilio calls",
                calls,
                "calls",
                goal=f"<= ~{ORIGINAL_CREATE_STREAM_CALLS} (original backend)",
                met=calls.median <= ORIGINAL_CREATE_STREAM_CALLS,
                note=note,
            )
        else:
            result.add(f"{name}: Twilio calls", calls, "calls", note=note)
        result.add(f"{name}: latency", latency, "ms")
    result.add(
        "create-stream (first of a deployment): Twilio calls",
        Stats.of([float(bootstrap_calls)]),
        "calls",
        note="includes the one-time bootstrap of shared services",
    )
    result.data = {
        "iterations": iterations,
        "calls_by_endpoint": {k: v[-1] for k, v in walk.calls.items()},
        "shapes": walk.shapes,
        "nested_webhooks": {k: dict(v) for k, v in walk.nested.items() if v},
        "first_create_stream_calls": bootstrap_shape,
        "failures": walk.failures[:20],
    }
    if walk.failures:
        result.notes.append(f"{len(walk.failures)} unexpected answer(s): {walk.failures[0]}")
    return result
