"""In-process mode: ``fake_twilio.mock()`` answers every ``*.twilio.com`` request from a fake.

``mock()`` uses ``responses`` to intercept what ``requests`` sends: any request to
``https://<anything>.twilio.com`` (every product, edge and region host such as
``video.dublin.ie1.twilio.com``) is handed to the fake's WSGI app in-process, with a WSGI
environ built directly (no socket, no test client); every other host passes through to the
network untouched (webhooks to a local receiver, other services), or to an enclosing
``responses`` mock when there is one. Usable as a context manager, as a decorator of sync
functions (a fresh fake per call), or with ``start()`` / ``stop()``. Mocks nest: the innermost
active one answers, and the outer one answers again once the inner one stopped (each has its
own fake unless they share ``app``); stop them in reverse order of starting, as ``with`` does.

Not covered: the SDK's ``AsyncTwilioHttpClient`` (aiohttp) and HTTP clients other than
``requests``; use :class:`fake_twilio.server.FakeServer` for those.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
from collections.abc import Callable
from contextvars import ContextVar
from io import BytesIO
from types import MappingProxyType
from typing import Any, TypeVar, cast
from unittest import mock as std_mock
from urllib.parse import unquote_to_bytes

import requests
import responses
from flask import Flask
from requests.adapters import HTTPAdapter
from responses import CallbackResponse

from .app import create_app
from .config import FakeConfig
from .core.faults import DroppedConnection
from .handle import FakeTwilio

F = TypeVar("F", bound=Callable[..., Any])

TWILIO_HOST_RE = re.compile(r"^https?://(?:[a-z0-9-]+\.)+twilio\.com(?::\d+)?(?:[/?#].*)?$", re.I)
PASSTHRU_RE = re.compile(r"^(?!https?://(?:[a-z0-9-]+\.)+twilio\.com(?::\d+)?(?:[/?#]|$)).*", re.I)

# The handles of the mocks active in this context, innermost last (an immutable tuple).
_ACTIVE: ContextVar[tuple[FakeTwilio, ...]] = ContextVar("fake_twilio_active", default=())


def current() -> FakeTwilio:
    """The innermost active in-process fake (for code under ``@mock()``); RuntimeError if none."""
    active = _ACTIVE.get()
    if not active:
        raise RuntimeError("no fake_twilio.mock() is active")
    return active[-1]


class WSGITransport:
    """Answers a ``requests.PreparedRequest`` from a WSGI app: ``(status, headers, body)``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, request: requests.PreparedRequest) -> tuple[int, list[Any], bytes]:
        environ = build_environ(request)
        captured: list[Any] = []

        def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            captured[:] = [status, headers]
            return _ignore_write

        try:
            result = self.app(environ, start_response)
        except DroppedConnection as exc:  # a fault rule: look like a network failure
            raise requests.exceptions.ConnectionError(str(exc), request=request) from exc
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = captured
        return int(status[:3]), headers, body


def _ignore_write(data: bytes) -> None:
    """The legacy WSGI ``write`` callable; Flask never uses it."""


_STATIC_ENVIRON = MappingProxyType(
    {
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
)


@functools.lru_cache(maxsize=256)
def _environ_key(header: str) -> str | None:
    """``X-Twilio-Client`` -> ``HTTP_X_TWILIO_CLIENT`` (None for headers set elsewhere)."""
    key = header.upper().replace("-", "_")
    if key == "CONTENT_TYPE":
        return key
    if key in ("CONTENT_LENGTH", "HOST"):
        return None
    return "HTTP_" + key


def build_environ(request: requests.PreparedRequest) -> dict[str, Any]:
    """A PEP 3333 environ for ``request`` (what a server would hand the app).

    Like werkzeug's and gunicorn's servers it also gives the raw request target as
    ``RAW_URI`` and ``REQUEST_URI``: ``PATH_INFO`` is percent-decoded, and only the raw path
    tells an encoded ``/`` inside a segment from a separator (see :mod:`.core.segments`).
    """
    scheme, _, rest = (request.url or "").partition("://")
    netloc, slash, target = rest.partition("/")
    raw_path, _, query = (slash + target).partition("?")
    raw_path = raw_path.partition("#")[0] or "/"
    query = query.partition("#")[0]
    path = raw_path
    if "%" in path:
        path = unquote_to_bytes(path).decode("latin-1")
    raw_target = raw_path + ("?" + query if query else "")
    host, _, port = netloc.partition(":")
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = b"".join(body)  # an iterable body
    environ = dict(_STATIC_ENVIRON)
    environ.update(
        {
            "REQUEST_METHOD": (request.method or "GET").upper(),
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "RAW_URI": raw_target,
            "REQUEST_URI": raw_target,
            "SERVER_NAME": host or "localhost",
            "SERVER_PORT": port or ("443" if scheme == "https" else "80"),
            "HTTP_HOST": netloc,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.url_scheme": scheme or "https",
            "wsgi.input": BytesIO(body),
        }
    )
    for name, value in request.headers.items():
        key = _environ_key(name)
        if key is not None:
            environ[key] = value
    return environ


class _TwilioCallback(CallbackResponse):
    """One ``responses`` entry for every method on every ``*.twilio.com`` URL."""

    def __init__(self, transport: WSGITransport) -> None:
        super().__init__("GET", TWILIO_HOST_RE, transport, content_type=None)

    def matches(self, request: requests.PreparedRequest) -> tuple[bool, str]:
        if TWILIO_HOST_RE.match(request.url or ""):
            return True, ""
        return False, "not a twilio.com URL"

    def get_response(self, request: requests.PreparedRequest) -> Any:
        # Keep the call records of ``responses`` from growing without bound on long runs.
        self.calls.reset()
        return super().get_response(request)


class _Interceptor(responses.RequestsMock):
    """``responses.RequestsMock`` that also spares ``*.twilio.com`` requests the proxy lookup.

    While it is active, ``requests`` sessions skip their per-request reading of the proxy
    settings from the environment (``merge_environment_settings``, which walks every
    environment variable twice) for the URLs this mock answers in-process: they never reach
    the network. Other URLs are untouched. Measured in bench/ (docs/PERFORMANCE.md).
    """

    _env_patch: Any = None

    def start(self) -> None:
        super().start()
        self._env_patch = std_mock.patch.object(
            requests.Session,
            "merge_environment_settings",
            _skip_environment_for_twilio(requests.Session.merge_environment_settings),
        )
        self._env_patch.start()

    def stop(self, allow_assert: bool = True) -> None:
        patch, self._env_patch = self._env_patch, None
        if patch is not None:
            patch.stop()
        super().stop(allow_assert=allow_assert)


def _skip_environment_for_twilio(real: Callable[..., Any]) -> Callable[..., Any]:
    def merge_environment_settings(
        self: requests.Session, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        if isinstance(url, str) and TWILIO_HOST_RE.match(url):
            return {
                "proxies": proxies or {},
                "stream": self.stream if stream is None else stream,
                "verify": self.verify if verify is None else verify,
                "cert": self.cert if cert is None else cert,
            }
        return real(self, url, proxies, stream, verify, cert)

    return merge_environment_settings


class FakeMock:
    """An in-process fake behind ``responses``; see the module docstring.

    ``app`` is used when given; otherwise one app is built from ``config`` on first start and
    kept for later starts of this object. As a decorator, each call of the decorated
    function runs under a fresh ``FakeMock`` with the same ``config`` and ``app``.
    """

    def __init__(self, config: FakeConfig | None = None, *, app: Flask | None = None) -> None:
        self.config = config
        self._app = app
        self._started: list[tuple[responses.RequestsMock, FakeTwilio, Any]] = []

    @property
    def app(self) -> Flask:
        if self._app is None:
            self._app = create_app(self.config)
        return self._app

    def start(self) -> FakeTwilio:
        """Start intercepting; return the handle. Each start needs its own :meth:`stop`."""
        handle = FakeTwilio(self.app)
        # Pass-through goes to whatever ``send`` is installed now: the network, or an outer
        # mock (another fake, or a test's own ``responses`` stubs for non-Twilio hosts).
        interceptor = _Interceptor(
            assert_all_requests_are_fired=False, real_adapter_send=HTTPAdapter.send
        )
        interceptor.add(_TwilioCallback(WSGITransport(self.app)))
        interceptor.add_passthru(PASSTHRU_RE)
        interceptor.start()
        token = _ACTIVE.set((*_ACTIVE.get(), handle))
        self._started.append((interceptor, handle, token))
        return handle

    def stop(self) -> None:
        """Stop the latest start (no-op when not started)."""
        if not self._started:
            return
        interceptor, _handle, token = self._started.pop()
        interceptor.stop(allow_assert=False)
        try:
            _ACTIVE.reset(token)
        except (ValueError, RuntimeError):  # stopped from another context: drop it by hand
            _ACTIVE.set(tuple(h for h in _ACTIVE.get() if h is not _handle))

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __call__(self, func: F) -> F:
        """Decorate a sync function: it runs with its own active fake (see :func:`current`)."""
        if inspect.iscoroutinefunction(func):
            raise TypeError(
                "fake_twilio.mock() decorates sync functions only; "
                "use `with fake_twilio.mock():` inside the coroutine instead"
            )
        config, app = self.config, self._app

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with FakeMock(config, app=app):
                return func(*args, **kwargs)

        return cast(F, wrapper)


def mock(config: FakeConfig | None = None, *, app: Flask | None = None) -> FakeMock:
    """Route every ``*.twilio.com`` request made through ``requests`` to an in-process fake.

    ``with fake_twilio.mock() as fake:`` yields a :class:`~fake_twilio.handle.FakeTwilio`;
    ``@fake_twilio.mock()`` decorates a function (get the handle inside with
    :func:`current`). ``config`` configures the fake built for it; ``app`` reuses an
    existing fake instead (e.g. one shared with a :class:`~fake_twilio.server.FakeServer`).
    """
    return FakeMock(config, app=app)


__all__ = ["FakeMock", "FakeTwilio", "WSGITransport", "build_environ", "current", "mock"]
