"""Media v1 REST views, mounted at ``/media/v1`` (``https://media.twilio.com/v1``).

Thin: parse the parameters the spec lists for the operation (anything else is 20001), call
:class:`~fake_twilio.media.models.MediaBackend`, serialise. The state lock is held and the
account authenticated before a view runs. Enumerated values (``Status``, ``Order``,
``StatusCallbackMethod``) are compared in any letter case: the original backend sends
``Status=ENDED``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..core.errors import TwilioError
from ..core.http import current_backend, list_url, params
from ..core.paging import envelope
from ..core.params import Params
from .render import render_media_processor, render_playback_grant, render_player_streamer
from .resources import (
    CALLBACK_METHODS,
    DEFAULT_GRANT_TTL,
    DEFAULT_MAX_DURATION,
    ORDERS,
    PROCESSOR_STATUSES,
    STREAMER_STATUSES,
    UPDATE_STATUSES,
)

bp = Blueprint("media", __name__)

PAGING = ("PageSize", "Page", "PageToken")
CALLBACK = ("StatusCallback", "StatusCallbackMethod")
MAX_PAGE_SIZE = 1000


def _created(body: dict[str, Any]) -> tuple[Response, int]:
    return jsonify(body), 201


def _callback(p: Params) -> dict[str, Any]:
    return {
        "status_callback": p.str("StatusCallback"),
        "status_callback_method": p.choice(
            "StatusCallbackMethod", CALLBACK_METHODS, ignore_case=True
        ),
    }


def _list_filters(p: Params, statuses: tuple[str, ...]) -> tuple[str | None, str]:
    status = p.choice("Status", statuses, ignore_case=True)
    order = p.choice("Order", ORDERS, ignore_case=True) or "desc"
    return status, order


def _ended_status(p: Params) -> None:
    p.choice("Status", UPDATE_STATUSES, ignore_case=True, required=True)


# -- PlayerStreamers -------------------------------------------------------------------------
@bp.post("/PlayerStreamers")
def create_player_streamer() -> tuple[Response, int]:
    p = params("Video", *CALLBACK, "MaxDuration")
    video = p.bool("Video")
    streamer = current_backend().create_player_streamer(
        video=True if video is None else video,
        max_duration=_int_or(p, "MaxDuration", DEFAULT_MAX_DURATION),
        **_callback(p),
    )
    return _created(render_player_streamer(streamer))


@bp.get("/PlayerStreamers")
def list_player_streamers() -> Response:
    p = params("Order", "Status", *PAGING)
    status, order = _list_filters(p, STREAMER_STATUSES)
    records = current_backend().list_player_streamers(status=status, order=order)
    return jsonify(
        envelope(
            records,
            key="player_streamers",
            list_url=list_url(),
            query=request.args,
            render=render_player_streamer,
            max_page_size=MAX_PAGE_SIZE,
        )
    )


@bp.get("/PlayerStreamers/<sid>")
def fetch_player_streamer(sid: str) -> Response:
    params()
    return jsonify(render_player_streamer(current_backend().get_player_streamer(sid)))


@bp.post("/PlayerStreamers/<sid>")
def update_player_streamer(sid: str) -> Response:
    _ended_status(params("Status"))
    return jsonify(render_player_streamer(current_backend().end_player_streamer(sid)))


@bp.post("/PlayerStreamers/<sid>/PlaybackGrant")
def create_playback_grant(sid: str) -> tuple[Response, int]:
    p = params("Ttl", "AccessControlAllowOrigin")
    backend = current_backend()
    issued = backend.create_playback_grant(
        sid,
        ttl=_int_or(p, "Ttl", DEFAULT_GRANT_TTL),
        access_control_allow_origin=p.str("AccessControlAllowOrigin"),
    )
    return _created(render_playback_grant(issued, backend.ctx.account_sid))


@bp.get("/PlayerStreamers/<sid>/PlaybackGrant")
def fetch_playback_grant(sid: str) -> Response:
    """The spec lists this operation as "This method is not enabled": 405 / 20004."""
    raise TwilioError(
        20004,
        f"Method GET not allowed on /v1/PlayerStreamers/{sid}/PlaybackGrant: "
        "fetching a PlaybackGrant is not enabled",
        405,
    )


# -- MediaProcessors -------------------------------------------------------------------------
@bp.post("/MediaProcessors")
def create_media_processor() -> tuple[Response, int]:
    p = params("Extension", "ExtensionContext", "ExtensionEnvironment", *CALLBACK, "MaxDuration")
    extension = p.str("Extension", required=True) or ""
    extension_context = p.str("ExtensionContext", required=True) or ""
    environment = p.json("ExtensionEnvironment", code=20001, size_code=20001)
    processor = current_backend().create_media_processor(
        extension=extension,
        extension_context=extension_context,
        extension_environment=environment,
        max_duration=_int_or(p, "MaxDuration", DEFAULT_MAX_DURATION),
        **_callback(p),
    )
    return _created(render_media_processor(processor))


@bp.get("/MediaProcessors")
def list_media_processors() -> Response:
    p = params("Order", "Status", *PAGING)
    status, order = _list_filters(p, PROCESSOR_STATUSES)
    records = current_backend().list_media_processors(status=status, order=order)
    return jsonify(
        envelope(
            records,
            key="media_processors",
            list_url=list_url(),
            query=request.args,
            render=render_media_processor,
            max_page_size=MAX_PAGE_SIZE,
        )
    )


@bp.get("/MediaProcessors/<sid>")
def fetch_media_processor(sid: str) -> Response:
    params()
    return jsonify(render_media_processor(current_backend().get_media_processor(sid)))


@bp.post("/MediaProcessors/<sid>")
def update_media_processor(sid: str) -> Response:
    _ended_status(params("Status"))
    return jsonify(render_media_processor(current_backend().end_media_processor(sid)))


def _int_or(p: Params, name: str, default: int) -> int:
    value = p.int(name)
    return default if value is None else value
