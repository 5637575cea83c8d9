"""``fake-twilio`` (and ``python -m fake_twilio``): run the fake as a server, show credentials.

Commands:

- ``fake-twilio serve [--host H] [--port P] [--ready-file F] [--account-sid AC..]
  [--auth-token T] [--api-key-sid SK..] [--api-key-secret S] [--webhook-mode sync|async]
  [--log-requests] [--rewrite-webhooks PUBLIC=LOCAL ...]``: serve until SIGINT/SIGTERM, exit 0.
- ``fake-twilio credentials [credential flags]``: print the credentials as JSON.
- ``fake-twilio --version``: print ``fake-twilio <version>``. Without a command the usage is
  printed on stderr, exit 2.

Every flag falls back to an environment variable (``FAKE_TWILIO_HOST``, ``FAKE_TWILIO_PORT``,
``FAKE_TWILIO_READY_FILE``, ``FAKE_TWILIO_ACCOUNT_SID``, ``FAKE_TWILIO_AUTH_TOKEN``,
``FAKE_TWILIO_API_KEY_SID``, ``FAKE_TWILIO_API_KEY_SECRET``, ``FAKE_TWILIO_WEBHOOK_MODE``,
``FAKE_TWILIO_WEBHOOK_REWRITES``: its rules come first, flags win for the same public URL),
then to the defaults. Any bad value (a malformed SID, a port in use, an unknown flag) prints
one line ``fake-twilio: error: ...`` on stderr and exits with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from .config import FakeConfig
from .core.accounts import ENV_OVERRIDES, Credentials
from .core.webhook_rewrite import RewriteError, rules_from_settings

PROG = "fake-twilio"
DISTRIBUTION = "live-video-conformance"
USAGE_ERROR = 2
WEBHOOK_MODES = ("sync", "async")


class UsageError(Exception):
    """A bad command line or configuration value; reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line and exit with code 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def version() -> str:
    """The installed version of the distribution (``unknown`` when it is not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range 0..65535")
    return port


def _add_credential_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("credentials of the default account")
    for name, env in ENV_OVERRIDES.items():
        flag = "--" + name.replace("_", "-")
        group.add_argument(flag, dest=name, metavar=name.upper(), help=f"(env {env})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="A stateful fake of Twilio for tests.")
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    serve = commands.add_parser("serve", help="serve the fake over HTTP until SIGINT/SIGTERM")
    serve.add_argument("--host", help="address to bind (env FAKE_TWILIO_HOST; 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port, 0 = any free (env FAKE_TWILIO_PORT; 0)")
    serve.add_argument(
        "--ready-file",
        help="write URL and credentials as JSON here once ready (env FAKE_TWILIO_READY_FILE)",
    )
    serve.add_argument(
        "--webhook-mode",
        choices=WEBHOOK_MODES,
        help="sync: a call returns after its webhooks were answered; async: background "
        "(env FAKE_TWILIO_WEBHOOK_MODE; sync)",
    )
    serve.add_argument("--log-requests", action="store_true", help="log every request to stderr")
    serve.add_argument(
        "--rewrite-webhooks",
        action="append",
        metavar="PUBLIC=LOCAL",
        help="deliver webhooks for URLs under PUBLIC to LOCAL, signed for PUBLIC (repeatable; "
        "env FAKE_TWILIO_WEBHOOK_REWRITES=PUBLIC=LOCAL,PUBLIC2=LOCAL2)",
    )
    _add_credential_flags(serve)

    creds = commands.add_parser("credentials", help="print the credentials as JSON")
    _add_credential_flags(creds)
    return parser


def credentials_from(args: argparse.Namespace, environ: Mapping[str, str]) -> Credentials:
    """Flags first, then ``FAKE_TWILIO_*`` variables, then the documented defaults."""
    values = {}
    for name, env in ENV_OVERRIDES.items():
        value = getattr(args, name, None) or environ.get(env)
        if value:
            values[name] = value
    credentials = Credentials(**values)
    try:
        credentials.validate()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return credentials


def _serve(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from .server import ServerStartError, serve

    host = args.host or environ.get("FAKE_TWILIO_HOST") or "127.0.0.1"
    port = args.port
    if port is None:
        try:
            port = _port(environ.get("FAKE_TWILIO_PORT") or "0")
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"FAKE_TWILIO_PORT: {exc}") from None
    mode = args.webhook_mode or environ.get("FAKE_TWILIO_WEBHOOK_MODE") or "sync"
    if mode not in WEBHOOK_MODES:
        raise UsageError(f"FAKE_TWILIO_WEBHOOK_MODE: {mode!r} is not one of sync, async")
    ready_file = args.ready_file or environ.get("FAKE_TWILIO_READY_FILE") or None
    if ready_file and not os.path.isdir(os.path.dirname(os.path.abspath(ready_file))):
        raise UsageError(f"the directory of the ready file {ready_file!r} does not exist")
    try:
        rewrites = rules_from_settings(args.rewrite_webhooks, environ)
    except RewriteError as exc:
        raise UsageError(str(exc)) from None
    config = FakeConfig(
        credentials=credentials_from(args, environ), webhook_mode=mode, webhook_rewrites=rewrites
    )
    try:
        return serve(
            config, host=host, port=port, ready_file=ready_file, log_requests=args.log_requests
        )
    except ServerStartError as exc:
        raise UsageError(str(exc)) from None


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the CLI; return the exit code (0 success, 2 usage or configuration error)."""
    env = os.environ if environ is None else environ
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return USAGE_ERROR
        if args.command == "credentials":
            print(json.dumps(credentials_from(args, env).as_dict(), indent=2))
            return 0
        return _serve(args, env)
    except UsageError as exc:
        message = " ".join(str(exc).split())
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return USAGE_ERROR


__all__ = ["build_parser", "credentials_from", "main", "version"]
