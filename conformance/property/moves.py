"""The moves of the stateful model (PROP-1) as plain data, drawn with explicit weights.

A :class:`Move` is a kind, a small index ``who`` and a flag: nothing in it depends on the
state, so Hypothesis can delete, reorder and simplify moves freely while shrinking. The
machine resolves a move against the model when it runs it (:func:`pick`): ``who`` chooses
among the users the move makes most sense for (an invitation goes to a raised hand first,
a join to whoever was invited or knew an earlier stream of that name...), so most drawn
moves build one of the protocol's interesting histories instead of bouncing off an error.

Why weights: Hypothesis picks among rules uniformly, and a sequence fault needs a few
particular moves in order (join, invite, re-create the stream, join again). :data:`WEIGHTS`
makes those moves common without leaving any move out; their order is the shrinking order
(Hypothesis simplifies a choice toward the first kind), simplest and most common first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hypothesis import strategies as st

__all__ = ["KINDS", "WEIGHTS", "Move", "moves", "pick"]

#: Every move kind and how many shares of the draw it gets (see the module docstring).
WEIGHTS: tuple[tuple[str, int], ...] = (
    ("join-viewer", 5),  # join-stream-as-viewer
    ("invite", 5),  # send-speaker-invite (a raised hand first, then anyone who joined)
    ("raise-hand", 4),  # raise-hand with hand_raised true
    ("connect", 4),  # a speaker token's Video client connects to the room
    ("join-speaker", 3),  # join-stream-as-speaker
    ("restart", 3),  # the stream ends (``flag``: Twilio ends it) and is created again
    ("report-player", 2),  # viewer-connected-to-player
    ("lower-hand", 1),  # raise-hand with hand_raised false
    ("end", 1),  # delete-stream (``flag``: Twilio ends the room by itself)
    ("create", 1),  # create-stream under the example's name, live or ended
    ("remove", 1),  # remove-speaker (``flag``: by room SID)
    ("leave", 1),  # a Video client leaves the room
    ("play", 1),  # a player starts with its viewer token
    ("drop-sync", 1),  # a Sync client goes away (endpoint_disconnected)
    ("retry", 1),  # the last request, sent again
)
KINDS = tuple(kind for kind, _ in WEIGHTS)
#: How many times more often a move targets its preferred users than anyone (see pick).
FOCUS = 3


@dataclass(frozen=True)
class Move:
    """One move: its ``kind``, which candidate it targets (``who``, see :func:`pick`) and
    the kind's variant (``flag``)."""

    kind: str
    who: int = 0
    flag: bool = False


def moves(users: int) -> st.SearchStrategy[Move]:
    """Moves with kinds drawn by :data:`WEIGHTS`; ``who`` is below ``FOCUS * users`` for
    :data:`FOCUS` draws out of ``FOCUS + 1``, so :func:`pick` mostly stays in its preferred
    group."""
    shares = [kind for kind, weight in WEIGHTS for _ in range(weight)]
    return st.builds(
        Move,
        kind=st.sampled_from(shares),
        who=st.integers(0, (FOCUS + 1) * users - 1),
        flag=st.booleans(),
    )


def pick(who: int, *groups: Iterable[str], users: int) -> str | None:
    """A candidate for a move: ``groups`` are lists of users in order of preference.

    ``who`` below ``FOCUS * users`` picks in the first non-empty group (the move's natural
    target: the raised hand for an invitation); above, in all groups together (anyone,
    for the odd histories). Deterministic, wrapping around; None without any candidate.
    """
    lists = [list(group) for group in groups]
    ordered: list[str] = []
    for group in lists:
        ordered.extend(user for user in group if user not in ordered)
    focused = next((group for group in lists if group), [])
    chosen = focused if who < FOCUS * users else ordered
    return chosen[who % len(chosen)] if chosen else None
