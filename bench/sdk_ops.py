"""The SDK calls the per-call benchmarks time, and the three ways of answering them.

Each :class:`Op` is one call a user's test makes through the real ``twilio`` SDK. It is
answered by:

* ``mock``: the fake behind ``fake_twilio.mock()`` (``responses`` hands the request to the
  fake's WSGI app in-process);
* ``wsgi``: the fake behind :class:`fake_twilio.http_client.WSGITwilioHttpClient` (a
  ``requests`` adapter mounted on the SDK's session, no ``responses``);
* ``stubs``: canned ``responses`` stubs: the JSON bodies the fake answered once, registered
  with ``responses.RequestsMock`` for the same URLs, without any state. It is the fastest thing
  a user could write by hand, and the floor the fake is measured against.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import responses
from twilio.rest import Client

import fake_twilio
from fake_twilio.http_client import WSGITwilioHttpClient
from fake_twilio.inprocess import FakeMock

from . import measure

_CAPTURE_INDEX = itertools.count(900_000_000)  # call indexes used to capture (never timed)
PAGE_SIZE = 20
PAGES = 3


@dataclass(frozen=True)
class Op:
    """One SDK call: ``setup(client)`` makes what it needs, ``call(client, ctx, i)`` makes it."""

    name: str
    description: str
    requests: int
    setup: Callable[[Client], dict[str, Any]]
    call: Callable[[Client, dict[str, Any], int], Any]


# -- the operations ------------------------------------------------------------------------------
def _no_setup(client: Client) -> dict[str, Any]:
    return {}


def _room_create(client: Client, ctx: dict[str, Any], i: int) -> Any:
    return client.video.v1.rooms.create(type="group")


def _sync_setup(client: Client) -> dict[str, Any]:
    service = client.sync.v1.services.create(friendly_name="bench")
    client.sync.v1.services(service.sid).sync_maps.create(unique_name="bench")
    client.sync.v1.services(service.sid).documents.create(unique_name="bench", data={"n": 0})
    return {"service": service.sid}


def _map_item_create(client: Client, ctx: dict[str, Any], i: int) -> Any:
    items = client.sync.v1.services(ctx["service"]).sync_maps("bench").sync_map_items
    return items.create(key=f"k{i}", data={"n": i, "raised": True})


def _document_update(client: Client, ctx: dict[str, Any], i: int) -> Any:
    document = client.sync.v1.services(ctx["service"]).documents("bench")
    return document.update(data={"n": i, "speaker_invite": True})


def _conversation_setup(client: Client) -> dict[str, Any]:
    conversation = client.conversations.v1.conversations.create(friendly_name="bench")
    return {"conversation": conversation.sid}


def _participant_create(client: Client, ctx: dict[str, Any], i: int) -> Any:
    participants = client.conversations.v1.conversations(ctx["conversation"]).participants
    return participants.create(identity=f"user-{i}")


def _rooms_setup(client: Client) -> dict[str, Any]:
    for _ in range(PAGE_SIZE * PAGES):
        client.video.v1.rooms.create(type="group")
    return {}


def _rooms_paged_list(client: Client, ctx: dict[str, Any], i: int) -> Any:
    rooms = client.video.v1.rooms.list(page_size=PAGE_SIZE, limit=PAGE_SIZE * PAGES)
    if len(rooms) != PAGE_SIZE * PAGES:
        raise AssertionError(f"expected {PAGE_SIZE * PAGES} rooms, got {len(rooms)}")
    return rooms


OPS: list[Op] = [
    Op("room_create", "POST /v1/Rooms (Video room create)", 1, _no_setup, _room_create),
    Op(
        "map_item_create",
        "POST /v1/Services/{IS}/Maps/{name}/Items (Sync map item create)",
        1,
        _sync_setup,
        _map_item_create,
    ),
    Op(
        "document_update",
        "POST /v1/Services/{IS}/Documents/{name} (Sync document update)",
        1,
        _sync_setup,
        _document_update,
    ),
    Op(
        "participant_create",
        "POST /v1/Conversations/{CH}/Participants (Conversations participant create)",
        1,
        _conversation_setup,
        _participant_create,
    ),
    Op(
        "rooms_paged_list",
        f"rooms.list(page_size={PAGE_SIZE}, limit={PAGE_SIZE * PAGES}): {PAGES} GET pages",
        PAGES,
        _rooms_setup,
        _rooms_paged_list,
    ),
]
OPS_BY_NAME = {op.name: op for op in OPS}


# -- recording and stubs -------------------------------------------------------------------------
class RecordingClient(WSGITwilioHttpClient):
    """``WSGITwilioHttpClient`` that keeps ``(method, full URL, status, body)`` of each answer."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.recorded: list[tuple[str, str, int, str]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = super().request(method, url, *args, **kwargs)
        params = kwargs.get("params") if "params" in kwargs else (args[0] if args else None)
        full_url = requests.Request(method.upper(), url, params=params).prepare().url or url
        self.recorded.append((method.upper(), full_url, response.status_code, response.text))
        return response


def capture(app: Any, op: Op, ctx: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    """The requests ``op`` makes and the fake's answers, for building stubs."""
    state = fake_twilio.state_of(app)
    creds = state.default_credentials
    recorder = RecordingClient(app)
    client = Client(creds.account_sid, creds.auth_token, http_client=recorder)
    op.call(client, ctx, next(_CAPTURE_INDEX))
    return recorder.recorded


def build_stubs(recorded: list[tuple[str, str, int, str]]) -> responses.RequestsMock:
    """A ``responses.RequestsMock`` answering exactly the recorded requests with their bodies.

    A URL with a query string is matched with its query (``responses`` adds the matcher), as
    a hand-written stub of a paged list must be.
    """
    stubs = responses.RequestsMock(assert_all_requests_are_fired=False)
    for method, url, status, body in recorded:
        stubs.add(method, url, body=body, status=status, content_type="application/json")
    return stubs


# -- contenders ----------------------------------------------------------------------------------
@dataclass
class Prepared:
    """One op set up on its own fake, with its contenders ready to run batches."""

    op: Op
    app: Any
    ctx: dict[str, Any]
    contenders: dict[str, Callable[[int], float]]


def _default_client(app: Any) -> Client:
    creds = fake_twilio.state_of(app).default_credentials
    return Client(creds.account_sid, creds.auth_token)


def _wsgi_client(app: Any) -> Client:
    creds = fake_twilio.state_of(app).default_credentials
    return Client(creds.account_sid, creds.auth_token, http_client=WSGITwilioHttpClient(app))


def _batch_under(
    interceptor_start: Callable[[], Any],
    interceptor_stop: Callable[[], Any],
    client: Client,
    op: Op,
    ctx: dict[str, Any],
    counter: list[int],
) -> Callable[[int], float]:
    def run(n: int) -> float:
        interceptor_start()
        try:
            start = counter[0]
            counter[0] += n
            call, t0 = op.call, measure.clock()
            for i in range(start, start + n):
                call(client, ctx, i)
            return measure.clock() - t0
        finally:
            interceptor_stop()

    return run


def prepare(
    op: Op,
    *,
    app: Any = None,
    ctx: dict[str, Any] | None = None,
    kinds: tuple[str, ...] = ("mock", "wsgi", "stubs"),
) -> Prepared:
    """Set ``op`` up on ``app`` (a fresh fake when None) and build the requested contenders.

    Every contender of one op shares one call counter, so unique keys never collide.
    """
    app = app if app is not None else fake_twilio.create_app()
    if ctx is None:
        ctx = op.setup(_wsgi_client(app))
    counter = [0]
    contenders: dict[str, Callable[[int], float]] = {}
    if "mock" in kinds:
        mock = FakeMock(app=app)
        contenders["mock"] = _batch_under(
            mock.start, mock.stop, _default_client(app), op, ctx, counter
        )
    if "wsgi" in kinds:
        contenders["wsgi"] = _batch_under(
            lambda: None, lambda: None, _wsgi_client(app), op, ctx, counter
        )
    if "stubs" in kinds:
        stubs = build_stubs(capture(app, op, ctx))

        def stop_stubs() -> None:
            stubs.stop(allow_assert=False)
            stubs.calls.reset()
            for registered in stubs.registered():
                registered.calls.reset()

        contenders["stubs"] = _batch_under(
            stubs.start, stop_stubs, _default_client(app), op, ctx, counter
        )
    return Prepared(op, app, ctx, contenders)


__all__ = ["OPS", "OPS_BY_NAME", "Op", "Prepared", "build_stubs", "capture", "prepare"]


# -- the Sync calls paired with DynamoDB's in the moto comparison ----------------------------------
QUERY_ITEMS = 10


def _query_setup(client: Client) -> dict[str, Any]:
    ctx = _sync_setup(client)
    maps = client.sync.v1.services(ctx["service"]).sync_maps
    maps.create(unique_name="query")
    for k in range(QUERY_ITEMS):
        maps("query").sync_map_items.create(key=f"k{k}", data={"n": k})
    return ctx


def _map_item_fetch(client: Client, ctx: dict[str, Any], i: int) -> Any:
    items = client.sync.v1.services(ctx["service"]).sync_maps("query").sync_map_items
    return items(f"k{i % QUERY_ITEMS}").fetch()


def _map_items_list(client: Client, ctx: dict[str, Any], i: int) -> Any:
    items = client.sync.v1.services(ctx["service"]).sync_maps("query").sync_map_items
    found = items.list(limit=QUERY_ITEMS)
    if len(found) != QUERY_ITEMS:
        raise AssertionError(f"expected {QUERY_ITEMS} items, got {len(found)}")
    return found


MAP_ITEM_FETCH = Op(
    "map_item_fetch",
    "GET /v1/Services/{IS}/Maps/{name}/Items/{key} (Sync map item fetch)",
    1,
    _query_setup,
    _map_item_fetch,
)
MAP_ITEMS_LIST = Op(
    "map_items_list",
    f"sync_map_items.list(limit={QUERY_ITEMS}): one GET page of {QUERY_ITEMS} items",
    1,
    _query_setup,
    _map_items_list,
)
