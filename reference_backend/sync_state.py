"""The Sync objects of one stream and the writes the protocol makes to them.

Names are fixed by the protocol: maps ``speakers`` (item ``{"host": bool}``), ``raised_hands``
and ``viewers`` (items ``{}``), keyed by identity, and one document ``user-<identity>`` per user
who joined (``{"speaker_invite": bool}``; other members are preserved by every write). Every
operation here is idempotent in the state it leaves (a document merge still writes a new
revision each time, FLOW-14) and raises :class:`~.twilio_http.TwilioFailure` only for real
failures ("already there" and "already gone" are successes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .twilio_gateway import TwilioGateway
from .twilio_http import TwilioFailure

__all__ = [
    "MAPS",
    "RAISED_HANDS",
    "SPEAKERS",
    "VIEWERS",
    "SyncMap",
    "SyncState",
    "user_document",
]

#: Twilio codes of a Sync write refused because the revision changed (If-Match).
_REVISION_MISMATCH = frozenset({54103, 54205, 54155})
_MERGE_ATTEMPTS = 5


@dataclass(frozen=True)
class SyncMap:
    name: str
    key: str  # member of sync_object_names
    label: str  # as it appears in error messages


SPEAKERS = SyncMap("speakers", "speakers_map", "speakers map")
RAISED_HANDS = SyncMap("raised_hands", "raised_hands_map", "raised hands map")
VIEWERS = SyncMap("viewers", "viewers_map", "viewers map")
MAPS: tuple[SyncMap, ...] = (SPEAKERS, RAISED_HANDS, VIEWERS)
"""The stream's maps, in the order create-stream makes them."""


def user_document(identity: str) -> str:
    """Unique name of ``identity``'s document."""
    return f"user-{identity}"


class SyncState:
    """Reads and writes of a stream's Sync objects (the service SID is passed per call)."""

    def __init__(self, gateway: TwilioGateway) -> None:
        self.gateway = gateway

    @staticmethod
    def object_names(identity: str | None = None) -> dict[str, str]:
        """``sync_object_names`` of a success body (with the user's document if given)."""
        names = {sync_map.key: sync_map.name for sync_map in MAPS}
        if identity is not None:
            names["user_document"] = user_document(identity)
        return names

    def add_viewer(self, service_sid: str, identity: str) -> None:
        self.gateway.add_map_item(service_sid, VIEWERS.name, identity, {})

    def set_hand(self, service_sid: str, identity: str, raised: bool) -> None:
        if raised:
            self.gateway.add_map_item(service_sid, RAISED_HANDS.name, identity, {})
        else:
            self.gateway.remove_map_item(service_sid, RAISED_HANDS.name, identity)

    def merge_user_document(
        self,
        service_sid: str,
        identity: str,
        changes: dict[str, Any],
        *,
        skip_unchanged: bool = False,
    ) -> bool:
        """Merge ``changes`` into the user's document; ``False`` when it does not exist.

        A read-modify-write guarded by the revision (If-Match) and retried when another
        writer got in between, so concurrent writers never lose each other's members. Every
        call writes a new revision, even when the document already holds ``changes`` (an
        invitation must, FLOW-14: the clients learn of it only from the document's updated
        event), unless ``skip_unchanged``.
        """
        name = user_document(identity)
        for _ in range(_MERGE_ATTEMPTS):
            document = self.gateway.document(service_sid, name)
            if document is None:
                return False
            if skip_unchanged and all(document.data.get(k) == v for k, v in changes.items()):
                return True
            try:
                self.gateway.update_document(
                    service_sid, name, {**document.data, **changes}, document.revision
                )
                return True
            except TwilioFailure as failure:
                if failure.code not in _REVISION_MISMATCH and failure.status != 412:
                    if failure.not_found:
                        return False
                    raise
        raise TwilioFailure(54103, 412, f"The document {name} kept changing; giving up.")
