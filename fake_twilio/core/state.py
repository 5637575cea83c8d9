"""The fake's whole state, owned by one app (no module globals).

:class:`FakeState` holds the accounts, the clock, one backend per (account, product), the
deadline scheduler, the request journal and the webhook outbox, behind one re-entrant lock.
Every REST request and control operation runs its model code under :meth:`FakeState.locked`,
which also runs due deadlines first and delivers the webhooks the operation queued after the
lock is released.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .accounts import AccountRegistry, Credentials
from .clock import Clock
from .errors import TwilioError
from .journal import Journal
from .scheduler import Scheduler
from .webhooks import AsyncDeliveryWorker, Webhook, WebhookDispatcher

WEBHOOK_MODES = ("sync", "async")


class ProductBackend(Protocol):
    """What every product's model (video, media, sync, conversations) provides."""

    def dump(self) -> dict[str, Any]: ...


@dataclass
class ProductContext:
    """What a product backend may use of the state: its account, the clock, deadlines, webhooks."""

    state: FakeState
    account_sid: str
    product: str

    def now(self) -> datetime:
        return self.state.clock.now()

    def schedule(self, when: datetime, callback: Callable[[datetime], None]) -> Any:
        return self.state.scheduler.schedule(when, (self.account_sid, self.product), callback)

    def webhook(self, url: str, method: str, params: list[tuple[str, str]], source: str) -> None:
        self.state.outbox.append(Webhook(self.account_sid, url, method or "POST", params, source))

    def sibling(self, product: str) -> Any:
        """The same account's backend of another product."""
        return self.state.backend(self.account_sid, product)


class FakeState:
    """Everything the fake knows. Create one per app; tests never share it."""

    def __init__(
        self,
        credentials: Credentials | None = None,
        products: dict[str, Callable[[ProductContext], Any]] | None = None,
    ) -> None:
        from ..products import backend_factories

        self.lock = threading.RLock()
        self.clock = Clock()
        self.accounts = AccountRegistry()
        self.default_credentials = credentials or Credentials()
        self.accounts.add(self.default_credentials, "Default fake account")
        self.scheduler = Scheduler()
        self.journal = Journal()
        self.outbox: list[Webhook] = []
        self.webhooks = WebhookDispatcher(self._auth_token_for)
        self._factories = products if products is not None else backend_factories()
        self._backends: dict[tuple[str, str], Any] = {}
        self.extensions: dict[str, Any] = {}
        self._depth = threading.local()
        self.webhook_mode = "sync"
        self._webhook_worker: AsyncDeliveryWorker | None = None

    # -- backends ----------------------------------------------------------------------
    @property
    def products(self) -> list[str]:
        return list(self._factories)

    def backend(self, account_sid: str, product: str) -> Any:
        """The account's backend of ``product``, created on first use.

        Safe without the caller holding :attr:`lock`: the lookup and the creation run under
        it, so two threads never create two backends for one (account, product).
        """
        key = (account_sid, product)
        with self.lock:
            found = self._backends.get(key)
            if found is None:
                if product not in self._factories:
                    raise KeyError(product)
                if account_sid not in self.accounts:
                    raise TwilioError(20003, "Authenticate", 401)
                found = self._factories[product](ProductContext(self, account_sid, product))
                self._backends[key] = found
            return found

    def _auth_token_for(self, account_sid: str) -> str | None:
        account = self.accounts.get(account_sid)
        return account.auth_token if account else None

    # -- locking, time and webhooks ------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Run model code exclusively; deliver the webhooks it queued once the lock is free."""
        with self.lock:
            outer = getattr(self._depth, "value", 0)
            self._depth.value = outer + 1
            try:
                self.scheduler.run_due(self.clock.now())
                yield
            finally:
                self._depth.value = outer
                pending: list[Webhook] = []
                if outer == 0:
                    pending, self.outbox = self.outbox, []
        if pending:
            self.deliver(pending)

    def deliver(self, hooks: list[Webhook]) -> None:
        """Deliver webhooks: now (``sync`` mode) or on the background worker (``async``)."""
        worker = self._webhook_worker
        if worker is None or not worker.submit(hooks):  # not async, or switched back meanwhile
            self.webhooks.deliver(hooks)

    def set_webhook_mode(self, mode: str) -> None:
        """``sync``: a call returns after its webhooks were answered; ``async``: in the background.

        Async deliveries keep their order (one worker thread per state). Switching back to
        ``sync`` first delivers everything still queued.
        """
        if mode not in WEBHOOK_MODES:
            raise ValueError(f"webhook mode must be one of {', '.join(WEBHOOK_MODES)}")
        with self.lock:
            if mode == self.webhook_mode:
                return
            worker, self._webhook_worker = self._webhook_worker, None
            if mode == "async":
                self._webhook_worker = AsyncDeliveryWorker(self.webhooks)
            self.webhook_mode = mode
        if worker is not None:
            worker.stop()

    def flush_webhooks(self, timeout: float | None = 10.0) -> bool:
        """Wait until every webhook queued so far was delivered (always True in ``sync`` mode)."""
        worker = self._webhook_worker
        return True if worker is None else worker.flush(timeout)

    flush = flush_webhooks

    def advance_clock(self, seconds: float) -> datetime:
        """Move the clock and run every deadline that came due (firing their webhooks)."""
        with self.locked():
            now = self.clock.advance(seconds)
            self.scheduler.run_due(now)
        return now

    def tick(self) -> None:
        """Run due deadlines now (and deliver what they queued)."""
        with self.locked():
            pass

    # -- reset and dump -----------------------------------------------------------------
    def reset(self, product: str | None = None, account_sid: str | None = None) -> None:
        """Forget resources: all, one product's, one account's, or one product of one account."""
        with self.lock:
            for key in list(self._backends):
                acc, prod = key
                if (account_sid is None or acc == account_sid) and (
                    product is None or prod == product
                ):
                    del self._backends[key]
            self.scheduler.drop(account_sid, product)
            if product is None and account_sid is None:
                self.outbox.clear()
                self.journal.clear()
                self.webhooks.clear()
                self.clock.reset()
                for extension in self.extensions.values():
                    reset = getattr(extension, "reset", None)
                    if reset is not None:
                        reset()

    def dump(self, product: str | None = None, account_sid: str | None = None) -> dict[str, Any]:
        """A JSON view of every resource: ``{account_sid: {product: {...}}}``."""
        with self.locked():
            result: dict[str, Any] = {}
            for (acc, prod), backend in sorted(self._backends.items()):
                if (account_sid is None or acc == account_sid) and (
                    product is None or prod == product
                ):
                    result.setdefault(acc, {})[prod] = backend.dump()
            return result
