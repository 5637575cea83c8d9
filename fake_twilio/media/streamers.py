"""PlayerStreamers, their PlaybackGrants and the players connected to them.

Lifecycle (decisions marked *fake* are not documented by Twilio and are the fake's choice):

- create -> ``created``; a MediaProcessor that outputs to it makes it ``started``
  (``player-streamer-started``).
- ``Status=ended`` (any letter case) -> ``ended`` / ``ended-via-api``. *fake*: ending a
  PlayerStreamer that is already ``ended`` or ``failed`` answers 200 and changes nothing (real
  Twilio's answer is unknown; idempotent suits a backend that ends the MediaProcessor first).
- MaxDuration counts from creation (the spec: the time it is ``created`` or ``started``); when
  it runs out on the fake clock -> ``ended`` / ``max-duration-exceeded``.
- *fake*: when the last started MediaProcessor feeding it ends, it ends with
  ``stream-disconnected-by-source`` (Twilio: "the PlayerStreamer is not receiving media
  anymore"), at once rather than after a grace period.
- Ending it disconnects every recorded viewer; MediaProcessors feeding it keep running.

Status callbacks (when StatusCallback is set): ``player-streamer-created``, ``-started``,
``-ended``, ``-failed`` with AccountSid, PlayerStreamerSid, StatusCallbackEvent, Timestamp and,
once over, EndedReason. (Event names follow Twilio Live's docs; the parameter set is inferred.)
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from ..core.clock import format_datetime
from ..core.errors import TwilioError, invalid_param, not_found
from ..core.segments import resource_path
from ..core.sids import new_sid
from .base import MediaBase
from .index import OrderedView
from .render import render_viewer
from .resources import (
    DEFAULT_GRANT_TTL,
    DEFAULT_MAX_DURATION,
    MAX_GRANT_TTL,
    MIN_GRANT_TTL,
    STREAMER_ENDED_REASONS,
    IssuedGrant,
    PlayerStreamer,
    Viewer,
)

PLAYBACK_HOST = "https://playback.media.twilio.com"


class StreamerOps(MediaBase):
    """PlayerStreamer operations of :class:`~fake_twilio.media.models.MediaBackend`."""

    # -- REST-level operations -----------------------------------------------------------------
    def create_player_streamer(
        self,
        *,
        video: bool = True,
        status_callback: str | None = None,
        status_callback_method: str | None = None,
        max_duration: int = DEFAULT_MAX_DURATION,
    ) -> PlayerStreamer:
        """Create a ``created`` PlayerStreamer and arm its MaxDuration deadline.

        Raises TwilioError 20001 (before any change) for MaxDuration outside 1..90000, a
        StatusCallback that is not an absolute http(s) URL, or an unknown callback method.
        """
        self._check_max_duration(max_duration)
        url, method = self._check_callback(status_callback, status_callback_method)
        now = self.ctx.now()
        streamer = PlayerStreamer(
            sid=new_sid("VJ"),
            account_sid=self.ctx.account_sid,
            seq=self._next_seq(),
            video=bool(video),
            max_duration=max_duration,
            status_callback=url,
            status_callback_method=method,
            date_created=now,
            date_updated=now,
        )
        self._streamers[streamer.sid] = streamer
        self._streamer_index.add(streamer)
        sid = streamer.sid
        self.ctx.schedule(
            now + timedelta(seconds=max_duration), lambda _when: self._streamer_deadline(sid)
        )
        self._streamer_event(streamer, "created")
        return streamer

    def get_player_streamer(self, sid: str) -> PlayerStreamer:
        """The PlayerStreamer ``sid`` of this account; TwilioError 20404 when unknown."""
        streamer = self._streamers.get(sid)
        if streamer is None:
            raise not_found(resource_path("PlayerStreamers", sid))
        return streamer

    def list_player_streamers(
        self, status: str | None = None, order: str = "desc"
    ) -> OrderedView[PlayerStreamer]:
        """PlayerStreamers by ``date_created`` (``order`` asc|desc), optionally one status."""
        return self._streamer_index.view(status, descending=order != "asc")

    def end_player_streamer(self, sid: str, reason: str = "ended-via-api") -> PlayerStreamer:
        """End a PlayerStreamer (REST ``Status=ended`` uses the default reason).

        ``reason`` is one of the spec's ended reasons; ``unexpected-failure`` makes it
        ``failed``. A PlayerStreamer already ``ended``/``failed`` is returned unchanged
        (idempotent: real Twilio's behaviour here is unknown). TwilioError 20404 when unknown.
        """
        self._check_reason(reason, STREAMER_ENDED_REASONS)
        streamer = self.get_player_streamer(sid)
        if streamer.active:
            self._finish_streamer(streamer, reason)
        return streamer

    def create_playback_grant(
        self,
        sid: str,
        *,
        ttl: int = DEFAULT_GRANT_TTL,
        access_control_allow_origin: str | None = None,
    ) -> IssuedGrant:
        """Issue a PlaybackGrant for a ``created`` or ``started`` PlayerStreamer.

        The grant's ``playbackUrl`` names the streamer and is unique per grant; it is valid
        for starting playback for ``ttl`` seconds. TwilioError 20001 for Ttl outside 1..60,
        20404 for an unknown streamer, 20409 (HTTP 409) when the streamer is ended or failed.
        """
        if isinstance(ttl, bool) or not isinstance(ttl, int):
            raise invalid_param("Ttl", f"{ttl!r} is not an integer")
        if not MIN_GRANT_TTL <= ttl <= MAX_GRANT_TTL:
            raise invalid_param("Ttl", f"{ttl} is out of range [{MIN_GRANT_TTL}, {MAX_GRANT_TTL}]")
        streamer = self.get_player_streamer(sid)
        if not streamer.active:
            raise TwilioError(
                20409,
                f"Cannot create a PlaybackGrant: PlayerStreamer {sid} is {streamer.status}",
                409,
            )
        now = self.ctx.now()
        token = secrets.token_urlsafe(24)
        issued = IssuedGrant(
            playback_url=f"{PLAYBACK_HOST}/v1/PlayerStreamers/{sid}/index.m3u8?token={token}",
            player_streamer_sid=sid,
            date_created=now,
            ttl=ttl,
            expires_at=now + timedelta(seconds=ttl),
            access_control_allow_origin=access_control_allow_origin,
        )
        streamer.grants.append(issued)
        self._grants[issued.playback_url] = issued
        return issued

    # -- Python-level operations (players and simulated sources) -------------------------------
    def check_playback_grant(self, grant: Any) -> PlayerStreamer:
        """Check a ``player`` grant as an access token carries it; return its PlayerStreamer.

        ``grant`` is the ``grant`` object a PlaybackGrant returned (``playbackUrl``,
        ``playerStreamerSid``, ``requestCredentials``). In order, raises TwilioError:
        20106 (401) when it was not issued by this account or names another PlayerStreamer
        (forged, altered, or from another account); 20409 (409) when the PlayerStreamer is
        ``ended``/``failed``; 20104 (401) when the grant's Ttl has run out (*fake*: Twilio
        describes the Ttl as how long the playback URL is valid, so playback must start
        within Ttl seconds of issue on the fake clock); 20409 when the PlayerStreamer is
        still ``created`` (not started: nothing to play yet).
        """
        issued = None
        if isinstance(grant, dict) and isinstance(grant.get("playbackUrl"), str):
            issued = self._grants.get(grant["playbackUrl"])
        if (
            issued is None
            or grant.get("playerStreamerSid") != issued.player_streamer_sid
            or grant.get("requestCredentials") is not None
        ):
            raise TwilioError(
                20106, "Invalid Access Token grants: the player grant was not issued", 401
            )
        streamer = self.get_player_streamer(issued.player_streamer_sid)
        if not streamer.active:
            raise TwilioError(20409, f"PlayerStreamer {streamer.sid} is {streamer.status}", 409)
        if self.ctx.now() > issued.expires_at:
            raise TwilioError(
                20104,
                f"PlaybackGrant expired at {format_datetime(issued.expires_at)} "
                f"(Ttl {issued.ttl} s): playback must start within its Ttl",
                401,
            )
        if streamer.status != "started":
            raise TwilioError(
                20409, f"PlayerStreamer {streamer.sid} is {streamer.status}, not started", 409
            )
        return streamer

    def connect_viewer(self, player_streamer_sid: str, identity: str) -> dict[str, Any]:
        """Record a player ``identity`` connected to a ``started`` PlayerStreamer.

        Reconnecting (same identity) counts another connection and keeps one record. Returns
        the viewer record (identity, player_streamer_sid, status, date_connected,
        date_disconnected, connections). TwilioError 20001 for an empty identity, 20404 for
        an unknown streamer, 20409 (409) when the streamer is not ``started``.
        """
        if not isinstance(identity, str) or not identity:
            raise invalid_param("identity", "must be a non-empty string")
        streamer = self.get_player_streamer(player_streamer_sid)
        if streamer.status != "started":
            raise TwilioError(
                20409, f"PlayerStreamer {streamer.sid} is {streamer.status}, not started", 409
            )
        now = self.ctx.now()
        viewer = streamer.viewers.get(identity)
        if viewer is None:
            viewer = streamer.viewers[identity] = Viewer(identity, now)
        else:
            viewer.connections += 1
            if viewer.date_disconnected is not None:
                viewer.date_connected, viewer.date_disconnected = now, None
        return render_viewer(viewer, streamer.sid)

    def disconnect_viewer(self, player_streamer_sid: str, identity: str) -> dict[str, Any]:
        """Record that player ``identity`` left; idempotent once it is disconnected.

        TwilioError 20404 for an unknown streamer or an identity that never connected.
        """
        streamer = self.get_player_streamer(player_streamer_sid)
        viewer = streamer.viewers.get(identity)
        if viewer is None:
            raise TwilioError(
                20404, f"No viewer {identity!r} on PlayerStreamer {streamer.sid}", 404
            )
        if viewer.date_disconnected is None:
            viewer.date_disconnected = self.ctx.now()
        return render_viewer(viewer, streamer.sid)

    def viewers(
        self, player_streamer_sid: str, status: str | None = "connected"
    ) -> list[dict[str, Any]]:
        """Viewer records of a PlayerStreamer (``status`` None: every one ever connected)."""
        streamer = self.get_player_streamer(player_streamer_sid)
        return [
            render_viewer(v, streamer.sid)
            for v in streamer.viewers.values()
            if status is None or v.status == status
        ]

    def start_player_streamer(self, sid: str) -> PlayerStreamer:
        """Simulate media arriving: ``created`` -> ``started`` (``started`` is unchanged).

        TwilioError 20404 when unknown, 20409 (409) when it is ``ended``/``failed``.
        """
        streamer = self.get_player_streamer(sid)
        if not streamer.active:
            raise TwilioError(20409, f"PlayerStreamer {sid} is {streamer.status}", 409)
        self._start_streamer(streamer)
        return streamer

    # -- transitions -------------------------------------------------------------------------
    def _start_streamer(self, streamer: PlayerStreamer) -> None:
        if streamer.status != "created":
            return
        streamer.status = "started"
        streamer.date_updated = self.ctx.now()
        self._streamer_index.moved(streamer, "created")
        self._streamer_event(streamer, "started")

    def _finish_streamer(self, streamer: PlayerStreamer, reason: str) -> None:
        old = streamer.status
        now = self.ctx.now()
        streamer.status = STREAMER_ENDED_REASONS[reason]
        streamer.ended_reason = reason
        streamer.date_updated = now
        self._streamer_index.moved(streamer, old)
        for viewer in streamer.viewers.values():
            if viewer.date_disconnected is None:
                viewer.date_disconnected = now
        self._streamer_event(streamer, streamer.status)

    def _streamer_deadline(self, sid: str) -> None:
        streamer = self._streamers.get(sid)
        if streamer is not None and streamer.active:
            self._finish_streamer(streamer, "max-duration-exceeded")

    def _streamer_event(self, streamer: PlayerStreamer, event: str) -> None:
        params = [
            ("AccountSid", streamer.account_sid),
            ("PlayerStreamerSid", streamer.sid),
            ("StatusCallbackEvent", f"player-streamer-{event}"),
            ("Timestamp", format_datetime(self.ctx.now()) or ""),
        ]
        if streamer.ended_reason:
            params.append(("EndedReason", streamer.ended_reason))
        self._callback(
            streamer.status_callback,
            streamer.status_callback_method,
            params,
            "media.player_streamer",
        )
