"""PROP-1's moves of the users' clients at Twilio: a speaker's Video client connecting to the
room or leaving it, a viewer's player starting, and a Sync client going away.

They are not requests to the backend: Twilio reports them to it by webhook, and the state
machine of :mod:`.stateful` (which mixes :class:`ClientMoves` in) compares the model with
what the fake shows after each one.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..twilio_view import TwilioRefused
from .model import StreamInstance
from .moves import Move

if TYPE_CHECKING:
    from ..context import CheckContext
    from ..twilio_view import TwilioView
    from .model import ProtocolModel
    from .script import Script

__all__ = ["ClientMoves", "token_holders"]

#: Seconds after which a viewer token's PlaybackGrant is no longer used (Twilio: 15 s).
_GRANT_AGE = 10.0


class ClientMoves:
    """The clients' moves of the state machine, one method per move kind (see :mod:`.moves`).

    A mixin: the machine provides the attributes and the step plumbing declared below.
    """

    ctx: CheckContext
    view: TwilioView
    model: ProtocolModel
    script: Script

    if TYPE_CHECKING:

        def _live(self) -> StreamInstance | None: ...
        def _pick(self, move: Move, *groups: Any) -> str | None: ...
        def _twilio(self, text: str, action: Callable[..., Any], *args: Any) -> Any: ...
        def _step(self) -> contextlib.AbstractContextManager[Any]: ...
        def _settle(self) -> None: ...

    def _connect(self, move: Move) -> None:
        """A speaker token's Video client connects: a raised hand first."""
        instance = self._live()
        if instance is None:
            return
        able = [u for u in sorted(instance.speaker_tokens) if u not in instance.in_room]
        user = self._pick(move, [u for u in sorted(instance.raised_hands) if u in able], able)
        if user is None:
            return
        self._twilio(f"{user!r}'s Video client connects to {instance.label} with its token",
                     self.view.connect_to_room, instance.speaker_tokens[user],
                     instance.room_sid)  # fmt: skip
        self.model.connected(instance, user)

    def _leave(self, move: Move) -> None:
        instance = self._live()
        user = self._pick(move, sorted(instance.in_room)) if instance else None
        if instance is None or user is None:
            return
        self._twilio(f"{user!r}'s Video client leaves {instance.label}",
                     self.view.disconnect_from_room, instance.room_sid, user)  # fmt: skip
        self.model.disconnected(instance, user)

    def _play(self, move: Move) -> None:
        instance = self._live()
        user = self._pick(move, sorted(instance.viewer_tokens)) if instance else None
        if instance is None or user is None:
            return
        token, issued = instance.viewer_tokens[user]
        if time.monotonic() - issued > _GRANT_AGE:
            return  # its short-lived PlaybackGrant may have expired: a client joins again
        self._twilio(f"{user!r}'s player starts {instance.label} with its viewer token",
                     self.view.connect_to_player, token)  # fmt: skip

    def _drop_sync(self, move: Move) -> None:
        """The user's Sync client goes away; Twilio reports endpoint_disconnected.

        With reachability debouncing (the fake's clock would have to move past the window,
        ageing every token of the run), the suite delivers the debounced event itself,
        signed as Twilio signs it, and the client comes back afterwards, which cancels the
        fake's own pending delivery.
        """
        instance = self._live()
        if instance is None or not instance.sync_service_sid:
            return
        user = self._pick(move, sorted(token_holders(instance)))
        if user is None:
            return
        token = instance.speaker_tokens.get(user) or instance.viewer_tokens[user][0]
        service = instance.sync_service_sid
        self._twilio(f"{user!r}'s Sync client connects to {instance.label}",
                     self.view.connect_to_sync, token, service)  # fmt: skip
        self._twilio(f"{user!r}'s Sync client goes away",
                     self.view.disconnect_from_sync, service, user)  # fmt: skip
        settings = self.view.sync_service(service) or {}
        if settings.get("reachability_debouncing_enabled"):
            self._deliver_endpoint_disconnected(settings, user)
            with contextlib.suppress(TwilioRefused):
                self.view.connect_to_sync(token, service)
        self.model.sync_dropped(instance, user)

    def _deliver_endpoint_disconnected(self, service: dict[str, Any], user: str) -> None:
        url = service.get("webhook_url")
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            self.ctx.backend.webhook_urls.setdefault("sync-webhook", url)
        form = {
            "AccountSid": self.view.credentials.account_sid,
            "ServiceSid": service["sid"],
            "EventType": "endpoint_disconnected",
            "Identity": user,
            "EndpointId": f"{user}-property",
        }
        exchange = self.ctx.webhook("sync-webhook", form)
        self.script.request(exchange)
        with self._step():
            if not exchange.ok:
                self.ctx.fail(
                    f"the signed endpoint_disconnected delivery answered {exchange.status}",
                    exchange=exchange,
                )
        self._settle()


def token_holders(instance: StreamInstance) -> set[str]:
    """Users holding a speaker or viewer token of the stream."""
    return set(instance.speaker_tokens) | set(instance.viewer_tokens)
