"""Shared structures of the fake stay consistent under a threaded server.

Two kinds of tests: probes that check a shared dict is only walked while its lock is held
(deterministic: they fail on code that copies it without the lock), and bounded stress runs
with many threads whose assertions are about results only, never about timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, request

from fake_twilio.core.accounts import AccountRegistry
from fake_twilio.core.state import FakeState
from fake_twilio.core.webhooks import SessionPool, Webhook, WebhookDispatcher

from .support import serve

THREADS = 8


class LockProbeDict(dict):
    """A dict that records, each time it is walked, whether ``held()`` was true."""

    def __init__(self, data: dict[str, Any], held: Callable[[], bool]) -> None:
        super().__init__(data)
        self.held = held
        self.walks: list[bool] = []

    def __iter__(self) -> Any:
        self.walks.append(self.held())
        return super().__iter__()

    def items(self) -> Any:
        self.walks.append(self.held())
        return super().items()


def held_elsewhere(lock: Any) -> bool:
    """Whether ``lock`` is held, asked from another thread (works for Lock and RLock)."""
    result: list[bool] = []

    def probe() -> None:
        acquired = lock.acquire(blocking=False)
        if acquired:
            lock.release()
        result.append(not acquired)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return result[0]


def test_account_sids_are_copied_under_the_lock() -> None:
    registry = AccountRegistry()
    registry.create("one")
    probe = LockProbeDict(registry._accounts, registry._lock.locked)
    registry._accounts = probe
    assert len(registry.sids()) == 1
    assert probe.walks == [True]


def test_accounts_stress() -> None:
    registry = AccountRegistry()

    def work(n: int) -> int:
        made = [registry.create(f"t{n}-{i}") for i in range(25)]
        for creds in made:
            assert registry.resolve(creds.api_key_sid, creds.api_key_secret) == creds.account_sid
            registry.sids()
        return len(made)

    with ThreadPoolExecutor(THREADS) as pool:
        created = sum(pool.map(work, range(THREADS)))
    assert len(registry.sids()) == created == THREADS * 25


def test_backend_is_created_under_the_state_lock() -> None:
    seen: list[bool] = []

    def factory(ctx: Any) -> object:
        seen.append(held_elsewhere(ctx.state.lock))
        return object()

    state = FakeState(products={"probe": factory})
    state.backend(state.default_credentials.account_sid, "probe")
    assert seen == [True]


def test_backend_is_created_once_under_contention() -> None:
    calls: list[int] = []
    state = FakeState(products={"probe": lambda ctx: calls.append(1) or object()})
    account = state.default_credentials.account_sid
    start = threading.Barrier(THREADS)

    def fetch(_: int) -> Any:
        start.wait()
        return state.backend(account, "probe")

    with ThreadPoolExecutor(THREADS) as pool:
        backends = list(pool.map(fetch, range(THREADS)))
    assert len(calls) == 1
    assert all(b is backends[0] for b in backends)


def test_wsgi_targets_are_walked_under_the_lock() -> None:
    dispatcher = WebhookDispatcher(lambda sid: "token")
    dispatcher.register_wsgi("https://backend.test", Flask("target"))
    probe = LockProbeDict(dispatcher._wsgi_targets, dispatcher._lock.locked)
    dispatcher._wsgi_targets = probe
    assert dispatcher._wsgi_for("https://backend.test/hook") is not None
    assert probe.walks == [True]


def test_session_pool_never_lends_one_session_twice() -> None:
    pool = SessionPool(max_idle=1)
    with pool.session() as first, pool.session() as second:
        assert first is not second
    assert pool.idle() == 1  # one kept for reuse, the other closed
    with pool.session() as again:
        assert again in (first, second)


def test_sync_deliveries_from_many_threads() -> None:
    receiver = Flask("receiver")
    received: list[str] = []
    lock = threading.Lock()

    @receiver.post("/hook/<int:n>")
    def hook(n: int) -> str:
        with lock:
            received.append(request.form["N"])
        return "ok"

    dispatcher = WebhookDispatcher(lambda sid: "token")
    per_thread = 10
    with serve(receiver) as base:

        def deliver(t: int) -> list[int | None]:
            hooks = [
                Webhook("AC1", f"{base}/hook/{i}", "POST", [("N", f"{t}-{i}")], "test")
                for i in range(per_thread)
            ]
            return [record.status for record in dispatcher.deliver(hooks)]

        with ThreadPoolExecutor(THREADS) as pool:
            statuses = [s for batch in pool.map(deliver, range(THREADS)) for s in batch]
    assert statuses == [200] * (THREADS * per_thread)
    assert sorted(received) == sorted(f"{t}-{i}" for t in range(THREADS) for i in range(per_thread))
    assert len(dispatcher.records()) == THREADS * per_thread
