"""What the checks send: the client endpoints, their parameters and values that pass input
validation.

Private to :mod:`conformance.checks`. Parameters come from the protocol catalog
(``schemas``), so a check never spells an endpoint's parameter list itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemas import catalog

if TYPE_CHECKING:
    from ..context import CheckContext

STREAM_PARAMS: tuple[str, ...] = ("stream_name", "room_sid", "room_name")

#: Client endpoints in document order (delete-stream only with its capability).
ALL_CLIENT_ENDPOINTS: tuple[str, ...] = tuple(e.name for e in catalog.CLIENT_ENDPOINTS)
#: Client endpoints that name a stream.
STREAM_ENDPOINTS: tuple[str, ...] = tuple(
    e.name for e in catalog.CLIENT_ENDPOINTS if any(p in STREAM_PARAMS for p in e.params)
)
#: 32 lower-case hex digits: after a two-letter prefix, a well-formed SID.
SID_HEX = "0123456789abcdef0123456789abcdef"
#: Endpoints whose success body carries a token.
TOKEN_ENDPOINTS: tuple[str, ...] = (
    "create-stream",
    "join-stream-as-speaker",
    "join-stream-as-viewer",
)


def params_of(endpoint: str) -> tuple[str, ...]:
    """The endpoint's parameters in checking order."""
    return catalog.endpoint(endpoint).params


def client_endpoints(ctx: CheckContext, *, with_params: bool = False) -> list[str]:
    """The client endpoints the backend has (delete-stream only with its capability)."""
    found = [
        name for name in ALL_CLIENT_ENDPOINTS if name != "delete-stream" or ctx.has("delete-stream")
    ]
    if with_params:
        found = [name for name in found if params_of(name)]
    return found


def random_room_sid(ctx: CheckContext) -> str:
    """A well-formed Room SID that names no room (32 random lowercase hex digits)."""
    return "RM" + "".join(ctx.rng.choice("0123456789abcdef") for _ in range(32))


def random_sid(ctx: CheckContext, prefix: str) -> str:
    return prefix + "".join(ctx.rng.choice("0123456789abcdef") for _ in range(32))


def valid_params(
    ctx: CheckContext,
    endpoint: str,
    *,
    identity: str | None = None,
    stream_name: str | None = None,
    room_sid: str | None = None,
    hand_raised: bool = True,
) -> dict[str, Any]:
    """Parameters that pass input validation; unnamed streams are fresh (unknown) names."""
    values: dict[str, Any] = {}
    for param in params_of(endpoint):
        if param == "user_identity":
            values[param] = ctx.identity() if identity is None else identity
        elif param in ("stream_name", "room_name"):
            values[param] = ctx.unique_name() if stream_name is None else stream_name
        elif param == "room_sid":
            values[param] = random_room_sid(ctx) if room_sid is None else room_sid
        elif param == "hand_raised":
            values[param] = hand_raised
    return values


def stream_params(ctx: CheckContext, endpoint: str, stream: Any, identity: str) -> dict[str, Any]:
    """Valid parameters naming ``stream`` (its name, or its room SID for send-speaker-invite)."""
    return valid_params(
        ctx, endpoint, identity=identity, stream_name=stream.name, room_sid=stream.room_sid
    )
