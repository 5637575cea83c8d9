"""Shared machinery of the reliability suite.

- **Scale knobs**: every count comes from :func:`knob`, which reads ``RELIABILITY_<NAME>`` or
  falls back to a small CI default, or to a large default when ``RELIABILITY_SCALE=soak``
  (what ``tox -e soak`` sets).
- **Figures**: :class:`Figures` collects what a test measured (requests sent, faults injected,
  failures, durations); they go to the test's junit properties and, when
  ``RELIABILITY_REPORT`` names a file, are appended to it as one JSON line per test.
- **Servers**: :class:`ServedWSGI` serves any WSGI app on ``127.0.0.1:0`` (werkzeug, threaded)
  from a daemon thread and stops it cleanly.
- **Backend rigs**: :class:`BackendRig` wires a reference backend to a fake (in-process or a
  :class:`~fake_twilio.server.FakeServer`), with the fake's webhooks delivered in-process
  through a :class:`WebhookGate` that can hold deliveries back for replay tests.
- **State views**: :func:`stream_state` (a stream's Sync data as ``protocol/sync.state``) and
  :func:`live_resources` (what is still alive at Twilio: the orphan check).
"""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

import fake_twilio
from fake_twilio.control.facade import FakeControl
from fake_twilio.core.state import FakeState
from fake_twilio.http_client import WSGITwilioHttpClient
from reference_backend import Settings, create_app

# -- scale ----------------------------------------------------------------------------------
SCALE = os.environ.get("RELIABILITY_SCALE", "ci").strip().lower() or "ci"
SOAK = SCALE == "soak"


def knob(name: str, ci: int, soak: int) -> int:
    """The count ``name``: ``RELIABILITY_<NAME>`` if set, else the scale's default."""
    raw = os.environ.get(f"RELIABILITY_{name.upper()}")
    if raw:
        return int(raw)
    return soak if SOAK else ci


# -- figures --------------------------------------------------------------------------------
@dataclass
class Figures:
    """What one test measured; see the module docstring for where it goes."""

    test: str
    values: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def add(self, **values: Any) -> None:
        self.values.update(values)

    def count(self, name: str, by: int = 1) -> None:
        self.values[name] = self.values.get(name, 0) + by

    def finish(self, record_property: Callable[[str, Any], None] | None = None) -> dict[str, Any]:
        self.values.setdefault("duration_s", round(time.perf_counter() - self.started, 3))
        line = {
            "test": self.test,
            "scale": SCALE,
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
            **self.values,
        }
        if record_property is not None:
            for key, value in self.values.items():
                record_property(key, value)
        path = os.environ.get("RELIABILITY_REPORT")
        if path:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, sort_keys=False) + "\n")
        return line


# -- servers --------------------------------------------------------------------------------
class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class ServedWSGI:
    """A WSGI app on ``127.0.0.1:<free port>`` (werkzeug threaded server) in a daemon thread.

    ``app`` may be set after the server started (the URL is known only then): requests that
    arrive before are answered 503.
    """

    def __init__(self, app: Any = None) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self._dispatch, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"reliability-served-{self._server.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        app = self.app
        if app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"not ready"]
        return app(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> ServedWSGI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds passed; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def open_fds() -> int:
    """Open file descriptors of this process (Linux: /proc/self/fd)."""
    return len(os.listdir("/proc/self/fd"))


def rss_kib() -> int:
    """Resident set size of this process in KiB (Linux: /proc/self/status)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# -- the reference backend wired to a fake ----------------------------------------------------
PASSCODE = "27182818284590"
PUBLIC_URL = "https://backend.reliability.test"


def backend_settings(
    credentials: fake_twilio.Credentials, public_url: str = PUBLIC_URL, **overrides: Any
) -> Settings:
    """Settings of a backend using the fake's account, the test passcode and ``overrides``."""
    values: dict[str, Any] = {
        "account_sid": credentials.account_sid,
        "auth_token": credentials.auth_token,
        "api_key_sid": credentials.api_key_sid,
        "api_key_secret": credentials.api_key_secret,
        "public_url": public_url,
        "passcode": PASSCODE,
        "passcode_expires_at": datetime.now(UTC) + timedelta(days=7),
        "twilio_retry_base": 0.01,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Held:
    """A webhook delivery the gate held back (replayable byte for byte)."""

    path: str
    query: str
    body: bytes
    headers: dict[str, str]
    base_url: str

    @property
    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    def with_form(self, form: dict[str, str]) -> Held:
        """The same delivery with another form (the signature is kept: a forgery)."""
        return Held(
            self.path, self.query, urlencode(form).encode(), dict(self.headers), self.base_url
        )

    def with_headers(self, **headers: str | None) -> Held:
        merged = dict(self.headers)
        for key, value in headers.items():
            name = key.replace("_", "-")
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return Held(self.path, self.query, self.body, merged, self.base_url)


class WebhookGate:
    """Sits between the fake's webhook dispatcher and the backend (a WSGI app).

    ``hold = False``: forwards every delivery. ``hold = True``: keeps it in ``held`` and
    answers ``200 {}`` to the fake, so a test can deliver it later, twice, reordered or forged.
    """

    def __init__(self, backend_app: Flask) -> None:
        self.backend_app = backend_app
        self.hold = False
        self.held: list[Held] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not self.hold:
            return self.backend_app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            "X-Twilio-Signature": environ.get("HTTP_X_TWILIO_SIGNATURE", ""),
            "Content-Type": environ.get("CONTENT_TYPE", ""),
        }
        base_url = f"{environ['wsgi.url_scheme']}://{environ['HTTP_HOST']}"
        with self._lock:
            self.held.append(
                Held(environ["PATH_INFO"], environ.get("QUERY_STRING", ""), body, headers, base_url)
            )
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    def take(self) -> list[Held]:
        with self._lock:
            held, self.held = self.held, []
        return held

    @contextmanager
    def holding(self) -> Iterator[list[Held]]:
        """Hold deliveries inside the block; yields the list they are collected in."""
        collected: list[Held] = []
        self.hold = True
        try:
            yield collected
        finally:
            self.hold = False
            collected.extend(self.take())


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    elapsed: float
    text: str = ""


def _answer(response: Any, elapsed: float) -> Answer:
    """What the backend answered (a Flask test response), its JSON body decoded when it is JSON."""
    text = response.get_data(as_text=True)
    try:
        payload = json.loads(text) if text else None
    except ValueError:
        payload = None
    return Answer(response.status_code, payload, dict(response.headers), elapsed, text)


class BackendRig:
    """A reference backend (in-process Flask app) using a fake Twilio.

    ``fake`` is a fake app (in-process transport) or a running FakeServer (HTTP transport,
    where timeouts are real). The fake delivers webhooks for :data:`PUBLIC_URL` to
    ``self.gate`` in-process, which forwards them to the backend unless holding.
    """

    def __init__(
        self,
        fake: Any = None,
        *,
        now: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **overrides: Any,
    ) -> None:
        from fake_twilio.server import FakeServer

        if fake is None:
            fake = fake_twilio.create_app()
        if isinstance(fake, FakeServer):
            self.fake_app = fake.app
            overrides.setdefault("twilio_url", fake.url)
            http_client = None
        else:
            self.fake_app = fake
            http_client = WSGITwilioHttpClient(fake)
        self.state: FakeState = fake_twilio.state_of(self.fake_app)
        self.control = FakeControl(self.state)
        self.credentials = self.state.default_credentials
        self.settings = backend_settings(self.credentials, **overrides)
        self.app = create_app(self.settings, twilio_http_client=http_client, now=now, sleep=sleep)
        self.gate = WebhookGate(self.app)
        self.state.webhooks.register_wsgi(self.settings.public_url, self.gate)
        self.client = self.app.test_client()

    @property
    def account(self) -> str:
        return self.credentials.account_sid

    def call(
        self,
        endpoint: str,
        body: Any = None,
        *,
        passcode: str | None = PASSCODE,
        remote_addr: str = "192.0.2.10",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """POST ``body`` (JSON) to a client endpoint; ``passcode=None`` sends no header."""
        sent = dict(headers or {})
        if passcode is not None:
            sent["Authorization"] = passcode
        started = time.perf_counter()
        response = self.client.post(
            f"/{endpoint}",
            json=body if body is not None else {},
            headers=sent,
            environ_base={"REMOTE_ADDR": remote_addr},
        )
        return _answer(response, time.perf_counter() - started)

    def deliver(self, held: Held) -> Answer:
        """Deliver a (held, maybe altered) webhook to the backend as the fake would."""
        started = time.perf_counter()
        response = self.client.post(
            held.path,
            data=held.body,
            headers=held.headers,
            base_url=held.base_url,
            query_string=held.query,
        )
        return _answer(response, time.perf_counter() - started)

    def stream(self, name: str, host: str = "alice") -> dict[str, Any]:
        """create-stream; the success body (asserts success)."""
        answer = self.call("create-stream", {"user_identity": host, "stream_name": name})
        assert answer.status == 200, (answer.status, answer.body)
        return answer.body

    def ok(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.call(endpoint, body)
        assert answer.status == 200, (endpoint, body, answer.status, answer.body)
        return answer.body

    def service_of(self, room_sid: str) -> str | None:
        """The stream Sync service of ``room_sid`` (by its friendly name), or None."""
        for sid, service in _sync_services(self.state, self.account).items():
            if service.get("friendly_name") == f"Live Video Stream {room_sid}":
                return sid
        return None

    def stream_state(self, room_sid: str) -> dict[str, Any] | None:
        service = self.service_of(room_sid)
        return None if service is None else stream_state(self.state, self.account, service)

    def live(self) -> dict[str, Any]:
        return live_resources(self.state, self.account)


# -- state views ----------------------------------------------------------------------------
def _sync_services(state: FakeState, account: str) -> dict[str, Any]:
    dump = state.dump("sync", account).get(account, {}).get("sync", {})
    return dump.get("services", {})


def stream_state(state: FakeState, account: str, service_sid: str) -> dict[str, Any]:
    """One stream's Sync data in the shape of ``protocol/sync.state`` (plus permissions)."""
    service = _sync_services(state, account)[service_sid]
    maps = {m["unique_name"]: m for m in service["maps"].values()}
    view: dict[str, Any] = {}
    for name in ("speakers", "raised_hands", "viewers"):
        found = maps.get(name)
        view[name] = {} if found is None else {k: i["data"] for k, i in found["items"].items()}
    view["documents"] = {d["unique_name"]: d["data"] for d in service["documents"].values()}
    return view


def stream_permissions(state: FakeState, account: str, service_sid: str) -> dict[str, Any]:
    """``{object unique name: {identity: {read, write, manage}}}`` of one stream's service."""
    service = _sync_services(state, account)[service_sid]
    result: dict[str, Any] = {}
    for objects in (service["maps"], service["documents"], service.get("lists", {})):
        for obj in objects.values():
            result[obj["unique_name"]] = obj.get("permissions", {})
    return result


def live_resources(state: FakeState, account: str) -> dict[str, Any]:
    """What is alive at the fake for ``account``: the orphan check of a stream's resources.

    ``rooms``: in-progress room names; ``player_streamers`` / ``media_processors``: how many
    are not ended; ``stream_services``: stream Sync services; ``stream_records``: keys of the
    backend's ``streams`` map; ``conversations``: unique names of the conversations that exist.
    """
    dump = state.dump(account_sid=account).get(account, {})
    video = dump.get("video", {})
    media = dump.get("media", {})
    services = dump.get("sync", {}).get("services", {})
    records: list[str] = []
    stream_services = 0
    for service in services.values():
        name = service.get("friendly_name") or ""
        if name.startswith("Live Video Stream "):
            stream_services += 1
        if name == "Live Video Backend Storage":
            for sync_map in service["maps"].values():
                if sync_map["unique_name"] == "streams":
                    records.extend(sync_map["items"])
    conversations: list[str] = []
    for service in dump.get("conversations", {}).get("services", []):
        for conversation in service.get("conversations", []):
            conversations.append(conversation.get("unique_name") or conversation["sid"])
    return {
        "rooms": sorted(
            r["unique_name"] for r in video.get("rooms", []) if r["status"] == "in-progress"
        ),
        "player_streamers": sum(
            1
            for s in media.get("player_streamers", {}).values()
            if s["status"] not in ("ended", "failed")
        ),
        "media_processors": sum(
            1
            for p in media.get("media_processors", {}).values()
            if p["status"] not in ("ended", "failed")
        ),
        "stream_services": stream_services,
        "stream_records": sorted(records),
        "conversations": sorted(conversations),
    }


def nothing_alive(live: dict[str, Any]) -> bool:
    return not any(live.values())


def chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
