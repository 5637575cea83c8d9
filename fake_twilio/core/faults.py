"""Fault injection: make chosen product requests fail, slow down or lose their connection.

A :class:`FaultRule` matches requests by product, HTTP method, path (a regular expression
that must match the whole product-relative path as sent, percent-encoding included, e.g.
``/v1/Rooms/RM[0-9a-f]{32}`` or ``/v1/Services/IS.*/Documents/user-a%2Fb``, or a glob such as
``/v1/Rooms/*``) and account, and then does one of:

- ``error``: answer a Twilio error (code, HTTP status, message) in Twilio's shape;
- ``latency``: wait ``latency_ms`` before answering normally;
- ``drop``: close the connection without any HTTP response.

``latency_ms`` may also be combined with ``error`` and ``drop`` (a slow failure). ``after``
skips the first N matching requests ("fail the 2nd call": ``after=1, times=1``); ``times``
retires the rule after it fired N times; ``probability`` (with an optional ``seed`` for a
reproducible sequence) fires it only on that fraction of the matching requests.

Rules live in a :class:`FaultInjector` stored in ``state.extensions["faults"]`` (see
:func:`faults_of`); the app applies them after authenticating a product request and before the
view runs, outside the state lock, so added latency never blocks other requests. The first
matching error or drop rule that fires wins; latency of every firing rule adds up.

A dropped connection is raised as :class:`DroppedConnection` (a ``ConnectionError``). The app
turns it into an aborted exchange: the WSGI layer (:class:`DropConnectionMiddleware`) shuts the
client's socket when the server exposes it (werkzeug's ``environ["werkzeug.socket"]``) and
re-raises, which werkzeug's server treats as a dropped connection (no response is written).
In-process transports must catch :class:`DroppedConnection` and raise
``requests.exceptions.ConnectionError`` instead, as ``fake_twilio.http_client.WSGIAdapter`` does.
"""

from __future__ import annotations

import contextlib
import fnmatch
import itertools
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import STATUS_BY_CODE, TwilioError

ACTIONS = ("error", "latency", "drop")
DROP_ENVIRON_KEY = "fake_twilio.dropped"
DROPPED_STATUS = 499  # what the journal records for a request whose connection was dropped
MAX_LATENCY_MS = 600_000

DEFAULT_MESSAGES = {
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service unavailable",
}


class DroppedConnection(ConnectionAbortedError):
    """A fault rule dropped this request's connection: the client must see a network error."""


@dataclass
class FaultRule:
    """One fault; see the module docstring for the meaning of each field."""

    id: str
    action: str
    product: str | None = None
    method: str | None = None
    path: str | None = None
    path_glob: str | None = None
    account_sid: str | None = None
    code: int | None = None
    status: int | None = None
    message: str | None = None
    latency_ms: float = 0.0
    times: int | None = None
    after: int = 0
    probability: float | None = None
    seed: int | None = None
    matched: int = 0
    fired: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _random: random.Random | None = field(default=None, repr=False, compare=False)

    @property
    def expired(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, product: str | None, method: str, path: str, account_sid: str | None) -> bool:
        if self.product is not None and self.product != product:
            return False
        if self.method is not None and self.method != method.upper():
            return False
        if self.account_sid is not None and self.account_sid != account_sid:
            return False
        if self._pattern is not None and not self._pattern.fullmatch(path):
            return False
        return self.path_glob is None or fnmatch.fnmatchcase(path, self.path_glob)

    def as_dict(self) -> dict[str, Any]:
        """The JSON view (what ``GET /_fake/faults`` lists)."""
        return {
            "id": self.id,
            "action": self.action,
            "product": self.product,
            "method": self.method,
            "path": self.path,
            "path_glob": self.path_glob,
            "account_sid": self.account_sid,
            "code": self.code,
            "status": self.status,
            "message": self.message,
            "latency_ms": self.latency_ms,
            "times": self.times,
            "after": self.after,
            "probability": self.probability,
            "seed": self.seed,
            "matched": self.matched,
            "fired": self.fired,
            "remaining": None if self.times is None else max(self.times - self.fired, 0),
        }


def _invalid(name: str, detail: str) -> TwilioError:
    return TwilioError(20001, f"Invalid fault field {name}: {detail}", 400)


class FaultInjector:
    """The fault rules of one fake. Thread-safe; rules are checked in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    # -- management ---------------------------------------------------------------------
    def add(
        self,
        action: str = "error",
        *,
        product: str | None = None,
        method: str | None = None,
        path: str | None = None,
        path_glob: str | None = None,
        account_sid: str | None = None,
        code: int | None = None,
        status: int | None = None,
        message: str | None = None,
        latency_ms: float | None = None,
        times: int | None = None,
        after: int = 0,
        probability: float | None = None,
        seed: int | None = None,
        products: Iterable[str] | None = None,
    ) -> FaultRule:
        """Validate and add a rule; raise TwilioError 20001 naming the bad field.

        ``products`` (optional) is the list of valid product names to check ``product`` against.
        An ``error`` rule needs ``code``; its status defaults to Twilio's status for that code
        (500 when unknown) and its message to the code's title.
        """
        if action not in ACTIONS:
            raise _invalid("action", f"{action!r} is not one of {', '.join(ACTIONS)}")
        if products is not None and product is not None and product not in set(products):
            raise _invalid("product", f"{product!r} is not one of {', '.join(products)}")
        pattern = None
        if path is not None:
            try:
                pattern = re.compile(path)
            except re.error as exc:
                raise _invalid("path", f"not a regular expression ({exc})") from None
        if action == "error":
            if not _is_int(code) or not 1 <= code <= 99999:
                raise _invalid("code", "an error fault needs a Twilio error code (an integer)")
            if status is None:
                status = STATUS_BY_CODE.get(code, 500)
            if message is None:
                message = DEFAULT_MESSAGES.get(code, f"Injected fault {code}")
        elif code is not None or status is not None:
            raise _invalid("code", f"only error faults take a code and a status, not {action}")
        if status is not None and (not _is_int(status) or not 400 <= status <= 599):
            raise _invalid("status", "must be an HTTP error status (400..599)")
        latency = 0.0 if latency_ms is None else latency_ms
        if not _is_number(latency) or not 0 <= latency <= MAX_LATENCY_MS:
            raise _invalid("latency_ms", f"must be a number between 0 and {MAX_LATENCY_MS}")
        if action == "latency" and latency <= 0:
            raise _invalid("latency_ms", "a latency fault needs latency_ms > 0")
        if times is not None and (not _is_int(times) or times < 1):
            raise _invalid("times", "must be a positive integer (or absent: forever)")
        if not _is_int(after) or after < 0:
            raise _invalid("after", "must be a non-negative integer")
        if probability is not None and (not _is_number(probability) or not 0 <= probability <= 1):
            raise _invalid("probability", "must be a number between 0 and 1")
        if seed is not None and not _is_int(seed):
            raise _invalid("seed", "must be an integer")
        for name, value in (("method", method), ("path_glob", path_glob), ("message", message)):
            if value is not None and not isinstance(value, str):
                raise _invalid(name, "must be a string")
        with self._lock:
            rule = FaultRule(
                id=f"fault-{next(self._ids)}",
                action=action,
                product=product,
                method=method.upper() if method else None,
                path=path,
                path_glob=path_glob,
                account_sid=account_sid,
                code=code,
                status=status,
                message=message,
                latency_ms=float(latency),
                times=times,
                after=after,
                probability=probability,
                seed=seed,
                _pattern=pattern,
                _random=random.Random(seed) if probability is not None else None,
            )
            self._rules.append(rule)
            return rule

    def rules(self) -> list[FaultRule]:
        """The active rules (expired ones are removed as they expire)."""
        with self._lock:
            return list(self._rules)

    def get(self, rule_id: str) -> FaultRule | None:
        with self._lock:
            return next((rule for rule in self._rules if rule.id == rule_id), None)

    def remove(self, rule_id: str) -> bool:
        """Remove one rule; False when there is no such (active) rule."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.id == rule_id:
                    del self._rules[index]
                    return True
            return False

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    reset = clear  # called by FakeState.reset() on a full reset

    def __len__(self) -> int:
        return len(self._rules)

    # -- application --------------------------------------------------------------------
    def apply(
        self,
        product: str | None,
        method: str,
        path: str,
        account_sid: str | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Apply the rules to one request: sleep, raise TwilioError, or raise DroppedConnection.

        ``path`` may be the app path (``/video/v1/Rooms``) or the product-relative one
        (``/v1/Rooms``); rules always see the product-relative path. Must be called without
        holding the state lock (it may sleep).
        """
        if not self._rules:
            return
        relative = _relative_path(product, path)
        latency = 0.0
        outcome: FaultRule | None = None
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(product, method, relative, account_sid):
                    continue
                rule.matched += 1
                if rule.matched <= rule.after:
                    continue
                if rule._random is not None and rule._random.random() >= (rule.probability or 0):
                    continue
                if outcome is not None and rule.action != "latency":
                    continue  # an error or drop already won; leave this rule for later requests
                rule.fired += 1
                latency += rule.latency_ms
                if rule.action != "latency":
                    outcome = rule
                if rule.expired:
                    self._rules.remove(rule)
        if latency > 0:
            sleep(latency / 1000.0)
        if outcome is None:
            return
        if outcome.action == "drop":
            raise DroppedConnection(f"connection dropped by fault rule {outcome.id}")
        raise TwilioError(
            outcome.code or 20500,
            outcome.message or "Injected fault",
            outcome.status or 500,
        )


def faults_of(state: Any, *, create: bool = True) -> FaultInjector | None:
    """The state's :class:`FaultInjector` (created on first use unless ``create`` is False)."""
    found = state.extensions.get("faults")
    if found is None and create:
        found = state.extensions.setdefault("faults", FaultInjector())
    return found


class DropConnectionMiddleware:
    """WSGI middleware that turns a request marked as dropped into an aborted connection.

    The app marks the request (``environ[DROP_ENVIRON_KEY]``) instead of answering; this
    middleware then closes the client's socket when the server exposes it and raises
    :class:`DroppedConnection` without calling ``start_response``, so no HTTP response is
    ever written.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        captured: list[tuple[Any, ...]] = []

        def deferred_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            captured.append((status, headers, exc_info))
            return lambda data: None

        result = self.app(environ, deferred_start_response)
        if environ.get(DROP_ENVIRON_KEY):
            close = getattr(result, "close", None)
            if close is not None:
                close()
            drop_connection(environ)
        if captured:
            start_response(*captured[-1])  # the last call wins, as in PEP 3333 error handling
        return result


def drop_connection(environ: dict[str, Any]) -> None:
    """Shut the client's socket (when the server exposes it) and raise DroppedConnection."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise DroppedConnection(str(environ.get(DROP_ENVIRON_KEY) or "connection dropped"))


def _relative_path(product: str | None, path: str) -> str:
    if product:
        prefix = f"/{product}"
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix) :] or "/"
    return path


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
