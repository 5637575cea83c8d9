"""Access tokens for hosts, speakers and viewers (``twilio.jwt.access_token.AccessToken``).

Signed with the API key secret, ``identity`` = the user's identity, TTL from settings (14400 s,
the longest Video session, like the original). Grants (docs/PROTOCOL.md, "Tokens"):

* host and speaker: ``video`` (room = the stream name), ``data_sync`` (the stream's Sync
  service), ``chat`` (the Conversations service) when chat is on;
* viewer: ``player`` (the PlaybackGrant's ``grant`` object, verbatim), ``data_sync``, ``chat``
  when chat is on, and never ``video``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant, PlaybackGrant, SyncGrant, VideoGrant

__all__ = ["TokenFactory"]


@dataclass(frozen=True)
class TokenFactory:
    """Mints tokens for one account and API key."""

    account_sid: str
    api_key_sid: str
    api_key_secret: str
    ttl: int = 14400

    def _token(self, identity: str, sync_service_sid: str, chat_service_sid: str | None) -> Any:
        token = AccessToken(
            self.account_sid,
            self.api_key_sid,
            self.api_key_secret,
            identity=identity,
            ttl=self.ttl,
        )
        token.add_grant(SyncGrant(service_sid=sync_service_sid))
        if chat_service_sid is not None:
            token.add_grant(ChatGrant(service_sid=chat_service_sid))
        return token

    def speaker(
        self,
        identity: str,
        stream_name: str,
        sync_service_sid: str,
        chat_service_sid: str | None,
    ) -> str:
        """A host's or speaker's token: may join the stream's room."""
        token = self._token(identity, sync_service_sid, chat_service_sid)
        token.add_grant(VideoGrant(room=stream_name))
        return str(token.to_jwt())

    def viewer(
        self,
        identity: str,
        playback_grant: dict[str, Any],
        sync_service_sid: str,
        chat_service_sid: str | None,
    ) -> str:
        """A viewer's token: may play the stream, never join the room."""
        token = self._token(identity, sync_service_sid, chat_service_sid)
        token.add_grant(PlaybackGrant(grant=playback_grant))
        return str(token.to_jwt())
