"""The Flask app: routes of docs/PROTOCOL.md, the passcode check, and error rendering.

:func:`create_app` builds an app that owns all its state (Twilio client, caches, throttle) in
``app.extensions["reference_backend"]``; nothing is module-global, so several apps can live in
one process. Which Twilio it talks to is decided only by configuration: an injected SDK
``HttpClient`` (tests: a fake in-process), ``Settings.twilio_url`` (a fake server), or real
Twilio.

Request pipeline of a client endpoint: method (POST; GET with capability get-query) ->
passcode (:mod:`.auth`) -> parameters (:mod:`.inputs`) -> endpoint logic (:mod:`.streams`) ->
JSON body. Every error is ``{"error": {"message", "explanation"}}``; an unexpected exception is
logged and answered 500 without any detail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request
from twilio.http import HttpClient
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from schemas.openapi import build_openapi

from .auth import FailureThrottle, PasscodeGuard
from .errors import (
    INTERNAL_ERROR,
    ProtocolError,
    method_not_allowed,
    not_found_route,
    render,
)
from .inputs import read_params
from .settings import Settings
from .storage import BackendStorage
from .streams import Streams
from .tokens import TokenFactory
from .twilio_gateway import TwilioGateway
from .twilio_http import RetryingHttpClient
from .webhooks import Webhooks

__all__ = ["EXTENSION_KEY", "Backend", "backend_of", "create_app"]

log = logging.getLogger("reference_backend")

EXTENSION_KEY = "reference_backend"
MAX_BODY_BYTES = 64 * 1024


@dataclass
class Backend:
    """Everything one app instance owns."""

    settings: Settings
    gateway: TwilioGateway
    storage: BackendStorage
    streams: Streams
    webhooks: Webhooks
    guard: PasscodeGuard


Handler = Callable[[Streams, dict[str, Any]], dict[str, Any]]

CLIENT_ENDPOINTS: dict[str, Handler] = {
    "verify-passcode": lambda streams, p: {"verified": True},
    "create-stream": lambda streams, p: streams.create(p["user_identity"], p["stream_name"]),
    "join-stream-as-speaker": lambda streams, p: streams.join_as_speaker(
        p["user_identity"], p["stream_name"]
    ),
    "join-stream-as-viewer": lambda streams, p: streams.join_as_viewer(
        p["user_identity"], p["stream_name"]
    ),
    "viewer-connected-to-player": lambda streams, p: streams.viewer_connected(
        p["user_identity"], p["stream_name"]
    ),
    "raise-hand": lambda streams, p: streams.raise_hand(
        p["user_identity"], p["stream_name"], p["hand_raised"]
    ),
    "send-speaker-invite": lambda streams, p: streams.send_speaker_invite(
        p["user_identity"], p["room_sid"]
    ),
    "remove-speaker": lambda streams, p: streams.remove_speaker(p["user_identity"], p["room_name"]),
    "delete-stream": lambda streams, p: streams.delete(p["stream_name"]),
}
"""Client endpoint -> its logic, called with validated parameters."""


def _default_http_client(settings: Settings) -> HttpClient:
    if settings.twilio_url:
        from fake_twilio.http_client import FakeServerHttpClient

        return FakeServerHttpClient(settings.twilio_url)
    from twilio.http.http_client import TwilioHttpClient

    return TwilioHttpClient()


def create_app(
    settings: Settings,
    *,
    twilio_http_client: HttpClient | None = None,
    now: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Flask:
    """A backend for ``settings``.

    ``twilio_http_client`` replaces the SDK's HTTP client (e.g.
    ``fake_twilio.http_client.WSGITwilioHttpClient(fake_app)``); ``now`` (aware datetimes)
    drives the passcode expiry and the throttle window, ``sleep`` the retry backoff (tests).
    """
    clock = now or (lambda: datetime.now(UTC))
    http_client = RetryingHttpClient(
        twilio_http_client or _default_http_client(settings),
        timeout=settings.twilio_timeout,
        attempts=settings.twilio_attempts,
        base_delay=settings.twilio_retry_base,
        sleep=sleep,
    )
    gateway = TwilioGateway(
        settings.account_sid, settings.api_key_sid, settings.api_key_secret, http_client
    )
    storage = BackendStorage(
        gateway,
        storage_service_sid=settings.backend_storage_service_sid,
        conversations_service_sid=settings.conversations_service_sid,
    )
    tokens = TokenFactory(
        settings.account_sid, settings.api_key_sid, settings.api_key_secret, settings.token_ttl
    )
    throttle = FailureThrottle(
        settings.throttle_max_failures, settings.throttle_window, lambda: clock().timestamp()
    )
    backend = Backend(
        settings=settings,
        gateway=gateway,
        storage=storage,
        streams=Streams(settings, gateway, storage, tokens),
        webhooks=Webhooks(settings, gateway, storage),
        guard=PasscodeGuard(settings.passcode, settings.passcode_expires_at, throttle, clock),
    )

    app = Flask("reference_backend")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = backend
    _register_routes(app, settings)
    app.register_error_handler(ProtocolError, render)
    app.register_error_handler(HTTPException, _render_http_error)
    app.register_error_handler(Exception, _render_unexpected)
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    return app


def backend_of(app: Flask) -> Backend:
    """The :class:`Backend` an app owns."""
    backend: Backend = app.extensions[EXTENSION_KEY]
    return backend


def client_methods(settings: Settings) -> tuple[str, ...]:
    """The methods a client endpoint accepts: POST, plus GET with the get-query capability
    (also the ``Allow`` header of its 405 answers)."""
    return ("POST", "GET") if settings.get_query else ("POST",)


def _register_routes(app: Flask, settings: Settings) -> None:
    methods = list(client_methods(settings))
    for name, handler in CLIENT_ENDPOINTS.items():
        app.add_url_rule(
            f"/{name}",
            endpoint=name,
            view_func=_client_view(name, handler),
            methods=methods,
            provide_automatic_options=False,
        )
    for name, view in (("rooms-webhook", _rooms_webhook), ("sync-webhook", _sync_webhook)):
        app.add_url_rule(f"/{name}", name, view, methods=["POST"], provide_automatic_options=False)
    app.add_url_rule("/openapi.json", "openapi", _openapi, methods=["GET"])


def _current() -> Backend:
    from flask import current_app

    return backend_of(current_app)  # type: ignore[arg-type]


def _client_view(name: str, handler: Handler) -> Callable[[], Response]:
    def view() -> Response:
        backend = _current()
        if request.method == "HEAD":  # Flask adds HEAD to GET routes; it must not act
            raise method_not_allowed("HEAD", client_methods(backend.settings))
        backend.guard.check(request.headers.get("Authorization"), request.remote_addr or "")
        params = read_params(request, name, form_body=backend.settings.form_body)
        response = jsonify(handler(backend.streams, params))
        response.headers["Cache-Control"] = "no-store"
        return response

    view.__name__ = name.replace("-", "_")
    return view


def _rooms_webhook() -> Response:
    backend = _current()
    backend.webhooks.verify(request, "rooms-webhook")
    backend.webhooks.rooms(request.form)
    return jsonify({})


def _sync_webhook() -> Response:
    backend = _current()
    backend.webhooks.verify(request, "sync-webhook")
    backend.webhooks.sync_event(request.form)
    return jsonify({})


def _openapi() -> Response:
    return jsonify(build_openapi(_current().settings.public_url))


def _render_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status == 404:
        return render(not_found_route())
    if status == 405:
        return render(method_not_allowed(request.method, _allowed_methods(error)))
    if status == 413:
        return render(
            ProtocolError(
                413, "request body too large", f"The body must not exceed {MAX_BODY_BYTES} bytes."
            )
        )
    if status >= 500:
        return _render_unexpected(error)
    return render(ProtocolError(status, "invalid request", error.description or "Bad request."))


def _allowed_methods(error: HTTPException) -> tuple[str, ...]:
    """The methods the requested route accepts, for the ``Allow`` header of a 405."""
    if request.path.removeprefix("/") in CLIENT_ENDPOINTS:  # HEAD is routed but refused
        return client_methods(_current().settings)
    valid = getattr(error, "valid_methods", None) or ()
    return tuple(sorted(valid))


def _render_unexpected(error: Exception) -> Response:
    log.error(
        "unexpected error answering %s %s",
        request.method,
        request.path,
        exc_info=(type(error), error, error.__traceback__),
    )
    return render(INTERNAL_ERROR)
