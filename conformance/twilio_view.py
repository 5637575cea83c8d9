"""The suite's view of, and hand on, the fake Twilio the backend under test talks to.

A :class:`TwilioView` reads Twilio-side state the way any Twilio user would, through the
fake's REST API with the account's credentials (rooms, participants, PlayerStreamers,
MediaProcessors, Sync services, maps, documents and permissions, conversations), writes a
Sync document's data the same way (to seed state a check then expects kept), and acts
through the fake's control plane: simulated client SDKs presenting the tokens the backend
issued (connect to a room, a player, Sync, a conversation), Twilio-initiated events
(completing a room), the clock, fault injection and the request journal.

It is built in-process from the fake's Flask app (:meth:`TwilioView.in_process`, control plane
:class:`fake_twilio.control.facade.FakeControl`) or over HTTP from the fake's URL
(:meth:`TwilioView.connect`, :class:`fake_twilio.control.client.ControlClient`). A refusal by
the fake (a token it does not accept, an ACL denial...) raises :class:`TwilioRefused` with
Twilio's error code.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

__all__ = [
    "SYNC_KINDS",
    "TwilioCredentials",
    "TwilioRefused",
    "TwilioUnreachable",
    "TwilioView",
]

#: Sync object kinds, as the control plane and :meth:`TwilioView.permissions` name them.
SYNC_KINDS = ("document", "map", "list")
_SYNC_SEGMENTS = {"document": "Documents", "map": "Maps", "list": "Lists"}
_PAGE_SIZE = 100  # the largest page every product accepts (Sync: 100)
_MEDIA_PAGE_SIZE = 1000
_WRITE_METHODS = ("POST", "DELETE")
_NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused


class TwilioRefused(Exception):
    """The fake refused an operation: Twilio error ``code``, HTTP ``status``, ``message``."""

    def __init__(self, code: int | None, status: int | None, message: str) -> None:
        super().__init__(f"Twilio error {code} (HTTP {status}): {message}")
        self.code = code
        self.status = status
        self.message = message


class TwilioUnreachable(RuntimeError):
    """The fake's control plane did not answer."""


@dataclass(frozen=True)
class TwilioCredentials:
    """The fake account's credentials (what the backend under test is configured with)."""

    account_sid: str
    auth_token: str
    api_key_sid: str
    api_key_secret: str


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """Turn the fake's TwilioError (in-process or relayed over HTTP) into TwilioRefused."""
    from fake_twilio.core.errors import TwilioError

    try:
        yield
    except TwilioError as exc:
        raise TwilioRefused(exc.code, exc.status, exc.message) from exc


class TwilioView:
    """Reads and drives one fake Twilio account (see the module docstring).

    ``control`` is a ``FakeControl`` or a ``ControlClient``; ``rest`` an :class:`httpx.Client`
    whose base URL reaches the fake's REST API (paths ``/video/v1/...``). Use the
    constructors :meth:`in_process` and :meth:`connect` rather than this initializer.
    """

    def __init__(self, control: Any, rest: httpx.Client, *, url: str | None = None) -> None:
        self.control = control
        self.url = url
        with _refusals():
            creds = control.credentials()
        self.credentials = TwilioCredentials(
            account_sid=creds["account_sid"],
            auth_token=creds["auth_token"],
            api_key_sid=creds["api_key_sid"],
            api_key_secret=creds["api_key_secret"],
        )
        rest.auth = httpx.BasicAuth(self.credentials.account_sid, self.credentials.auth_token)
        self._rest = rest

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def in_process(cls, fake_app: Any) -> TwilioView:
        """A view of the fake Flask app ``fake_app`` in this process (no sockets)."""
        from fake_twilio import state_of
        from fake_twilio.control.facade import FakeControl

        rest = httpx.Client(
            transport=_RawURITransport(fake_app),
            base_url="http://fake-twilio.in-process",
            timeout=30.0,
        )
        return cls(FakeControl(state_of(fake_app)), rest)

    @classmethod
    def connect(cls, url: str, *, timeout: float = 10.0) -> TwilioView:
        """A view of the fake served at ``url``; :class:`TwilioUnreachable` if it is not there."""
        import requests

        from fake_twilio.control.client import ControlClient

        base = url.rstrip("/")
        control = ControlClient(base, timeout=timeout)
        try:
            health = control.health()
        except requests.RequestException as exc:
            raise TwilioUnreachable(
                f"the fake Twilio at {base} is unreachable ({type(exc).__name__})"
            ) from exc
        except Exception as exc:
            raise TwilioUnreachable(
                f"{base} does not look like a fake Twilio (GET /_fake/health: {exc})"
            ) from exc
        if not isinstance(health, dict) or health.get("status") != "ok":
            raise TwilioUnreachable(f"the fake Twilio at {base} is not healthy: {health!r}")
        rest = httpx.Client(base_url=base, timeout=timeout)
        return cls(control, rest, url=base)

    def close(self) -> None:
        self._rest.close()
        close = getattr(self.control, "close", None)
        if close is not None:
            close()

    # -- journal and webhooks ---------------------------------------------------------------
    def mark(self) -> int:
        """A journal position: pass it to :meth:`writes_since`."""
        with _refusals():
            return int(self.control.mark())

    def requests_since(self, mark: int) -> list[dict[str, Any]]:
        """Every request the fake answered after ``mark`` (the suite's own reads included)."""
        with _refusals():
            return list(self.control.requests(since=mark))

    def writes_since(self, mark: int) -> list[dict[str, Any]]:
        """Journal entries after ``mark`` whose method is POST or DELETE (writes to Twilio).

        Each entry has ``seq``, ``method``, ``path``, ``product``, ``form``, ``status``... The
        suite itself only reads through the REST API (its one write, :meth:`write_document`,
        comes before the marks taken around a backend request), so every write is someone
        else's: the backend's (or, for webhook-driven work, the backend's webhook handlers').
        """
        with _refusals():
            entries = self.control.requests(since=mark, writes_only=True)
        return [e for e in entries if str(e.get("method", "")).upper() in _WRITE_METHODS]

    def deliveries(self, since: int = 0) -> list[dict[str, Any]]:
        """Webhook deliveries the fake made (``seq``, ``url``, ``params``, ``status``...)."""
        with _refusals():
            return list(self.control.webhooks(since=since))

    def flush_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait for queued webhook deliveries (immediate in the fake's ``sync`` mode)."""
        with _refusals():
            return bool(self.control.flush_webhooks(timeout))

    @contextlib.contextmanager
    def webhooks_lost(self, url: str) -> Iterator[None]:
        """Within the ``with`` block, deliveries to ``url`` (and below it) go nowhere, as if the
        network lost them: a webhook rewrite rule (the fake's control plane) sends them to a
        closed local port; the deliveries are still recorded (:meth:`deliveries`, with an
        ``error``). The rules in place before are restored afterwards.
        """
        before = self._rewrites("GET")
        public = _without_query(url)
        self._rewrites("PUT", [*before, {"public": public, "local": _NOWHERE}])
        try:
            yield
        finally:
            self._rewrites("PUT", before)

    def _rewrites(
        self, method: str, rules: list[dict[str, str]] | None = None
    ) -> list[dict[str, str]]:
        body = None if rules is None else {"rewrites": rules}
        response = self._rest.request(method, "/_fake/webhooks/rewrites", json=body)
        if response.status_code >= 400:
            raise TwilioRefused(None, response.status_code, f"webhook rewrites: {response.text}")
        return list(response.json()["rewrites"])

    # -- Video ------------------------------------------------------------------------------
    def room(self, name_or_sid: str) -> dict[str, Any] | None:
        """The room (REST JSON) by SID, or by unique name among in-progress rooms; else None."""
        return self._get(f"/video/v1/Rooms/{_segment(name_or_sid)}")

    def room_participants(
        self, room: str, status: str | None = "connected"
    ) -> list[dict[str, Any]]:
        """The room's participants with that ``status`` (``None``: all); [] for no such room."""
        found = self.room(room)
        if found is None:
            return []
        query = {"Status": status} if status else {}
        path = f"/video/v1/Rooms/{found['sid']}/Participants"
        return self._list(path, "participants", query) or []

    def complete_room(self, room: str) -> dict[str, Any]:
        """Twilio ends the room (participants disconnected, then ``room-ended``)."""
        with _refusals():
            return dict(self.control.complete_room(room))

    # -- Media ------------------------------------------------------------------------------
    def player_streamer(self, sid: str) -> dict[str, Any] | None:
        return self._get(f"/media/v1/PlayerStreamers/{_segment(sid)}")

    def media_processor(self, sid: str) -> dict[str, Any] | None:
        return self._get(f"/media/v1/MediaProcessors/{_segment(sid)}")

    def media_processors(self, room_sid: str) -> list[dict[str, Any]]:
        """MediaProcessors whose ``extension_context`` names the room (by SID or unique name)."""
        names = {room_sid}
        found = self.room(room_sid)
        if found is not None:
            names |= {found["sid"], found.get("unique_name") or found["sid"]}
        processors = (
            self._list("/media/v1/MediaProcessors", "media_processors", page_size=_MEDIA_PAGE_SIZE)
            or []
        )
        return [p for p in processors if _context_room(p.get("extension_context")) in names]

    # -- Sync -------------------------------------------------------------------------------
    def sync_service(self, sid: str) -> dict[str, Any] | None:
        return self._get(f"/sync/v1/Services/{_segment(sid)}")

    def sync_objects(self, service_sid: str, kind: str) -> list[dict[str, Any]] | None:
        """Every document, map or list of the service (REST JSON); None when it is gone."""
        segment = _SYNC_SEGMENTS[_kind(kind)]
        key = {"document": "documents", "map": "maps", "list": "lists"}[kind]
        return self._list(f"/sync/v1/Services/{_segment(service_sid)}/{segment}", key)

    def map_items(self, service_sid: str, map_name: str) -> dict[str, dict[str, Any]] | None:
        """``{key: data}`` of every item of the map; None when the service or map is gone."""
        path = f"/sync/v1/Services/{_segment(service_sid)}/Maps/{_segment(map_name)}/Items"
        items = self._list(path, "items")
        if items is None:
            return None
        return {item["key"]: item.get("data") for item in items}

    def document(self, service_sid: str, name: str) -> dict[str, Any] | None:
        """The data of the document (by unique name or SID); None when it does not exist."""
        found = self._get(f"/sync/v1/Services/{_segment(service_sid)}/Documents/{_segment(name)}")
        return None if found is None else found.get("data")

    def write_document(self, service_sid: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
        """Replace the document's data as the account (REST update, no ``If-Match``), the way a
        backend would; the document's new data. :class:`TwilioRefused` when the fake refuses
        (no such service or document: HTTP 404, code 20404).

        The one write the suite makes through the REST API: it shows up in the journal
        (:meth:`writes_since`), so take a mark after it, not before.
        """
        path = f"/sync/v1/Services/{_segment(service_sid)}/Documents/{_segment(name)}"
        response = self._rest.post(path, data={"Data": json.dumps(data)})
        body = _json_of(response)
        if response.status_code >= 400 or not isinstance(body, dict):
            raise _refused("POST", path, response, body)
        return dict(body.get("data") or {})

    def documents(self, service_sid: str) -> dict[str, dict[str, Any]] | None:
        """``{unique_name: data}`` of every document of the service; None when it is gone."""
        found = self.sync_objects(service_sid, "document")
        if found is None:
            return None
        return {(d.get("unique_name") or d["sid"]): d.get("data") for d in found}

    def permissions(self, service_sid: str, kind: str, name: str) -> dict[str, dict[str, bool]]:
        """``{identity: {read, write, manage}}`` on one document, map or list ({} if none)."""
        segment = _SYNC_SEGMENTS[_kind(kind)]
        path = f"/sync/v1/Services/{_segment(service_sid)}/{segment}/{_segment(name)}/Permissions"
        found = self._list(path, "permissions") or []
        return {
            p["identity"]: {
                "read": bool(p.get("read")),
                "write": bool(p.get("write")),
                "manage": bool(p.get("manage")),
            }
            for p in found
        }

    # -- Conversations ----------------------------------------------------------------------
    def conversation(self, name_or_sid: str, service_sid: str) -> dict[str, Any] | None:
        return self._get(
            f"/conversations/v1/Services/{_segment(service_sid)}"
            f"/Conversations/{_segment(name_or_sid)}"
        )

    def conversation_participants(self, conversation: str, service_sid: str) -> list[str]:
        """Identities of the conversation's participants, in order ([] if no conversation)."""
        found = self.conversation(conversation, service_sid)
        if found is None:
            return []
        path = (
            f"/conversations/v1/Services/{_segment(service_sid)}"
            f"/Conversations/{found['sid']}/Participants"
        )
        participants = self._list(path, "participants") or []
        return [p.get("identity") for p in participants if p.get("identity") is not None]

    # -- simulated clients --------------------------------------------------------------------
    def connect_to_room(self, token: str, room: str) -> dict[str, Any]:
        """A Video client joins ``room`` with ``token``; the participant's JSON."""
        with _refusals():
            return dict(self.control.connect_to_room(token, room))

    def disconnect_from_room(self, room: str, identity: str) -> dict[str, Any]:
        """The Video client of ``identity`` leaves ``room``."""
        with _refusals():
            return dict(self.control.disconnect_from_room(room, identity))

    def connect_to_player(
        self, token: str, player_streamer_sid: str | None = None
    ) -> dict[str, Any]:
        """A Live player starts playback with the token's PlaybackGrant."""
        with _refusals():
            return dict(self.control.connect_to_player(token, player_streamer_sid))

    def disconnect_from_player(self, player_streamer_sid: str, identity: str) -> dict[str, Any]:
        with _refusals():
            return dict(self.control.disconnect_from_player(player_streamer_sid, identity))

    def connect_to_sync(self, token: str, service_sid: str | None = None) -> dict[str, Any]:
        """A Sync client comes online: ``{account_sid, service_sid, identity, endpoint_id}``."""
        with _refusals():
            return dict(self.control.connect_to_sync(token, service_sid))

    def disconnect_from_sync(
        self, service_sid: str, identity: str, endpoint_id: str | None = None
    ) -> dict[str, Any]:
        """A Sync client goes away (reachability webhooks follow when the service has them)."""
        with _refusals():
            return dict(self.control.disconnect_from_sync(service_sid, identity, endpoint_id))

    def sync_read(self, token: str, kind: str, name: str, key: str | None = None) -> dict[str, Any]:
        """Read a Sync object (or map item) as the token's identity (ACL enforced)."""
        with _refusals():
            return dict(self.control.sync_read(token, _kind(kind), name, key))

    def sync_write(
        self, token: str, kind: str, name: str, data: dict[str, Any], key: str | None = None
    ) -> dict[str, Any]:
        """Write a Sync object (or map item) as the token's identity (ACL enforced)."""
        with _refusals():
            return dict(self.control.sync_write(token, _kind(kind), name, data, key))

    def join_conversation(self, token: str, conversation: str) -> dict[str, Any]:
        """A Conversations client opens ``conversation`` with the token's chat grant."""
        with _refusals():
            return dict(self.control.join_conversation(token, conversation))

    def verify_token(self, token: str) -> dict[str, Any]:
        """Whether Twilio accepts the token: its decoded view, or :class:`TwilioRefused`."""
        with _refusals():
            return dict(self.control.verify_token(token))

    # -- clock and faults ---------------------------------------------------------------------
    def advance_clock(self, seconds: float) -> Any:
        """Move the fake's clock (due deadlines run and fire their webhooks)."""
        with _refusals():
            return self.control.advance(seconds)

    def add_fault(self, action: str = "error", **fields: Any) -> dict[str, Any]:
        """Add a fault rule (product, method, path or path_glob, code, status, message,
        latency_ms, times, after...); returns the rule with its ``id``.

        Faults match the suite's own REST reads too: scope them (``method="POST"``,
        ``times=1``) or add them right before the backend request they target.
        """
        with _refusals():
            return dict(self.control.add_fault(action, **fields))

    def remove_fault(self, fault_id: str) -> None:
        with _refusals():
            self.control.remove_fault(fault_id)

    def clear_faults(self) -> None:
        with _refusals():
            self.control.clear_faults()

    @contextlib.contextmanager
    def fault(self, action: str = "error", **fields: Any) -> Iterator[dict[str, Any]]:
        """A fault rule for the duration of a ``with`` block (removed afterwards if still there)."""
        rule = self.add_fault(action, **fields)
        try:
            yield rule
        finally:
            with contextlib.suppress(TwilioRefused):
                self.remove_fault(rule["id"])

    # -- REST plumbing ------------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        response = self._rest.get(path, params=params)
        if response.status_code == 404:
            return None
        body = _json_of(response)
        if response.status_code >= 400 or not isinstance(body, dict):
            raise _refused("GET", path, response, body)
        return body

    def _list(
        self,
        path: str,
        key: str,
        params: dict[str, Any] | None = None,
        page_size: int = _PAGE_SIZE,
    ) -> list[dict[str, Any]] | None:
        page = self._get(path, {"PageSize": page_size, **(params or {})})
        if page is None:
            return None
        records: list[dict[str, Any]] = []
        while True:
            records.extend(page.get(key) or [])
            next_url = (page.get("meta") or {}).get("next_page_url")
            if not next_url:
                return records
            page = self._get(_rest_path(next_url))
            if page is None:
                return records


def _json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _refused(method: str, path: str, response: httpx.Response, body: Any) -> TwilioRefused:
    """The fake's error answer as :class:`TwilioRefused` (Twilio's code and message if given)."""
    code = body.get("code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else response.text[:200]
    return TwilioRefused(code, response.status_code, f"{method} {path}: {message}")


class _RawURITransport(httpx.WSGITransport):
    """httpx's WSGI transport plus the raw request URI that servers pass on (``RAW_URI`` /
    ``REQUEST_URI``): httpx puts only the decoded path in ``PATH_INFO``, where an encoded
    ``/`` inside a name (``a%2Fb``) can no longer be told from a separator; the fake routes
    from the raw URI when there is one (:mod:`fake_twilio.core.segments`)."""

    def __init__(self, app: Any) -> None:
        super().__init__(app=self._with_raw_uri)
        self._inner = app
        self._request = threading.local()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._request.raw_uri = request.url.raw_path.decode("ascii")
        return super().handle_request(request)

    def _with_raw_uri(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["RAW_URI"] = environ["REQUEST_URI"] = self._request.raw_uri
        return self._inner(environ, start_response)


def _segment(value: str) -> str:
    """A URL path segment (unique names may hold any character): encoded as the fake encodes
    its own URLs, so that ``/``, ``?`` and ``#`` stay inside the segment and a ``.``/``..``
    name is not dropped by httpx's dot-segment removal."""
    from fake_twilio.core.segments import encode_segment

    return encode_segment(value)


def _without_query(url: str) -> str:
    """``url`` without its query and fragment (a rewrite rule's public prefix has neither)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _kind(kind: str) -> str:
    if kind not in SYNC_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SYNC_KINDS)}, not {kind!r}")
    return kind


def _rest_path(url: str) -> str:
    """``https://sync.twilio.com/v1/X?y`` -> ``/sync/v1/X?y`` (the fake's path-prefix routing)."""
    parts = urlsplit(url)
    product = parts.netloc.split(".", 1)[0]
    query = f"?{parts.query}" if parts.query else ""
    return f"/{product}{parts.path}{query}"


def _context_room(context: Any) -> str | None:
    if isinstance(context, str):
        try:
            context = json.loads(context)
        except ValueError:
            return None
    if isinstance(context, dict) and isinstance(context.get("room"), dict):
        name = context["room"].get("name")
        return name if isinstance(name, str) else None
    return None
