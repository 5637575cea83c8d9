"""Simulated client SDKs: a Video, Live player, Sync or Conversations client presenting a token.

Each operation does what Twilio does when a client SDK connects with an access token:

1. verify the token (:func:`fake_twilio.tokens.verify_access_token`: 2010x / 20157, HTTP 401);
2. check the product grant the client needs (20106 when it is missing or does not cover the
   requested resource);
3. call the product backend under the state lock, which enforces the product's own rules
   (53118 room completed, 54007 Sync ACL, 50432 not a participant...).

The account is the token's ``sub``. An explicit ``account_sid`` must agree with it (20103).

Choices made where Twilio's behaviour is not documented:

- A VideoGrant whose ``room`` is set but is neither the requested room's unique name nor its
  SID is refused with **20106** (Invalid Access Token grants): the token does not grant that
  room. It is checked before the room's existence, so the answer reveals nothing about
  rooms the token does not cover.
- A PlaybackGrant used for another PlayerStreamer than the one requested is refused with
  20106 too; whether the grant is genuine, current and for a started stream is decided by
  the Media backend (``MediaBackend.check_playback_grant``).
- A SyncGrant or ChatGrant without ``service_sid`` is refused with 20106; so is a request
  naming another service than the grant's.
- A Sync endpoint id is the grant's ``endpoint_id`` when present, otherwise a fresh one per
  connection (as the Sync SDK generates one per device).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..core.errors import TwilioError
from ..core.state import FakeState
from ..tokens import VerifiedToken, token_error, verify_access_token
from .render import to_json

SYNC_KINDS = ("document", "map", "list")


class SimulatedClients:
    """The simulated-client operations of one fake (mixed into :class:`FakeControl`)."""

    state: FakeState

    # -- helpers --------------------------------------------------------------------------
    def _verify(self, token: str, account_sid: str | None) -> VerifiedToken:
        verified = verify_access_token(self.state, token)
        if account_sid is not None and account_sid != verified.account_sid:
            raise token_error(
                20103,
                f"the token belongs to account {verified.account_sid}, not {account_sid}",
            )
        return verified

    def _account(self, account_sid: str | None) -> str:
        account = account_sid or self.state.default_credentials.account_sid
        if account not in self.state.accounts:
            raise TwilioError(20404, f"Unknown account {account}", 404)
        return account

    def _backend(self, account_sid: str, product: str) -> Any:
        if product not in self.state.products:
            raise TwilioError(20404, f"The {product} product is not available in this fake", 404)
        return self.state.backend(account_sid, product)

    @contextmanager
    def _product(self, account_sid: str, product: str) -> Iterator[Any]:
        with self.state.locked():
            yield self._backend(account_sid, product)

    @staticmethod
    def _grant(verified: VerifiedToken, key: str, label: str) -> dict[str, Any]:
        grant = verified.grants.get(key)
        if key not in verified.grants:
            raise token_error(20106, f"the token has no {label} grant (grants.{key})")
        if not isinstance(grant, dict):
            raise token_error(20106, f"the {label} grant (grants.{key}) is not an object")
        return grant

    def _service_grant(
        self, verified: VerifiedToken, key: str, label: str, service_sid: str | None
    ) -> str:
        grant = self._grant(verified, key, label)
        granted = grant.get("service_sid")
        if not isinstance(granted, str) or not granted:
            raise token_error(20106, f"the {label} grant names no service_sid")
        if service_sid is not None and service_sid != granted:
            raise token_error(
                20106, f"the {label} grant is for service {granted}, not {service_sid}"
            )
        return granted

    # -- Video ----------------------------------------------------------------------------
    def connect_to_room(
        self, token: str, room: str, *, account_sid: str | None = None
    ) -> dict[str, Any]:
        """A Video client connects to ``room`` (SID or in-progress unique name) with ``token``.

        Needs a video grant (20106) whose ``room``, when set, is that room's unique name or SID
        (20106). Then ``VideoBackend.connect_participant``: 53106 unknown room, 53118 room
        completed, 53105 full, 53200/53201 bad identity; an earlier connection of the same
        identity is disconnected (53205). Returns the participant's REST JSON.
        """
        verified = self._verify(token, account_sid)
        grant = self._grant(verified, "video", "video")
        granted_room = grant.get("room")
        with self._product(verified.account_sid, "video") as video:
            if granted_room is not None:
                names = {room}
                try:
                    found = video.get_room(room)
                except TwilioError:
                    found = None
                if found is not None:
                    names = {found.sid, found.unique_name}
                if granted_room not in names:
                    raise token_error(
                        20106, f"the video grant is for room {granted_room!r}, not {room!r}"
                    )
            participant = video.connect_participant(room, verified.identity)
            return to_json(participant)

    def disconnect_from_room(
        self, room: str, identity: str, *, account_sid: str | None = None
    ) -> dict[str, Any]:
        """The client of ``identity`` (or a PA SID) leaves ``room``; 53204 when not connected."""
        account = self._account(account_sid)
        with self._product(account, "video") as video:
            return to_json(video.disconnect_participant(room, identity))

    def complete_room(self, room: str, *, account_sid: str | None = None) -> dict[str, Any]:
        """Twilio ends ``room`` (as a timeout would): participants disconnected, ``room-ended``."""
        account = self._account(account_sid)
        with self._product(account, "video") as video:
            return to_json(video.complete_room(room))

    # -- Live player ----------------------------------------------------------------------
    def connect_to_player(
        self,
        token: str,
        player_streamer_sid: str | None = None,
        *,
        account_sid: str | None = None,
    ) -> dict[str, Any]:
        """A Live player starts playback with a token carrying a PlaybackGrant (``player``).

        Needs the ``player`` grant (20106); ``MediaBackend.check_playback_grant`` decides
        whether it is genuine, current and for a started stream; when ``player_streamer_sid``
        is given the grant must be for that stream (20106). Returns the viewer record.
        """
        verified = self._verify(token, account_sid)
        grant = self._grant(verified, "player", "player (PlaybackGrant)")
        with self._product(verified.account_sid, "media") as media:
            streamer = media.check_playback_grant(grant)
            if player_streamer_sid is not None and streamer.sid != player_streamer_sid:
                raise token_error(
                    20106,
                    f"the player grant is for PlayerStreamer {streamer.sid}, "
                    f"not {player_streamer_sid}",
                )
            return to_json(media.connect_viewer(streamer.sid, verified.identity))

    def disconnect_from_player(
        self, player_streamer_sid: str, identity: str, *, account_sid: str | None = None
    ) -> dict[str, Any]:
        """The player of ``identity`` stops watching ``player_streamer_sid``."""
        account = self._account(account_sid)
        with self._product(account, "media") as media:
            result = media.disconnect_viewer(player_streamer_sid, identity)
        return (
            to_json(result)
            if result is not None
            else {
                "player_streamer_sid": player_streamer_sid,
                "identity": identity,
            }
        )

    # -- Sync -----------------------------------------------------------------------------
    def connect_to_sync(
        self, token: str, service_sid: str | None = None, *, account_sid: str | None = None
    ) -> dict[str, Any]:
        """A Sync client comes online: needs a ``data_sync`` grant for an existing service.

        Returns ``{account_sid, service_sid, identity, endpoint_id}``; the Sync backend queues
        ``endpoint_connected`` when the service has reachability webhooks.
        """
        verified = self._verify(token, account_sid)
        service = self._service_grant(verified, "data_sync", "data_sync (Sync)", service_sid)
        grant = verified.grants["data_sync"]
        endpoint_id = grant.get("endpoint_id")
        if not isinstance(endpoint_id, str) or not endpoint_id:
            endpoint_id = f"{verified.identity}-{secrets.token_hex(8)}"
        identity = verified.identity or ""
        with self._product(verified.account_sid, "sync") as sync:
            sync.client_connect(service, identity, endpoint_id)
        return {
            "account_sid": verified.account_sid,
            "service_sid": service,
            "identity": identity,
            "endpoint_id": endpoint_id,
        }

    def disconnect_from_sync(
        self,
        service_sid: str,
        identity: str,
        endpoint_id: str | None = None,
        *,
        account_sid: str | None = None,
    ) -> dict[str, Any]:
        """A Sync client goes away: one endpoint, or (``endpoint_id`` None) every endpoint the
        identity has connected to the service. The Sync backend queues ``endpoint_disconnected``
        (debounced when the service says so). Returns the endpoint ids disconnected."""
        account = self._account(account_sid)
        with self._product(account, "sync") as sync:
            if endpoint_id is None:
                endpoints = list(sync.connected_clients(service_sid).get(identity, []))
            else:
                endpoints = [endpoint_id]
            for endpoint in endpoints:
                sync.client_disconnect(service_sid, identity, endpoint)
        return {
            "account_sid": account,
            "service_sid": service_sid,
            "identity": identity,
            "endpoint_ids": endpoints,
        }

    def sync_read(
        self,
        token: str,
        kind: str,
        name: str,
        key: str | None = None,
        service_sid: str | None = None,
        *,
        account_sid: str | None = None,
    ) -> dict[str, Any]:
        """Read a document / map (item) / list (item) as the token's identity (ACL: 54007)."""
        verified, service = self._sync_client(token, kind, service_sid, account_sid)
        with self._product(verified.account_sid, "sync") as sync:
            return to_json(sync.client_read(service, kind, name, verified.identity, key))

    def sync_write(
        self,
        token: str,
        kind: str,
        name: str,
        data: dict[str, Any],
        key: str | None = None,
        service_sid: str | None = None,
        *,
        account_sid: str | None = None,
    ) -> dict[str, Any]:
        """Write a document / map item / list item as the token's identity (ACL: 54007)."""
        if not isinstance(data, dict):
            raise TwilioError(20001, "Invalid field data: must be a JSON object", 400)
        verified, service = self._sync_client(token, kind, service_sid, account_sid)
        with self._product(verified.account_sid, "sync") as sync:
            return to_json(sync.client_write(service, kind, name, verified.identity, data, key))

    def _sync_client(
        self, token: str, kind: str, service_sid: str | None, account_sid: str | None
    ) -> tuple[VerifiedToken, str]:
        if kind not in SYNC_KINDS:
            raise TwilioError(
                20001, f"Invalid field kind: {kind!r} is not one of {', '.join(SYNC_KINDS)}", 400
            )
        verified = self._verify(token, account_sid)
        return verified, self._service_grant(verified, "data_sync", "data_sync (Sync)", service_sid)

    # -- Conversations --------------------------------------------------------------------
    def join_conversation(
        self, token: str, conversation: str, *, account_sid: str | None = None
    ) -> dict[str, Any]:
        """A Conversations client opens ``conversation`` (SID or unique name).

        Needs a ``chat`` grant with ``service_sid`` (20106); the identity must be a participant
        (50432) of a conversation in that service (50350). Returns the conversation's JSON.
        """
        verified = self._verify(token, account_sid)
        service = self._service_grant(verified, "chat", "chat (Conversations)", None)
        with self._product(verified.account_sid, "conversations") as conversations:
            joined = conversations.client_join(service, conversation, verified.identity)
            return to_json(joined)
