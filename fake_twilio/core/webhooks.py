"""Outbound webhooks: signed like Twilio's, delivered to a URL or to an in-process WSGI app.

Models never deliver anything themselves: they queue a :class:`Webhook` in the state's outbox
while the state lock is held, and the outbox is drained after the lock is released (so a
backend that calls the fake back from its webhook handler cannot deadlock). Every delivery is
recorded, failures included; a failed delivery never raises into the fake.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from twilio.request_validator import RequestValidator
from werkzeug.test import Client

from .webhook_rewrite import WebhookRewrites

DELIVERY_TIMEOUT = 10.0

log = logging.getLogger("fake_twilio.webhooks")


@dataclass
class Webhook:
    """One HTTP callback Twilio would make."""

    account_sid: str
    url: str
    method: str
    params: list[tuple[str, str]]
    source: str  # e.g. "video.room", "sync.service"


@dataclass
class Delivery:
    seq: int
    time: float
    account_sid: str
    source: str
    url: str
    method: str
    params: dict[str, str]
    signature: str
    status: int | None = None
    error: str | None = None
    duration_ms: float = 0.0
    response_body: str = field(default="", repr=False)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    """The ``X-Twilio-Signature`` Twilio would send for this URL and form."""
    return RequestValidator(auth_token).compute_signature(url, params)


class SessionPool:
    """``requests.Session`` objects lent to one delivery at a time.

    Sync-mode webhooks are delivered on the request threads of a threaded server, and
    ``requests.Session`` is not documented thread-safe. A session is therefore never shared
    by two deliveries at once; an idle one is reused (keeping its pooled connections), and a
    new one is made when all are busy. No lock is held during a delivery, so a receiver that
    calls the fake back (whose own webhooks need a session meanwhile) cannot deadlock.
    """

    def __init__(self, max_idle: int = 8) -> None:
        self._lock = threading.Lock()
        self._idle: list[requests.Session] = []
        self._max_idle = max_idle

    @contextmanager
    def session(self) -> Iterator[requests.Session]:
        with self._lock:
            session = self._idle.pop() if self._idle else requests.Session()
        try:
            yield session
        finally:
            with self._lock:
                keep = len(self._idle) < self._max_idle
                if keep:
                    self._idle.append(session)
            if not keep:
                session.close()

    def idle(self) -> int:
        with self._lock:
            return len(self._idle)


class WebhookDispatcher:
    """Signs and delivers webhooks; keeps a bounded record of every delivery."""

    def __init__(self, auth_token_for, max_records: int = 10_000) -> None:
        self._auth_token_for = auth_token_for
        self._lock = threading.Lock()
        self._records: deque[Delivery] = deque(maxlen=max_records)
        self._seq = itertools.count(1)
        self._wsgi_targets: dict[str, Any] = {}
        self._sessions = SessionPool()
        self.rewrites = WebhookRewrites()  # public URL prefix -> local URL (webhook_rewrite.py)

    # -- in-process targets -------------------------------------------------------------
    def register_wsgi(self, url_prefix: str, app: Any) -> None:
        """Deliver webhooks whose URL starts with ``url_prefix`` to ``app`` in-process."""
        with self._lock:
            self._wsgi_targets[url_prefix.rstrip("/")] = app

    def unregister_wsgi(self, url_prefix: str) -> None:
        with self._lock:
            self._wsgi_targets.pop(url_prefix.rstrip("/"), None)

    def _wsgi_for(self, url: str) -> Any:
        """The in-process app for ``url``; the targets are copied under the lock, because a
        delivery thread walking them while a test registers one would raise."""
        with self._lock:
            targets = list(self._wsgi_targets.items())
        for prefix, app in targets:
            if url == prefix or url.startswith(prefix + "/") or url.startswith(prefix + "?"):
                return app
        return None

    # -- delivery ----------------------------------------------------------------------
    def deliver(self, hooks: list[Webhook]) -> list[Delivery]:
        return [self.deliver_one(hook) for hook in hooks]

    def deliver_one(self, hook: Webhook) -> Delivery:
        params = dict(hook.params)
        token = self._auth_token_for(hook.account_sid) or ""
        method = hook.method.upper()
        if method == "GET":
            sep = "&" if "?" in hook.url else "?"
            target_url = f"{hook.url}{sep}{urlencode(hook.params)}"
            signature = sign(token, target_url, {})
        else:
            target_url = hook.url
            signature = sign(token, hook.url, params)
        record = Delivery(
            seq=next(self._seq),
            time=time.time(),
            account_sid=hook.account_sid,
            source=hook.source,
            url=hook.url,
            method=method,
            params=params,
            signature=signature,
        )
        headers = {
            "X-Twilio-Signature": signature,
            "User-Agent": "TwilioProxy/1.1",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        started = time.perf_counter()
        try:
            # Sent to the rewritten URL; the signature stays computed over the registered one.
            send_url = self.rewrites.rewrite(target_url)
            app = self._wsgi_for(self.rewrites.rewrite(hook.url))
            if app is not None:
                record.status, record.response_body = _deliver_wsgi(
                    app, method, send_url, hook.params, headers
                )
            else:
                with self._sessions.session() as session:
                    response = session.request(
                        method,
                        send_url,
                        data=hook.params if method != "GET" else None,
                        headers=headers,
                        timeout=DELIVERY_TIMEOUT,
                        allow_redirects=False,
                    )
                record.status, record.response_body = response.status_code, response.text[:2000]
        except Exception as exc:  # a delivery failure is recorded, never raised
            record.error = f"{type(exc).__name__}: {exc}"
        record.duration_ms = (time.perf_counter() - started) * 1000
        with self._lock:
            self._records.append(record)
        return record

    def records(self, *, since: int = 0, account_sid: str | None = None) -> list[Delivery]:
        with self._lock:
            return [
                r
                for r in self._records
                if r.seq > since and (account_sid is None or r.account_sid == account_sid)
            ]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


class AsyncDeliveryWorker:
    """A background thread that delivers webhooks one at a time, in the order they were queued.

    Used by the ``async`` webhook mode: the call that triggered a webhook returns without
    waiting for the receiver. :meth:`flush` waits until everything queued so far is delivered.
    """

    def __init__(self, dispatcher: WebhookDispatcher) -> None:
        self._dispatcher = dispatcher
        self._queue: deque[Webhook] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="fake-twilio-webhooks", daemon=True)
        self._thread.start()

    def submit(self, hooks: list[Webhook]) -> bool:
        """Queue ``hooks``; False (nothing queued) once the worker is stopped."""
        with self._cond:
            if self._stopped:
                return False
            self._queue.extend(hooks)
            self._cond.notify_all()
            return True

    def pending(self) -> int:
        """Webhooks queued or being delivered."""
        with self._cond:
            return len(self._queue) + (1 if self._busy else 0)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every queued webhook was delivered; False if ``timeout`` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def stop(self, timeout: float | None = 10.0) -> bool:
        """Deliver what is queued, then end the thread. Returns whether everything was delivered."""
        delivered = self.flush(timeout)
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout)
        return delivered

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopped:
                    self._cond.wait()
                if not self._queue:
                    return
                hook = self._queue.popleft()
                self._busy = True
            try:
                self._dispatcher.deliver_one(hook)
            except Exception:  # deliver_one records failures; this is a last resort
                log.exception("webhook delivery to %s failed", hook.url)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def _deliver_wsgi(
    app: Any, method: str, url: str, params: list[tuple[str, str]], headers: dict[str, str]
) -> tuple[int, str]:
    parts = urlsplit(url)
    client = Client(app)
    response = client.open(
        parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=method,
        data=urlencode(params) if method != "GET" else None,
        headers=headers,
    )
    body = response.get_data(as_text=True)[:2000]
    status = response.status_code
    response.close()
    return status, body
