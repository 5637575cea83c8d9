"""``reference-backend serve``: run the backend against real Twilio, a fake server, or an
embedded fake.

Where Twilio is, in order of precedence:

1. ``--twilio URL`` (or ``LIVE_BACKEND_TWILIO_URL``): a running fake server. Credentials come
   from the environment if any is set, else the fake's documented defaults
   (``fake_twilio.Credentials.from_env()``).
2. Twilio credentials in the environment (see :mod:`.settings`): real Twilio. The public URL is
   then required (Twilio must reach the webhooks).
3. Neither: an embedded fake is started on its own port, with its credentials, and delivers
   its webhooks to this backend (the public URL defaults to the backend's own URL).

The command prints the backend's URL, the passcode and its expiry and where Twilio is, writes
the same as JSON to ``--ready-file`` (atomically) once both servers listen, and serves until
SIGINT/SIGTERM, then stops both cleanly and exits 0. Bad flags or configuration: one line on
stderr, exit 2. So is a ``--twilio URL`` where nothing answers: before listening, the command
sends one ``GET URL/_fake/health`` (3 s timeout); any HTTP answer will do, none is an error
(start ``fake-twilio serve`` first). ``--version`` prints ``reference-backend <version>``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn, TextIO

from fake_twilio.server import url_host, write_ready_file

from .app import create_app
from .environment import env_values, has_credentials
from .settings import Settings, SettingsError

__all__ = ["main"]

PROG = "reference-backend"
DISTRIBUTION = "live-video-conformance"
#: Seconds the start-up probe of ``--twilio URL`` waits for an answer.
PROBE_TIMEOUT = 3.0
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage block) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message}\n")


class _UsageError(Exception):
    """A configuration or startup problem reported as one line, exit 2."""


def version() -> str:
    """The installed version of the distribution (``unknown`` when it is not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0..65535)")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG, description="Reference backend of the Live Interactive Video protocol."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the backend over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=_port, default=3000, help="port to listen on (3000; 0: any)")
    serve.add_argument("--twilio", metavar="URL", help="URL of a running fake Twilio server")
    serve.add_argument("--passcode", help="the passcode (default: generated, 14 digits)")
    serve.add_argument(
        "--passcode-expires-at", metavar="ISO-8601", help="passcode expiry (default: in 7 days)"
    )
    serve.add_argument("--public-url", metavar="URL", help="base URL Twilio calls back")
    serve.add_argument("--no-chat", action="store_true", help="disable chat (Conversations)")
    serve.add_argument("--server", choices=("werkzeug", "waitress"), default="werkzeug")
    serve.add_argument("--ready-file", metavar="FILE", help="write URLs and passcode as JSON")
    serve.add_argument("--fake-port", type=_port, default=0, help="port of the embedded fake (0)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``reference-backend`` and ``python -m reference_backend``."""
    args = _parser().parse_args(argv)
    if args.command != "serve":
        _parser().print_usage(sys.stderr)
        return 2
    try:
        return serve(args, os.environ)
    except (_UsageError, SettingsError, OSError) as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# -- serving ------------------------------------------------------------------------------------
class _LateApp:
    """A WSGI app set after the server is bound (the app needs the server's port)."""

    app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


def _bind(kind: str, host: str, port: int, app: _LateApp) -> tuple[Any, int, Callable[[], None]]:
    """A bound server, its port, and the function that serves until interrupted."""
    if kind == "waitress":
        from waitress.server import create_server

        server: Any = create_server(app, host=host, port=port, threads=8)
        return server, int(server.effective_port), server.run
    from werkzeug.serving import make_server

    server = make_server(host, port, app, threaded=True)
    return server, int(server.port), server.serve_forever


def _twilio_target(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, Any]:
    """Settings overrides saying which Twilio to use, and (``fake``) whether to embed one."""
    twilio_url = args.twilio or env_values(environ).get("twilio_url")
    if twilio_url:
        if has_credentials(environ):
            return {"twilio_url": twilio_url}
        from fake_twilio import Credentials

        return {"twilio_url": twilio_url, **Credentials.from_env(environ).as_dict()}
    if has_credentials(environ):
        return {}
    return {"fake": True}


def serve(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO | None = None) -> int:
    """Run ``serve`` (must be called from the main thread: it handles SIGTERM)."""
    out = out or sys.stdout
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    target = _twilio_target(args, environ)
    if "twilio_url" in target:
        _probe_twilio(
            target["twilio_url"], "--twilio" if args.twilio else "LIVE_BACKEND_TWILIO_URL"
        )
    late = _LateApp()
    server, port, run = _bind(args.server, args.host, args.port, late)
    backend_url = f"http://{url_host(args.host)}:{port}"
    fake = None
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if target.pop("fake", False):
            fake = _start_fake(args.fake_port)
            target = {"twilio_url": fake.url, **fake.credentials.as_dict()}
        overrides: dict[str, Any] = {
            **target,
            "passcode": args.passcode,
            "passcode_expires_at": args.passcode_expires_at,
            "public_url": args.public_url,
            "chat_enabled": False if args.no_chat else None,
        }
        if not (args.public_url or "public_url" in env_values(environ)) and "twilio_url" in target:
            overrides["public_url"] = backend_url
        settings = Settings.from_env(environ, **overrides)
        late.app = create_app(settings)
        info = _info(settings, backend_url, fake is not None)
        print(_banner(info, args.server), file=out, flush=True)
        if args.ready_file:
            write_ready_file(args.ready_file, dict(info))
        run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        _close(server)
        if fake is not None:
            fake.stop()
        if args.ready_file:
            with contextlib.suppress(OSError):
                os.unlink(args.ready_file)
    print(f"{PROG} stopped", file=out, flush=True)
    return 0


def _probe_twilio(url: str, given_as: str, timeout: float = PROBE_TIMEOUT) -> None:
    """Refuse to start (:class:`_UsageError`) when nothing answers at the fake Twilio ``url``
    (``given_as``: the flag or variable it came from): one ``GET url/_fake/health``; any HTTP
    status counts as an answer."""
    import httpx

    probe = url.rstrip("/") + "/_fake/health"
    try:
        httpx.get(probe, timeout=timeout)
    except httpx.InvalidURL:
        raise _UsageError(f"{given_as}: {url!r} is not a URL") from None
    except httpx.UnsupportedProtocol:
        raise _UsageError(f"{given_as}: {url!r} is not an http(s) URL") from None
    except httpx.TimeoutException:
        raise _UsageError(
            f"nothing answers at the fake Twilio {url} (GET {probe} timed out after "
            f"{timeout:g} s); start it first (fake-twilio serve) or fix {given_as}"
        ) from None
    except httpx.HTTPError as exc:
        reason = _one_line(exc)
        raise _UsageError(
            f"nothing answers at the fake Twilio {url} ({reason}); start it first "
            f"(fake-twilio serve) or fix {given_as}"
        ) from None


def _start_fake(port: int) -> Any:
    from fake_twilio.server import FakeServer, ServerStartError

    try:
        return FakeServer(host="127.0.0.1", port=port).start()
    except ServerStartError as exc:
        raise _UsageError(f"embedded fake Twilio: {exc}") from None


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM handler: stop like SIGINT (both servers leave their loop on KeyboardInterrupt)."""
    raise KeyboardInterrupt


def _close(server: Any) -> None:
    with contextlib.suppress(Exception):
        if hasattr(server, "server_close"):
            server.server_close()
        else:
            server.close()


def _info(settings: Settings, backend_url: str, embedded: bool) -> dict[str, Any]:
    return {
        "backend_url": backend_url,
        "public_url": settings.public_url,
        "passcode": settings.passcode,
        "passcode_expires_at": settings.passcode_expires_at.isoformat(),
        "twilio_url": settings.twilio_url,
        "embedded_fake": embedded,
        "chat_enabled": settings.chat_enabled,
        "pid": os.getpid(),
    }


def _banner(info: Mapping[str, Any], server: str) -> str:
    if info["embedded_fake"]:
        twilio = f"embedded fake Twilio at {info['twilio_url']}"
    elif info["twilio_url"]:
        twilio = f"fake Twilio at {info['twilio_url']}"
    else:
        twilio = "real Twilio"
    return "\n".join(
        [
            f"{PROG} listening on {info['backend_url']} ({server})",
            f"  passcode: {info['passcode']} (expires {info['passcode_expires_at']})",
            f"  public URL: {info['public_url']}",
            f"  Twilio: {twilio}",
        ]
    )
