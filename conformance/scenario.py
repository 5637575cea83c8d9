"""Protocol moves shared by the checks, the walkthrough and the property models.

A :class:`Stream` is one live stream the suite created (``ctx.new_stream()``); its methods are
the protocol's moves (joins, player connection, hands, invitations, removal, deletion) and the
clients' moves at Twilio (the host or a member connecting to the room, the player, Sync).
Every client-endpoint move returns its :class:`~conformance.transport.Exchange` and raises
:class:`~conformance.outcomes.CheckFailed` (carrying the exchange) when the backend answers
anything but the documented success; client moves at Twilio raise ``CheckFailed`` when Twilio
refuses the backend's token. :meth:`Stream.sync_state` reads the stream's Sync data from the
fake as a ``protocol/sync.state`` object.

A stream is ended after the check that created it (delete-stream when the backend has it,
else the room is completed through Twilio); the cleanup does not judge how the backend
releases resources (that is FLOW-9's business).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .context import NEEDS_TWILIO
from .outcomes import CheckFailed, CheckSkipped
from .transport import Exchange
from .twilio_view import TwilioRefused, TwilioView

if TYPE_CHECKING:
    from .context import CheckContext

__all__ = ["MAP_NAMES", "Member", "Stream"]

#: The stream's Sync maps: ``sync.state`` key -> map unique name.
MAP_NAMES = {"speakers": "speakers", "raised_hands": "raised_hands", "viewers": "viewers"}


def _twilio(ctx: CheckContext) -> TwilioView:
    if ctx.twilio is None:
        raise CheckSkipped(NEEDS_TWILIO)
    return ctx.twilio


def _refused(action: str, exc: TwilioRefused, role: str | None = None) -> CheckFailed:
    """Twilio refused one of the clients' moves; ``role`` (of the member whose token it was)
    makes it a root cause that every check with such a token shares."""
    cause = None
    if role is not None:
        what = action.split("'s token ", 1)[-1]
        cause = f"Twilio refused a {role} token {what}: error {exc.code}"
    return CheckFailed(
        f"Twilio refused {action}: error {exc.code} ({exc.message})",
        actual={"code": exc.code, "status": exc.status, "message": exc.message},
        cause=cause,
    )


@dataclass
class Member:
    """A user who joined a stream: ``identity``, its ``token`` and the join ``response``.

    ``role`` is ``"viewer"`` or ``"speaker"`` (the join endpoint used).
    """

    stream: Stream
    identity: str
    token: str
    response: Exchange
    role: str
    sync_endpoint: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def claims(self) -> dict[str, Any]:
        """The token's payload (decoded without verification)."""
        return self.stream.ctx.decode_token(self.token, verify=False)[1]

    @property
    def body(self) -> Any:
        return self.response.json

    def connect_room(self) -> dict[str, Any]:
        """This member's Video client connects to the stream's room with its token."""
        try:
            return _twilio(self.stream.ctx).connect_to_room(self.token, self.stream.room_sid)
        except TwilioRefused as exc:
            raise _refused(f"{self.identity!r}'s token for the room", exc, self.role) from exc

    def disconnect_room(self) -> dict[str, Any]:
        """This member's Video client leaves the room (rooms-webhook participant-disconnected)."""
        try:
            return _twilio(self.stream.ctx).disconnect_from_room(
                self.stream.room_sid, self.identity
            )
        except TwilioRefused as exc:
            raise _refused(f"disconnecting {self.identity!r} from the room", exc) from exc

    def connect_player(self) -> dict[str, Any]:
        """This member's Live player starts playback with the token's PlaybackGrant."""
        try:
            return _twilio(self.stream.ctx).connect_to_player(self.token)
        except TwilioRefused as exc:
            raise _refused(f"{self.identity!r}'s token for the player", exc, self.role) from exc

    def connect_sync(self) -> dict[str, Any]:
        """This member's Sync client comes online in the stream's Sync service."""
        try:
            self.sync_endpoint = _twilio(self.stream.ctx).connect_to_sync(self.token)
        except TwilioRefused as exc:
            raise _refused(f"{self.identity!r}'s token for Sync", exc, self.role) from exc
        return self.sync_endpoint

    def disconnect_sync(self) -> dict[str, Any]:
        """This member's Sync clients go away (sync-webhook endpoint_disconnected follows)."""
        twilio = _twilio(self.stream.ctx)
        try:
            return twilio.disconnect_from_sync(self.stream.sync_service_sid, self.identity)
        except TwilioRefused as exc:
            raise _refused(f"disconnecting {self.identity!r} from Sync", exc) from exc


class Stream:
    """A stream created by the suite (see the module docstring).

    Attributes: ``name``, ``host`` (identity), ``room_sid``, ``host_token``,
    ``sync_service_sid`` (from the host token's ``data_sync`` grant), ``chat_enabled``,
    ``chat_service_sid`` (from the host token's ``chat`` grant, or ``None``),
    ``create_response`` (the create-stream exchange), ``members`` (by identity) and
    ``ended``.
    """

    def __init__(
        self,
        ctx: CheckContext,
        *,
        name: str,
        host: str,
        create_response: Exchange,
    ) -> None:
        self.ctx = ctx
        self.name = name
        self.host = host
        self.create_response = create_response
        body = create_response.json
        self.room_sid: str = body["room_sid"]
        self.host_token: str = body["token"]
        self.chat_enabled: bool = bool(body.get("chat_enabled"))
        grants = ctx.decode_token(self.host_token, verify=False)[1].get("grants") or {}
        self.sync_service_sid: str | None = _grant_service(grants, "data_sync")
        self.chat_service_sid: str | None = _grant_service(grants, "chat")
        self.members: dict[str, Member] = {}
        self.ended = False
        self._player_streamer_sid: str | None = None

    # -- creation and cleanup -------------------------------------------------------------------
    @classmethod
    def create(
        cls, ctx: CheckContext, *, host: str | None = None, name: str | None = None
    ) -> Stream:
        """create-stream with a fresh name (or ``name``) for ``host`` (or a fresh identity)."""
        host = host or ctx.identity("host")
        name = name or ctx.unique_name("stream")
        exchange = ctx.call("create-stream", {"user_identity": host, "stream_name": name})
        ctx.expect_success(exchange, "create-stream")
        stream = cls(ctx, name=name, host=host, create_response=exchange)
        ctx.cleanup(stream._cleanup)
        ctx.scope.chat_enabled = stream.chat_enabled
        stream._learn_webhook_urls()
        return stream

    def _learn_webhook_urls(self) -> None:
        """Remember the webhook URLs the backend registered with Twilio (for signing)."""
        twilio = self.ctx.twilio
        urls = self.ctx.backend.webhook_urls
        if twilio is None or ("rooms-webhook" in urls and "sync-webhook" in urls):
            return
        room = twilio.room(self.room_sid)
        callback = (room or {}).get("status_callback")
        if isinstance(callback, str) and callback.startswith(("http://", "https://")):
            urls.setdefault("rooms-webhook", callback)
        if self.sync_service_sid:
            service = twilio.sync_service(self.sync_service_sid)
            hook = (service or {}).get("webhook_url")
            if isinstance(hook, str) and hook.startswith(("http://", "https://")):
                urls.setdefault("sync-webhook", hook)

    def _cleanup(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self.ctx.has("delete-stream"):
            # not recorded: the cleanup is no part of the check's evidence
            answer = self.ctx.unrecorded_backend.call("delete-stream", {"stream_name": self.name})
            if answer.status == 200:
                self._settle()
                return
        twilio = self.ctx.twilio
        if twilio is not None:
            with contextlib.suppress(TwilioRefused):
                twilio.complete_room(self.room_sid)
            self._settle()

    def _settle(self) -> None:
        if self.ctx.twilio is not None:
            self.ctx.twilio.flush_webhooks(self.ctx.config.consistency_timeout)

    # -- client endpoints -------------------------------------------------------------------------
    def join_viewer(self, identity: str | None = None) -> Member:
        """join-stream-as-viewer; the new :class:`Member`."""
        return self._join("join-stream-as-viewer", "viewer", identity)

    def join_speaker(self, identity: str | None = None) -> Member:
        """join-stream-as-speaker; the new :class:`Member`."""
        return self._join("join-stream-as-speaker", "speaker", identity)

    def _join(self, endpoint: str, role: str, identity: str | None) -> Member:
        identity = identity or self.ctx.identity(role)
        exchange = self.ctx.call(endpoint, {"user_identity": identity, "stream_name": self.name})
        body = self.ctx.expect_success(exchange, endpoint)
        member = Member(self, identity, body["token"], exchange, role)
        self.members[identity] = member
        if role == "viewer" and self._player_streamer_sid is None:
            grant = (member.claims.get("grants") or {}).get("player")
            if isinstance(grant, dict) and isinstance(grant.get("playerStreamerSid"), str):
                self._player_streamer_sid = grant["playerStreamerSid"]
        return member

    def viewer_connected(self, identity: str) -> Exchange:
        """viewer-connected-to-player for ``identity``."""
        return self._move(
            "viewer-connected-to-player", {"user_identity": identity, "stream_name": self.name}
        )

    def raise_hand(self, identity: str, raised: bool = True) -> Exchange:
        """raise-hand with ``hand_raised`` = ``raised``."""
        params = {"user_identity": identity, "stream_name": self.name, "hand_raised": raised}
        return self._move("raise-hand", params)

    def invite(self, identity: str) -> Exchange:
        """send-speaker-invite for ``identity`` (the stream named by its room SID)."""
        return self._move(
            "send-speaker-invite", {"user_identity": identity, "room_sid": self.room_sid}
        )

    def remove_speaker(self, identity: str) -> Exchange:
        """remove-speaker for ``identity`` (the stream named by its name)."""
        return self._move("remove-speaker", {"user_identity": identity, "room_name": self.name})

    def delete(self) -> Exchange | None:
        """End the stream: delete-stream when the backend has it (its exchange), else the room
        is completed through Twilio (``None``)."""
        if self.ctx.has("delete-stream"):
            exchange = self._move("delete-stream", {"stream_name": self.name})
            self.ended = True
            return exchange
        self.end()
        return None

    def end(self) -> dict[str, Any]:
        """Twilio ends the room by itself (as an empty-room timeout would): room-ended follows."""
        try:
            room = _twilio(self.ctx).complete_room(self.room_sid)
        except TwilioRefused as exc:
            raise _refused("completing the stream's room", exc) from exc
        self.ended = True
        return room

    def _move(self, endpoint: str, params: dict[str, Any]) -> Exchange:
        exchange = self.ctx.call(endpoint, params)
        self.ctx.expect_success(exchange, endpoint)
        return exchange

    # -- clients at Twilio ---------------------------------------------------------------------
    def host_member(self) -> Member:
        """The host as a :class:`Member` (role ``"host"``, the create-stream answer)."""
        return Member(self, self.host, self.host_token, self.create_response, "host")

    def host_connects(self) -> dict[str, Any]:
        """The host's Video client connects to the room with the host token."""
        return self.host_member().connect_room()

    def host_disconnects(self) -> dict[str, Any]:
        return self.host_member().disconnect_room()

    # -- Twilio-side state --------------------------------------------------------------------
    @property
    def player_streamer_sid(self) -> str | None:
        """The stream's PlayerStreamer: from a viewer token, else from the MediaProcessor."""
        if self._player_streamer_sid is None and self.ctx.twilio is not None:
            for processor in self.ctx.twilio.media_processors(self.room_sid):
                outputs = _outputs(processor.get("extension_context"))
                if outputs:
                    self._player_streamer_sid = outputs[0]
                    break
        return self._player_streamer_sid

    def sync_state(self) -> dict[str, Any] | None:
        """The stream's Sync data as ``protocol/sync.state`` (``None`` once the service is gone).

        Maps that do not exist read as empty; ``documents`` holds the ``user-*`` documents
        by unique name.
        """
        twilio = _twilio(self.ctx)
        service = self.sync_service_sid
        if not service or twilio.sync_service(service) is None:
            return None
        state: dict[str, Any] = {}
        for key, map_name in MAP_NAMES.items():
            state[key] = twilio.map_items(service, map_name) or {}
        documents = twilio.documents(service) or {}
        state["documents"] = {k: v for k, v in documents.items() if k.startswith("user-")}
        return state

    def document(self, identity: str) -> dict[str, Any] | None:
        """The data of ``user-<identity>`` (``None`` when it does not exist)."""
        if not self.sync_service_sid:
            return None
        return _twilio(self.ctx).document(self.sync_service_sid, f"user-{identity}")

    def wait_for_state(
        self, until: Callable[[dict[str, Any] | None], Any], description: str
    ) -> dict[str, Any] | None:
        """Poll :meth:`sync_state` until ``until(state)`` holds, within the consistency bound."""
        return self.ctx.eventually(self.sync_state, until, description=description)

    def room(self) -> dict[str, Any] | None:
        return _twilio(self.ctx).room(self.room_sid)

    def connected_identities(self) -> list[str]:
        """Identities of the room's connected participants."""
        participants = _twilio(self.ctx).room_participants(self.room_sid)
        return [p.get("identity") for p in participants]

    def __repr__(self) -> str:
        return f"<Stream {self.name} {self.room_sid}>"


def _grant_service(grants: dict[str, Any], key: str) -> str | None:
    grant = grants.get(key)
    if isinstance(grant, dict) and isinstance(grant.get("service_sid"), str):
        return grant["service_sid"]
    return None


def _outputs(context: Any) -> list[str]:
    if isinstance(context, str):
        try:
            context = json.loads(context)
        except ValueError:
            return []
    outputs = context.get("outputs") if isinstance(context, dict) else None
    return [o for o in outputs if isinstance(o, str)] if isinstance(outputs, list) else []
