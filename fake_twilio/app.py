"""The app factory: one Flask app, one :class:`FakeState`, every product and the control plane.

Routing works two ways into the same views: by path prefix (``/video/v1/Rooms``) and by Host
header (``Host: video.twilio.com`` or any ``video.<edge>.<region>.twilio.com`` with path
``/v1/Rooms``), the latter rewritten to the former by :class:`HostDispatch`. Path values are
percent-encoded segments as Twilio takes them (``Permissions/a%2Fb`` is identity ``a/b``):
:mod:`.core.segments` says how they survive the server's decoding.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .config import FakeConfig
from .core.accounts import Credentials
from .core.clock import format_datetime
from .core.errors import ResourceNotFound, TwilioError, not_found
from .core.faults import (
    DROP_ENVIRON_KEY,
    DROPPED_STATUS,
    DropConnectionMiddleware,
    DroppedConnection,
)
from .core.http import SENT_PATH_KEY, STATE_KEY, addressed_path, path_sent
from .core.params import check_utf8
from .core.segments import SegmentConverter, path_as_sent, routing_path
from .core.state import FakeState
from .products import PRODUCTS

log = logging.getLogger("fake_twilio")

HOST_RE = re.compile(
    rf"^({'|'.join(PRODUCTS)})(?:\.[a-z0-9-]+)*\.twilio\.com(?::\d+)?$", re.IGNORECASE
)
#: Paths of product requests, journaled even when no view answered them (404, 401...).
PRODUCT_PREFIXES = tuple(f"/{name}/" for name in PRODUCTS)


class HostDispatch:
    """WSGI middleware: routes by Host header, and from the path as the client sent it.

    ``Host: <product>[...].twilio.com`` with path ``/v1/...`` becomes ``/<product>/v1/...``.
    ``PATH_INFO`` is rebuilt from the raw, percent-encoded path (:func:`path_as_sent`) so that
    an encoded ``/`` or ``%`` stays inside its segment (:func:`routing_path`); the URL map's
    converters decode it for the view. The raw path (with the product prefix) is kept in
    ``environ[SENT_PATH_KEY]`` for the journal and fault rules.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        sent = path_as_sent(environ)
        match = HOST_RE.match(environ.get("HTTP_HOST", ""))
        if match:
            sent = "/" + match.group(1).lower() + sent
        environ["PATH_INFO"] = routing_path(sent)
        environ[SENT_PATH_KEY] = sent
        return self.app(environ, start_response)


def create_app(config: FakeConfig | None = None, *, state: FakeState | None = None) -> Flask:
    """Build a fake Twilio that owns its state (``app.extensions["fake_twilio"]``)."""
    config = config or FakeConfig()
    if state is None:
        state = FakeState(config.credentials)
        for extra in config.extra_accounts:
            state.accounts.add(extra)
        state.set_webhook_mode(config.webhook_mode)
        state.webhooks.rewrites.set(config.webhook_rewrites)
    app = Flask("fake_twilio")
    app.url_map.merge_slashes = False  # "//" in a path is a Twilio 404, never a 308 redirect
    app.url_map.converters["default"] = SegmentConverter  # "a%2Fb" is one segment, "a/b"
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]
    app.extensions[STATE_KEY] = state
    app.extensions["fake_twilio.config"] = config

    for spec in PRODUCTS.values():
        app.register_blueprint(spec.blueprint(), url_prefix=f"/{spec.name}/v1")
        for endpoint, view in list(app.view_functions.items()):
            if endpoint.startswith(spec.name + "."):
                app.view_functions[endpoint] = _locked(state, view)

    _register_control(app)
    app.before_request(_before)
    app.after_request(_after)
    app.after_request(_allow_header)
    app.register_error_handler(TwilioError, _render_twilio_error)
    app.register_error_handler(DroppedConnection, _mark_dropped)
    app.register_error_handler(HTTPException, _render_http_error)
    app.register_error_handler(Exception, _render_unexpected)
    app.wsgi_app = DropConnectionMiddleware(HostDispatch(app.wsgi_app))  # type: ignore[method-assign]
    return app


def state_of(app: Flask) -> FakeState:
    return app.extensions[STATE_KEY]


def _register_control(app: Flask) -> None:
    try:
        from .control.routes import bp as control_bp
    except ImportError:  # the control plane is optional while it is being built
        return
    app.register_blueprint(control_bp, url_prefix="/_fake")


def _locked(state: FakeState, view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def locked_view(**kwargs: Any) -> Any:
        with state.locked():
            return view(**kwargs)

    return locked_view


def _before() -> None:
    g.product = request.blueprint if request.blueprint in PRODUCTS else None
    g.account_sid = None
    if g.product is None:
        return
    state = _state()
    g.account_sid = state.accounts.resolve_basic(request.headers.get("Authorization"))
    faults = state.extensions.get("faults")
    if faults is not None:
        faults.apply(g.product, request.method, path_sent(), g.account_sid)
    _check_parameters_encoding()


#: Methods whose parameters the product views read from the query string (others: the form).
QUERY_METHODS = ("GET", "DELETE")


def _check_parameters_encoding() -> None:
    """Refuse parameters that are not UTF-8 once percent-decoded (``FriendlyName=%FF``) with
    20001 before any view runs, so nothing is created. Only what the views read is checked:
    the query string of a GET or DELETE, the form body of any other method. The raw body is
    read (and cached) before the form is parsed, which then parses the cached copy."""
    if request.method in QUERY_METHODS:
        check_utf8(request.query_string)
    elif request.mimetype == "application/x-www-form-urlencoded":
        check_utf8(request.get_data(cache=True, parse_form_data=False))


def _state() -> FakeState:
    from flask import current_app

    return current_app.extensions[STATE_KEY]


def _after(response: Response) -> Response:
    product = getattr(g, "product", None)
    if product is None and not request.path.startswith(PRODUCT_PREFIXES):
        return response
    state = _state()
    state.journal.record(
        time=format_datetime(state.clock.now()) or "",
        account_sid=getattr(g, "account_sid", None),
        product=product or request.path.split("/")[1],
        method=request.method,
        path=path_sent(),
        query=request.args.to_dict(flat=False),
        form=_form_for_journal(),
        status=response.status_code,
        error_code=getattr(g, "error_code", None),
    )
    return response


def _allow_header(response: Response) -> Response:
    """Every 405 says which methods the resource takes (RFC 9110 §15.5.6), whether the router
    refused the method or a fault rule answered 405."""
    if response.status_code == 405 and "Allow" not in response.headers:
        adapter = current_app.url_map.bind_to_environ(request.environ)
        response.headers["Allow"] = ", ".join(sorted(adapter.allowed_methods()))
    return response


def _form_for_journal() -> dict[str, list[str]]:
    if request.method == "GET":
        return {}
    try:
        return {k: request.form.getlist(k) for k in request.form}
    except HTTPException:  # an oversized or unreadable body was refused already
        return {}


def _render_twilio_error(error: TwilioError) -> tuple[Response, int]:
    if isinstance(error, ResourceNotFound) and getattr(g, "product", None):
        error = error.at(addressed_path())  # a REST 404 names the path the client addressed
    g.error_code = error.code
    return jsonify(error.to_body()), error.status


def _mark_dropped(error: DroppedConnection) -> Response:
    """A fault dropped this request: answer nothing (DropConnectionMiddleware aborts it)."""
    request.environ[DROP_ENVIRON_KEY] = str(error) or "connection dropped"
    return Response(status=DROPPED_STATUS)


def _render_http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    if status == 404:
        twilio_error = not_found(addressed_path())
    elif status == 405:
        twilio_error = TwilioError(
            20004, f"Method {request.method} not allowed on {addressed_path()}", 405
        )
    elif status == 413:
        twilio_error = TwilioError(20001, "Request body is too large", 413)
    else:
        twilio_error = TwilioError(
            20001 if status < 500 else 20500, error.description or "Error", status
        )
    return _render_twilio_error(twilio_error)


def _render_unexpected(error: Exception) -> tuple[Response, int]:
    log.exception(
        "unexpected error in the fake while answering %s %s", request.method, request.path
    )
    return _render_twilio_error(TwilioError(20500, "Internal Server Error", 500))


__all__ = ["Credentials", "FakeConfig", "FakeState", "HostDispatch", "create_app", "state_of"]
