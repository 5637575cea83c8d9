"""The Media v1 (Twilio Live) backend of one account: PlayerStreamers, PlaybackGrants and
MediaProcessors.

:class:`MediaBackend` is pure domain (no Flask). Its operations live in two layers:

- :mod:`fake_twilio.media.streamers` -- PlayerStreamers, PlaybackGrants, viewers;
- :mod:`fake_twilio.media.processors` -- MediaProcessors and room composers.

Each module's docstring states the lifecycle and the fake's decisions where Twilio's
behaviour is undocumented. Python-level operations (used by tests and the control plane) do
not take the state lock; callers wrap them in ``with state.locked():``.

Cross-product interface (other products and the control plane code against these names):
``get_player_streamer``, ``get_media_processor``, ``check_playback_grant``,
``connect_viewer`` and ``disconnect_viewer``.
"""

from __future__ import annotations

from typing import Any

from .processors import ProcessorOps
from .render import dump_media_processor, dump_player_streamer
from .resources import IssuedGrant, MediaProcessor, PlayerStreamer, Viewer

__all__ = ["IssuedGrant", "MediaBackend", "MediaProcessor", "PlayerStreamer", "Viewer"]


class MediaBackend(ProcessorOps):
    """One account's Media v1 resources (``ctx.sibling("media")`` from other products).

    Public operations, by module:

    - streamers: ``create_player_streamer``, ``get_player_streamer``,
      ``list_player_streamers``, ``end_player_streamer``, ``start_player_streamer``,
      ``create_playback_grant``, ``check_playback_grant``, ``connect_viewer``,
      ``disconnect_viewer``, ``viewers``;
    - processors: ``create_media_processor``, ``get_media_processor``,
      ``list_media_processors``, ``end_media_processor``.
    """

    def dump(self) -> dict[str, Any]:
        """Every resource, REST fields plus the fake's bookkeeping, keyed by SID:
        ``{"player_streamers": {VJ: {..., playback_grants, viewers, sources}},
        "media_processors": {ZX: {..., room_sid, participant_sid, outputs, ...}},
        "counts": {...}}``."""
        return {
            "player_streamers": {s.sid: dump_player_streamer(s) for s in self._streamer_index},
            "media_processors": {p.sid: dump_media_processor(p) for p in self._processor_index},
            "counts": self._counts(),
        }
