"""Deliberately faulty variants of the reference backend, for proving the checks.

Each :class:`Faulty` is the reference backend with exactly one behaviour swapped, built by a
factory with the signature :func:`conformance.embedded.start` expects
(``factory(settings, twilio_http_client) -> app``; it builds the expired twin too). A variant
either wraps the app's WSGI callable with a middleware that alters some answers, or replaces
one method of the app's own service objects (:func:`reference_backend.app.backend_of`). The
reference backend itself is never modified.

``expected`` is the set of requirement IDs the suite must report as failing for the variant
-- and no other: every other requirement must pass (the acceptance of the checks: each fault
is caught by the requirement that forbids it, and by nothing else).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, current_app, request
from twilio.jwt.access_token.grants import PlaybackGrant, VideoGrant

from reference_backend import create_app
from reference_backend.app import CLIENT_ENDPOINTS, Backend, backend_of
from reference_backend.errors import ProtocolError, documented, passcode_incorrect, step
from reference_backend.inputs import read_params
from reference_backend.storage import StreamRecord
from reference_backend.sync_state import SPEAKERS, user_document
from reference_backend.tokens import TokenFactory

Factory = Callable[[Any, Any], Flask]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class Faulty:
    """One faulty variant: ``name``, what is wrong (``fault``), the requirements that must
    catch it (``expected``), how to build it (``factory``) and settings ``overrides``."""

    name: str
    fault: str
    expected: frozenset[str]
    factory: Factory
    overrides: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


def reference(settings: Any, client: Any) -> Flask:
    """The reference backend, unchanged."""
    return create_app(settings, twilio_http_client=client)


def _variant(change: Callable[[Flask, Backend], None]) -> Factory:
    """A factory building the reference backend and then applying ``change(app, backend)``."""

    def factory(settings: Any, client: Any) -> Flask:
        app = reference(settings, client)
        change(app, backend_of(app))
        return app

    return factory


def _current() -> Backend:
    return backend_of(current_app)  # type: ignore[arg-type]


# -- WSGI plumbing ------------------------------------------------------------------------------
def _buffered(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run ``app`` and collect its answer: ``(status line, headers, body)``."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = status, list(headers)
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return captured["status"], captured["headers"], body


def _answer(
    start_response: Callable[..., Any], status: str, headers: list[tuple[str, str]], body: bytes
) -> Iterator[bytes]:
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    start_response(status, headers)
    yield body


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body; ``environ`` gets a fresh stream with the same bytes."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = BytesIO(body)
    return body


def _replace_body(environ: dict[str, Any], body: bytes) -> None:
    environ["wsgi.input"] = BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _middleware(app: Flask, wrap: Callable[[WSGIApp], WSGIApp]) -> None:
    app.wsgi_app = wrap(app.wsgi_app)  # type: ignore[method-assign]


# -- 1. remove-speaker without the passcode check (the original's bug) --------------------------
def _remove_speaker_without_auth(app: Flask, backend: Backend) -> None:
    handler = CLIENT_ENDPOINTS["remove-speaker"]

    def view() -> Any:
        params = read_params(request, "remove-speaker", form_body=backend.settings.form_body)
        return handler(_current().streams, params)

    app.view_functions["remove-speaker"] = view


# -- 2. error bodies outside the envelope ---------------------------------------------------------
def _plain_text_405s(app: Flask, backend: Backend) -> None:
    def wrap(inner: WSGIApp) -> WSGIApp:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            status, headers, body = _buffered(inner, environ)
            if status.startswith("405"):
                headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
                headers.append(("Content-Type", "text/plain; charset=utf-8"))
                body = b"Method Not Allowed"
            return _answer(start_response, status, headers, body)

        return middleware

    _middleware(app, wrap)


# -- 3. a viewer token that grants the room --------------------------------------------------------
@dataclass(frozen=True)
class _RoomGrantingTokens(TokenFactory):
    def viewer(
        self,
        identity: str,
        playback_grant: dict[str, Any],
        sync_service_sid: str,
        chat_service_sid: str | None,
    ) -> str:
        token = self._token(identity, sync_service_sid, chat_service_sid)
        token.add_grant(PlaybackGrant(grant=playback_grant))
        token.add_grant(VideoGrant())  # no room: every room
        return str(token.to_jwt())


def _viewer_token_with_video_grant(app: Flask, backend: Backend) -> None:
    tokens = backend.streams.tokens
    backend.streams.tokens = _RoomGrantingTokens(
        tokens.account_sid, tokens.api_key_sid, tokens.api_key_secret, tokens.ttl
    )


# -- 4. viewer-connected-to-player records nothing ------------------------------------------------
def _viewer_not_recorded(app: Flask, backend: Backend) -> None:
    streams = backend.streams

    def viewer_connected(identity: str, stream_name: str) -> dict[str, Any]:
        streams._live_stream(stream_name, "error getting stream sync client")
        return {"success": True}

    streams.viewer_connected = viewer_connected  # type: ignore[method-assign]


# -- 5. a Twilio write before the 401 --------------------------------------------------------------
def _writes_before_rejecting(app: Flask, backend: Backend) -> None:
    guard = backend.guard
    original = guard.check

    def check(authorization: str | None, client: str) -> None:
        try:
            original(authorization, client)
        except Exception:
            if request.path == "/create-stream":
                body = request.get_json(silent=True)
                name = body.get("stream_name") if isinstance(body, dict) else None
                if isinstance(name, str) and name:
                    url = backend.settings.webhook_url("rooms-webhook")
                    with contextlib.suppress(Exception):  # e.g. the name is taken already
                        backend.gateway.create_room(name, url)
            raise

    guard.check = check  # type: ignore[method-assign]


# -- 6. hand_raised with JavaScript truthiness ----------------------------------------------------
def _hand_raised_truthiness(app: Flask, backend: Backend) -> None:
    def wrap(inner: WSGIApp) -> WSGIApp:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("PATH_INFO") == "/raise-hand" and "json" in environ.get(
                "CONTENT_TYPE", ""
            ):
                try:
                    payload = json.loads(_read_body(environ) or b"null")
                except (ValueError, RecursionError):
                    payload = None
                if isinstance(payload, dict) and isinstance(payload.get("hand_raised"), str):
                    if payload["hand_raised"]:
                        payload["hand_raised"] = True  # "false" is a non-empty string: true
                    else:
                        del payload["hand_raised"]  # "" is falsy: as if absent
                    _replace_body(environ, json.dumps(payload).encode())
            return inner(environ, start_response)

        return middleware

    _middleware(app, wrap)


# -- 7. a crash (500) instead of 'missing <param>' (the original's TDZ bug) -------------------
def _missing_parameter_crashes(app: Flask, backend: Backend) -> None:
    for name in ("viewer-connected-to-player", "raise-hand"):
        original = app.view_functions[name]
        required = {
            "viewer-connected-to-player": ("user_identity", "stream_name"),
            "raise-hand": ("user_identity", "stream_name", "hand_raised"),
        }[name]

        def view(original: Callable[[], Any] = original, required: tuple = required) -> Any:
            backend = _current()
            backend.guard.check(request.headers.get("Authorization"), request.remote_addr or "")
            if request.method == "GET":
                given: Any = request.args
            elif request.mimetype == "application/x-www-form-urlencoded":
                # parsed from the cached raw body: the backend reads the same bytes after us
                raw_form = request.get_data(cache=True).decode("utf-8", "replace")
                given = dict(parse_qsl(raw_form, keep_blank_values=True))
            else:
                raw = request.get_data(cache=True)
                try:
                    given = json.loads(raw) if raw.strip() else {}
                except (ValueError, RecursionError):
                    given = None
            if isinstance(given, dict) or hasattr(given, "getlist"):
                missing = [p for p in required if p not in given]
                if missing:
                    raise ReferenceError(
                        f"Cannot access 'response' before initialization ({missing})"
                    )
            return original()

        app.view_functions[name] = view


# -- 8. the original's double-space typo -----------------------------------------------------------
def _double_space_typo(app: Flask, backend: Backend) -> None:
    def wrap(inner: WSGIApp) -> WSGIApp:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            status, headers, body = _buffered(inner, environ)
            if environ.get("PATH_INFO") == "/send-speaker-invite":
                body = body.replace(
                    b"error updating user document", b"error updating user  document"
                )
            return _answer(start_response, status, headers, body)

        return middleware

    _middleware(app, wrap)


# -- 10. a re-join resets a pending invitation (the original's bug) --------------------------------
def _rejoin_resets_invitation(app: Flask, backend: Backend) -> None:
    streams = backend.streams
    original = streams.join_as_viewer

    def join_as_viewer(identity: str, stream_name: str) -> dict[str, Any]:
        answer = original(identity, stream_name)
        room = streams.gateway.find_room(stream_name)
        record = streams.storage.get_stream(room.sid) if room is not None else None
        if record is not None:
            name = user_document(identity)
            document = streams.gateway.document(record.sync_service_sid, name)
            if document is not None and document.data != {"speaker_invite": False}:
                streams.gateway.update_document(
                    record.sync_service_sid, name, {"speaker_invite": False}, document.revision
                )
        return answer

    streams.join_as_viewer = join_as_viewer  # type: ignore[method-assign]


# -- 11. webhooks accept unsigned deliveries -------------------------------------------------------
def _unsigned_webhooks_accepted(app: Flask, backend: Backend) -> None:
    webhooks = backend.webhooks
    original = webhooks.verify

    def verify(req: Any, path: str) -> None:
        if not req.headers.get("X-Twilio-Signature"):
            return
        original(req, path)

    webhooks.verify = verify  # type: ignore[method-assign]


# -- 12. participant-connected demotes the host ----------------------------------------------------
def _host_demoted_on_connect(app: Flask, backend: Backend) -> None:
    webhooks = backend.webhooks
    original = webhooks._participant_connected
    gateway = backend.gateway

    def participant_connected(
        record: StreamRecord, identity: str, participant_sid: str | None
    ) -> None:
        original(record, identity, participant_sid)
        service = record.sync_service_sid
        if identity == record.host_identity and gateway.map_item(service, SPEAKERS.name, identity):
            gateway.remove_map_item(service, SPEAKERS.name, identity)
            gateway.add_map_item(service, SPEAKERS.name, identity, {"host": False})

    webhooks._participant_connected = participant_connected  # type: ignore[method-assign]


# -- 13. room-ended cleans nothing up -------------------------------------------------------------
def _room_ended_ignored(app: Flask, backend: Backend) -> None:
    backend.webhooks._room_ended = lambda room_sid: None  # type: ignore[method-assign]


def _room_ended_leaks_resources(app: Flask, backend: Backend) -> None:
    storage = backend.storage

    def room_ended(room_sid: str) -> None:
        storage.delete_stream(room_sid)  # forgets the stream, leaves media and Sync behind

    backend.webhooks._room_ended = room_ended  # type: ignore[method-assign]


# -- 14. expiry checked after equality ---------------------------------------------------
def _expiry_after_equality(app: Flask, backend: Backend) -> None:
    guard = backend.guard
    original = guard.check
    passcode = backend.settings.passcode

    def check(authorization: str | None, client: str) -> None:
        try:
            original(authorization, client)
        except ProtocolError as error:
            if error.message == "passcode expired" and authorization != passcode:
                raise passcode_incorrect() from None
            raise

    guard.check = check  # type: ignore[method-assign]


# -- 15. send-speaker-invite trusts the stream record (the old reference backend's bug) ----------
def _invite_trusts_its_record(app: Flask, backend: Backend) -> None:
    streams = backend.streams

    def send_speaker_invite(identity: str, room_sid: str) -> dict[str, Any]:
        record = streams.storage.get_stream(room_sid)  # kept until room-ended is handled
        if record is None:
            raise documented("send-speaker-invite", "error finding room")
        with step("error updating user document"):
            found = streams.sync.merge_user_document(
                record.sync_service_sid, identity, {"speaker_invite": True}
            )
        if not found:
            raise documented("send-speaker-invite", "error updating user document")
        return {"sent": True}

    streams.send_speaker_invite = send_speaker_invite  # type: ignore[method-assign]


# -- 18. send-speaker-invite overwrites the user document ------------------------------------------
def _invite_overwrites_document(app: Flask, backend: Backend) -> None:
    streams = backend.streams
    original = streams.send_speaker_invite

    def send_speaker_invite(identity: str, room_sid: str) -> dict[str, Any]:
        answer = original(identity, room_sid)  # every refusal exactly as the reference's
        record = streams.storage.get_stream(room_sid)
        if record is not None:
            name = user_document(identity)
            document = streams.gateway.document(record.sync_service_sid, name)
            if document is not None:
                streams.gateway.update_document(
                    record.sync_service_sid, name, {"speaker_invite": True}, document.revision
                )
        return answer

    streams.send_speaker_invite = send_speaker_invite  # type: ignore[method-assign]


# -- 16, 17. extreme JSON crashes the body parser (the old reference backend's bugs) -------------
def _crashes_on(crashes: Callable[[Any], bool]) -> Callable[[Flask, Backend], None]:
    """A variant answering 500 'internal error' to every JSON body for which ``crashes`` holds
    (given the body parsed by Python's json module, or the ValueError it raised)."""

    def change(app: Flask, backend: Backend) -> None:
        def wrap(inner: WSGIApp) -> WSGIApp:
            def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
                if "json" in environ.get("CONTENT_TYPE", ""):
                    try:
                        parsed: Any = json.loads(_read_body(environ) or b"null")
                    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                        parsed = None
                    except ValueError as error:  # e.g. an integer beyond 4,300 digits
                        parsed = error
                    if crashes(parsed):
                        body = json.dumps(
                            {"error": {"message": "internal error", "explanation": "crashed"}}
                        ).encode()
                        headers = [("Content-Type", "application/json")]
                        return _answer(start_response, "500 INTERNAL SERVER ERROR", headers, body)
                return inner(environ, start_response)

            return middleware

        _middleware(app, wrap)

    return change


def _holds_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_holds_lone_surrogate(k) or _holds_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_lone_surrogate(item) for item in value)
    return False


# -- extra: cacheable token answers -----------------------------------------------------
def _cacheable_tokens(app: Flask, backend: Backend) -> None:
    @app.after_request
    def cacheable(response: Any) -> Any:
        if response.headers.get("Cache-Control") == "no-store":
            response.headers["Cache-Control"] = "private, max-age=60"
        return response


# -- error texts and input values (AUTH-6, ERR-1, IN-5, IN-6, IN-7) -----------------------------
def _rewrite_answers(
    when: Callable[[str, dict[str, Any]], bool], change: Callable[[dict[str, Any]], None]
) -> Callable[[Flask, Backend], None]:
    """A variant whose JSON answers with a status line for which ``when(status, body)`` holds
    are passed through ``change(body)`` (in place)."""

    def variant(app: Flask, backend: Backend) -> None:
        def wrap(inner: WSGIApp) -> WSGIApp:
            def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
                status, headers, body = _buffered(inner, environ)
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = None
                if isinstance(payload, dict) and when(status, payload):
                    change(payload)
                    body = json.dumps(payload).encode()
                return _answer(start_response, status, headers, body)

            return middleware

        _middleware(app, wrap)

    return variant


def _error_of(payload: dict[str, Any]) -> dict[str, Any]:
    error = payload.get("error")
    return error if isinstance(error, dict) else {}


def _extra_members_in_errors(payload: dict[str, Any]) -> None:
    """Twilio-style extras beside the envelope and inside the error object."""
    payload["status"] = "failed"
    _error_of(payload).update(code=20001, more_info="https://example.test/errors/20001")


def _rewrite_request(change: Callable[[dict[str, Any]], None]) -> Callable[[Flask, Backend], None]:
    """A variant that passes every JSON object body through ``change`` before the backend
    reads it."""

    def variant(app: Flask, backend: Backend) -> None:
        def wrap(inner: WSGIApp) -> WSGIApp:
            def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
                if "json" in environ.get("CONTENT_TYPE", ""):
                    try:
                        parsed = json.loads(_read_body(environ) or b"null")
                    except (ValueError, RecursionError):
                        parsed = None
                    if isinstance(parsed, dict):
                        change(parsed)
                        _replace_body(environ, json.dumps(parsed).encode())
                return inner(environ, start_response)

            return middleware

        _middleware(app, wrap)

    return variant


def _strip_member(name: str) -> Callable[[dict[str, Any]], None]:
    def change(params: dict[str, Any]) -> None:
        if isinstance(params.get(name), str):
            params[name] = params[name].strip()

    return change


def _whitespace_body_invalid(app: Flask, backend: Backend) -> None:
    def wrap(inner: WSGIApp) -> WSGIApp:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            body = _read_body(environ)
            if body and not body.strip():
                answer = {"error": {"message": "invalid request body", "explanation": "blank"}}
                headers = [("Content-Type", "application/json")]
                encoded = json.dumps(answer).encode()
                return _answer(start_response, "400 BAD REQUEST", headers, encoded)
            return inner(environ, start_response)

        return middleware

    _middleware(app, wrap)


# -- FLOW-14, STATE-6, FLOW-16, FLOW-17, FLOW-8: invitations, documents, the host, the stage --
def _invite_skips_when_already_invited(app: Flask, backend: Backend) -> None:
    """send-speaker-invite writes nothing when the document says speaker_invite true already
    (the reference backend's earlier behaviour)."""
    sync = backend.streams.sync
    merge = sync.merge_user_document

    def merge_user_document(
        service_sid: str, identity: str, changes: dict[str, Any], **_: Any
    ) -> bool:
        return merge(service_sid, identity, changes, skip_unchanged=True)

    sync.merge_user_document = merge_user_document  # type: ignore[method-assign]


def _speaker_document_empty(app: Flask, backend: Backend) -> None:
    """join-stream-as-speaker creates the user document as {} (the original's speaker path)."""
    gateway = backend.gateway
    create = gateway.create_document

    def create_document(service_sid: str, name: str, data: dict[str, Any]) -> bool:
        try:
            speaker = request.path == "/join-stream-as-speaker"
        except RuntimeError:  # outside a request
            speaker = False
        if speaker and name.startswith("user-"):
            data = {}
        return create(service_sid, name, data)

    gateway.create_document = create_document  # type: ignore[method-assign]


def _host_returns_as_speaker(app: Flask, backend: Backend) -> None:
    """A host who left the room and connects again is re-added as {host: false} (the
    original); a host whose item is still there keeps it."""
    webhooks = backend.webhooks
    original = webhooks._participant_connected
    gateway = backend.gateway

    def participant_connected(
        record: StreamRecord, identity: str, participant_sid: str | None
    ) -> None:
        service = record.sync_service_sid
        returning = (
            identity == record.host_identity
            and gateway.map_item(service, SPEAKERS.name, identity) is None
        )
        original(record, identity, participant_sid)
        if returning and gateway.map_item(service, SPEAKERS.name, identity) is not None:
            gateway.remove_map_item(service, SPEAKERS.name, identity)
            gateway.add_map_item(service, SPEAKERS.name, identity, {"host": False})

    webhooks._participant_connected = participant_connected  # type: ignore[method-assign]


def _disconnect_clears_audience(app: Flask, backend: Backend) -> None:
    """participant-disconnected also removes the identity from viewers: a speaker who left
    the stage to watch ("Leave and View Event") disappears from the host's viewers list."""
    from reference_backend.sync_state import VIEWERS

    webhooks = backend.webhooks
    original = webhooks._participant_disconnected
    gateway = backend.gateway

    def participant_disconnected(
        record: StreamRecord, identity: str, participant_sid: str | None
    ) -> None:
        original(record, identity, participant_sid)
        gateway.remove_map_item(record.sync_service_sid, VIEWERS.name, identity)

    webhooks._participant_disconnected = participant_disconnected  # type: ignore[method-assign]


def _no_delete_stream(app: Flask, backend: Backend) -> None:
    """POST /delete-stream answers 404, as a backend without the endpoint does."""

    def wrap(inner: WSGIApp) -> WSGIApp:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("PATH_INFO") == "/delete-stream":
                _read_body(environ)
                answer = {
                    "error": {
                        "message": "not found",
                        "explanation": "The requested resource was not found.",
                    }
                }
                headers = [("Content-Type", "application/json")]
                encoded = json.dumps(answer).encode()
                return _answer(start_response, "404 NOT FOUND", headers, encoded)
            return inner(environ, start_response)

        return middleware

    _middleware(app, wrap)


# -- TOK-3: tokens in twilio-node's form (iat and exp, no nbf) ---------------------------------
@dataclass(frozen=True)
class _TokensWithoutNbf(TokenFactory):
    def _token(self, identity: str, sync_service_sid: str, chat_service_sid: str | None) -> Any:
        import time

        from twilio.jwt.access_token import AccessToken
        from twilio.jwt.access_token.grants import ChatGrant, SyncGrant

        class IssuedAtToken(AccessToken):  # type: ignore[misc]
            def _generate_payload(self) -> dict[str, Any]:
                payload = super()._generate_payload()
                payload["iat"] = int(time.time())
                return payload

        token = IssuedAtToken(
            self.account_sid,
            self.api_key_sid,
            self.api_key_secret,
            identity=identity,
            ttl=self.ttl,
            nbf=None,
        )
        token.add_grant(SyncGrant(service_sid=sync_service_sid))
        if chat_service_sid is not None:
            token.add_grant(ChatGrant(service_sid=chat_service_sid))
        return token


def _tokens_without_nbf(app: Flask, backend: Backend) -> None:
    tokens = backend.streams.tokens
    backend.streams.tokens = _TokensWithoutNbf(
        tokens.account_sid, tokens.api_key_sid, tokens.api_key_secret, tokens.ttl
    )


# -- SEC-2, SEC-4: no throttle; one throttle for every caller ------------------------------------
def _no_throttle(app: Flask, backend: Backend) -> None:
    backend.guard._throttle.blocked_for = lambda client: 0.0  # type: ignore[method-assign]


def _deployment_wide_throttle(app: Flask, backend: Backend) -> None:
    guard = backend.guard
    original = guard.check

    def check(authorization: str | None, client: str) -> None:
        original(authorization, "everyone")  # one key for every caller

    guard.check = check  # type: ignore[method-assign]


# -- WH-1: refused deliveries answered 401 text/plain -------------------------------------------
def _webhook_refusal_plain_401(app: Flask, backend: Backend) -> None:
    def wrap(inner: WSGIApp) -> WSGIApp:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            status, headers, body = _buffered(inner, environ)
            webhook = environ.get("PATH_INFO") in ("/rooms-webhook", "/sync-webhook")
            if webhook and status.startswith("403"):
                headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
                headers.append(("Content-Type", "text/plain; charset=utf-8"))
                status, body = "401 UNAUTHORIZED", b"Unauthorized"
            return _answer(start_response, status, headers, body)

        return middleware

    _middleware(app, wrap)


# -- WH-4: late deliveries after room-ended answer 500 (and change nothing) ----------------------
def _late_deliveries_fail(app: Flask, backend: Backend) -> None:
    webhooks = backend.webhooks
    ended_rooms: set[str] = set()
    ended_services: set[str] = set()
    room_ended, rooms, sync_event = webhooks._room_ended, webhooks.rooms, webhooks.sync_event

    def _room_ended(room_sid: str) -> None:
        record = webhooks.storage.get_stream(room_sid)
        room_ended(room_sid)
        if record is not None:
            ended_rooms.add(room_sid)
            ended_services.add(record.sync_service_sid)

    def late() -> ProtocolError:
        return ProtocolError(500, "error getting stream sync client", "The stream has ended.")

    def rooms_(form: Any) -> None:
        was_ended = form.get("RoomSid") in ended_rooms
        rooms(form)  # handled as the reference does: nothing happens
        if was_ended:
            raise late()

    def sync_event_(form: Any) -> None:
        was_ended = form.get("ServiceSid") in ended_services
        sync_event(form)
        if was_ended:
            raise late()

    webhooks._room_ended = _room_ended  # type: ignore[method-assign]
    webhooks.rooms = rooms_  # type: ignore[method-assign]
    webhooks.sync_event = sync_event_  # type: ignore[method-assign]


FAULTY: tuple[Faulty, ...] = (
    Faulty(
        "remove-speaker-without-passcode",
        "remove-speaker does not check the passcode (the original's bug)",
        frozenset({"AUTH-1"}),
        _variant(_remove_speaker_without_auth),
    ),
    Faulty(
        "extra-members-in-errors",
        'every error answer has extra members, "status" beside "error" and "code" and '
        '"more_info" in the error object (benign: clients read message and explanation only)',
        frozenset(),
        _variant(_rewrite_answers(lambda status, body: "error" in body, _extra_members_in_errors)),
    ),
    Faulty(
        "plain-text-405",
        "405 answers are text/plain",
        frozenset({"ERR-8"}),
        _variant(_plain_text_405s),
    ),
    Faulty(
        "viewer-token-grants-the-room",
        "viewer tokens carry a video grant",
        frozenset({"TOK-8"}),
        _variant(_viewer_token_with_video_grant),
    ),
    Faulty(
        "viewer-never-recorded",
        "viewer-connected-to-player answers success but adds nothing to viewers",
        frozenset({"FLOW-1"}),
        _variant(_viewer_not_recorded),
    ),
    Faulty(
        "twilio-write-before-401",
        "create-stream with a wrong passcode creates the room, then answers 401",
        frozenset({"AUTH-5"}),
        _variant(_writes_before_rejecting),
    ),
    Faulty(
        "hand-raised-truthiness",
        'raise-hand takes JSON strings by JavaScript truthiness ("false" raises the hand)',
        frozenset({"IN-4"}),
        _variant(_hand_raised_truthiness),
    ),
    Faulty(
        "missing-parameter-crashes",
        "viewer-connected-to-player and raise-hand answer 500 for a missing parameter "
        "(the original's TDZ bug)",
        frozenset({"IN-2", "IN-3"}),
        _variant(_missing_parameter_crashes),
    ),
    Faulty(
        "double-space-typo",
        "send-speaker-invite says 'error updating user  document' (two spaces)",
        frozenset({"ERR-4", "ERR-10"}),
        _variant(_double_space_typo),
    ),
    Faulty(
        "day-long-tokens",
        "tokens live 24 hours",
        frozenset({"TOK-3"}),
        reference,
        {"token_ttl": 86_400},
    ),
    Faulty(
        "rejoin-resets-invitation",
        "join-stream-as-viewer resets user-<identity> to {speaker_invite: false} (benign: "
        "FLOW-3 allows it)",
        frozenset(),
        _variant(_rejoin_resets_invitation),
    ),
    Faulty(
        "unsigned-webhooks-accepted",
        "webhook deliveries without X-Twilio-Signature are processed",
        frozenset({"WH-1"}),
        _variant(_unsigned_webhooks_accepted),
    ),
    Faulty(
        "host-demoted-on-connect",
        "participant-connected overwrites the host's speakers item with {host: false}",
        frozenset({"FLOW-4", "FLOW-16"}),
        _variant(_host_demoted_on_connect),
    ),
    Faulty(
        "room-ended-ignored",
        "room-ended does nothing: media, Sync service and the stream record stay",
        frozenset({"FLOW-9", "IDEM-3", "WH-4"}),
        _variant(_room_ended_ignored),
    ),
    Faulty(
        "room-ended-leaks-resources",
        "room-ended forgets the stream but leaves its media started and Sync service alive",
        frozenset({"FLOW-9"}),
        _variant(_room_ended_leaks_resources),
    ),
    Faulty(
        "expiry-after-equality",
        "the passcode's equality is checked before its expiry",
        frozenset({"AUTH-3"}),
        _variant(_expiry_after_equality),
    ),
    Faulty(
        "invite-trusts-its-record",
        "send-speaker-invite checks only the stored stream record, not the room's status "
        "(answers 200 while room-ended is late)",
        frozenset({"ERR-9"}),
        _variant(_invite_trusts_its_record),
    ),
    Faulty(
        "invite-overwrites-document",
        'send-speaker-invite replaces user-<identity> with {"speaker_invite": true}, dropping '
        "its other members",
        frozenset({"FLOW-15"}),
        _variant(_invite_overwrites_document),
    ),
    Faulty(
        "huge-int-crashes",
        "a JSON body with an integer of more than 4,300 digits answers 500",
        frozenset({"IN-4"}),
        _variant(_crashes_on(lambda parsed: isinstance(parsed, ValueError))),
    ),
    Faulty(
        "lone-surrogate-crashes",
        'a JSON body with a lone surrogate escape ("\\ud800") answers 500',
        frozenset({"IN-11", "IN-12"}),
        _variant(_crashes_on(_holds_lone_surrogate)),
    ),
    Faulty(
        "cacheable-token-answers",
        "token answers say Cache-Control: private, max-age=60",
        frozenset({"SEC-3"}),
        _variant(_cacheable_tokens),
    ),
    Faulty(
        "passcode-explanation-reworded",
        "the 401 answers explain 'Wrong passcode.' instead of the documented explanation",
        frozenset({"AUTH-6"}),
        _variant(
            _rewrite_answers(
                lambda status, body: status.startswith("401"),
                lambda body: _error_of(body).update(explanation="Wrong passcode."),
            )
        ),
    ),
    Faulty(
        "404-without-explanation",
        "404 answers have an error object with a message but no explanation",
        frozenset({"ERR-1"}),
        _variant(
            _rewrite_answers(
                lambda status, body: status.startswith("404"),
                lambda body: _error_of(body).pop("explanation", None),
            )
        ),
    ),
    Faulty(
        "identity-trimmed",
        "user_identity is stripped of leading and trailing spaces before use",
        frozenset({"IN-5"}),
        _variant(_rewrite_request(_strip_member("user_identity"))),
    ),
    Faulty(
        "stream-name-trimmed",
        "stream_name is stripped of leading and trailing spaces before use",
        frozenset({"IN-6"}),
        _variant(_rewrite_request(_strip_member("stream_name"))),
    ),
    Faulty(
        "whitespace-body-invalid",
        "a body of whitespace only answers 400 'invalid request body' instead of counting as {}",
        frozenset({"IN-7"}),
        _variant(_whitespace_body_invalid),
    ),
    Faulty(
        "invite-skips-when-already-invited",
        "send-speaker-invite writes no new revision when speaker_invite is true already",
        frozenset({"FLOW-14"}),
        _variant(_invite_skips_when_already_invited),
    ),
    Faulty(
        "speaker-document-empty",
        "join-stream-as-speaker creates the user document as {} (benign: absent means false)",
        frozenset(),
        _variant(_speaker_document_empty),
    ),
    Faulty(
        "host-returns-as-speaker",
        "the host who left the room and connects again is re-added as {host: false}",
        frozenset({"FLOW-16"}),
        _variant(_host_returns_as_speaker),
    ),
    Faulty(
        "disconnect-clears-audience",
        "participant-disconnected also removes the identity from viewers",
        frozenset({"FLOW-17"}),
        _variant(_disconnect_clears_audience),
    ),
    Faulty(
        "no-delete-stream",
        "POST /delete-stream answers 404 'not found' (the endpoint is not there)",
        frozenset({"FLOW-8"}),
        _variant(_no_delete_stream),
    ),
    Faulty(
        "short-lived-tokens",
        "tokens live 60 seconds (a session ends mid-stream: clients never refresh)",
        frozenset({"TOK-3"}),
        reference,
        {"token_ttl": 60},
    ),
    Faulty(
        "tokens-without-nbf",
        "tokens carry iat and exp but no nbf, as twilio-node's (benign: valid from iat)",
        frozenset(),
        _variant(_tokens_without_nbf),
    ),
    Faulty(
        "no-throttle",
        "wrong passcodes are never throttled",
        frozenset({"SEC-2"}),
        _variant(_no_throttle),
    ),
    Faulty(
        "deployment-wide-throttle",
        "the throttle counts every caller's failures under one key: 10 wrong guesses by "
        "anyone lock out everyone",
        frozenset({"SEC-4"}),
        _variant(_deployment_wide_throttle),
    ),
    Faulty(
        "webhook-refusal-plain-401",
        'unsigned or forged webhook deliveries answer 401 text/plain "Unauthorized" (benign: '
        "Twilio never reads the body)",
        frozenset(),
        _variant(_webhook_refusal_plain_401),
    ),
    Faulty(
        "late-delivery-500",
        "deliveries about a stream after its room-ended answer 500 (but change nothing)",
        frozenset({"WH-4"}),
        _variant(_late_deliveries_fail),
    ),
    Faulty(
        "forwarded-for-believed",
        "X-Forwarded-For is believed from any client (a trusted proxy configured where there "
        "is none): a throttled address escapes by claiming another",
        frozenset({"SEC-4"}),
        reference,
        {"trusted_proxies": 1},
    ),
)
"""Every faulty variant, with the requirements that must catch it."""


def outcome_table(report: Any) -> str:
    """One line per result that is not a pass: ID, status and summary (for assertion messages)."""
    lines = [
        f"{result.id} {result.status}: {result.summary}"
        for result in report.results
        if result.status != "pass"
    ]
    return "\n".join(lines) or "(every requirement passed)"


def by_name(name: str) -> Faulty:
    return next(item for item in FAULTY if item.name == name)
