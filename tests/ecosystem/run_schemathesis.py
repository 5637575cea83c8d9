"""Run Schemathesis against the reference backend and a fake Twilio (tox env ``schemathesis``).

``python -m tests.ecosystem.run_schemathesis [schemathesis run options...]`` serves a fake
Twilio and a reference backend on 127.0.0.1 (in this process, from background threads),
writes the protocol's OpenAPI document (``build_openapi(<backend url>)``, what ``live-conformance
openapi`` prints, with the server filled in) to a temporary directory, runs the Schemathesis
CLI on it as a subprocess with the passcode in the ``Authorization`` header and the webhook
signing hooks of :mod:`tests.ecosystem.schemathesis_hooks`, then stops the servers. The exit
status is Schemathesis's (124 if it overran ``--timeout``).

The run is bounded and reproducible: a fixed number of examples per operation, a fixed seed,
every check on (minus those :data:`CONFIG` switches off for the webhooks, with the reason).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
PASSCODE = "27182818284590"
CONFIG = Path(__file__).with_name("schemathesis.toml")
"""Per-operation settings: the checks switched off for the webhooks, each with the reason."""

EXCLUDED_CHECKS: dict[str, str] = {}
"""Schemathesis checks switched off for every operation, each with the reason (a false positive
for this API); none. Those off for some operations only are in :data:`CONFIG`."""


@contextmanager
def serve_backend(twilio_url: str, credentials: dict[str, str]) -> Iterator[str]:
    """A reference backend on 127.0.0.1 talking to the fake at ``twilio_url``; yields its URL."""
    from reference_backend import Settings, create_app

    holder: dict[str, Any] = {}

    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    url = f"http://127.0.0.1:{server.port}"
    settings = Settings(
        **credentials,
        public_url=url,
        twilio_url=twilio_url,
        passcode=PASSCODE,
        # The fuzzer sends many requests without the passcode (check ignored_auth); the
        # failure throttle (SEC-2) would then answer 429 to its valid requests.
        throttle_max_failures=1_000_000,
    )
    holder["app"] = create_app(settings)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def schemathesis_command(schema: Path, url: str, options: argparse.Namespace) -> list[str]:
    """The ``schemathesis run`` command line."""
    executable = shutil.which("schemathesis") or "schemathesis"
    command = [
        executable,
        "--config-file",
        str(CONFIG),
        "run",
        str(schema),
        "--url",
        url,
        "--header",
        f"Authorization: {PASSCODE}",
        "--max-examples",
        str(options.max_examples),
        "--seed",
        str(options.seed),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    if EXCLUDED_CHECKS:
        command += ["--exclude-checks", ",".join(EXCLUDED_CHECKS)]
    return command + options.extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds (900)")
    parser.add_argument("extra", nargs="*", help="more schemathesis run options (after --)")
    options = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request

    from fake_twilio.server import FakeServer
    from schemas.openapi import build_openapi

    started = time.monotonic()
    with FakeServer() as fake, tempfile.TemporaryDirectory() as workdir:
        credentials = fake.credentials.as_dict()
        with serve_backend(fake.url, credentials) as url:
            schema = Path(workdir) / "openapi.json"
            schema.write_text(json.dumps(build_openapi(url), indent=2), encoding="utf-8")
            env = {
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.ecosystem.schemathesis_hooks",
                "LIVE_TWILIO_AUTH_TOKEN": credentials["auth_token"],
                "LIVE_BACKEND_URL": url,
                "PYTHONPATH": os.pathsep.join(
                    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
                ),
            }
            command = schemathesis_command(schema, url, options)
            print("+", " ".join(command), flush=True)
            try:
                status = subprocess.run(
                    command, env=env, cwd=workdir, timeout=options.timeout
                ).returncode
            except subprocess.TimeoutExpired:
                print(f"schemathesis overran {options.timeout:.0f} s", file=sys.stderr)
                status = 124
    print(f"schemathesis: exit {status} after {time.monotonic() - started:.1f} s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
