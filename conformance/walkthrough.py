"""``live-conformance walkthrough``: the protocol as a story, told by running it.

One stream's life is played against the reference backend and a fake Twilio, both embedded
in this process (:func:`conformance.embedded.start`): the passcode check (wrong, then right),
the host creating the stream and going on air, a viewer joining, watching, raising a hand,
being invited, joining as a speaker and connecting to the room, being removed, the stream
ending, and an error answer. Each :class:`Step` records what was sent to the backend and what
came back (tokens decoded), the clients' moves at Twilio, the REST calls the backend made to
Twilio (the fake's journal), the webhooks Twilio delivered, and the Twilio state afterwards
(Sync maps and user documents, room, PlayerStreamer, MediaProcessor). Every step names the
requirements (``schemas/protocol/requirements.json``) it demonstrates.

The story is deterministic so that its Markdown rendering can be committed
(``docs/WALKTHROUGH.md``) and compared byte for byte: names and identities are fixed, the
passcode is shown as ``<passcode>``, tokens are shortened (their decoded claims are shown
instead, with the lifetime rather than the instants), timestamps are left out, and the fake's
random SIDs are renumbered in order of first appearance (``RM00000000000000000000000000000001``)
by :class:`SidRenumbering`. The fake's fixed default account and API key SIDs are kept.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from .config import SuiteConfig
from .context import CheckContext
from .outcomes import CheckFailed
from .requirements import get as get_requirement
from .scenario import Stream
from .transport import Exchange

__all__ = ["STREAM", "SidRenumbering", "Step", "WalkthroughFailed", "run_walkthrough", "tell"]

#: The fixed names of the story.
STREAM = "town-hall"
HOST = "alice"
VIEWER = "bob"
WRONG_PASSCODE = "not-the-passcode"

_SID_RE = re.compile(r"\b([A-Z]{2})([0-9a-f]{32})\b")
_QUERY_TOKEN_RE = re.compile(r"([?&]token=)[^&\"\s]+")
_TOKEN_FIELDS = ("token",)
_TOKEN_SHOWN = 16  # the JWT header's first characters: identical for every token
_DELIVERY_FIELDS = (
    "StatusCallbackEvent",
    "EventType",
    "RoomName",
    "ParticipantIdentity",
    "Identity",
)


class WalkthroughFailed(RuntimeError):
    """The backend did not behave as the story needs; the message names the step."""


@dataclass
class Step:
    """One moment of the story (see the module docstring); plain data, ready for JSON."""

    title: str
    story: str
    requirements: list[str]
    actions: list[dict[str, Any]] = field(default_factory=list)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    twilio_calls: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] | None = None

    def as_dict(self, number: int) -> dict[str, Any]:
        return {
            "number": number,
            "title": self.title,
            "story": self.story,
            "requirements": [
                {"id": rid, "title": get_requirement(rid).title} for rid in self.requirements
            ],
            "actions": self.actions,
            "exchanges": self.exchanges,
            "twilio_calls": self.twilio_calls,
            "webhooks": self.webhooks,
            "state": self.state,
        }


class SidRenumbering:
    """Replaces random SIDs by ``<prefix>0...0<n>``, numbered per prefix in order of first
    appearance, so two runs of the same story print the same text. SIDs in ``keep`` stay."""

    def __init__(self, keep: set[str]) -> None:
        self._keep = keep
        self._aliases: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def text(self, value: str) -> str:
        return _SID_RE.sub(self._alias, _QUERY_TOKEN_RE.sub(r"\1<playback-token>", value))

    def data(self, value: Any) -> Any:
        """``value`` (JSON-like) with every string renumbered; dict keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        return value

    def _alias(self, match: re.Match[str]) -> str:
        sid = match.group(0)
        if sid in self._keep:
            return sid
        if sid not in self._aliases:
            prefix = match.group(1)
            self._counts[prefix] = self._counts.get(prefix, 0) + 1
            self._aliases[sid] = f"{prefix}{self._counts[prefix]:032d}"
        return self._aliases[sid]


# -- the story ------------------------------------------------------------------------------------
class _Recorder:
    """Runs the steps and records, around each one, what reached Twilio and what it held."""

    def __init__(self, embedded: Any) -> None:
        self.embedded = embedded
        self.twilio = embedded.twilio
        config = SuiteConfig(consistency_timeout=5.0)
        self.ctx = CheckContext(
            config=config,
            requirement=get_requirement("FLOW-1"),
            backend=embedded.backend_client(),
            twilio=self.twilio,
            capabilities=embedded.capabilities,
        )
        self.stream: Stream | None = None
        self.steps: list[Step] = []
        self._deliveries_seen = 0

    def step(self, step: Step, play: Callable[[], Any]) -> None:
        """Play one step, then record its exchanges, Twilio calls, webhooks and the state."""
        number = len(self.steps) + 1
        mark = self.twilio.mark()
        first_exchange = len(self.ctx.exchanges)
        try:
            play()
        except CheckFailed as failure:
            raise WalkthroughFailed(f"step {number} ({step.title}): {failure.summary}") from None
        step.exchanges = [self._exchange(e) for e in self.ctx.exchanges[first_exchange:]]
        step.twilio_calls = [
            {"method": e["method"], "path": e["path"], "status": e["status"]}
            for e in self.twilio.requests_since(mark)
        ]
        deliveries = self.twilio.deliveries(self._deliveries_seen)
        if deliveries:
            self._deliveries_seen = max(int(d["seq"]) for d in deliveries)
        step.webhooks = [self._delivery(d) for d in deliveries]
        step.state = self._state()
        self.steps.append(step)

    def act(self, step: Step, description: str, move: Callable[[], dict[str, Any]]) -> None:
        """A client's move at Twilio (simulated SDK), recorded as an action of ``step``."""
        result = move()
        shown = {k: result[k] for k in ("identity", "status") if k in result}
        step.actions.append({"description": description, "result": shown})

    def _exchange(self, exchange: Exchange) -> dict[str, Any]:
        headers = {}
        for name, value in exchange.request.headers.multi_items():
            if name.lower() == "authorization":
                value = exchange.redactor.authorization(value)
            headers["-".join(p.capitalize() for p in name.split("-"))] = value
        request_body = _json_or_text(exchange.request.text)
        response_body = exchange.json if exchange.is_json else exchange.text
        tokens = []
        if isinstance(response_body, dict):
            response_body = dict(response_body)
            for name in _TOKEN_FIELDS:
                token = response_body.get(name)
                if isinstance(token, str) and token:
                    response_body[name] = token[:_TOKEN_SHOWN] + "…"
                    tokens.append({"field": name, **self._token(token)})
        return {
            "endpoint": exchange.endpoint,
            "request": {
                "method": exchange.method,
                "path": exchange.request.path,
                "headers": headers,
                "body": request_body,
            },
            "response": {"status": exchange.status, "body": response_body},
            "tokens": tokens,
        }

    def _token(self, token: str) -> dict[str, Any]:
        header, claims = self.ctx.decode_token(token, verify=True)
        grants = dict(claims.get("grants") or {})
        identity = grants.pop("identity", None)
        lifetime = None
        if isinstance(claims.get("exp"), int) and isinstance(claims.get("nbf"), int):
            lifetime = claims["exp"] - claims["nbf"]
        return {
            "algorithm": header.get("alg"),
            "issuer": claims.get("iss"),
            "account": claims.get("sub"),
            "identity": identity,
            "ttl_seconds": lifetime,
            "grants": grants,
        }

    @staticmethod
    def _delivery(delivery: dict[str, Any]) -> dict[str, Any]:
        params = delivery.get("params") or {}
        shown = {k: params[k] for k in _DELIVERY_FIELDS if k in params}
        url = str(delivery.get("url") or "")
        return {
            "endpoint": url.rstrip("/").rsplit("/", 1)[-1],
            "url": url,
            "params": shown,
            "status": delivery.get("status"),
        }

    def _state(self) -> dict[str, Any] | None:
        stream = self.stream
        if stream is None:
            return None
        twilio = self.twilio
        room = twilio.room(stream.room_sid) or {}
        participants = [p.get("identity") for p in twilio.room_participants(stream.room_sid)]
        state: dict[str, Any] = {
            "sync": stream.sync_state(),
            "room": {
                "sid": room.get("sid"),
                "unique_name": room.get("unique_name"),
                "type": room.get("type"),
                "status": room.get("status"),
                "connected": participants,
            },
        }
        streamer_sid = stream.player_streamer_sid
        streamer = twilio.player_streamer(streamer_sid) if streamer_sid else None
        state["player_streamer"] = (
            {"sid": streamer.get("sid"), "status": streamer.get("status")} if streamer else None
        )
        processors = twilio.media_processors(stream.room_sid)
        state["media_processor"] = (
            {
                "sid": processors[0].get("sid"),
                "extension": processors[0].get("extension"),
                "status": processors[0].get("status"),
            }
            if processors
            else None
        )
        return state


def _json_or_text(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _play(rec: _Recorder) -> None:
    """The story itself: each step's sentence, its requirements and its moves."""
    ctx = rec.ctx
    names = {"user_identity": VIEWER, "stream_name": STREAM}

    def wrong_passcode() -> None:
        ctx.expect_error(ctx.call("verify-passcode", passcode=WRONG_PASSCODE), status=401)

    rec.step(
        Step(
            "A wrong passcode is refused",
            "The app first asks the user for the deployment's passcode and checks it with "
            "verify-passcode. The passcode travels, bare, in the Authorization header; a wrong "
            "one is answered 401 in the protocol's error envelope, and nothing happens at Twilio.",
            ["AUTH-1", "ERR-1", "AUTH-5"],
        ),
        wrong_passcode,
    )
    rec.step(
        Step(
            "The right passcode is accepted",
            "With the header set to exactly the passcode, verify-passcode answers "
            '{"verified": true}; every later request carries the same header.',
            ["AUTH-2"],
        ),
        lambda: ctx.expect_success(ctx.call("verify-passcode"), "verify-passcode"),
    )

    def create() -> None:
        exchange = ctx.call("create-stream", {"user_identity": HOST, "stream_name": STREAM})
        ctx.expect_success(exchange, "create-stream")
        rec.stream = Stream(ctx, name=STREAM, host=HOST, create_response=exchange)

    rec.step(
        Step(
            "The host creates the stream",
            f"The host, {HOST}, starts a stream named {STREAM!r}. The backend creates a group "
            "room named "
            "after it (with its rooms-webhook as status callback), a PlayerStreamer and a "
            "MediaProcessor that composes the room into it, a Sync service of the stream's own "
            "with the three maps (the host already in speakers), and a conversation for chat. "
            "The answer carries the host's token: a room grant, the stream's Sync service and "
            "chat. Twilio reports the room and the composer joining it; the backend ignores the "
            "composer.",
            [
                "RESP-1",
                "RESP-2",
                "TOK-1",
                "TOK-2",
                "TOK-3",
                "TOK-4",
                "STATE-1",
                "STATE-2",
                "STATE-3",
                "STATE-4",
                "STATE-7",
                "FLOW-11",
            ],
        ),
        create,
    )
    stream = rec.stream
    assert stream is not None
    on_air = Step(
        "The host goes on air",
        "The host's Video SDK connects to the room with the host token. Twilio delivers "
        "participant-connected to the rooms-webhook; the host is already a speaker and keeps "
        '{"host": true}.',
        ["FLOW-4", "WH-2"],
    )
    rec.step(
        on_air,
        lambda: rec.act(
            on_air,
            f"{HOST}'s Video client connects to room {stream.room_sid}",
            stream.host_connects,
        ),
    )
    rec.step(
        Step(
            "A viewer joins",
            f"A viewer, {VIEWER}, opens the stream. The viewer token has no room grant: it "
            "grants playback of the stream's PlayerStreamer (a PlaybackGrant the backend "
            f"obtained from Twilio), Sync and chat. The backend creates user-{VIEWER}, "
            f"{VIEWER}'s own Sync document, with no invitation; the maps do not change.",
            ["TOK-5", "STATE-5", "STATE-6", "FLOW-3", "RESP-2"],
        ),
        lambda: stream.join_viewer(VIEWER),
    )
    viewer = stream.members[VIEWER]
    watching = Step(
        "The viewer's player connects",
        "The viewer's Live player starts playback with the token's PlaybackGrant, then the app "
        "tells the backend with viewer-connected-to-player, which adds the viewer to the "
        "viewers map (this is how the host sees the audience).",
        ["FLOW-1"],
    )

    def watch() -> None:
        rec.act(
            watching,
            f"{VIEWER}'s Live player connects to the PlayerStreamer",
            viewer.connect_player,
        )
        stream.viewer_connected(VIEWER)

    rec.step(watching, watch)
    rec.step(
        Step(
            "The viewer raises a hand",
            "The viewer wants to speak: raise-hand with hand_raised true adds the viewer to "
            "raised_hands, which the host's "
            "app lists; hand_raised false would remove the item.",
            ["FLOW-1"],
        ),
        lambda: stream.raise_hand(VIEWER),
    )
    rec.step(
        Step(
            "The host invites the viewer to speak",
            "The host picks the raised hand: send-speaker-invite names the stream by its room "
            "SID. The backend sets "
            f"speaker_invite to true in user-{VIEWER}, the document only {VIEWER} (and the "
            "backend) can read: the viewer's app sees the invitation there.",
            ["FLOW-2", "STATE-5"],
        ),
        lambda: stream.invite(VIEWER),
    )
    rec.step(
        Step(
            "The viewer joins as a speaker",
            f"Accepting, {VIEWER}'s app calls join-stream-as-speaker and gets a speaker token "
            "(a room grant, no playback grant). Joining changes no map and keeps the pending "
            "invitation: the viewer becomes a speaker only by connecting to the room.",
            ["TOK-4", "FLOW-3", "RESP-2"],
        ),
        lambda: stream.join_speaker(VIEWER),
    )
    speaker = stream.members[VIEWER]
    connecting = Step(
        "The speaker connects to the room",
        "The new speaker's Video SDK connects with the speaker token. Twilio delivers "
        "participant-connected to the rooms-webhook (signed over the URL the backend "
        f"registered); the backend moves {VIEWER} out of viewers and raised_hands, into speakers "
        'as {"host": false}, and consumes the invitation.',
        ["FLOW-4", "WH-2"],
    )
    rec.step(
        connecting,
        lambda: rec.act(
            connecting,
            f"{VIEWER}'s Video client connects to room {stream.room_sid}",
            speaker.connect_room,
        ),
    )
    rec.step(
        Step(
            "The host removes the speaker",
            "The host takes the floor back: remove-speaker names the stream by its name "
            "(room_name). The backend disconnects "
            f"{VIEWER}'s participant at Twilio; participant-disconnected follows and {VIEWER} "
            "leaves speakers. Their document stays.",
            ["FLOW-6", "FLOW-5"],
        ),
        lambda: stream.remove_speaker(VIEWER),
    )
    rec.step(
        Step(
            "The host ends the stream",
            "The host ends the show: delete-stream completes the room. Twilio disconnects "
            "whoever is left and delivers "
            "room-ended; on it the backend ends the MediaProcessor and the PlayerStreamer and "
            "deletes the stream's Sync service, so nothing is left running or billed.",
            ["FLOW-8", "FLOW-9", "FLOW-5"],
        ),
        lambda: stream.delete(),
    )

    def late_join() -> None:
        exchange = ctx.call("join-stream-as-viewer", names)
        ctx.expect_error(exchange, status=404, message="error finding room")

    rec.step(
        Step(
            "An ended stream is unknown",
            f"A late viewer tries to join {STREAM!r}. The stream has ended, so the backend "
            "answers in the error envelope with 'error finding room' (404) and writes nothing "
            "to Twilio.",
            ["ERR-2", "ERR-5", "ERR-1"],
        ),
        late_join,
    )


def run_walkthrough() -> list[dict[str, Any]]:
    """Play the story against a fresh embedded pair; the steps as JSON-ready dicts.

    Raises :class:`WalkthroughFailed` when the backend breaks the story.
    """
    from .embedded import start

    embedded = start()
    try:
        recorder = _Recorder(embedded)
        _play(recorder)
        credentials = embedded.twilio.credentials
        renumbering = SidRenumbering({credentials.account_sid, credentials.api_key_sid})
        return [
            renumbering.data(step.as_dict(number))
            for number, step in enumerate(recorder.steps, start=1)
        ]
    finally:
        embedded.close()


def tell(
    fmt: str,
    output: str | None = None,
    *,
    no_color: bool = False,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """``live-conformance walkthrough``: play the story, render it in ``fmt``, print it or
    write it to ``output``. Colour only for ``text`` on a terminal, unless ``no_color`` or
    ``NO_COLOR`` is set. Exit code 0, 1 when the backend broke the story, 2 when the output
    cannot be written."""
    from .walkthrough_render import render

    environ = os.environ if environ is None else environ
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    for name in ("reference_backend", "fake_twilio", "werkzeug"):
        logging.getLogger(name).addHandler(logging.NullHandler())
    try:
        steps = run_walkthrough()
    except WalkthroughFailed as exc:
        print(f"live-conformance: walkthrough stopped at {exc}", file=stderr)
        return 1
    color = (
        fmt == "text"
        and output is None
        and not no_color
        and not environ.get("NO_COLOR")
        and stdout.isatty()
    )
    text = render(steps, fmt, color=color)
    if output is None:
        stdout.write(text)
        return 0
    try:
        with open(output, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        print(f"live-conformance: cannot write {output!r}: {exc.strerror}", file=stderr)
        return 2
    return 0
