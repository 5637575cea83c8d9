"""Injected Twilio faults under every Twilio call of every backend operation.

For each operation (client endpoints and webhook deliveries, see faultplan.SCENARIOS) one
clean run lists its Twilio requests from the fake's journal; then each request is made to fail
(faultplan.KINDS: 500, 503, 429, a Twilio error code, a dropped connection, latency past the
backend's Twilio timeout) by a persistent fault rule of the fake server. Properties:

- the answer is the documented error shape, a 5xx with one of the operation's documented
  messages, within a bound derived from the timeout, the retry cap and the backoff;
- transient answers (429, 503) are retried with backoff up to the cap, and so are dropped and
  timed-out GETs; nothing else is retried (counted by the fault rule and the journal);
- a failed create-stream leaves no orphan: no in-progress room, no live PlayerStreamer or
  MediaProcessor, no stream Sync service, no stream record, no conversation;
- once the fault is cleared, the same request succeeds and the resulting state (the stream's
  Sync data and what is alive at Twilio) is exactly that of a run without the fault.

Known limits, asserted precisely rather than hidden (docs/RELIABILITY.md, "Findings"): a
create that Twilio processes after the backend timed out creates a resource the backend never
learnt about (LATE_CREATE_ORPHANS); a state change processed after the timeout makes the
retry answer the documented 404 (the change was made).

CI injects one kind per call (kinds in rotation) plus a few latency cases; ``RELIABILITY_SCALE
=soak`` (or ``RELIABILITY_FAULT_MATRIX_FULL=1``) injects every kind into every call.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import schemas
from fake_twilio.server import FakeServer
from schemas import catalog

from .faultplan import (
    ATTEMPTS,
    KINDS,
    RETRY_BASE,
    SCENARIOS,
    Baseline,
    Call,
    Outcome,
    enumerate_calls,
    expected_tries,
    plan,
    run_fault,
    time_bound,
)
from .support import Figures, knob

pytestmark = [pytest.mark.server, pytest.mark.soak]

FULL = bool(knob("fault_matrix_full", 0, 1))

#: (call label, earlier matching calls) of creates that leave a resource behind when Twilio
#: processes them after the backend gave up, and which resource (a key of live_resources).
LATE_CREATE_ORPHANS = {
    ("POST /video/v1/Rooms", 0): "rooms",
    ("POST /media/v1/PlayerStreamers", 0): "player_streamers",
    ("POST /sync/v1/Services", 1): "stream_services",
    ("POST /sync/v1/Services/<SID>/Maps/streams/Items", 0): "stream_records",
    ("POST /conversations/v1/Services/<SID>/Conversations", 0): "conversations",
}
#: Latency cases run in CI (the full matrix runs them all): scenario -> call labels.
CI_LATENCY = {
    "create-stream": {"POST /media/v1/PlayerStreamers"},
    "join-stream-as-viewer": {"GET /video/v1/Rooms/faulty"},
    "rooms-webhook:room-ended": {"POST /media/v1/PlayerStreamers/<SID>"},
}


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def injections(name: str, baseline: Baseline) -> list[tuple[int, str]]:
    if FULL:
        return plan(baseline.calls, full=True)
    offset = list(SCENARIOS).index(name)
    pairs = [p for p in plan(baseline.calls, full=False, offset=offset) if p[1] != "latency"]
    wanted = CI_LATENCY.get(name, set())
    pairs += [(i, "latency") for i, c in enumerate(baseline.calls) if c.label in wanted]
    found = {baseline.calls[i].label for i, k in pairs if k == "latency"}
    assert found == wanted, f"{name}: CI latency cases {wanted - found} are no longer called"
    return pairs


def documented_messages(endpoint: str) -> set[str]:
    messages = {c.message for c in catalog.endpoint(endpoint).errors if c.status == "5XX"}
    return messages | {"internal error"}


def count(value: Any) -> int:
    return len(value) if isinstance(value, list) else int(value)


def problems(name: str, baseline: Baseline, call: Call, kind: str, out: Outcome) -> list[str]:
    """Every property the injection broke (empty when all hold)."""
    scenario = SCENARIOS[name]
    found: list[str] = []
    answer = out.answer
    if not 500 <= answer.status < 600:
        found.append(f"answered {answer.status} {answer.body}")
    elif not schemas.is_valid("protocol/error", answer.body):
        found.append(f"not the error shape: {answer.text[:200]}")
    elif answer.body["error"]["message"] not in documented_messages(scenario.endpoint):
        found.append(f"undocumented message {answer.body['error']['message']!r}")
    if out.tries != expected_tries(call, kind):
        found.append(f"tried {out.tries} times, expected {expected_tries(call, kind)}")
    if out.journal_tries is not None and out.journal_tries != out.tries:
        found.append(f"the journal shows {out.journal_tries} failed tries, the rule {out.tries}")
    if answer.elapsed > time_bound(call, kind):
        found.append(f"took {answer.elapsed:.2f}s > {time_bound(call, kind):.2f}s")
    if kind in ("http503", "http429"):
        backoff = sum(RETRY_BASE * 2**n for n in range(ATTEMPTS - 1))
        if answer.elapsed < backoff:
            found.append(f"no backoff: {answer.elapsed:.3f}s < {backoff:.3f}s")
    orphan = LATE_CREATE_ORPHANS.get((call.label, call.after)) if kind == "latency" else None
    if name == "create-stream":
        expected = set() if orphan is None else {orphan}
        if set(out.leftovers) != expected:
            found.append(f"left behind {out.leftovers}")
        elif orphan is not None and count(out.leftovers[orphan]) != 1:
            found.append(f"left behind more than one {orphan}: {out.leftovers}")
    late_change = kind == "latency" and call.method != "GET" and not call.creates
    retry = out.retry
    if late_change and retry.status == 404 and scenario.webhook is False:
        if retry.body["error"]["message"] not in {
            c.message for c in catalog.endpoint(scenario.endpoint).errors if c.status == "404"
        }:
            found.append(f"retry answered an undocumented 404: {retry.body}")
    elif not 200 <= retry.status < 300:
        found.append(f"retry answered {retry.status} {retry.body}")
    expected_final = dict(baseline.final)
    if orphan is not None and orphan != "rooms":
        expected_final[orphan] += 1
    if out.final != expected_final:
        found.append(f"final state {out.final} != {expected_final}")
    return found


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_twilio_call_failing_is_handled(
    name: str, fake_server: FakeServer, figures: Figures
) -> None:
    baseline = enumerate_calls(fake_server, SCENARIOS[name])
    failures: list[str] = []
    kinds: Counter[str] = Counter()
    late_orphans: list[str] = []
    started = time.perf_counter()
    for index, kind in injections(name, baseline):
        call = baseline.calls[index]
        outcome = run_fault(fake_server, SCENARIOS[name], baseline, index, kind)
        kinds[kind] += 1
        broken = problems(name, baseline, call, kind, outcome)
        failures += [f"{call.label} (#{index}) {kind}: {p}" for p in broken]
        if outcome.leftovers:
            late_orphans.append(f"{call.label}: {sorted(outcome.leftovers)}")
    figures.add(
        operation=name,
        twilio_calls=len(baseline.calls),
        calls=[c.label for c in baseline.calls],
        faults_injected=sum(kinds.values()),
        by_kind=dict(kinds),
        matrix="full" if FULL else "rotation",
        failures_found=len(failures),
        late_create_orphans=late_orphans,
        duration_s=round(time.perf_counter() - started, 2),
    )
    assert not failures, "\n".join(failures)


def test_matrix_covers_every_kind() -> None:
    """The CI rotation still injects every kind somewhere, and every call at least once."""
    assert set(KINDS) == {"http500", "http503", "http429", "code", "drop", "latency"}
    assert sum(len(v) for v in CI_LATENCY.values()) >= 3
    calls = [Call("video", "GET", "/x", 0, "/x")] * 5
    rotated = plan(calls, full=False)
    assert {k for _, k in rotated} == set(KINDS)
    assert {i for i, _ in rotated} == set(range(5))
