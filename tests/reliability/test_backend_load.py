"""Many users at once through a real threaded backend server talking to a real fake server.

The backend (werkzeug, threaded, 127.0.0.1:0) uses the fake server (``FakeServer``) over HTTP,
and the fake delivers its webhooks to the backend over HTTP too. A host creates a stream and
connects to the room; then USERS viewers (CI 50, soak 200), each on its own thread and HTTP
session, join as viewers, connect their player at the fake with the token they got, report it
(viewer-connected-to-player), raise a hand and -- every other one -- lower it again; every
tenth also repeats its join (a client retry) while the others are busy. Properties:

- every answer is correct (status 200, body valid against the endpoint's response schema, the
  token names the user and works at the fake); no 5xx, no error at all;
- the final Sync state is exactly the expected one (speakers, viewers, raised hands, one
  document per user), and every user has read-only permissions on the maps and its document;
- delete-stream then cleans everything up through the room-ended webhook, delivered over HTTP,
  within the protocol's consistency bound (5 s).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
import requests

import schemas
from fake_twilio.control.client import ControlClient
from fake_twilio.server import FakeServer
from reference_backend import create_app

from .support import (
    PASSCODE,
    Figures,
    ServedWSGI,
    backend_settings,
    knob,
    live_resources,
    stream_permissions,
    stream_state,
    wait_until,
)

pytestmark = [pytest.mark.server, pytest.mark.soak]

USERS = knob("load_users", 50, 200)
THREADS = knob("load_threads", 25, 64)
CONSISTENCY_BOUND = 5.0


@pytest.fixture
def stack() -> Iterator[dict[str, Any]]:
    with FakeServer() as fake, ServedWSGI() as served:
        settings = backend_settings(fake.credentials, public_url=served.url, twilio_url=fake.url)
        served.app = create_app(settings)
        yield {"fake": fake, "url": served.url, "settings": settings}


class User:
    """One client: its own HTTP session to the backend and its own control-plane session."""

    def __init__(self, url: str, fake_url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.control = ControlClient(fake_url)
        self.latencies: list[float] = []

    def post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        response = self.session.post(
            f"{self.url}/{endpoint}", json=body, headers={"Authorization": PASSCODE}, timeout=60
        )
        self.latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, (endpoint, body, response.status_code, response.text)
        payload = response.json()
        schemas.validate(f"protocol/{endpoint}.response", payload)
        return payload

    def close(self) -> None:
        self.session.close()
        self.control.close()


def test_many_viewers_at_once(stack: dict[str, Any], figures: Figures) -> None:
    fake: FakeServer = stack["fake"]
    secret = stack["settings"].api_key_secret
    host = User(stack["url"], fake.url)
    created = host.post("create-stream", {"user_identity": "host", "stream_name": "load"})
    host.control.connect_to_room(created["token"], "load")
    room_sid = created["room_sid"]
    names = [f"viewer-{n:03d}" for n in range(USERS)]
    barrier = threading.Barrier(min(THREADS, USERS))
    users: list[User] = []
    lock = threading.Lock()
    errors: list[str] = []

    def run(index: int) -> None:
        name = names[index]
        user = User(stack["url"], fake.url)
        with lock:
            users.append(user)
        if index < barrier.parties:
            barrier.wait(timeout=60)
        try:
            body = {"user_identity": name, "stream_name": "load"}
            joined = user.post("join-stream-as-viewer", body)
            assert joined["room_sid"] == room_sid
            assert joined["sync_object_names"]["user_document"] == f"user-{name}"
            claims = jwt.decode(joined["token"], secret, algorithms=["HS256"])
            assert claims["grants"]["identity"] == name and "video" not in claims["grants"]
            user.control.connect_to_player(joined["token"])
            assert user.post("viewer-connected-to-player", body) == {"success": True}
            raised = {**body, "hand_raised": True}
            assert user.post("raise-hand", raised) == {"sent": True}
            if index % 10 == 0:  # a client retry of the join while others write
                user.post("join-stream-as-viewer", body)
            if index % 2 == 0:
                assert user.post("raise-hand", {**body, "hand_raised": False}) == {"sent": True}
        except BaseException as exc:  # collected and reported below
            with lock:
                errors.append(f"{name}: {exc!r}"[:400])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(run, range(USERS)))
    elapsed = time.perf_counter() - started
    assert not errors, "\n".join(errors[:10])

    state = fake.state
    account = fake.credentials.account_sid
    service = next(
        sid
        for sid, svc in state.dump("sync", account)[account]["sync"]["services"].items()
        if svc["friendly_name"] == f"Live Video Stream {room_sid}"
    )
    assert stream_state(state, account, service) == {
        "speakers": {"host": {"host": True}},
        "viewers": {name: {} for name in names},
        "raised_hands": {name: {} for i, name in enumerate(names) if i % 2},
        "documents": {f"user-{name}": {"speaker_invite": False} for name in names},
    }
    read_only = {"read": True, "write": False, "manage": False}
    permissions = stream_permissions(state, account, service)
    for sync_map in ("speakers", "raised_hands", "viewers"):
        assert permissions[sync_map] == {"host": read_only, **{n: read_only for n in names}}
    for name in names:
        assert permissions[f"user-{name}"] == {name: read_only}

    # the end: delete-stream, and the room-ended webhook over HTTP cleans up
    assert host.post("delete-stream", {"stream_name": "load"}) == {"deleted": True}

    def clean() -> bool:
        live = live_resources(state, account)
        return (
            live["rooms"] == []
            and live["player_streamers"] == 0
            and live["media_processors"] == 0
            and live["stream_services"] == 0
            and live["stream_records"] == []
        )

    assert wait_until(clean, timeout=CONSISTENCY_BOUND), live_resources(state, account)
    deliveries = state.webhooks.records()
    assert all(d.status == 200 for d in deliveries if d.url.startswith(stack["url"])), [
        (d.url, d.status, d.error) for d in deliveries if d.status != 200
    ][:5]

    latencies = sorted(t for u in users for t in u.latencies)
    for user in [*users, host]:
        user.close()
    twilio_requests = len(state.journal.entries())
    figures.add(
        users=USERS,
        threads=THREADS,
        backend_requests=len(latencies) + len(host.latencies),
        fake_requests=twilio_requests,
        webhooks_delivered=len(deliveries),
        load_phase_s=round(elapsed, 2),
        backend_requests_per_s=round(len(latencies) / elapsed, 1),
        latency_p50_ms=round(statistics.median(latencies) * 1000, 1),
        latency_p95_ms=round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
        latency_max_ms=round(latencies[-1] * 1000, 1),
        errors=0,
    )
