"""Concurrent writers on the fake's Sync over its real threaded server.

32 clients (threads, each with its own ``twilio.rest.Client`` and HTTP session) write the same
map, list and document at once. Properties:

- no lost update: the final contents are exactly what the writers wrote (distinct map keys,
  list appends, read-modify-write increments guarded by ``If-Match``);
- revisions observed by each writer strictly increase per object, and the successful writes
  of one object never share a revision;
- of N concurrent conditional updates carrying the same revision exactly one wins; the others
  get HTTP 412 with the kind's revision-mismatch code (54103 Document, 54205 Map Item,
  54155 List Item).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from fake_twilio.http_client import FakeServerHttpClient
from fake_twilio.server import FakeServer

from .support import Figures, knob

pytestmark = [pytest.mark.server, pytest.mark.soak]

WRITERS = knob("sync_writers", 32, 32)
APPENDS = knob("sync_appends", 2, 60)  # distinct map keys and list appends per writer
INCREMENTS = knob("sync_increments", 1, 12)  # If-Match increments per writer and object
RACES = knob("sync_races", 2, 20)  # rounds of the same-revision race per object kind

MISMATCH = {"document": 54103, "map item": 54205, "list item": 54155}


class CountingHttpClient(FakeServerHttpClient):
    """Counts the requests a writer sends."""

    sent = 0

    def request(self, *args: Any, **kwargs: Any) -> Any:
        self.sent += 1
        return super().request(*args, **kwargs)


def writer_client(server: FakeServer) -> Client:
    creds = server.credentials
    return Client(creds.account_sid, creds.auth_token, http_client=CountingHttpClient(server.url))


def run_writers(count: int, job: Callable[[int, Client], Any], clients: list[Client]) -> list[Any]:
    """Run ``job(index, client)`` in ``count`` threads started together; their results."""
    barrier = threading.Barrier(count)

    def start(index: int) -> Any:
        barrier.wait(timeout=30)
        return job(index, clients[index])

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(start, range(count)))


def close_all(clients: list[Client]) -> int:
    sent = 0
    for client in clients:
        http = client.http_client
        sent += getattr(http, "sent", 0)
        if http.session is not None:
            http.session.close()
    return sent


def increment(fetch: Callable[[], Any], update: Callable[[dict[str, Any], str], Any], code: int):
    """Read-modify-write ``{"count": n}`` until the conditional update wins.

    Returns ``(revision of the successful write, conflicts seen)``.
    """
    conflicts = 0
    while True:
        current = fetch()
        data = dict(current.data)
        data["count"] = data.get("count", 0) + 1
        try:
            written = update(data, current.revision)
        except TwilioRestException as exc:
            assert exc.status == 412 and exc.code == code, (exc.status, exc.code, exc.msg)
            conflicts += 1
            time.sleep(random.uniform(0, 0.004))
            continue
        return int(written.revision), conflicts


def test_concurrent_writers_lose_no_update(figures: Figures) -> None:
    with FakeServer() as server:
        admin = server.client()
        service = admin.sync.v1.services.create(friendly_name="concurrency")
        svc = admin.sync.v1.services(service.sid)
        svc.sync_maps.create(unique_name="shared")
        svc.sync_lists.create(unique_name="log")
        svc.documents.create(unique_name="counter", data={"count": 0})
        svc.sync_maps("shared").sync_map_items.create(key="counter", data={"count": 0})
        svc.sync_maps("shared").sync_map_items.create(key="last", data={"writer": -1})
        clients = [writer_client(server) for _ in range(WRITERS)]
        started = time.perf_counter()

        def job(index: int, client: Client) -> dict[str, Any]:
            s = client.sync.v1.services(service.sid)
            items = s.sync_maps("shared").sync_map_items
            log = s.sync_lists("log").sync_list_items
            doc = s.documents("counter")
            seen: dict[str, list[int]] = {"log": [], "counter-item": [], "document": [], "last": []}
            conflicts = 0
            for step in range(APPENDS):
                items.create(key=f"w{index}-{step}", data={"writer": index, "step": step})
                appended = log.create(data={"writer": index, "step": step})
                seen["log"].append(int(appended.index))
                # an unconditional update of one shared key: last writer wins, no revision reused
                last = items("last").update(data={"writer": index, "step": step})
                seen["last"].append(int(last.revision))
            for _ in range(INCREMENTS):
                revision, lost = increment(
                    items("counter").fetch,
                    lambda data, rev: items("counter").update(data=data, if_match=rev),
                    MISMATCH["map item"],
                )
                seen["counter-item"].append(revision)
                conflicts += lost
                revision, lost = increment(
                    doc.fetch,
                    lambda data, rev: doc.update(data=data, if_match=rev),
                    MISMATCH["document"],
                )
                seen["document"].append(revision)
                conflicts += lost
            return {"seen": seen, "conflicts": conflicts}

        results = run_writers(WRITERS, job, clients)
        elapsed = time.perf_counter() - started
        sent = close_all(clients)

        # -- final contents: exactly what was written --------------------------------------
        final_items = {i.key: i.data for i in svc.sync_maps("shared").sync_map_items.list()}
        expected_keys = {f"w{w}-{s}" for w in range(WRITERS) for s in range(APPENDS)}
        assert set(final_items) == expected_keys | {"counter", "last"}
        for key in expected_keys:
            writer, step = key[1:].split("-")
            assert final_items[key] == {"writer": int(writer), "step": int(step)}
        total_increments = WRITERS * INCREMENTS
        assert final_items["counter"] == {"count": total_increments}
        assert svc.documents("counter").fetch().data == {"count": total_increments}
        log_items = svc.sync_lists("log").sync_list_items.list()
        assert sorted((i.data["writer"], i.data["step"]) for i in log_items) == sorted(
            (w, s) for w in range(WRITERS) for s in range(APPENDS)
        )
        assert len({i.index for i in log_items}) == len(log_items) == WRITERS * APPENDS
        last = svc.sync_maps("shared").sync_map_items("last").fetch()
        assert int(last.revision) == WRITERS * APPENDS  # one revision per update, none lost

        # -- revisions: strictly increasing per writer, never shared across writers --------
        for name in ("log", "counter-item", "document", "last"):
            every: list[int] = []
            for result in results:
                observed = result["seen"][name]
                assert observed == sorted(set(observed)), (name, observed)
                every.extend(observed)
            assert len(every) == len(set(every)), f"{name}: two writes got the same revision"
        for name in ("counter-item", "document"):
            every = sorted(r for result in results for r in result["seen"][name])
            assert every == list(range(1, total_increments + 1)), name

        figures.add(
            writers=WRITERS,
            requests=sent,
            conflicts_retried=sum(r["conflicts"] for r in results),
            write_phase_s=round(elapsed, 3),
            requests_per_s=round(sent / elapsed, 1),
        )


def test_same_revision_race_has_exactly_one_winner(figures: Figures) -> None:
    with FakeServer() as server:
        admin = server.client()
        service = admin.sync.v1.services.create(friendly_name="race")
        svc = admin.sync.v1.services(service.sid)
        svc.documents.create(unique_name="doc", data={"winner": None})
        svc.sync_maps.create(unique_name="map")
        svc.sync_maps("map").sync_map_items.create(key="key", data={"winner": None})
        svc.sync_lists.create(unique_name="list")
        index = svc.sync_lists("list").sync_list_items.create(data={"winner": None}).index
        clients = [writer_client(server) for _ in range(WRITERS)]

        def target(client: Client, kind: str) -> Any:
            s = client.sync.v1.services(service.sid)
            if kind == "document":
                return s.documents("doc")
            if kind == "map item":
                return s.sync_maps("map").sync_map_items("key")
            return s.sync_lists("list").sync_list_items(index)

        outcomes: dict[str, int] = {}
        for kind, code in MISMATCH.items():
            for round_ in range(RACES):
                revision = target(admin, kind).fetch().revision

                def job(writer: int, client: Client, kind: str = kind, rev: str = revision) -> Any:
                    try:
                        target(client, kind).update(data={"winner": writer}, if_match=rev)
                    except TwilioRestException as exc:
                        return (exc.status, exc.code)
                    return "won"

                results = run_writers(WRITERS, job, clients)
                winners = [w for w, r in enumerate(results) if r == "won"]
                losers = [r for r in results if r != "won"]
                assert len(winners) == 1, (kind, round_, results)
                assert set(losers) == {(412, code)}, (kind, set(losers))
                after = target(admin, kind).fetch()
                assert after.data == {"winner": winners[0]}
                assert int(after.revision) == int(revision) + 1
                outcomes[kind] = outcomes.get(kind, 0) + 1
        sent = close_all(clients)
        figures.add(
            writers=WRITERS,
            races=sum(outcomes.values()),
            requests=sent,
            losers_refused_412=sum(outcomes.values()) * (WRITERS - 1),
        )
