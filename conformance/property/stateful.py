"""PROP-1: a Hypothesis state machine of live streams, run against the backend under test.

Each step is one move (:mod:`.moves`, drawn with explicit weights) by one of a few users
(:data:`USERS` per example) on one stream name: create the stream (or re-create it after it
ended), join as viewer or speaker, report the player, raise and lower hands, invite, remove a
speaker, delete the stream or let Twilio end it, connect to or leave the room, start the
player, drop the Sync connection, and retry the last request. Before each request
:class:`~.model.ProtocolModel` predicts the answer; after each step the invariant compares
the model with what the fake Twilio shows (Sync maps and documents, room participants,
media, conversation participants) and checks the cross-cutting rules, within the
consistency bound. The moves of the clients at Twilio (room, player, Sync) are in
:mod:`.client_moves`; the requests to the backend are here.

Clients behave as the sample apps do in one respect the protocol relies on: a speaker (a user
in ``speakers``: connected to the room, or the host) does not report a player
(viewer-connected-to-player). Every other move may come from anyone at any time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from hypothesis.control import current_build_context
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    initialize,
    invariant,
    rule,
)

from ..context import CheckContext
from ..outcomes import CheckFailed
from ..transport import Exchange
from ..twilio_view import TwilioRefused, TwilioView
from . import observe
from .budget import Budget, OutOfTime
from .client_moves import ClientMoves, token_holders
from .model import ProtocolModel, StreamInstance
from .moves import Move, moves, pick
from .script import Script, SequenceFailed

__all__ = ["USERS", "run_stateful"]

#: Users per example: a host and two others, few enough for moves to meet on the same user.
USERS = 3
#: Seconds to wait for webhook effects while shrinking a failure.
_SHRINK_WAIT = 0.05


def run_stateful(ctx: CheckContext, budget: Budget) -> None:
    """Run the state machine within ``budget``; raise :class:`SequenceFailed` on a failure."""
    view = ctx.require_twilio()
    machine = _machine_class(ctx, view, budget)
    test = get_state_machine_test(machine, settings=budget.settings())
    try:
        try:
            budget.run(test)
        except Exception as exc:
            if not _stopped_by_the_deadline(exc):
                raise
            raise OutOfTime(budget.describe()) from None
    except OutOfTime:
        if machine.shortest is not None:
            failure, script = machine.shortest
            raise _sequence_failure(failure, script, budget, cut=True) from None
    except CheckFailed as failure:
        raise _sequence_failure(failure, machine.last_script, budget) from None
    except BaseExceptionGroup as group:  # Hypothesis' Flaky: the failure did not replay
        failure = _first_failure(group)
        if failure is None:
            raise
        raise _sequence_failure(failure, machine.last_script, budget, flaky=True) from None
    finally:
        ctx.exchanges.clear()
    ctx.note(f"stateful model: {budget.describe()}")


def _sequence_failure(
    failure: CheckFailed,
    script: Script,
    budget: Budget,
    *,
    flaky: bool = False,
    cut: bool = False,
) -> SequenceFailed:
    replay = "it did not fail again when replayed; " if flaky else ""
    replay += "shrinking stopped at the deadline; " if cut else ""
    header = (
        f"Shortest failing sequence found ({replay}{budget.describe()}; replay it with "
        f"--seed and --select PROP-1, or with the curl lines below):"
    )
    return SequenceFailed(failure, script, header=header)


def _stopped_by_the_deadline(exc: BaseException) -> bool:
    """Whether ``exc`` (Hypothesis' complaint about a run that stopped short) comes from
    :class:`OutOfTime`."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OutOfTime):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _first_failure(group: BaseExceptionGroup) -> CheckFailed | None:
    for exc in group.exceptions:
        if isinstance(exc, CheckFailed):
            return exc
        if isinstance(exc, BaseExceptionGroup):
            found = _first_failure(exc)
            if found is not None:
                return found
    return None


def _machine_class(ctx: CheckContext, view: TwilioView, budget: Budget) -> Any:
    """The machine class bound to this check's context (one class per property run)."""
    return type("LiveStreamMachine", (_LiveStreamMachine,), {"ctx": ctx, "view": view,
                                                             "budget": budget,
                                                             "last_script": Script(),
                                                             "shortest": None})  # fmt: skip


class _LiveStreamMachine(ClientMoves, RuleBasedStateMachine):
    """One example: :data:`USERS` users and one stream name, the first user hosting it.

    Every step is one :class:`~.moves.Move` (see :mod:`.moves`), resolved against the model
    by :meth:`step`; a move that is impossible in the current state (leaving a room nobody
    is in) does nothing and is shrunk away.
    """

    ctx: CheckContext
    view: TwilioView
    budget: Budget
    last_script: Script
    shortest: tuple[CheckFailed, Script] | None

    def __init__(self) -> None:
        super().__init__()
        self.model = ProtocolModel()
        self.script = Script()
        type(self).last_script = self.script
        self.last_call: tuple[str, dict[str, Any]] | None = None
        self.just_ended: list[StreamInstance] = []
        self.joined: StreamInstance | None = None
        self.ctx.exchanges.clear()
        self.budget.check_time()
        self.budget.examples_run += 1
        self.everyone = [self.ctx.identity("user") for _ in range(USERS)]
        self.name = self.ctx.unique_name("stream")

    @initialize()
    def first_stream(self) -> None:
        """Every example starts with a live stream hosted by its first user."""
        self._create_stream(self.everyone[0])

    @rule(move=moves(USERS))
    def step(self, move: Move) -> None:
        getattr(self, "_" + move.kind.replace("-", "_"))(move)

    # -- the stream ---------------------------------------------------------------------------
    def _create_stream(self, host: str) -> None:
        self._call("create-stream", {"user_identity": host, "stream_name": self.name})

    def _live(self) -> StreamInstance | None:
        return self.model.live(self.name)

    def _latest(self) -> StreamInstance | None:
        return self.model.latest(self.name)

    def _create(self, move: Move) -> None:
        """create-stream under the example's name: again after it ended, or while it is
        live (ERR-3: 'Room exists')."""
        self._create_stream(self.everyone[move.who % USERS])

    def _end(self, move: Move) -> None:
        """delete-stream (when the backend has it), or Twilio ends the room by itself."""
        instance = self._live()
        if instance is None:
            return
        if self.ctx.has("delete-stream") and not move.flag:
            self._call("delete-stream", {"stream_name": self.name})
            return
        self._twilio(f"Twilio ends the room of {instance.label}", self.view.complete_room,
                     instance.room_sid)  # fmt: skip
        self.model.ended(instance)
        self.just_ended.append(instance)

    def _restart(self, move: Move) -> None:
        """The stream ends and a new one is created under its name, where state of the old
        one must not leak (its users, hands and invitations)."""
        self._end(move)
        self._create_stream(self.everyone[move.who % USERS])

    def _pick(self, move: Move, *groups: Any) -> str | None:
        return pick(move.who, *groups, users=USERS)

    # -- the audience ---------------------------------------------------------------------------
    def _audience(self) -> tuple[list[str], list[str]]:
        """Users other than the host of the latest stream, and the host."""
        instance = self._latest()
        host = instance.host if instance is not None else self.everyone[0]
        return [user for user in self.everyone if user != host], [host]

    def _rejoiners(self) -> tuple[list[str], list[str]]:
        """Users invited (to the latest stream, then to an earlier one of the name), and
        users who knew an earlier stream of the name: joining again is where invitations
        get lost or leak."""
        latest = self._latest()
        earlier = [i for i in self.model.instances if i is not latest]
        invited = sorted(
            u for u in (latest.documents if latest else {}) if latest.may_be_invited(u)
        )
        invited += sorted(u for i in earlier for u in i.documents if i.may_be_invited(u))
        return invited, sorted(u for i in earlier for u in i.documents)

    def _join(self, move: Move, endpoint: str) -> None:
        user = self._pick(move, *self._rejoiners(), *self._audience())
        self._call(endpoint, {"user_identity": user, "stream_name": self.name})

    def _join_viewer(self, move: Move) -> None:
        self._join(move, "join-stream-as-viewer")

    def _join_speaker(self, move: Move) -> None:
        self._join(move, "join-stream-as-speaker")

    def _report_player(self, move: Move) -> None:
        """viewer-connected-to-player by a viewer first; never by a speaker (in the room,
        or the host), which has no player to report."""
        instance = self._live()
        speaking = set(instance.in_room) | set(instance.speakers) if instance else set()
        viewers = sorted(instance.viewer_tokens) if instance else []
        user = self._pick(
            move,
            [
                u
                for u in [*viewers, *self._audience()[0], *self._audience()[1]]
                if u not in speaking
            ],
        )
        if user is not None:
            self._call("viewer-connected-to-player", {"user_identity": user,
                                                      "stream_name": self.name})  # fmt: skip

    def _raise_hand(self, move: Move) -> None:
        """raise-hand by a user holding a token of the stream who is not in the room first."""
        self._hand(move, True)

    def _lower_hand(self, move: Move) -> None:
        """raise-hand with hand_raised false, by a raised hand first."""
        instance = self._live()
        self._hand(move, False, sorted(instance.raised_hands) if instance else [])

    def _hand(self, move: Move, raised: bool, *preferred: list[str]) -> None:
        instance = self._live()
        holders = token_holders(instance) - set(instance.in_room) if instance else set()
        user = self._pick(move, *preferred, sorted(holders), *self._audience())
        params = {"user_identity": user, "stream_name": self.name, "hand_raised": raised}
        self._call("raise-hand", params)

    def _invite(self, move: Move) -> None:
        """send-speaker-invite by room SID (of the latest stream, live or ended): a raised
        hand who joined first, then anyone who joined and is not invited yet, then anyone
        invited already (every invitation must write a new revision, FLOW-14)."""
        instance = self._latest()
        if instance is None:
            return
        waiting = sorted(u for u, allowed in instance.documents.items() if False in allowed)
        hands = [u for u in waiting if u in instance.raised_hands]
        user = self._pick(move, hands, waiting, sorted(instance.documents), *self._audience())
        self._call("send-speaker-invite", {"user_identity": user, "room_sid": instance.room_sid})

    def _remove(self, move: Move) -> None:
        """remove-speaker (``flag``: by room SID) of a user in the room first."""
        instance = self._latest()
        in_room = sorted(instance.in_room) if instance else []
        user = self._pick(move, in_room, *self._audience())
        room = instance.room_sid if move.flag and instance is not None else self.name
        self._call("remove-speaker", {"user_identity": user, "room_name": room})

    def _retry(self, move: Move) -> None:
        if self.last_call is not None:
            endpoint, params = self.last_call
            self._call(endpoint, params)

    # -- invariants ----------------------------------------------------------------------------
    @invariant()
    def twilio_state_matches_the_model(self) -> None:
        if not self.model.instances:
            return
        self.budget.steps_run += 1
        for instance in self.just_ended:
            self._agree(lambda i=instance: observe.ended_differences(self.view, i),
                        f"{instance.label} released after room-ended")  # fmt: skip
        self.just_ended.clear()
        for instance in self.model.live_instances():
            self._agree(lambda i=instance: observe.live_differences(self.view, i),
                        f"the Twilio state of {instance.label} matches the model",
                        instance)  # fmt: skip
            if self.ctx.has("chat") and instance is self.joined:
                self._agree(lambda i=instance: observe.conversation_differences(self.view, i),
                            f"the conversation of {instance.label} has its users")  # fmt: skip
        self.joined = None

    def teardown(self) -> None:
        """End every stream of the example (not part of the evidence)."""
        for instance in self.model.live_instances():
            with contextlib.suppress(Exception):
                answer = None
                if self.ctx.has("delete-stream"):
                    answer = self.ctx.unrecorded_backend.call(
                        "delete-stream", {"stream_name": instance.name}
                    )
                if answer is None or answer.status != 200:
                    self.view.complete_room(instance.room_sid)
        with contextlib.suppress(Exception):
            self.view.flush_webhooks()

    # -- plumbing -------------------------------------------------------------------------------
    def _call(self, endpoint: str, params: dict[str, Any]) -> Exchange:
        """Send one request, judge its answer against the model's prediction, follow it."""
        expected = self.model.expect(endpoint, params)
        revision = self._invitee_revision(endpoint, params) if expected.ok else None
        exchange = self.ctx.call(endpoint, params)
        self.script.request(exchange)
        self.last_call = (endpoint, params)
        with self._step():
            if not expected.ok:
                self.ctx.expect_error(
                    exchange, message=expected.message, explanation=expected.explanation
                )
                return exchange
            body = self.ctx.expect_success(exchange, endpoint)
            grants: dict[str, Any] = {}
            if isinstance(body.get("token"), str):
                grants = self.ctx.decode_token(body["token"], verify=False)[1].get("grants") or {}
            live = self.model.live(params.get("stream_name", ""))
            if live is not None and "room_sid" in body and body["room_sid"] != live.room_sid:
                self.ctx.fail(
                    f"{endpoint} answered room_sid {body['room_sid']}, but the live stream "
                    f"{live.name!r} is room {live.room_sid}",
                    exchange=exchange,
                )
            instance = self.model.apply(endpoint, params, body, grants)
            if "token" in body:
                self.joined = instance
            if endpoint == "create-stream" and instance is not None:
                self._agree(
                    lambda: observe.media_differences(self.view, instance),
                    f"{instance.label} is composed to a started PlayerStreamer",
                )
            if endpoint == "delete-stream" and instance is not None:
                self.just_ended.append(instance)
        if revision is not None and instance is not None:
            identity = params["user_identity"]
            self._agree(
                lambda: self._same_revision(instance, identity, revision),
                f"send-speaker-invite wrote a new revision of user-{identity} (FLOW-14)",
            )
        self._settle()
        return exchange

    def _invitee_revision(self, endpoint: str, params: dict[str, Any]) -> str | None:
        """Before an invitation the model expects to succeed: the invitee's document
        revision (None for other requests)."""
        if endpoint != "send-speaker-invite":
            return None
        instance = self.model.live(params["room_sid"])
        if instance is None or not instance.sync_service_sid:
            return None
        return observe.document_revision(
            self.view, instance.sync_service_sid, params["user_identity"]
        )

    def _same_revision(self, instance: StreamInstance, identity: str, before: str) -> list[str]:
        """FLOW-14: the invitation moved the document's revision (else one difference)."""
        now = observe.document_revision(self.view, instance.sync_service_sid or "", identity)
        if now is not None and now != before:
            return []
        return [f"no new revision of user-{identity} after send-speaker-invite (still {now!r})"]

    def _twilio(self, text: str, action: Callable[..., Any], *args: Any) -> Any:
        self.script.twilio(text)
        self.last_call = None
        result = None
        with self._step():
            try:
                result = action(*args)
            except TwilioRefused as exc:
                self.ctx.fail(f"Twilio refused: {text}: error {exc.code} ({exc.message})")
        self._settle()
        return result

    @contextlib.contextmanager
    def _step(self) -> Any:
        """Name the failing step in the failure's summary, and keep the deadline from
        cutting the shrinking of a failure short."""
        try:
            yield
        except CheckFailed as failure:
            self.budget.failing = True
            failure.summary = f"step {len(self.script)}: {failure.summary}"
            failure.args = (failure.summary,)
            best = type(self).shortest
            if best is None or len(self.script) < len(best[1]):
                type(self).shortest = (failure, self.script)
            raise

    def _agree(
        self,
        differences: Callable[[], list[str]],
        description: str,
        instance: StreamInstance | None = None,
    ) -> None:
        """Wait (within the consistency bound) until ``differences()`` is empty, else fail
        with the differences last seen."""
        found = differences()
        if not found:
            return
        with self._step():
            try:
                self.ctx.eventually(
                    differences, lambda lines: not lines, description=description,
                    timeout=self._wait(),
                )  # fmt: skip
            except CheckFailed as failure:
                last = failure.actual if isinstance(failure.actual, list) else found
                shown = "; ".join(last[:3]) + (f" (+{len(last) - 3} more)" if len(last) > 3 else "")
                expected = instance.expected_state() if instance is not None else None
                self.ctx.fail(
                    f"after step {len(self.script)}, not so: {description}: {shown}",
                    expected=expected,
                    actual=last,
                )

    def _wait(self) -> float:
        """The consistency bound; only a short wait while a failure is being shrunk (the
        final replay of the shortest sequence waits the whole bound again)."""
        bound = self.ctx.config.consistency_timeout
        if self.budget.failing and not current_build_context().is_final:
            return min(bound, _SHRINK_WAIT)
        return bound

    def _settle(self) -> None:
        self.view.flush_webhooks(self.ctx.config.consistency_timeout)
