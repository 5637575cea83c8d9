"""Faulty variants of the reference backend that only a sequence of moves reveals.

Each variant breaks the protocol only after a particular history, one the hand-picked checks
(every requirement but PROP) do not walk through; :mod:`test_property` proves that the
stateful model (PROP-1) finds each within the CI budget and that the other checks all pass.
A second family (:data:`BENIGN_SEQUENCES`) does what the protocol allows although a
reference backend would not (a join resetting an invitation, a connection leaving it as it
is): the model must accept them. A third breaks input handling in ways PROP-2's generated
bodies find. Variants are built like those of :mod:`faulty` (a factory
``factory(settings, twilio_http_client)``).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, request

from reference_backend.app import Backend
from reference_backend.storage import StreamRecord
from reference_backend.sync_state import RAISED_HANDS, VIEWERS, user_document

from .faulty import Faulty, _variant
from .faulty import by_name as by_faulty_name


# -- a repeated invitation lost when the invitee is not watching --------------------------
def _reinvite_outside_audience_skipped(app: Flask, backend: Backend) -> None:
    """send-speaker-invite writes nothing when the invitee's document says speaker_invite
    true already and the invitee is not in ``viewers``: the second invitation of a user who
    has not reported its player is never seen (FLOW-14's walk has the invitee in
    ``viewers``, where every invitation writes)."""
    sync = backend.streams.sync
    merge = sync.merge_user_document

    def merge_user_document(
        service_sid: str, identity: str, changes: dict[str, Any], **_: Any
    ) -> bool:
        watching = backend.gateway.map_item(service_sid, VIEWERS.name, identity) is not None
        return merge(service_sid, identity, changes, skip_unchanged=not watching)

    sync.merge_user_document = merge_user_document  # type: ignore[method-assign]


# -- benign: an invitee who is not watching has its invitation reset when it joins again ----
def _rejoin_outside_audience_resets_invitation(app: Flask, backend: Backend) -> None:
    """join-stream-as-viewer treats a caller who is not in ``viewers`` as a newcomer and
    resets its document: an invitee who joins again before reporting its player loses the
    stored invitation. Allowed since FLOW-3 was re-decided (clients never read the stored
    value; the next invitation writes a new revision, FLOW-14); until then PROP-1 had to
    catch it."""
    streams = backend.streams
    original = streams.join_as_viewer

    def join_as_viewer(identity: str, stream_name: str) -> dict[str, Any]:
        answer = original(identity, stream_name)
        _, record = streams._live_stream(stream_name, "error fetching stream map item")
        service = record.sync_service_sid
        if streams.gateway.map_item(service, VIEWERS.name, identity) is None:
            document = streams.gateway.document(service, user_document(identity))
            if document is not None and document.data.get("speaker_invite") is True:
                streams.gateway.update_document(
                    service, user_document(identity), {"speaker_invite": False}, document.revision
                )
        return answer

    streams.join_as_viewer = join_as_viewer  # type: ignore[method-assign]


# -- benign: participant-connected leaves the invitation as it is ---------------------------
def _connect_keeps_invitation(app: Flask, backend: Backend) -> None:
    """participant-connected does not consume the invitation (FLOW-4 allows it): the
    document keeps speaker_invite true while the user speaks."""
    webhooks = backend.webhooks
    merge = webhooks.sync.merge_user_document

    def merge_user_document(
        service_sid: str, identity: str, changes: dict[str, Any], **kwargs: Any
    ) -> bool:
        if changes == {"speaker_invite": False}:
            return True  # the consumption: skipped
        return merge(service_sid, identity, changes, **kwargs)

    webhooks.sync.merge_user_document = merge_user_document  # type: ignore[method-assign]


# -- a hand left raised after the user became a speaker ---------------------------------------
def _hand_kept_unless_watching(app: Flask, backend: Backend) -> None:
    """participant-connected lowers the hand only of a user it removed from ``viewers``: a
    user who raised a hand without reporting a player keeps it raised while speaking."""
    webhooks = backend.webhooks
    gateway = backend.gateway
    original = webhooks._participant_connected

    def participant_connected(
        record: StreamRecord, identity: str, participant_sid: str | None
    ) -> None:
        service = record.sync_service_sid
        watching = gateway.map_item(service, VIEWERS.name, identity) is not None
        hand = gateway.map_item(service, RAISED_HANDS.name, identity)
        original(record, identity, participant_sid)
        if not watching and hand is not None:
            gateway.add_map_item(service, RAISED_HANDS.name, identity, hand)

    webhooks._participant_connected = participant_connected  # type: ignore[method-assign]


# -- an invitation leaking from an ended stream into a new one of the same name ------------
def _invitations_outlive_the_stream(app: Flask, backend: Backend) -> None:
    """The backend remembers invitations by stream name (to re-apply them on a re-join) and
    forgets them only when consumed: after the stream ends, the same identity joining a new
    stream of the same name finds itself invited."""
    streams = backend.streams
    webhooks = backend.webhooks
    pending: dict[tuple[str, str], bool] = {}
    invite, connected = streams.send_speaker_invite, webhooks._participant_connected
    joins = {"viewer": streams.join_as_viewer, "speaker": streams.join_as_speaker}

    def send_speaker_invite(identity: str, room_sid: str) -> dict[str, Any]:
        answer = invite(identity, room_sid)
        room = streams.gateway.find_room(room_sid)
        if room is not None:
            pending[(room.unique_name, identity)] = True
        return answer

    def rejoin(join: Callable[[str, str], dict[str, Any]]) -> Callable[[str, str], Any]:
        def joined(identity: str, stream_name: str) -> dict[str, Any]:
            answer = join(identity, stream_name)
            if pending.get((stream_name, identity)):
                _, record = streams._live_stream(stream_name, "error finding stream map item")
                streams.sync.merge_user_document(
                    record.sync_service_sid, identity, {"speaker_invite": True}
                )
            return answer

        return joined

    def participant_connected(
        record: StreamRecord, identity: str, participant_sid: str | None
    ) -> None:
        connected(record, identity, participant_sid)
        room = streams.gateway.find_room(record.room_sid)
        if room is not None:
            pending.pop((room.unique_name, identity), None)

    streams.send_speaker_invite = send_speaker_invite  # type: ignore[method-assign]
    streams.join_as_viewer = rejoin(joins["viewer"])  # type: ignore[method-assign]
    streams.join_as_speaker = rejoin(joins["speaker"])  # type: ignore[method-assign]
    webhooks._participant_connected = participant_connected  # type: ignore[method-assign]


# -- input faults for PROP-2 -------------------------------------------------------------------
def _long_identity_crashes(app: Flask, backend: Backend) -> None:
    """A user_identity over 4,096 characters crashes the app (500) before validation."""

    @app.before_request
    def crash_on_long_identity() -> Any:
        body = request.get_json(silent=True)
        identity = body.get("user_identity") if isinstance(body, dict) else None
        if isinstance(identity, str) and len(identity) > 4096:
            raise RuntimeError("identity buffer overflow")
        return None


def _writes_before_validating(app: Flask, backend: Backend) -> None:
    """join-stream-as-viewer logs every request body into a Sync document before it
    validates it: a rejected request still writes to Twilio."""

    @app.before_request
    def write_first() -> Any:
        if request.path != "/join-stream-as-viewer":
            return None
        backend.storage.provision()
        with contextlib.suppress(Exception):
            backend.gateway.create_document(
                backend.storage._storage_sid,  # type: ignore[arg-type]
                f"join-{uuid.uuid4().hex}",
                {"body": request.get_data(as_text=True)[:1000]},
            )
        return None


SEQUENCE_FAULTS: tuple[Faulty, ...] = (
    Faulty(
        "reinvite-outside-audience-skipped",
        "send-speaker-invite writes no new revision for an invitee who is invited already "
        "and not in viewers",
        frozenset({"PROP-1"}),
        _variant(_reinvite_outside_audience_skipped),
    ),
    Faulty(
        "hand-kept-unless-watching",
        "participant-connected leaves the hand raised of a user who was not in viewers",
        frozenset({"PROP-1"}),
        _variant(_hand_kept_unless_watching),
    ),
    Faulty(
        "invitations-outlive-the-stream",
        "an invitation is re-applied when its identity joins a new stream of the same name",
        frozenset({"PROP-1"}),
        _variant(_invitations_outlive_the_stream),
    ),
)
"""Faults only a sequence reveals: PROP-1 catches each, no other check does."""

BENIGN_SEQUENCES: tuple[Faulty, ...] = (
    Faulty(
        "rejoin-outside-audience-resets-invitation",
        "join-stream-as-viewer resets the invitation of a caller who is not in viewers "
        "(benign since FLOW-3 was re-decided: a join may keep or reset it)",
        frozenset(),
        _variant(_rejoin_outside_audience_resets_invitation),
    ),
    Faulty(
        "connect-keeps-invitation",
        "participant-connected leaves speaker_invite true (benign: FLOW-4 allows it)",
        frozenset(),
        _variant(_connect_keeps_invitation),
    ),
    by_faulty_name("rejoin-resets-invitation"),
    by_faulty_name("speaker-document-empty"),
)
"""Behaviours the protocol allows though the reference does otherwise: PROP-1 and every other
check pass them."""

INPUT_FAULTS: tuple[Faulty, ...] = (
    Faulty(
        "long-identity-crashes",
        "a user_identity over 4,096 characters answers 500",
        frozenset({"PROP-2"}),
        _variant(_long_identity_crashes),
    ),
    Faulty(
        "writes-before-validating",
        "join-stream-as-viewer writes to Twilio before validating its body",
        frozenset({"PROP-2"}),
        _variant(_writes_before_validating),
    ),
)
"""Input faults PROP-2 must catch."""


def by_name(name: str) -> Faulty:
    every = (*SEQUENCE_FAULTS, *BENIGN_SEQUENCES, *INPUT_FAULTS)
    return next(item for item in every if item.name == name)
