"""A bounded soak of the fake over its real threaded server.

Several clients (threads, each with its own ``twilio.rest.Client``) run create/delete cycles
until the request budget is spent (CI 2,000; soak 100,000): rooms created and completed,
PlayerStreamers created and ended, Sync services with maps, items, documents and lists
created and deleted, conversations with participants created and deleted. Properties:

- every answer is the expected one (no 5xx, no unexpected error);
- memory is flat once the resources are gone: the Python heap after the run (live objects
  tracked by the garbage collector, and blocks allocated by Python's allocator), less the heap
  after a warm-up, stays within a small tolerance (a leak of one object per cycle would
  exceed it many times over); RSS is reported too. Completed rooms and ended
  PlayerStreamers are kept by Twilio (and the fake) by design, so they are forgotten with a
  product reset before each measurement; the figures report what one kept room costs;
- no thread or file-descriptor (socket) leak, and the server stops cleanly: after the clients
  closed their sessions and the server stopped, the thread and fd counts are back to where
  they were, and the port refuses connections.
"""

from __future__ import annotations

import gc
import itertools
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from twilio.rest import Client

from fake_twilio.http_client import FakeServerHttpClient
from fake_twilio.server import FakeServer

from .support import Figures, knob, open_fds, rss_kib, wait_until

pytestmark = [pytest.mark.server, pytest.mark.soak]

REQUESTS = knob("soak_requests", 2000, 100_000)
CLIENTS = knob("soak_clients", 4, 8)
WARMUP_SHARE = 0.2
#: Growth allowed between the warm-up and the end (caches of the SDK, werkzeug and re,
#: interned strings); a leak of one object per cycle would exceed it many times over.
OBJECTS_TOLERANCE = 1500
BLOCKS_TOLERANCE = 6000


class Budget:
    """A shared request counter: ``take(n)`` reserves n requests, False when spent."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> bool:
        with self._lock:
            if self.used >= self.total:
                return False
            self.used += n
            return True


def media(client: Client, method: str, path: str, data: dict[str, str] | None = None) -> Any:
    response = client.request(method, f"https://media.twilio.com/v1{path}", data=data)
    assert response.status_code in (200, 201), (path, response.status_code, response.text)
    return response


def room_cycle(client: Client, n: int) -> int:
    room = client.video.v1.rooms.create(unique_name=f"soak-{n}", type="group")
    assert client.video.v1.rooms(room.sid).fetch().status == "in-progress"
    assert client.video.v1.rooms(room.sid).update(status="completed").status == "completed"
    return 3


def streamer_cycle(client: Client, n: int) -> int:
    import json

    streamer = json.loads(media(client, "POST", "/PlayerStreamers", {"Video": "true"}).text)
    media(client, "POST", f"/PlayerStreamers/{streamer['sid']}", {"Status": "ended"})
    return 2


def sync_cycle(client: Client, n: int) -> int:
    service = client.sync.v1.services.create(friendly_name=f"soak-{n}", acl_enabled=True)
    svc = client.sync.v1.services(service.sid)
    svc.sync_maps.create(unique_name="speakers")
    items = svc.sync_maps("speakers").sync_map_items
    for key in ("alice", "bob", "carol"):
        items.create(key=key, data={"host": key == "alice"})
    items("bob").delete()
    svc.documents.create(unique_name="user-bob", data={"speaker_invite": False})
    svc.documents("user-bob").update(data={"speaker_invite": True})
    svc.sync_lists.create(unique_name="log")
    svc.sync_lists("log").sync_list_items.create(data={"n": n})
    svc.sync_maps("speakers").sync_map_permissions("bob").update(
        read=True, write=False, manage=False
    )
    assert {i.key for i in items.list()} == {"alice", "carol"}
    assert svc.delete()
    return 13


def conversation_cycle(client: Client, n: int) -> int:
    conversation = client.conversations.v1.conversations.create(unique_name=f"soak-{n}")
    participants = client.conversations.v1.conversations(conversation.sid).participants
    participants.create(identity="alice")
    participants.create(identity="bob")
    assert len(participants.list()) == 2
    assert client.conversations.v1.conversations(conversation.sid).delete()
    return 5


CYCLES: list[Callable[[Client, int], int]] = [
    sync_cycle,
    room_cycle,
    conversation_cycle,
    streamer_cycle,
]
COST = {sync_cycle: 13, room_cycle: 3, conversation_cycle: 5, streamer_cycle: 2}


def run_clients(server: FakeServer, budget: Budget, counter: itertools.count) -> dict[str, Any]:
    """Run CLIENTS threads until the budget is spent; requests sent and peak thread count."""
    creds = server.credentials
    sent = [0] * CLIENTS
    errors: list[BaseException] = []
    peak = [threading.active_count()]

    def worker(index: int) -> None:
        client = Client(
            creds.account_sid, creds.auth_token, http_client=FakeServerHttpClient(server.url)
        )
        try:
            for turn in itertools.count(index):
                cycle = CYCLES[turn % len(CYCLES)]
                if not budget.take(COST[cycle]):
                    return
                sent[index] += cycle(client, next(counter))
                if turn % 16 == 0:
                    peak[0] = max(peak[0], threading.active_count())
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            client.http_client.session.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=3600)
    if errors:
        raise errors[0]
    return {"sent": sum(sent), "peak_threads": peak[0]}


def forget_kept_resources(server: FakeServer) -> None:
    """Completed rooms and ended PlayerStreamers stay listable at Twilio: forget them."""
    server.state.reset(product="video")
    server.state.reset(product="media")
    server.state.journal.clear()
    server.state.webhooks.clear()


def heap() -> tuple[int, int]:
    """(objects tracked by the garbage collector, blocks allocated by pymalloc)."""
    gc.collect()
    gc.collect()
    return len(gc.get_objects()), sys.getallocatedblocks()


def kept_room_cost(server: FakeServer, rooms: int = 100) -> float:
    """Allocator blocks one completed room costs while the fake keeps it (by design)."""
    client = server.client()
    before = heap()[1]
    for n in range(rooms):
        room_cycle(client, 10_000_000 + n)
    server.state.journal.clear()
    cost = (heap()[1] - before) / rooms
    client.http_client.session.close()
    forget_kept_resources(server)
    return cost


def test_soak_is_flat_and_leak_free(figures: Figures) -> None:
    threads_before = threading.active_count()
    fds_before = open_fds()
    counter = itertools.count()
    started = time.perf_counter()
    server = FakeServer().start()
    try:
        url = server.url
        warmup = Budget(max(int(REQUESTS * WARMUP_SHARE), 200))
        warm = run_clients(server, warmup, counter)
        forget_kept_resources(server)
        heap_after_warmup = heap()
        rss_after_warmup = rss_kib()

        main = Budget(REQUESTS)
        run = run_clients(server, main, counter)
        forget_kept_resources(server)
        heap_at_end = heap()
        rss_at_end = rss_kib()
        room_cost = kept_room_cost(server)

        dump = server.state.dump()
        for account in dump.values():
            assert account.get("sync", {}).get("services", {}) == {}
            for service in account.get("conversations", {}).get("services", []):
                assert service.get("conversations", []) == []
        scheduled = len(server.state.scheduler._heap)  # entries kept, cancelled or not
    finally:
        stop_started = time.perf_counter()
        server.stop()
        stop_s = time.perf_counter() - stop_started
    elapsed = time.perf_counter() - started

    objects = heap_at_end[0] - heap_after_warmup[0]
    blocks = heap_at_end[1] - heap_after_warmup[1]
    assert objects < OBJECTS_TOLERANCE, f"{objects} more live objects after {run['sent']} requests"
    assert blocks < BLOCKS_TOLERANCE, f"{blocks} more allocated blocks after {run['sent']} requests"
    assert wait_until(lambda: threading.active_count() <= threads_before, timeout=10), (
        threading.active_count(),
        threads_before,
    )
    assert wait_until(lambda: open_fds() <= fds_before, timeout=10), (open_fds(), fds_before)
    host, port = url.removeprefix("http://").split(":")
    with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=1):
        pass
    assert stop_s < 5
    figures.add(
        requests=warm["sent"] + run["sent"],
        clients=CLIENTS,
        requests_per_s=round((warm["sent"] + run["sent"]) / elapsed, 1),
        objects_after_warmup=heap_after_warmup[0],
        objects_growth=objects,
        blocks_after_warmup=heap_after_warmup[1],
        blocks_growth=blocks,
        rss_after_warmup_kib=rss_after_warmup,
        rss_growth_kib=rss_at_end - rss_after_warmup,
        kept_completed_room_blocks=round(room_cost),
        scheduler_entries_left=scheduled,
        peak_threads=max(warm["peak_threads"], run["peak_threads"]),
        threads_before_after=[threads_before, threading.active_count()],
        fds_before_after=[fds_before, open_fds()],
        server_stop_s=round(stop_s, 3),
    )


def test_forgotten_rooms_are_freed_and_cancelled_deadlines_do_not_pile_up() -> None:
    """Found by the soak: the scheduler kept cancelled deadlines (and, through their
    callbacks, the rooms) until their due time -- forever with a frozen clock -- so a reset or
    completed rooms did not give memory back."""
    import weakref

    from fake_twilio import create_app, state_of
    from fake_twilio.testing import sdk_client

    app = create_app()
    state = state_of(app)
    state.clock.freeze()
    client = sdk_client(app)
    video = state.backend(state.default_credentials.account_sid, "video")
    refs = []
    for n in range(60):
        sid = client.video.v1.rooms.create(unique_name=f"r{n}").sid
        if n % 2:
            client.video.v1.rooms(sid).update(status="completed")
        with state.locked():
            refs.append(weakref.ref(video.get_room(sid)))
    del video
    state.reset(product="video")
    gc.collect()
    assert [r for r in refs if r() is not None] == []

    for n in range(150):  # create/complete cycles: each cancels the room's deadline
        sid = client.video.v1.rooms.create(unique_name=f"c{n}").sid
        client.video.v1.rooms(sid).update(status="completed")
    assert len(state.scheduler._heap) <= 100
