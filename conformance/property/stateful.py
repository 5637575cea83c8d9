"""PROP-1: a Hypothesis state machine of live streams, run against the backend under test.

The rules are the protocol's moves by a few users (:data:`USERS` per example): create a
stream (or re-create one under a name already used), join as viewer or speaker, report the
player, raise and lower hands, invite, remove a speaker, delete the stream or let Twilio end
it, connect to or leave the room, start the player, drop the Sync connection, and retry the
last request. Before each request :class:`~.model.ProtocolModel` predicts the answer; after
each step the invariant compares the model with what the fake Twilio shows (Sync maps and
documents, room participants, media, conversation participants) and checks the
cross-cutting rules, within the consistency bound.

Clients behave as the sample apps do in one respect the protocol relies on: a speaker (a user
in ``speakers``: connected to the room, or the host) does not report a player
(viewer-connected-to-player). Every other move may come from anyone at any time.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from hypothesis.control import current_build_context
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    get_state_machine_test,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from ..context import CheckContext
from ..outcomes import CheckFailed
from ..transport import Exchange
from ..twilio_view import TwilioRefused, TwilioView
from . import observe
from .budget import Budget, OutOfTime
from .model import ProtocolModel, StreamInstance
from .script import Script, SequenceFailed

__all__ = ["USERS", "run_stateful"]

#: Users per example: enough for a host, an audience and a speaker, few enough to collide.
USERS = 2
#: Seconds after which a viewer token's PlaybackGrant is no longer used (Twilio: 15 s).
_GRANT_AGE = 10.0
#: Stream names per example (each may be re-created after it ended).
_NAMES = 1
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


class _LiveStreamMachine(RuleBasedStateMachine):
    ctx: CheckContext
    view: TwilioView
    budget: Budget
    last_script: Script
    shortest: tuple[CheckFailed, Script] | None

    users = Bundle("users")
    streams = Bundle("streams")

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
        self.names: list[str] = []
        self.everyone = [self.ctx.identity("user") for _ in range(USERS)]

    # -- setup ------------------------------------------------------------------------------
    @initialize(target=users)
    def people(self) -> Any:
        return multiple(*self.everyone)

    # -- streams ------------------------------------------------------------------------------
    @initialize(target=streams)
    def first_stream(self) -> str:
        """Every example starts with a live stream hosted by its first user."""
        return self._create(self.everyone[0])

    @precondition(lambda self: len(self.names) < _NAMES)
    @rule(target=streams, host=users)
    def create_stream(self, host: str) -> str:
        return self._create(host)

    def _create(self, host: str) -> str:
        name = self.ctx.unique_name("stream")
        self.names.append(name)
        self._call("create-stream", {"user_identity": host, "stream_name": name})
        return name

    def _ended_names(self) -> list[str]:
        return [name for name in self.names if self.model.live(name) is None]

    @precondition(lambda self: self._ended_names())
    @rule(target=streams, host=users, data=st.data())
    def create_stream_again(self, host: str, data: st.DataObject) -> str:
        """A new stream under the name of one that ended (a live name is ERR-3's business,
        and retrying a create-stream covers it)."""
        name = data.draw(st.sampled_from(self._ended_names()), label="name")
        self._call("create-stream", {"user_identity": host, "stream_name": name})
        return name

    @rule(name=consumes(streams), by_twilio=st.booleans())
    def end_stream(self, name: str, by_twilio: bool) -> None:
        """delete-stream (when the backend has it), or Twilio ends the room by itself. The
        name leaves the bundle: moves target live streams (retries and invitations by room
        SID still reach ended ones), and it may be created again."""
        if self.ctx.has("delete-stream") and not by_twilio:
            self._call("delete-stream", {"stream_name": name})
            return
        instance = self.model.live(name)
        if instance is None:
            return
        self._twilio(f"Twilio ends the room of {instance.label}", self.view.complete_room,
                     instance.room_sid)  # fmt: skip
        self.model.ended(instance)
        self.just_ended.append(instance)

    # -- audience -----------------------------------------------------------------------------
    @rule(name=streams, user=users)
    def join_as_viewer(self, name: str, user: str) -> None:
        self._call("join-stream-as-viewer", {"user_identity": user, "stream_name": name})

    @rule(name=streams, user=users)
    def join_as_speaker(self, name: str, user: str) -> None:
        self._call("join-stream-as-speaker", {"user_identity": user, "stream_name": name})

    @rule(name=streams, user=users)
    def report_player(self, name: str, user: str) -> None:
        instance = self.model.live(name)
        if instance is not None and (user in instance.in_room or user in instance.speakers):
            return  # a speaker (in the room, or the host) has no player to report
        self._call("viewer-connected-to-player", {"user_identity": user, "stream_name": name})

    @rule(name=streams, user=users, raised=st.booleans())
    def raise_hand(self, name: str, user: str, raised: bool) -> None:
        params = {"user_identity": user, "stream_name": name, "hand_raised": raised}
        self._call("raise-hand", params)

    @rule(name=streams, user=users)
    def invite(self, name: str, user: str) -> None:
        instance = self.model.latest(name)
        if instance is not None:
            self._call(
                "send-speaker-invite", {"user_identity": user, "room_sid": instance.room_sid}
            )

    @rule(name=streams, user=users, by_sid=st.booleans())
    def remove_speaker(self, name: str, user: str, by_sid: bool) -> None:
        instance = self.model.latest(name)
        room = instance.room_sid if by_sid and instance is not None else name
        self._call("remove-speaker", {"user_identity": user, "room_name": room})

    @precondition(lambda self: self.last_call is not None)
    @rule()
    def retry_last_request(self) -> None:
        assert self.last_call is not None
        endpoint, params = self.last_call
        self._call(endpoint, params)

    # -- clients at Twilio (drawn among the moves that are possible now) ----------------------
    def _may_connect(self) -> list[tuple[StreamInstance, str]]:
        return [
            (i, user)
            for i in self.model.live_instances()
            for user in sorted(i.speaker_tokens)
            if user not in i.in_room
        ]

    def _may_leave(self) -> list[tuple[StreamInstance, str]]:
        return [(i, user) for i in self.model.live_instances() for user in sorted(i.in_room)]

    def _may_play(self) -> list[tuple[StreamInstance, str]]:
        return [(i, user) for i in self.model.live_instances() for user in sorted(i.viewer_tokens)]

    def _may_drop_sync(self) -> list[tuple[StreamInstance, str]]:
        return [
            (i, user)
            for i in self.model.live_instances()
            if i.sync_service_sid
            for user in sorted(set(i.speaker_tokens) | set(i.viewer_tokens))
        ]

    @precondition(lambda self: self._may_connect())
    @rule(data=st.data())
    def connect_to_room(self, data: st.DataObject) -> None:
        instance, user = data.draw(st.sampled_from(self._may_connect()), label="who")
        token = instance.speaker_tokens[user]
        self._twilio(f"{user!r}'s Video client connects to {instance.label} with its token",
                     self.view.connect_to_room, token, instance.room_sid)  # fmt: skip
        self.model.connected(instance, user)

    @precondition(lambda self: self._may_leave())
    @rule(data=st.data())
    def leave_room(self, data: st.DataObject) -> None:
        instance, user = data.draw(st.sampled_from(self._may_leave()), label="who")
        self._twilio(f"{user!r}'s Video client leaves {instance.label}",
                     self.view.disconnect_from_room, instance.room_sid, user)  # fmt: skip
        self.model.disconnected(instance, user)

    @precondition(lambda self: self._may_play())
    @rule(data=st.data())
    def start_player(self, data: st.DataObject) -> None:
        instance, user = data.draw(st.sampled_from(self._may_play()), label="who")
        token, issued = instance.viewer_tokens[user]
        if time.monotonic() - issued > _GRANT_AGE:
            return  # its short-lived PlaybackGrant may have expired: a client joins again
        self._twilio(f"{user!r}'s player starts {instance.label} with its viewer token",
                     self.view.connect_to_player, token)  # fmt: skip

    @precondition(lambda self: self._may_drop_sync())
    @rule(data=st.data())
    def drop_sync(self, data: st.DataObject) -> None:
        """The user's Sync client goes away; Twilio reports endpoint_disconnected.

        With reachability debouncing (the fake's clock would have to move past the window,
        ageing every token of the run), the suite delivers the debounced event itself,
        signed as Twilio signs it, and the client comes back afterwards, which cancels the
        fake's own pending delivery.
        """
        instance, user = data.draw(st.sampled_from(self._may_drop_sync()), label="who")
        token = instance.speaker_tokens.get(user) or instance.viewer_tokens[user][0]
        service = instance.sync_service_sid
        assert service is not None
        self._twilio(f"{user!r}'s Sync client connects to {instance.label}",
                     self.view.connect_to_sync, token, service)  # fmt: skip
        self._twilio(f"{user!r}'s Sync client goes away",
                     self.view.disconnect_from_sync, service, user)  # fmt: skip
        settings = self.view.sync_service(service) or {}
        if settings.get("reachability_debouncing_enabled"):
            self._deliver_endpoint_disconnected(settings, user)
            with contextlib.suppress(TwilioRefused):
                self.view.connect_to_sync(token, service)
        self.model.sync_dropped(instance, user)

    def _deliver_endpoint_disconnected(self, service: dict[str, Any], user: str) -> None:
        url = service.get("webhook_url")
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            self.ctx.backend.webhook_urls.setdefault("sync-webhook", url)
        form = {
            "AccountSid": self.view.credentials.account_sid,
            "ServiceSid": service["sid"],
            "EventType": "endpoint_disconnected",
            "Identity": user,
            "EndpointId": f"{user}-property",
        }
        exchange = self.ctx.webhook("sync-webhook", form)
        self.script.request(exchange)
        with self._step():
            if not exchange.ok:
                self.ctx.fail(
                    f"the signed endpoint_disconnected delivery answered {exchange.status}",
                    exchange=exchange,
                )
        self._settle()

    # Moves that make the protocol's interesting histories are drawn twice as often.
    raise_hand_ = raise_hand
    invite_ = invite
    connect_to_room_ = connect_to_room
    join_as_viewer_ = join_as_viewer

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
        self._settle()
        return exchange

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
