"""TOK: access tokens (docs/PROTOCOL.md 6 and requirements TOK-1..TOK-7)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from ..context import CheckContext
from ..registry import check
from ..transport import Exchange
from ..twilio_view import TwilioRefused
from ._answers import claims_of, describe_answer, grants_of

_SK = re.compile(r"^SK[0-9a-f]{32}$")
_AC = re.compile(r"^AC[0-9a-f]{32}$")


@dataclass
class Issued:
    """One token answer: who asked, which endpoint, the exchange and when it arrived."""

    role: str  # host, speaker or viewer
    endpoint: str
    identity: str
    exchange: Exchange
    received_at: float

    @property
    def token(self) -> Any:
        body = self.exchange.json
        return body.get("token") if isinstance(body, dict) else None

    @property
    def label(self) -> str:
        return f"the {self.role} token ({self.endpoint} for {self.identity!r})"


def _issue_all(ctx: CheckContext, *, host: str | None = None) -> tuple[Any, list[Issued]]:
    """A stream and one token of each role (identities with spaces and non-ASCII letters)."""
    started = time.time()
    stream = ctx.new_stream(host=host)
    issued = [Issued("host", "create-stream", stream.host, stream.create_response, started)]
    for role, endpoint, identity in (
        ("speaker", "join-stream-as-speaker", f"Sp\u00e9aker {ctx.identity('speaker')}"),
        ("viewer", "join-stream-as-viewer", f"V\u00efewer {ctx.identity()} "),
    ):
        exchange = ctx.call(endpoint, {"user_identity": identity, "stream_name": stream.name})
        received = time.time()
        if exchange.status != 200 or not isinstance(exchange.json, dict):
            ctx.fail(
                f"{endpoint} answered {describe_answer(exchange)}, expected 200", exchange=exchange
            )
        issued.append(Issued(role, endpoint, identity, exchange, received))
    return stream, issued


def _refused(call: Any) -> TwilioRefused | None:
    try:
        call()
    except TwilioRefused as refusal:
        return refusal
    return None


@check("TOK-1")
def tokens_are_signed_access_tokens(ctx: CheckContext) -> None:
    """Every token is a JWT whose header is {"alg": "HS256", "typ": "JWT", "cty":
    "twilio-fpa;v=1"}, whose iss is an API key SID (SK...) and sub an account SID (AC...), and
    whose HS256 signature verifies with that API key's secret (and Twilio accepts it).

    Passes: create-stream's token decodes to header {"alg": "HS256", "typ": "JWT", "cty":
    "twilio-fpa;v=1"} and its signature verifies with the API key secret.
    Fails: the token is signed with the account auth token (the fake refuses it: 20107).
    """
    _, issued = _issue_all(ctx)
    view = ctx.twilio
    can_verify = bool(ctx.config.api_key_secret) or view is not None
    for item in issued:
        header, claims = ctx.decode_token(item.token, verify=False)
        ctx.expect_schema("protocol/token.header", header, item.exchange)
        if not isinstance(claims.get("iss"), str) or not _SK.match(claims["iss"]):
            ctx.fail(
                f"{item.label}: iss is {claims.get('iss')!r}, expected an API key SID",
                exchange=item.exchange,
            )
        if not isinstance(claims.get("sub"), str) or not _AC.match(claims["sub"]):
            ctx.fail(
                f"{item.label}: sub is {claims.get('sub')!r}, expected an account SID",
                exchange=item.exchange,
            )
        if can_verify:
            ctx.decode_token(item.token, verify=True)
        if view is not None:
            refusal = _refused(lambda token=item.token: view.verify_token(token))
            if refusal is not None:
                ctx.fail(f"{item.label} is refused by Twilio: {refusal}", exchange=item.exchange)
    if not can_verify:
        ctx.note("signatures not verified: run with --api-key-secret S or --twilio URL")


@check("TOK-2")
def token_identity_is_the_caller(ctx: CheckContext) -> None:
    """grants.identity of every token equals the request's user_identity exactly.

    Passes: join-stream-as-viewer for "Vïewer x " answers a token with grants.identity
    "Vïewer x ".
    Fails: grants.identity is "Vïewer x" (trimmed) or "vïewer x " (lower-cased).
    """
    host = f"H\u00f4st {ctx.identity('host')}"
    _, issued = _issue_all(ctx, host=host)
    for item in issued:
        identity = grants_of(ctx, item.token).get("identity")
        if identity != item.identity:
            ctx.fail(
                f"{item.label}: grants.identity is {identity!r}, expected {item.identity!r}",
                exchange=item.exchange,
                expected=item.identity,
                actual=identity,
            )


@check("TOK-3")
def tokens_are_valid_now_for_at_most_four_hours(ctx: CheckContext) -> None:
    """Every token has integer nbf and exp, nbf at most 60 s after the answer, exp after
    it, and exp - nbf <= 14400.

    Passes: a token answered at 1767225600 has nbf 1767225600 and exp 1767240000.
    Fails: exp - nbf is 86400 (a 24-hour token).
    """
    _, issued = _issue_all(ctx)
    for item in issued:
        claims = claims_of(ctx, item.token)
        nbf, exp = claims.get("nbf"), claims.get("exp")
        for name, value in (("nbf", nbf), ("exp", exp)):
            if not isinstance(value, int) or isinstance(value, bool):
                ctx.fail(
                    f"{item.label}: {name} is {value!r}, expected an integer",
                    exchange=item.exchange,
                )
        assert isinstance(nbf, int) and isinstance(exp, int)
        answered = item.received_at
        if nbf > answered + 60:
            ctx.fail(
                f"{item.label}: nbf is {nbf - answered:.0f} s after the answer "
                "(at most 60 s allowed)",
                exchange=item.exchange,
            )
        if exp <= answered:
            ctx.fail(
                f"{item.label}: exp is {answered - exp:.0f} s before the answer",
                exchange=item.exchange,
            )
        if exp - nbf > 14400:
            ctx.fail(
                f"{item.label}: lifetime exp - nbf is {exp - nbf} s, more than 14400",
                exchange=item.exchange,
                expected="<= 14400",
                actual=exp - nbf,
            )


_HOST_GRANTS = {"identity", "video", "data_sync", "chat"}
_VIEWER_GRANTS = {"identity", "player", "data_sync", "chat"}


@check("TOK-4")
def host_and_speaker_tokens_grant_room_and_sync(ctx: CheckContext) -> None:
    """The host's and speakers' tokens validate token.host / token.speaker: video.room is the
    stream name, data_sync.service_sid the stream's Sync service, no other grants; with a
    view of Twilio they connect to the room and open the stream's Sync service.

    Passes: create-stream's token has grants {"identity": "alice", "video": {"room":
    "friday-townhall"}, "data_sync": {"service_sid": "IS63ad..."}} and connects to the room.
    Fails: the speaker token's video grant names room "RMfef2..." in one answer and carries a
    player grant.
    """
    stream, issued = _issue_all(ctx)
    view = ctx.twilio
    service = None
    for item in issued:
        if item.role == "viewer":
            continue
        claims = claims_of(ctx, item.token)
        ctx.expect_schema(f"protocol/token.{item.role}", claims, item.exchange)
        grants = claims["grants"]
        extra = set(grants) - _HOST_GRANTS
        if extra:
            ctx.fail(
                f"{item.label} has grants {sorted(extra)} besides identity, video, "
                "data_sync and chat",
                exchange=item.exchange,
            )
        room = (grants.get("video") or {}).get("room")
        if room != stream.name:
            ctx.fail(
                f"{item.label}: video.room is {room!r}, expected the stream name {stream.name!r}",
                exchange=item.exchange,
            )
        sync_sid = (grants.get("data_sync") or {}).get("service_sid")
        if service is None:
            service = sync_sid
        elif sync_sid != service:
            ctx.fail(
                f"{item.label}: data_sync.service_sid {sync_sid!r} differs from the host "
                f"token's {service!r}",
                exchange=item.exchange,
            )
        if view is None:
            continue
        if view.sync_service(sync_sid) is None or view.map_items(sync_sid, "speakers") is None:
            ctx.fail(
                f"{item.label}: data_sync names {sync_sid!r}, which is not a Sync "
                "service holding the stream's maps",
                exchange=item.exchange,
            )
        refusal = _refused(lambda token=item.token: view.connect_to_room(token, stream.name))
        if refusal is not None:
            ctx.fail(
                f"{item.label} cannot connect to the stream's room: {refusal}",
                exchange=item.exchange,
            )
        refusal = _refused(lambda token=item.token, sid=sync_sid: view.connect_to_sync(token, sid))
        if refusal is not None:
            ctx.fail(
                f"{item.label} cannot open the stream's Sync service: {refusal}",
                exchange=item.exchange,
            )


def _stream_player_streamer(ctx: CheckContext, stream: Any) -> str | None:
    """The PlayerStreamer the stream's MediaProcessor outputs to (from the fake)."""
    import json

    view = ctx.require_twilio()
    for processor in view.media_processors(stream.room_sid):
        context = processor.get("extension_context")
        if isinstance(context, str):
            try:
                context = json.loads(context)
            except ValueError:
                continue
        outputs = context.get("outputs") if isinstance(context, dict) else None
        if isinstance(outputs, list) and outputs:
            return str(outputs[0])
    return None


@check("TOK-5")
def viewer_tokens_grant_playback_not_the_room(ctx: CheckContext) -> None:
    """The viewer token validates token.viewer: a player grant for the stream's
    PlayerStreamer, data_sync for the stream's Sync service, no video grant and nothing else;
    with a view of Twilio it starts the player and opens Sync but is refused by the room.

    Passes: join-stream-as-viewer's token has grants identity, player {"playerStreamerSid":
    "VJ8812...", ...} and data_sync; connecting it to the room is refused (20106).
    Fails: the viewer token also has "video": {"room": "friday-townhall"} and joins the room.
    """
    stream, issued = _issue_all(ctx)
    viewer = next(item for item in issued if item.role == "viewer")
    host_sync = (grants_of(ctx, stream.host_token).get("data_sync") or {}).get("service_sid")
    claims = claims_of(ctx, viewer.token)
    ctx.expect_schema("protocol/token.viewer", claims, viewer.exchange)
    grants = claims["grants"]
    extra = set(grants) - _VIEWER_GRANTS
    if extra:
        ctx.fail(
            f"{viewer.label} has grants {sorted(extra)} besides identity, player, "
            "data_sync and chat",
            exchange=viewer.exchange,
        )
    sync_sid = (grants.get("data_sync") or {}).get("service_sid")
    if sync_sid != host_sync:
        ctx.fail(
            f"{viewer.label}: data_sync.service_sid {sync_sid!r} is not the stream's "
            f"Sync service {host_sync!r}",
            exchange=viewer.exchange,
        )
    view = ctx.twilio
    if view is None:
        ctx.note("player grant and room refusal not checked at Twilio: no view of Twilio")
        return
    expected_streamer = _stream_player_streamer(ctx, stream)
    granted = (grants.get("player") or {}).get("playerStreamerSid")
    if expected_streamer is not None and granted != expected_streamer:
        ctx.fail(
            f"{viewer.label}: the player grant is for {granted!r}, the stream's "
            f"PlayerStreamer is {expected_streamer!r}",
            exchange=viewer.exchange,
        )
    refusal = _refused(lambda: view.connect_to_player(viewer.token, expected_streamer))
    if refusal is not None:
        ctx.fail(
            f"{viewer.label} cannot start the stream's player: {refusal}", exchange=viewer.exchange
        )
    refusal = _refused(lambda: view.connect_to_sync(viewer.token, sync_sid))
    if refusal is not None:
        ctx.fail(
            f"{viewer.label} cannot open the stream's Sync service: {refusal}",
            exchange=viewer.exchange,
        )
    if _refused(lambda: view.connect_to_room(viewer.token, stream.name)) is None:
        ctx.fail(f"{viewer.label} can connect to the stream's room", exchange=viewer.exchange)


@check("TOK-6")
def no_chat_grant_without_chat(ctx: CheckContext) -> None:
    """When an answer says chat_enabled false, its token has no chat grant.

    Passes: with chat off, create-stream answers chat_enabled false and a token without
    grants.chat.
    Fails: with chat off, the viewer token still carries "chat": {"service_sid": "IS..."}.
    """
    _, issued = _issue_all(ctx)
    disabled = 0
    for item in issued:
        body = item.exchange.json
        if body.get("chat_enabled") is not False:
            continue
        disabled += 1
        if "chat" in grants_of(ctx, item.token):
            ctx.fail(
                f"{item.label} has a chat grant although chat_enabled is false",
                exchange=item.exchange,
            )
    if not disabled:
        ctx.note("chat is enabled in this deployment: no answer had chat_enabled false")


@check("TOK-7")
def chat_grants_name_the_conversation_service(ctx: CheckContext) -> None:
    """With chat, every token's grants.chat.service_sid is the Conversations service holding
    the stream's conversation (unique name = room SID); with a view of Twilio each token
    opens that conversation.

    Passes: the three tokens have chat.service_sid "ISaa8a..." and the conversation
    "RMfef2..." of that service accepts them.
    Fails: the viewer token has no chat grant, or names another service.
    """
    if not ctx.has("chat"):
        ctx.skip("capability chat not declared or detected")
    stream, issued = _issue_all(ctx)
    services = set()
    for item in issued:
        chat = grants_of(ctx, item.token).get("chat")
        sid = chat.get("service_sid") if isinstance(chat, dict) else None
        if not isinstance(sid, str) or not sid:
            ctx.fail(f"{item.label} has no chat grant with a service_sid", exchange=item.exchange)
        services.add(sid)
    if len(services) != 1:
        ctx.fail(f"the stream's tokens name different Conversations services: {sorted(services)}")
    view = ctx.twilio
    if view is None:
        ctx.note("the conversation itself not checked: no view of Twilio")
        return
    service = services.pop()
    if view.conversation(stream.room_sid, service) is None:
        ctx.fail(f"the chat grants name {service}, which holds no conversation {stream.room_sid!r}")
    for item in issued:
        refusal = _refused(lambda token=item.token: view.join_conversation(token, stream.room_sid))
        if refusal is not None:
            ctx.fail(
                f"{item.label} cannot open the stream's conversation: {refusal}",
                exchange=item.exchange,
            )
