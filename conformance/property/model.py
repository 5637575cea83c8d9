"""The oracle of the stateful property: the protocol state every stream should be in.

Pure Python, no I/O. :class:`ProtocolModel` predicts the answer of every client request
(:meth:`ProtocolModel.expect`) and follows the transitions of docs/PROTOCOL.md 5.3 on the
backend's successes (:meth:`ProtocolModel.apply`) and on the clients' moves at Twilio
(:meth:`ProtocolModel.connected`, :meth:`~ProtocolModel.disconnected`,
:meth:`~ProtocolModel.sync_dropped`, :meth:`~ProtocolModel.ended`).

Only what the protocol makes normative (MUST) is predicted. Where it allows more than one
outcome the model holds every acceptable value: a speakers item is a set of allowed ``host``
flags (the host is ``{"host": true}``, also when it reconnects after leaving: FLOW-16), a user
document a set of allowed ``speaker_invite`` values (a join may keep a pending invitation or
reset it, FLOW-3; participant-connected may consume it or leave it, FLOW-4; an invitation
makes it true, FLOW-2; a document without ``speaker_invite`` reads as false), and conversation
membership is a lower bound. That every invitation writes a new revision (FLOW-14) is judged
by the state machine on the invitation's answer (:mod:`.stateful`), not held here.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Expectation", "ProtocolModel", "StreamInstance"]

_ROOM_SID = re.compile(r"^RM[0-9a-f]{32}$")
HOST_ONLY = frozenset({True})
GUEST_ONLY = frozenset({False})
EITHER = frozenset({True, False})
#: Allowed ``speaker_invite`` values of a user document (the same sets as the host flags).
INVITED = HOST_ONLY
NOT_INVITED = GUEST_ONLY


@dataclass(frozen=True)
class Expectation:
    """The answer the protocol requires: success (``message`` None) or an error ``message``
    (and, where it is exact, its ``explanation``)."""

    message: str | None = None
    explanation: str | None = None

    @property
    def ok(self) -> bool:
        return self.message is None

    def describe(self) -> str:
        if self.ok:
            return "200 and the documented success body"
        extra = f" / explanation {self.explanation!r}" if self.explanation else ""
        return f"an error with message {self.message!r}{extra}"


SUCCESS = Expectation()
NOT_FOUND = Expectation("error finding room")


@dataclass
class StreamInstance:
    """One stream: created by one successful create-stream, live until its room ends.

    ``speakers`` maps identity -> allowed ``host`` flags; ``documents`` identity -> allowed
    ``speaker_invite`` values; ``in_room`` the identities whose Video client is connected;
    ``members`` who created or joined (conversation participants with chat);
    ``speaker_tokens`` / ``viewer_tokens`` the last token of each kind per identity (viewer
    tokens with the ``time.monotonic()`` they were issued at: their PlaybackGrant is
    short-lived).
    """

    name: str
    room_sid: str
    host: str
    sync_service_sid: str | None
    chat_service_sid: str | None
    number: int
    live: bool = True
    speakers: dict[str, frozenset[bool]] = field(default_factory=dict)
    viewers: set[str] = field(default_factory=set)
    raised_hands: set[str] = field(default_factory=set)
    documents: dict[str, frozenset[bool]] = field(default_factory=dict)
    in_room: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    speaker_tokens: dict[str, str] = field(default_factory=dict)
    viewer_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    media: tuple[str | None, tuple[str, ...]] | None = None

    @property
    def label(self) -> str:
        return f"stream #{self.number} {self.name!r} ({self.room_sid})"

    def expected_state(self) -> dict[str, Any]:
        """The Sync state in a readable form (allowed host flags and speaker_invite values
        as lists)."""
        return {
            "speakers": {k: sorted(v) for k, v in sorted(self.speakers.items())},
            "raised_hands": sorted(self.raised_hands),
            "viewers": sorted(self.viewers),
            "documents": {
                f"user-{k}": {"speaker_invite": sorted(v)} for k, v in self.documents.items()
            },
        }

    def may_be_invited(self, identity: str) -> bool:
        """Whether ``identity``'s document may hold a pending invitation."""
        return True in self.documents.get(identity, NOT_INVITED)


class ProtocolModel:
    """Expected state of every stream one property example made (see the module docstring)."""

    def __init__(self) -> None:
        self.instances: list[StreamInstance] = []

    # -- lookups ------------------------------------------------------------------------------
    def live(self, name_or_sid: str) -> StreamInstance | None:
        """The live stream with that name (or, for a Room SID, that room)."""
        by_sid = bool(_ROOM_SID.match(name_or_sid))
        for instance in self.instances:
            if instance.live and (
                instance.room_sid == name_or_sid if by_sid else instance.name == name_or_sid
            ):
                return instance
        return None

    def latest(self, name: str) -> StreamInstance | None:
        """The most recent stream with that name, live or ended."""
        found = [i for i in self.instances if i.name == name]
        return found[-1] if found else None

    def live_instances(self) -> list[StreamInstance]:
        return [i for i in self.instances if i.live]

    # -- client requests ------------------------------------------------------------------------
    def expect(self, endpoint: str, params: dict[str, Any]) -> Expectation:
        """The answer the protocol requires for a valid request in the current state."""
        identity = params.get("user_identity", "")
        if endpoint == "create-stream":
            if self.live(params["stream_name"]) is not None:
                return Expectation("error creating room", "Room exists")
            return SUCCESS
        if endpoint == "send-speaker-invite":
            instance = self.live(params["room_sid"])
            if instance is None:
                return NOT_FOUND
            if identity not in instance.documents:
                return Expectation("error updating user document")
            return SUCCESS
        reference = params.get("stream_name", params.get("room_name", ""))
        instance = self.live(reference)
        if instance is None:
            return NOT_FOUND
        if endpoint == "remove-speaker" and identity not in instance.in_room:
            return Expectation("error removing speaker")
        return SUCCESS

    def apply(
        self, endpoint: str, params: dict[str, Any], body: dict[str, Any], grants: dict[str, Any]
    ) -> StreamInstance | None:
        """Follow a successful request; ``grants`` are its token's grants (if any).

        Returns the stream the request acted on.
        """
        identity = params.get("user_identity", "")
        if endpoint == "create-stream":
            instance = StreamInstance(
                name=params["stream_name"],
                room_sid=body["room_sid"],
                host=identity,
                sync_service_sid=_service(grants, "data_sync"),
                chat_service_sid=_service(grants, "chat"),
                number=len(self.instances) + 1,
            )
            instance.speakers[identity] = HOST_ONLY
            instance.members.add(identity)
            instance.speaker_tokens[identity] = body["token"]
            self.instances.append(instance)
            return instance
        reference = params.get("stream_name", params.get("room_name", params.get("room_sid", "")))
        instance = self.live(reference)
        if instance is None:
            return None
        if endpoint in ("join-stream-as-viewer", "join-stream-as-speaker"):
            # a new document is not invited; an existing one may be kept or reset (FLOW-3)
            if instance.may_be_invited(identity):
                instance.documents[identity] = EITHER
            instance.documents.setdefault(identity, NOT_INVITED)
            instance.members.add(identity)
            if endpoint == "join-stream-as-viewer":
                instance.viewer_tokens[identity] = (body["token"], time.monotonic())
            else:
                instance.speaker_tokens[identity] = body["token"]
        elif endpoint == "viewer-connected-to-player":
            instance.viewers.add(identity)
        elif endpoint == "raise-hand":
            if params["hand_raised"]:
                instance.raised_hands.add(identity)
            else:
                instance.raised_hands.discard(identity)
        elif endpoint == "send-speaker-invite":
            instance.documents[identity] = INVITED
        elif endpoint == "remove-speaker":
            self.disconnected(instance, identity)
        elif endpoint == "delete-stream":
            self.ended(instance)
        return instance

    # -- the clients' moves at Twilio (webhook-driven transitions) -----------------------------
    def connected(self, instance: StreamInstance, identity: str) -> None:
        """rooms participant-connected (FLOW-4; the host's return, FLOW-16). The invitation
        may be consumed or left as it is."""
        instance.in_room.add(identity)
        instance.viewers.discard(identity)
        instance.raised_hands.discard(identity)
        if identity not in instance.speakers:
            instance.speakers[identity] = HOST_ONLY if identity == instance.host else GUEST_ONLY
        if instance.may_be_invited(identity):
            instance.documents[identity] = EITHER

    def disconnected(self, instance: StreamInstance, identity: str) -> None:
        """rooms participant-disconnected (FLOW-5)."""
        instance.in_room.discard(identity)
        instance.speakers.pop(identity, None)

    def sync_dropped(self, instance: StreamInstance, identity: str) -> None:
        """sync endpoint_disconnected (FLOW-7)."""
        instance.viewers.discard(identity)
        instance.raised_hands.discard(identity)
        if identity not in instance.in_room:
            instance.speakers.pop(identity, None)

    def ended(self, instance: StreamInstance) -> None:
        """rooms room-ended (FLOW-9): everything of the stream is gone."""
        instance.live = False
        instance.in_room.clear()


def _service(grants: dict[str, Any], key: str) -> str | None:
    grant = grants.get(key)
    if isinstance(grant, dict) and isinstance(grant.get("service_sid"), str):
        return grant["service_sid"]
    return None
