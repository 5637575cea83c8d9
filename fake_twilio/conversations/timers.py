"""Conversation timers on the fake clock: ``Timers.Inactive`` and ``Timers.Closed``.

An active conversation with an inactive timer becomes ``inactive`` when it runs out; any
conversation with a closed timer becomes ``closed`` (final) when that one runs out. Deadlines
go through the state's scheduler (``ctx.schedule``), so they fire at the start of the next
request or clock advance, under the state lock. Each callback re-checks that its conversation
still exists and still has that deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..core.state import ProductContext
from .resources import Conversation

Lookup = Callable[[str, str], Conversation | None]  # (service_sid, conversation_sid)


class ConversationTimers:
    """Arms, cancels and fires the timers of one account's conversations."""

    def __init__(self, ctx: ProductContext, lookup: Lookup) -> None:
        self.ctx = ctx
        self._lookup = lookup

    def cancel(self, conversation: Conversation) -> None:
        """Forget the conversation's pending deadlines."""
        for entry in conversation.deadlines:
            self.ctx.state.scheduler.cancel(entry)
        conversation.deadlines.clear()

    def arm(self, conversation: Conversation, now: datetime) -> None:
        """(Re)compute ``date_inactive``/``date_closed`` from the durations and the state.

        A closed conversation has no timers; the inactive timer only runs while active.
        """
        self.cancel(conversation)
        conversation.date_inactive = conversation.date_closed = None
        if conversation.state == "closed":
            return
        if conversation.timer_inactive is not None and conversation.state == "active":
            conversation.date_inactive = now + conversation.timer_inactive
            conversation.deadlines.append(
                self.ctx.schedule(conversation.date_inactive, self._callback(conversation))
            )
        if conversation.timer_closed is not None:
            conversation.date_closed = now + conversation.timer_closed
            conversation.deadlines.append(
                self.ctx.schedule(conversation.date_closed, self._callback(conversation))
            )

    def _callback(self, conversation: Conversation) -> Callable[[datetime], None]:
        service_sid, sid = conversation.service_sid, conversation.sid

        def fire(when: datetime) -> None:
            current = self._lookup(service_sid, sid)
            if current is None:
                return
            if current.date_closed is not None and current.date_closed <= when:
                current.state = "closed"
                current.date_closed = current.date_inactive = None
                current.date_updated = when
                current.deadlines.clear()
            elif current.date_inactive is not None and current.date_inactive <= when:
                if current.state == "active":
                    current.state = "inactive"
                    current.date_updated = when
                current.date_inactive = None

        return fire
