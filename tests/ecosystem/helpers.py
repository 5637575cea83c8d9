"""Helpers of the ecosystem tests: a webhook receiver on a socket, a served fake subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from flask import Flask, request
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from fake_twilio.core.accounts import DEFAULT_AUTH_TOKEN


@dataclass
class Received:
    """One webhook the receiver got, with the outcome of its signature checks."""

    method: str
    path: str  # path + query, as received
    form: dict[str, str]
    signature: str | None
    valid_for_public_url: bool
    valid_for_local_url: bool


@dataclass
class WebhookReceiver:
    """A Flask app on ``127.0.0.1:<port>`` standing for a backend deployed at ``public_url``.

    It validates ``X-Twilio-Signature`` with twilio's ``RequestValidator`` against the URL the
    backend registered (``public_url`` + the path it was called on), as a deployed backend does,
    and also against the local URL it really listens on (which must *not* validate).
    """

    public_url: str
    auth_token: str = DEFAULT_AUTH_TOKEN
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._event = threading.Condition()
        app = Flask("webhook_receiver")

        @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
        @app.route("/<path:path>", methods=["GET", "POST"])
        def receive(path: str) -> tuple[str, int]:
            validator = RequestValidator(self.auth_token)
            signature = request.headers.get("X-Twilio-Signature")
            full_path = request.full_path if request.query_string else request.path
            params = request.form.to_dict() if request.method == "POST" else {}
            public = self.public_url.rstrip("/") + full_path
            local = request.url if request.query_string else request.base_url
            record = Received(
                method=request.method,
                path=full_path,
                form=request.form.to_dict() if request.method == "POST" else request.args.to_dict(),
                signature=signature,
                valid_for_public_url=bool(signature)
                and validator.validate(public, params, signature or ""),
                valid_for_local_url=bool(signature)
                and validator.validate(local, params, signature or ""),
            )
            with self._event:
                self.received.append(record)
                self._event.notify_all()
            if not record.valid_for_public_url:
                return "invalid signature", 403
            return "", 204

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._event:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._event.wait(remaining)
            return list(self.received)

    def events(self) -> list[str]:
        return [r.form.get("StatusCallbackEvent", "") for r in self.received]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


PUBLIC_URL = "https://my-app-1234-dev.twil.io"


@dataclass
class ServedFake:
    """``python -m fake_twilio serve`` running as a subprocess."""

    process: subprocess.Popen[str]
    ready_file: Path
    info: dict[str, Any]

    @property
    def url(self) -> str:
        return self.info["url"]

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, timeout=10)

    def stop(self) -> tuple[int, str, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            out, err = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        return self.process.returncode, out, err


def start_served_fake(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 30.0
) -> ServedFake:
    """Start ``python -m fake_twilio serve --port 0 --ready-file F [args]``; wait for F."""
    ready = tmp_path / f"fake-ready-{time.monotonic_ns()}.json"
    full_env = {**os.environ, **(env or {})}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fake_twilio",
            "serve",
            "--port",
            "0",
            "--ready-file",
            str(ready),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready.exists():
            try:
                info = json.loads(ready.read_text())
            except ValueError:  # being written (the server renames it atomically, but be safe)
                info = None
            if info:
                return ServedFake(process, ready, info)
        if process.poll() is not None:
            out, err = process.communicate()
            raise RuntimeError(f"fake-twilio serve exited with {process.returncode}: {err or out}")
        time.sleep(0.05)
    process.kill()
    out, err = process.communicate()
    raise RuntimeError(f"fake-twilio serve did not get ready in {timeout}s: {err or out}")
