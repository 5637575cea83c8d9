"""The walkthrough's story: one stream's life, step by step, each step with its sentence, the
requirements it demonstrates and its moves (:mod:`conformance.walkthrough`).

Names and identities are fixed so that the story, rendered, can be compared byte for byte
with ``docs/WALKTHROUGH.md``.
"""

from __future__ import annotations

from .scenario import Stream
from .walkthrough_recorder import Recorder, Step

#: The fixed names of the story.
STREAM = "town-hall"
HOST = "alice"
VIEWER = "bob"
WRONG_PASSCODE = "not-the-passcode"


def play(rec: Recorder) -> None:
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
