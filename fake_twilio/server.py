"""Standalone mode: the fake on a real socket (werkzeug's threaded server).

:func:`serve` runs a fake until SIGINT/SIGTERM (what ``fake-twilio serve`` does): it prints its
URL and credentials, writes them as JSON to ``ready_file`` once it accepts connections, and
returns 0 after a clean stop. :class:`FakeServer` runs one in a background thread for Python
code and tests (``with FakeServer() as server: server.client()...``).

The server routes by Host header (``Host: video.twilio.com``, edge/region hosts too) and by
path prefix (``/video/v1/Rooms``); :class:`~fake_twilio.http_client.FakeServerHttpClient`
uses the latter. ``GET /_fake/health`` always answers (the control plane's route when it is
installed, else a minimal one added here).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any, TextIO

from flask import Flask
from twilio.http.http_client import TwilioHttpClient
from werkzeug.serving import (
    BaseWSGIServer,
    WSGIRequestHandler,
    get_sockaddr,
    make_server,
    select_address_family,
)

from .app import create_app, state_of
from .config import FakeConfig
from .handle import FakeHandle
from .http_client import FakeServerHttpClient

HEALTH_PATH = "/_fake/health"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_FLUSH_TIMEOUT = 5.0


class ServerStartError(RuntimeError):
    """The server could not start (address in use, bad host ...); the message is one line."""


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def url_host(host: str) -> str:
    """The host to put in a URL for a server bound to ``host`` (wildcards -> loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


def ensure_health_route(app: Flask) -> None:
    """Add ``GET /_fake/health`` unless the control plane already serves it."""
    if any(rule.rule == HEALTH_PATH for rule in app.url_map.iter_rules()):
        return

    def health() -> dict[str, Any]:
        return {"status": "ok", "products": state_of(app).products}

    app.add_url_rule(HEALTH_PATH, "fake_health", health, methods=["GET"])


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; ServerStartError (one line) when impossible."""
    try:
        family = select_address_family(host, port)
        address = get_sockaddr(host, port, family)
    except (OSError, ValueError) as exc:
        raise ServerStartError(f"cannot use host {host!r}: {exc}") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise ServerStartError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


class FakeServer(FakeHandle):
    """A fake served over HTTP from a background thread (``127.0.0.1:0`` by default).

    ``with FakeServer(config) as server:`` starts it; ``server.url`` is its base URL,
    ``server.client()`` a ``twilio.rest.Client`` whose requests go to it (through
    :class:`~fake_twilio.http_client.FakeServerHttpClient`), ``server.control`` the HTTP
    ``ControlClient``. ``app``/``state`` are the in-process objects behind it. ``stop()`` (or
    leaving the ``with`` block) shuts it down and closes the socket.
    """

    def __init__(
        self,
        config: FakeConfig | None = None,
        *,
        app: Flask | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log_requests: bool = False,
    ) -> None:
        super().__init__(app if app is not None else create_app(config))
        ensure_health_route(self.app)
        self.host = host
        self.requested_port = port
        self.log_requests = log_requests
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not running")
        return int(self._server.port)

    @property
    def url(self) -> str:
        """``http://<host>:<port>`` of the running server."""
        return f"http://{url_host(self.host)}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> FakeServer:
        """Bind and serve in a daemon thread; ServerStartError when the address is unusable."""
        if self._server is not None:
            return self
        sock = _bind(self.host, self.requested_port)
        try:
            server = make_server(
                self.host,
                self.requested_port,
                self.app,
                threaded=True,
                request_handler=WSGIRequestHandler if self.log_requests else _QuietHandler,
                fd=sock.fileno(),
            )
        finally:
            sock.close()  # the server holds its own duplicate of the descriptor
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"fake-twilio-server-{server.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        self._server = self._thread = None
        self.state.flush_webhooks(STOP_FLUSH_TIMEOUT)  # async mode: deliver what is queued
        control, self._control = self._control, None
        close = getattr(control, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def info(self) -> dict[str, Any]:
        """What the ready file holds: URL, host, port, pid and credentials."""
        return {
            "url": self.url,
            "host": self.host,
            "port": self.port,
            "pid": os.getpid(),
            "credentials": self.credentials.as_dict(),
        }

    # -- FakeHandle ------------------------------------------------------------------------
    def _http_client(self) -> TwilioHttpClient:
        return FakeServerHttpClient(self.url)

    def _make_control(self) -> Any:
        from .control.client import ControlClient

        return ControlClient(self.url)

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<FakeServer {where}>"


def write_ready_file(path: str, info: dict[str, Any]) -> None:
    """Write ``info`` as JSON atomically (temp file in the same directory, then rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".fake-twilio-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(info, handle, indent=2)
            handle.write("\n")
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def banner(server: FakeServer) -> str:
    """The lines ``serve`` prints: where the fake listens and the credentials to use."""
    creds = server.credentials
    products = ", ".join(server.state.products) or "none"
    return "\n".join(
        [
            f"fake-twilio listening on {server.url} (products: {products})",
            f"  TWILIO_ACCOUNT_SID={creds.account_sid}",
            f"  TWILIO_AUTH_TOKEN={creds.auth_token}",
            f"  TWILIO_API_KEY_SID={creds.api_key_sid}",
            f"  TWILIO_API_KEY_SECRET={creds.api_key_secret}",
        ]
    )


def serve(
    config: FakeConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    ready_file: str | None = None,
    *,
    log_requests: bool = False,
    out: TextIO | None = None,
) -> int:
    """Serve a fake until SIGINT or SIGTERM; return 0 after a clean stop.

    Raises :class:`ServerStartError` when it cannot listen (nothing was started then). The
    ready file is written once the socket accepts connections and removed on shutdown.
    Must run in the main thread (it installs signal handlers).
    """
    out = out or sys.stdout
    stop = threading.Event()
    server = FakeServer(config, host=host, port=port, log_requests=log_requests).start()
    previous: dict[int, Callable[..., Any] | int | None] = {}

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    try:
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, on_signal)
        print(banner(server), file=out, flush=True)
        if ready_file:
            try:
                write_ready_file(ready_file, server.info())
            except OSError as exc:
                reason = exc.strerror or str(exc)
                raise ServerStartError(
                    f"cannot write the ready file {ready_file}: {reason}"
                ) from None
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if ready_file:
            with contextlib.suppress(OSError):
                os.unlink(ready_file)
    print("fake-twilio stopped", file=out, flush=True)
    return 0


__all__ = ["FakeServer", "ServerStartError", "banner", "serve", "write_ready_file"]
