"""TOK: access tokens (docs/PROTOCOL.md 6 and requirements TOK-1..TOK-8)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import schemas

from ..context import CheckContext
from ..registry import check
from ..transport import Exchange
from ..twilio_view import TwilioRefused
from ._answers import claims_of, describe_answer, grants_of

_SK = re.compile(r"^SK[0-9a-f]{32}$")
_AC = re.compile(r"^AC[0-9a-f]{32}$")


@dataclass
class Issued:
    """One token answer: who asked, which endpoint, the exchange, and when the request was
    sent and its answer arrived (the answer was made in between)."""

    role: str  # host, speaker or viewer
    endpoint: str
    identity: str
    exchange: Exchange
    sent_at: float
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
    issued = [
        Issued("host", "create-stream", stream.host, stream.create_response, started, time.time())
    ]
    for role, endpoint, identity in (
        ("speaker", "join-stream-as-speaker", ctx.identity("speaker")),
        ("viewer", "join-stream-as-viewer", ctx.identity()),
    ):
        sent = time.time()
        exchange = ctx.call(endpoint, {"user_identity": identity, "stream_name": stream.name})
        received = time.time()
        if exchange.status != 200 or not isinstance(exchange.json, dict):
            ctx.fail(
                f"{endpoint} answered {describe_answer(exchange)}, expected 200",
                exchange=exchange,
                expected_success=True,
            )
        issued.append(Issued(role, endpoint, identity, exchange, sent, received))
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
    host = ctx.identity("host")
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


#: TOK-3's bounds of a token's lifetime (seconds), and the tolerance either way: libraries
#: read the clock separately for the start claim and for exp.
MIN_LIFETIME_S = 3600
MAX_LIFETIME_S = 14400
LIFETIME_TOLERANCE_S = 1
#: How far after the answer nbf may be (clock skew).
NBF_SKEW_S = 60


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@check("TOK-3")
def tokens_are_valid_now_for_a_whole_stream(ctx: CheckContext) -> None:
    """Every token is valid when answered and lives 1 to 4 hours: an integer exp and, when
    present, an integer nbf (absent: the token starts at its integer iat); nbf at most 60 s
    after the answer, exp after it; a lifetime exp - nbf (or exp - iat without nbf) of 3600
    to 14400 s, one second of tolerance either way.

    Passes: a token answered at 1767225600 has nbf 1767225600 and exp 1767240000 (14400 s);
    so does one without nbf with iat 1767225600 and exp 1767229200 (3600 s, twilio-node's
    form and default).
    Fails: exp - nbf is 86400 (a 24-hour token), or 60 (the session ends mid-stream: clients
    never refresh a token).
    """
    _, issued = _issue_all(ctx)
    for item in issued:
        claims = claims_of(ctx, item.token)
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not _integer(exp):
            ctx.fail(f"{item.label}: exp is {exp!r}, expected an integer", exchange=item.exchange)
        if "nbf" in claims:
            if not _integer(nbf):
                ctx.fail(
                    f"{item.label}: nbf is {nbf!r}, expected an integer (or no nbf)",
                    exchange=item.exchange,
                )
            start, start_name = nbf, "nbf"
        elif _integer(iat):
            start, start_name = iat, "iat"
        else:
            ctx.fail(
                f"{item.label} has no nbf and its iat is {iat!r}: without an integer nbf or "
                "iat the token's lifetime is undefined",
                exchange=item.exchange,
            )
        if nbf is not None and nbf > item.received_at + NBF_SKEW_S:
            ctx.fail(
                f"{item.label}: nbf is {nbf - item.received_at:.0f} s after the answer "
                f"(at most {NBF_SKEW_S} s allowed): the token is not valid yet",
                exchange=item.exchange,
            )
        if exp <= item.sent_at:
            ctx.fail(
                f"{item.label}: exp is {item.sent_at - exp:.0f} s before the answer: the token "
                "has expired already",
                exchange=item.exchange,
            )
        lifetime = exp - start
        low, high = MIN_LIFETIME_S - LIFETIME_TOLERANCE_S, MAX_LIFETIME_S + LIFETIME_TOLERANCE_S
        if not low <= lifetime <= high:
            ctx.fail(
                f"{item.label}: its lifetime exp - {start_name} is {lifetime} s, expected "
                f"{MIN_LIFETIME_S} to {MAX_LIFETIME_S} s (one second of tolerance either way)",
                exchange=item.exchange,
                expected=f"{low}..{high}",
                actual=lifetime,
            )


def _role_grants(role: str) -> set[str]:
    """The grants protocol/token.<role> allows (its grants members not forbidden)."""
    members = schemas.load(f"protocol/token.{role}")["properties"]["grants"]["properties"]
    return {name for name, schema in members.items() if schema is not False}


def _expect_grants_match(ctx: CheckContext, item: Issued, names: tuple[str, ...]) -> dict:
    """The grants ``names`` of ``item``'s token validate protocol/token.<role> (the other
    grants and the registered claims are other requirements'); returns the token's grants."""
    claims = claims_of(ctx, item.token)
    grants = claims.get("grants")
    if not isinstance(grants, dict):
        ctx.fail(f"{item.label} has no grants object: {grants!r}", exchange=item.exchange)
    name = f"protocol/token.{item.role}"
    projected = {"grants": {key: value for key, value in grants.items() if key in names}}
    problems = [p for p in schemas.errors(name, projected) if p.startswith("$.grants")]
    if problems:
        shown = "; ".join(problems[:3]) + (
            f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        )
        ctx.fail(
            f"{item.label}: its {', '.join(names)} grants do not match {name}: {shown}",
            exchange=item.exchange,
            expected=name,
            actual=grants,
        )
    return grants


@check("TOK-4")
def host_and_speaker_tokens_grant_room_and_sync(ctx: CheckContext) -> None:
    """The host's and speakers' tokens have the identity, video and data_sync grants of
    token.host / token.speaker: video.room is the stream name, data_sync.service_sid the
    stream's Sync service; with a view of Twilio they connect to the room and open the
    stream's Sync service. (Further grants are TOK-8's.)

    Passes: create-stream's token has grants {"identity": "alice", "video": {"room":
    "friday-townhall"}, "data_sync": {"service_sid": "IS63ad..."}} and connects to the room.
    Fails: the speaker token's video grant names room "RMfef2..." (the room SID), or it has
    no data_sync grant.
    """
    stream, issued = _issue_all(ctx)
    view = ctx.twilio
    service = None
    for item in issued:
        if item.role == "viewer":
            continue
        grants = _expect_grants_match(ctx, item, ("identity", "video", "data_sync"))
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
def viewer_tokens_grant_playback_and_sync(ctx: CheckContext) -> None:
    """The viewer token has the identity, player and data_sync grants of token.viewer: a
    player grant (a PlaybackGrant's grant object) for the stream's PlayerStreamer and
    data_sync for the stream's Sync service; with a view of Twilio it starts the stream's
    player and opens its Sync service. (A video grant and other grants are TOK-8's.)

    Passes: join-stream-as-viewer's token has grants identity, player {"playerStreamerSid":
    "VJ8812...", "playbackUrl": "https://...", ...} and data_sync {"service_sid": "IS63ad..."}.
    Fails: the viewer token has no player grant, or one for another PlayerStreamer.
    """
    stream, issued = _issue_all(ctx)
    viewer = next(item for item in issued if item.role == "viewer")
    host_sync = (grants_of(ctx, stream.host_token).get("data_sync") or {}).get("service_sid")
    grants = _expect_grants_match(ctx, viewer, ("identity", "player", "data_sync"))
    sync_sid = (grants.get("data_sync") or {}).get("service_sid")
    if sync_sid != host_sync:
        ctx.fail(
            f"{viewer.label}: data_sync.service_sid {sync_sid!r} is not the stream's "
            f"Sync service {host_sync!r}",
            exchange=viewer.exchange,
        )
    view = ctx.twilio
    if view is None:
        ctx.note("the player grant not checked at Twilio: no view of Twilio")
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


@check("TOK-8")
def tokens_grant_nothing_beyond_their_role(ctx: CheckContext) -> None:
    """No token has a grant its role's schema does not allow: host and speaker tokens only
    identity, video, data_sync and chat (no player grant); viewer tokens only identity,
    player, data_sync and chat (no video grant).

    Passes: the viewer token's grants are identity, player, data_sync and chat.
    Fails: the viewer token also has "video": {} (every room), or the host token a player
    grant.
    """
    _, issued = _issue_all(ctx)
    for item in issued:
        grants = grants_of(ctx, item.token)
        allowed = _role_grants(item.role)
        extra = sorted(set(grants) - allowed)
        if extra:
            ctx.fail(
                f"{item.label} has grants {extra} beyond its role (a {item.role} token may "
                f"have only {', '.join(sorted(allowed))})",
                exchange=item.exchange,
                expected=sorted(allowed),
                actual=sorted(grants),
            )
