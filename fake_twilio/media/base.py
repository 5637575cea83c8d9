"""State and shared helpers of the Media v1 backend (see :mod:`fake_twilio.media.models`)."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlsplit

from ..core.errors import TwilioError, invalid_param
from ..core.state import ProductContext
from .index import CreationIndex
from .resources import (
    CALLBACK_METHODS,
    DEFAULT_CALLBACK_METHOD,
    MAX_MAX_DURATION,
    MIN_MAX_DURATION,
    IssuedGrant,
    MediaProcessor,
    PlayerStreamer,
)


class MediaBase:
    """One account's Media v1 resources, indexed by SID and by creation order.

    Every lookup is a dict access; lists page through :class:`CreationIndex` views. Methods
    here and in the subclasses never take the state lock: REST views already hold it, other
    callers wrap calls in ``with state.locked():``.
    """

    def __init__(self, ctx: ProductContext) -> None:
        self.ctx = ctx
        self._seq = itertools.count(1)
        self._streamers: dict[str, PlayerStreamer] = {}
        self._streamer_index: CreationIndex[PlayerStreamer] = CreationIndex()
        self._grants: dict[str, IssuedGrant] = {}  # by playbackUrl
        self._processors: dict[str, MediaProcessor] = {}
        self._processor_index: CreationIndex[MediaProcessor] = CreationIndex()

    # -- validation shared by PlayerStreamers and MediaProcessors ----------------------------
    @staticmethod
    def _check_max_duration(max_duration: int) -> None:
        if isinstance(max_duration, bool) or not isinstance(max_duration, int):
            raise invalid_param("MaxDuration", f"{max_duration!r} is not an integer")
        if not MIN_MAX_DURATION <= max_duration <= MAX_MAX_DURATION:
            raise invalid_param(
                "MaxDuration",
                f"{max_duration} is out of range [{MIN_MAX_DURATION}, {MAX_MAX_DURATION}]",
            )

    @staticmethod
    def _check_callback(url: str | None, method: str | None) -> tuple[str | None, str]:
        """Validate StatusCallback / StatusCallbackMethod; return them normalised.

        An empty StatusCallback means none; the method defaults to POST and is upper-cased.
        """
        url = url or None
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
                raise invalid_param("StatusCallback", f"{url!r} is not an absolute http(s) URL")
        normalised = (method or DEFAULT_CALLBACK_METHOD).upper()
        if normalised not in CALLBACK_METHODS:
            raise invalid_param(
                "StatusCallbackMethod", f"{method!r} is not one of {', '.join(CALLBACK_METHODS)}"
            )
        return url, normalised

    @staticmethod
    def _check_reason(reason: str, allowed: dict[str, str]) -> str:
        """The final status ``reason`` implies; TwilioError 20001 for an unknown reason."""
        status = allowed.get(reason)
        if status is None:
            raise TwilioError(20001, f"Unknown ended reason {reason!r}", 400)
        return status

    # -- status callbacks ----------------------------------------------------------------------
    def _callback(
        self, url: str | None, method: str, params: list[tuple[str, str]], source: str
    ) -> None:
        """Queue a status callback when the resource has a StatusCallback URL."""
        if url:
            self.ctx.webhook(url, method, params, source)

    def _next_seq(self) -> int:
        return next(self._seq)

    def _counts(self) -> dict[str, Any]:
        """Counts for the dump (cheap: no resource is rendered)."""
        return {
            "player_streamers": len(self._streamer_index),
            "media_processors": len(self._processor_index),
            "playback_grants": len(self._grants),
        }
