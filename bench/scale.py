"""Benchmark 4: does a call cost the same with 10, 1,000 and 10,000 streams in the fake?

A *stream* is what the reference backend's create-stream leaves in Twilio: a Video room, a
PlayerStreamer, a MediaProcessor composing the room into it, a Sync service with the three maps
(``speakers``, ``raised_hands``, ``viewers``) and a conversation named after the room. They are
seeded fast, through the products' Python backends under ``state.locked()`` (no HTTP).

The five SDK calls of benchmark 1 are then timed through ``fake_twilio.mock()`` on one fake per
size, interleaved round by round; the figure is the per-round ratio of a call's time at N
streams to its time at 10 streams (geometric mean over the calls). Memory per stream is the
growth of Python's traced allocations (``tracemalloc``) while seeding more streams into an
already warm fake, divided by their number.
"""

from __future__ import annotations

import gc
import json
import time
import tracemalloc
from typing import Any

import fake_twilio
from fake_twilio.conversations.inputs import ConversationInput

from .measure import BenchResult, Stats, geomean, interleave
from .sdk_ops import OPS, prepare

NAME = "scale"
GOAL_RATIO = 1.2
GOAL_BYTES = 20_000
MAPS = ("speakers", "raised_hands", "viewers")
MAX_DURATION = 86_400


def seed_streams(app: Any, count: int, start: int = 0) -> None:
    """Add ``count`` streams to ``app``'s default account through the backends' methods."""
    state = fake_twilio.state_of(app)
    account = state.default_credentials.account_sid
    video = state.backend(account, "video")
    media = state.backend(account, "media")
    sync = state.backend(account, "sync")
    conversations = state.backend(account, "conversations")
    with state.locked():
        for i in range(start, start + count):
            room = video.create_room(type="group", unique_name=f"stream-{i}")
            streamer = media.create_player_streamer(video=True, max_duration=MAX_DURATION)
            context = {"room": {"name": room.sid}, "outputs": [streamer.sid]}
            media.create_media_processor(
                extension="video-composer-v2",
                extension_context=json.dumps({**context, "resolution": "1920x1080"}),
                max_duration=MAX_DURATION,
            )
            service = sync.create_service(
                friendly_name=f"stream-{i}",
                acl_enabled=True,
                reachability_webhooks_enabled=True,
                reachability_debouncing_enabled=True,
            )
            for name in MAPS:
                sync.create_object("map", service.sid, unique_name=name)
            conversations.create_conversation(
                None, ConversationInput(unique_name=room.sid, friendly_name=f"stream-{i}")
            )


def bytes_per_stream(count: int) -> float:
    """Traced bytes per stream seeded into a fake that already holds 100 streams."""
    app = fake_twilio.create_app()
    seed_streams(app, 100)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        seed_streams(app, count, start=100)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / count


def run(quick: bool = False) -> BenchResult:
    sizes = (10, 1_000) if quick else (10, 1_000, 10_000)
    rounds, batch = (5, 10) if quick else (11, 20)
    memory_streams = 500 if quick else 2_000
    result = BenchResult(
        NAME,
        "Flat cost up to 10k streams, memory per stream",
        "Microseconds per SDK call via fake_twilio.mock() with N streams already in the fake "
        "(room + PlayerStreamer + MediaProcessor + Sync service with 3 maps + conversation), "
        "interleaved across N; ratio = time at N / time at 10 per round (geomean over the "
        "calls); bytes per stream from tracemalloc while seeding; seeding rate through the "
        "Python backends.",
    )
    apps: dict[int, Any] = {}
    seed_rates: dict[int, float] = {}
    for size in sizes:
        app = fake_twilio.create_app()
        t0 = time.perf_counter()
        seed_streams(app, size)
        seed_rates[size] = size / (time.perf_counter() - t0)
        apps[size] = app
    contenders = {}
    for size, app in apps.items():
        for op in OPS:
            contenders[(size, op.name)] = prepare(op, app=app, kinds=("mock",)).contenders["mock"]
    requests_per_call = {op.name: op.requests for op in OPS}
    sizes_by_key = {key: max(1, batch // requests_per_call[key[1]]) for key in contenders}
    # no full collection between batches: with 10,000 streams each one takes longer than
    # the batch; the automatic collections of a large heap are part of what is measured
    samples = interleave(contenders, rounds=rounds, batch=sizes_by_key, collect=False)
    base = sizes[0]
    for op in OPS:
        unit = "us/list" if op.requests > 1 else "us/call"
        for size in sizes:
            result.add(
                f"{op.name} @{size} streams", Stats.of(samples[(size, op.name)]).scaled(1e6), unit
            )
    ratios: dict[int, Stats] = {}
    for size in sizes[1:]:
        per_op = []
        for op in OPS:
            ratio = [
                a / b
                for a, b in zip(samples[(size, op.name)], samples[(base, op.name)], strict=True)
            ]
            per_op.append(ratio)
            result.add(f"{op.name} {size}/{base}", Stats.of(ratio), "x")
        ratios[size] = Stats.of([geomean(list(col)) for col in zip(*per_op, strict=True)])
    for size, stats in ratios.items():
        last = size == sizes[-1]
        result.add(
            f"overall {size}/{base} streams (geomean)",
            stats,
            "x",
            goal=f"<= {GOAL_RATIO}x" if last else None,
            met=(stats.median <= GOAL_RATIO) if last else None,
        )
    memory = [bytes_per_stream(memory_streams) for _ in range(1 if quick else 2)]
    mem_stats = Stats.of(memory)
    result.add(
        "memory per stream (tracemalloc)",
        mem_stats,
        "bytes",
        goal=f"< {GOAL_BYTES} bytes",
        met=mem_stats.median < GOAL_BYTES,
    )
    result.add("seeding rate (Python backends)", Stats.of(list(seed_rates.values())), "streams/s")
    result.data = {
        "sizes": list(sizes),
        "rounds": rounds,
        "batch": batch,
        "memory_streams": memory_streams,
        "seed_rate_by_size": seed_rates,
    }
    if sizes[-1] < 10_000:
        result.notes.append("quick run: sizes up to 1,000 only (the full run goes to 10,000)")
    return result
