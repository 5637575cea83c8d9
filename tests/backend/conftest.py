"""The reference backend in-process against an in-process fake Twilio.

:class:`Harness` wires one fresh fake (``fake_twilio.create_app()``) to one backend
(``reference_backend.create_app`` with ``WSGITwilioHttpClient``), delivers the fake's webhooks
to the backend in-process, and offers what the tests need: HTTP calls with the passcode, the
fake's control plane (simulated clients, faults, journal), exact Sync snapshots read through the
real SDK, and token decoding. Every test gets its own harness (safe with pytest-xdist).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from werkzeug.test import TestResponse

import fake_twilio
from fake_twilio.control.facade import FakeControl
from fake_twilio.http_client import WSGITwilioHttpClient
from fake_twilio.testing import sdk_client
from reference_backend import Settings, backend_of, create_app

PUBLIC_URL = "https://backend.example.test"
PASSCODE = "31415926535897"
CREDENTIALS = fake_twilio.Credentials()
MAPS = ("speakers", "raised_hands", "viewers")


@dataclass
class Stream:
    """A stream created through the backend, with its Twilio SIDs."""

    name: str
    host: str
    room_sid: str
    sync_service_sid: str
    player_streamer_sid: str
    media_processor_sid: str
    host_token: str
    body: dict[str, Any]


class Harness:
    """One fake Twilio plus one reference backend (see the module docstring)."""

    def __init__(self, **settings: Any) -> None:
        self.fake = fake_twilio.create_app()
        self.state = fake_twilio.state_of(self.fake)
        self.control = FakeControl(self.state)
        self.twilio = sdk_client(self.fake)
        self.clock = datetime.now(UTC)
        self.sleeps: list[float] = []
        values: dict[str, Any] = {
            **CREDENTIALS.as_dict(),
            "public_url": PUBLIC_URL,
            "passcode": PASSCODE,
            "passcode_expires_at": self.clock + timedelta(days=7),
            **settings,
        }
        self.settings = Settings(**values)
        self.app = create_app(
            self.settings,
            twilio_http_client=WSGITwilioHttpClient(self.fake),
            now=lambda: self.clock,
            sleep=self.sleeps.append,
        )
        self.state.webhooks.register_wsgi(PUBLIC_URL, self.app)
        self.client = self.app.test_client()
        self.default_client = "192.0.2.1"
        self._clients = itertools.count(1)

    def new_client_address(self) -> str:
        """Use a fresh client address from now on (a clean throttle record)."""
        n = next(self._clients)
        self.default_client = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        return self.default_client

    # -- HTTP --------------------------------------------------------------------------------
    def call(
        self,
        endpoint: str,
        body: Any = None,
        *,
        passcode: str | None = PASSCODE,
        method: str = "POST",
        form: Any = None,
        query: Any = None,
        data: bytes | str | None = None,
        content_type: str | None = None,
        client: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        """One request to the backend; ``body`` is sent as JSON."""
        sent = dict(headers or {})
        if passcode is not None:
            sent["Authorization"] = passcode
        kwargs: dict[str, Any] = {
            "method": method,
            "headers": sent,
            "environ_base": {"REMOTE_ADDR": client or self.default_client},
        }
        if body is not None:
            kwargs["json"] = body
        elif form is not None:
            kwargs["data"] = form
            kwargs["content_type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            kwargs["data"] = data
        if content_type is not None:
            kwargs["content_type"] = content_type
        if query is not None:
            kwargs["query_string"] = query
        return self.client.open(f"/{endpoint}", **kwargs)

    def ok(self, endpoint: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        """Call and assert 200; return the JSON body."""
        response = self.call(endpoint, body, **kwargs)
        assert response.status_code == 200, (endpoint, response.status_code, response.json)
        return response.get_json()

    # -- streams -----------------------------------------------------------------------------
    def create_stream(self, name: str = "friday-townhall", host: str = "alice") -> Stream:
        body = self.ok("create-stream", {"user_identity": host, "stream_name": name})
        grants = self.decode(body["token"])["grants"]
        record = backend_of(self.app).storage.get_stream(body["room_sid"])
        assert record is not None
        return Stream(
            name=name,
            host=host,
            room_sid=body["room_sid"],
            sync_service_sid=grants["data_sync"]["service_sid"],
            player_streamer_sid=record.player_streamer_sid,
            media_processor_sid=record.media_processor_sid,
            host_token=body["token"],
            body=body,
        )

    def join(self, stream: Stream, identity: str, role: str = "viewer") -> dict[str, Any]:
        return self.ok(
            f"join-stream-as-{role}", {"user_identity": identity, "stream_name": stream.name}
        )

    # -- Twilio-side observations -------------------------------------------------------------
    def sync_state(self, service_sid: str) -> dict[str, Any]:
        """The stream's Sync data as ``protocol/sync.state`` (read through the SDK)."""
        service = self.twilio.sync.v1.services(service_sid)
        state: dict[str, Any] = {
            name: {i.key: i.data for i in service.sync_maps(name).sync_map_items.list()}
            for name in MAPS
        }
        state["documents"] = {d.unique_name: d.data for d in service.documents.list()}
        return state

    def permissions(self, service_sid: str) -> dict[str, dict[str, tuple[bool, bool, bool]]]:
        """``{object: {identity: (read, write, manage)}}`` for the maps and documents."""
        service = self.twilio.sync.v1.services(service_sid)
        result: dict[str, dict[str, tuple[bool, bool, bool]]] = {}
        for name in MAPS:
            perms = service.sync_maps(name).sync_map_permissions.list()
            result[name] = {p.identity: (p.read, p.write, p.manage) for p in perms}
        for document in service.documents.list():
            perms = service.documents(document.sid).document_permissions.list()
            result[document.unique_name] = {p.identity: (p.read, p.write, p.manage) for p in perms}
        return result

    def sync_service_exists(self, service_sid: str) -> bool:
        return any(s.sid == service_sid for s in self.twilio.sync.v1.services.list())

    def media(self) -> dict[str, Any]:
        """The fake's Media dump (PlayerStreamers and MediaProcessors by SID)."""
        return self.state.dump("media").get(CREDENTIALS.account_sid, {}).get("media", {})

    def rooms(self, status: str = "in-progress") -> list[Any]:
        return self.twilio.video.v1.rooms.list(status=status)

    def conversation_participants(self, chat_service_sid: str, room_sid: str) -> list[str]:
        """Identities in the stream's conversation (sorted; duplicates would show twice)."""
        service = self.twilio.conversations.v1.services(chat_service_sid)
        return sorted(p.identity for p in service.conversations(room_sid).participants.list())

    def mark(self) -> int:
        return self.state.journal.mark()

    def writes_since(self, mark: int) -> list[Any]:
        return self.state.journal.entries(since=mark, writes_only=True)

    def requests_since(self, mark: int) -> list[Any]:
        return self.state.journal.entries(since=mark)

    def fail(self, product: str, method: str, path: str, *, after: int = 0, **fields: Any) -> None:
        """Make the (after+1)-th matching Twilio request fail once (default: 500, code 20500)."""
        fields.setdefault("code", 20500)
        fields.setdefault("status", 500)
        self.control.add_fault(
            "error", product=product, method=method, path=path, after=after, times=1, **fields
        )

    # -- tokens --------------------------------------------------------------------------------
    @staticmethod
    def decode(token: str) -> dict[str, Any]:
        """The token's payload, its signature verified with the API key secret."""
        return jwt.decode(token, CREDENTIALS.api_key_secret, algorithms=["HS256"])


@pytest.fixture
def harness() -> Harness:
    return Harness()


@pytest.fixture(scope="module")
def _module_harness() -> Harness:
    return Harness()


@pytest.fixture
def shared(_module_harness: Harness) -> Iterator[Harness]:
    """A harness shared by a module's tests (the fake is costly to build): for tests that create
    nothing shared-looking and leave the clock alone. Each test gets a fresh client address."""
    _module_harness.new_client_address()
    yield _module_harness


@pytest.fixture
def make_harness() -> Callable[..., Harness]:
    """A factory of harnesses with settings overrides (e.g. ``chat_enabled=False``)."""
    return Harness


@pytest.fixture
def stream(harness: Harness) -> Stream:
    return harness.create_stream()
