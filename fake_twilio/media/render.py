"""JSON views of Media v1 resources: the REST bodies (spec key order) and the dump view."""

from __future__ import annotations

from typing import Any

from ..core.clock import format_datetime
from ..core.http import product_url
from .resources import IssuedGrant, MediaProcessor, PlayerStreamer, Viewer


def player_streamer_url(sid: str) -> str:
    return product_url("media", f"/v1/PlayerStreamers/{sid}")


def media_processor_url(sid: str) -> str:
    return product_url("media", f"/v1/MediaProcessors/{sid}")


def render_player_streamer(streamer: PlayerStreamer) -> dict[str, Any]:
    """The REST body of a PlayerStreamer (``media.v1.player_streamer``)."""
    url = player_streamer_url(streamer.sid)
    return {
        "account_sid": streamer.account_sid,
        "date_created": format_datetime(streamer.date_created),
        "date_updated": format_datetime(streamer.date_updated),
        "video": streamer.video,
        "links": {
            "timed_metadata": f"{url}/TimedMetadata",
            "playback_grant": f"{url}/PlaybackGrant",
        },
        "sid": streamer.sid,
        "status": streamer.status,
        "url": url,
        "status_callback": streamer.status_callback,
        "status_callback_method": streamer.status_callback_method,
        "ended_reason": streamer.ended_reason,
        "max_duration": streamer.max_duration,
    }


def render_playback_grant(issued: IssuedGrant, account_sid: str) -> dict[str, Any]:
    """The REST body of a PlaybackGrant (``player_streamer_playback_grant``)."""
    return {
        "sid": issued.player_streamer_sid,
        "url": player_streamer_url(issued.player_streamer_sid) + "/PlaybackGrant",
        "account_sid": account_sid,
        "date_created": format_datetime(issued.date_created),
        "grant": issued.grant(),
    }


def render_media_processor(processor: MediaProcessor) -> dict[str, Any]:
    """The REST body of a MediaProcessor (``media.v1.media_processor``)."""
    return {
        "account_sid": processor.account_sid,
        "sid": processor.sid,
        "date_created": format_datetime(processor.date_created),
        "date_updated": format_datetime(processor.date_updated),
        "extension": processor.extension,
        "extension_context": processor.extension_context,
        "status": processor.status,
        "url": media_processor_url(processor.sid),
        "ended_reason": processor.ended_reason,
        "status_callback": processor.status_callback,
        "status_callback_method": processor.status_callback_method,
        "max_duration": processor.max_duration,
    }


def render_viewer(viewer: Viewer, player_streamer_sid: str) -> dict[str, Any]:
    """A recorded player connection (Python-level and dump view; not a Twilio resource)."""
    return {
        "identity": viewer.identity,
        "player_streamer_sid": player_streamer_sid,
        "status": viewer.status,
        "date_connected": format_datetime(viewer.date_connected),
        "date_disconnected": format_datetime(viewer.date_disconnected),
        "connections": viewer.connections,
    }


def dump_player_streamer(streamer: PlayerStreamer) -> dict[str, Any]:
    """The REST body plus what only the fake knows: grants issued, viewers, live sources."""
    body = render_player_streamer(streamer)
    body["playback_grants"] = [
        {
            "grant": issued.grant(),
            "ttl": issued.ttl,
            "access_control_allow_origin": issued.access_control_allow_origin,
            "date_created": format_datetime(issued.date_created),
            "expires_at": format_datetime(issued.expires_at),
        }
        for issued in streamer.grants
    ]
    body["viewers"] = [render_viewer(v, streamer.sid) for v in streamer.viewers.values()]
    body["sources"] = sorted(streamer.sources)
    return body


def dump_media_processor(processor: MediaProcessor) -> dict[str, Any]:
    """The REST body plus the parsed environment, the room participant and outputs."""
    body = render_media_processor(processor)
    body["extension_environment"] = processor.extension_environment
    body["error_message"] = processor.error_message
    body["room_sid"] = processor.room_sid
    body["participant_sid"] = processor.participant_sid
    body["participant_identity"] = processor.participant_identity
    body["outputs"] = list(processor.outputs)
    return body
