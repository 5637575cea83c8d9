"""The conformance engine with toy checks: registry, runner, outcomes, selection, capability
gating, baseline, exit codes, cleanups, context helpers and scenario moves.

Most tests run against the embedded pair (reference backend + fake, in-process); the harness
failures (unreachable backend, refused passcode) use a small Flask backend on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from conformance import embedded as embedded_module
from conformance import runner
from conformance.config import SuiteConfig, split_selection
from conformance.context import NEEDS_EXPIRED, NEEDS_TWILIO
from conformance.outcomes import CheckFailed, CheckSkipped
from conformance.registry import REGISTRY, RegistrationError, Registry
from conformance.requirements import all_requirements, get
from conformance.transport import BackendClient

# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emb() -> Iterator[embedded_module.EmbeddedRun]:
    run = embedded_module.start()
    yield run
    run.close()


def run_toy(emb: Any, registry: Registry, **config: Any) -> runner.RunReport:
    return runner.run(SuiteConfig(**config), registry=registry, embedded=emb)


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def toy_backend(passcode: str = "s3cret-passcode") -> Flask:
    """A minimal backend: verify-passcode only, plus the probes' 400 for join-stream-as-viewer."""
    app = Flask("toy")

    @app.post("/verify-passcode")
    def verify() -> Any:
        if request.headers.get("Authorization") != passcode:
            body = {"error": {"message": "passcode incorrect", "explanation": "no"}}
            return jsonify(body), 401
        return jsonify(verified=True)

    @app.post("/join-stream-as-viewer")
    def join() -> Any:
        if request.mimetype != "application/json":
            body = {"error": {"message": "invalid request body", "explanation": "json only"}}
            return jsonify(body), 400
        body = {"error": {"message": "missing stream_name", "explanation": "x"}}
        return jsonify(body), 400

    return app


# -- requirements and registry -------------------------------------------------------------------


def test_requirements_load_in_document_order() -> None:
    ids = [r.id for r in all_requirements()]
    assert len(ids) == 76 and ids[0] == "AUTH-1" and ids[-1] == "PROP-2"
    assert get("auth-1").level == "MUST" and get("IN-9").capability == "form-body"
    with pytest.raises(KeyError):
        get("NOPE-1")


def test_registry_rejects_duplicates_and_unknown_ids() -> None:
    reg = Registry()

    @reg.check("AUTH-1")
    def first(ctx: Any) -> None:
        """Doc line."""

    with pytest.raises(RegistrationError, match="already has a check"):
        reg.check("AUTH-1")(lambda ctx: None)
    with pytest.raises(RegistrationError, match="not a requirement ID"):
        reg.check("NOPE-1")(lambda ctx: None)
    with pytest.raises(RegistrationError, match="write requirement IDs"):
        reg.check("auth-2")(lambda ctx: None)
    assert list(reg.registered()) == ["AUTH-1"]
    assert reg.get("AUTH-1").name.endswith(
        ":test_registry_rejects_duplicates_and_unknown_ids.<locals>.first"
    )
    assert reg.get("AUTH-1").doc == "Doc line."
    assert len(reg.missing()) == len(all_requirements()) - 1
    assert reg is not REGISTRY


def test_registry_orders_by_requirement_then_order_flag() -> None:
    reg = Registry()
    reg.add("SEC-2", lambda ctx: None, order=1)
    reg.add("WH-1", lambda ctx: None)
    reg.add("AUTH-2", lambda ctx: None)
    assert list(reg.registered()) == ["AUTH-2", "WH-1", "SEC-2"]


def test_selection_splits_ids_and_groups() -> None:
    assert split_selection(["auth-1", "TOK", "flow-3,WH"]) == ({"AUTH-1", "FLOW-3"}, {"TOK", "WH"})
    config = SuiteConfig(select_ids={"AUTH-1"}, select_groups={"TOK"}, select_levels={"MUST"})
    chosen = [r.id for r in runner.select(config, all_requirements())]
    assert chosen[0] == "AUTH-1" and all(i == "AUTH-1" or i.startswith("TOK-") for i in chosen)
    assert "TOK-1" in chosen


def test_config_problems_are_one_line_each() -> None:
    config = SuiteConfig(
        backend_url="ftp://x",
        capabilities={"teleport"},
        select_ids={"NOPE-9"},
        consistency_timeout=0,
    )
    problems = config.problems()
    assert any("backend-url" in p for p in problems)
    assert any("passcode: required" in p for p in problems)
    assert any("unknown capability 'teleport'" in p for p in problems)
    assert any("NOPE-9" in p for p in problems)
    assert all("\n" not in p for p in problems)
    assert SuiteConfig().problems() == []


# -- statuses and exit codes ---------------------------------------------------------------------


def test_pass_fail_skip_error_and_exit_code_one(emb: Any) -> None:
    reg = Registry()

    @reg.check("AUTH-2")
    def passes(ctx: Any) -> None:
        body = ctx.expect_success(ctx.call("verify-passcode"))
        ctx.expect(body == {"verified": True}, "not verified")

    @reg.check("AUTH-1")
    def fails(ctx: Any) -> None:
        exchange = ctx.call("verify-passcode", passcode=None)
        ctx.expect_error(exchange, status=401, message="something else")

    @reg.check("AUTH-4")
    def skips(ctx: Any) -> None:
        ctx.skip("not today")

    @reg.check("IN-1")
    def breaks(ctx: Any) -> None:
        raise ZeroDivisionError("boom")

    seen: list[str] = []
    report = runner.run(
        SuiteConfig(), registry=reg, embedded=emb, on_result=lambda r: seen.append(r.id)
    )
    statuses = {r.id: r.status for r in report.results}
    assert statuses == {"AUTH-1": "fail", "AUTH-2": "pass", "AUTH-4": "skip", "IN-1": "error"}
    assert seen == ["AUTH-1", "AUTH-2", "AUTH-4", "IN-1"]
    assert report.exit_code == 1 and "AUTH-1" in report.reason
    failed = report.result("AUTH-1")
    assert failed.summary == (
        "POST /verify-passcode answered message 'passcode incorrect', expected 'something else'"
    )
    assert failed.expected == "something else" and "actual: passcode incorrect" in failed.detail
    assert failed.exchange is failed.exchanges[-1] and failed.exchange.status == 401
    assert failed.repro and failed.repro[-1].startswith("curl -sS -i -X POST")
    assert report.result("AUTH-4").summary == "not today"
    broken = report.result("IN-1")
    assert "ZeroDivisionError: boom" in broken.summary and "Traceback" in broken.detail
    assert all(r.duration_s >= 0 for r in report.results)
    assert report.counts() == {"pass": 1, "fail": 1, "blocked": 0, "skip": 1, "error": 1}


def test_should_failures_are_warnings_and_must_errors_exit_two(emb: Any) -> None:
    reg = Registry()
    reg.add("SEC-3", lambda ctx: ctx.fail("no Cache-Control"))  # SHOULD
    reg.add("FLOW-13", lambda ctx: ctx.fail("conversation left open"))  # MAY (chat)
    reg.add("AUTH-2", lambda ctx: None)
    report = run_toy(emb, reg)
    assert report.exit_code == 0
    assert [r.id for r in report.warnings] == ["FLOW-13", "SEC-3"]
    assert "2 warning(s)" in report.reason

    reg.add("AUTH-5", lambda ctx: {}["missing"])
    report = run_toy(emb, reg)
    assert report.exit_code == 2 and report.reason.startswith("1 MUST check(s) could not run")


def test_selection_by_id_group_and_level(emb: Any) -> None:
    reg = Registry()
    for requirement_id in ("AUTH-1", "AUTH-2", "SEC-3", "WH-1"):
        reg.add(requirement_id, lambda ctx: None)
    assert [r.id for r in run_toy(emb, reg, select_ids={"WH-1"}).results] == ["WH-1"]
    assert [r.id for r in run_toy(emb, reg, select_groups={"AUTH"}).results] == ["AUTH-1", "AUTH-2"]
    report = run_toy(emb, reg, select_levels={"SHOULD"})
    assert [r.id for r in report.results] == ["SEC-3"]
    should = [r.id for r in all_requirements() if r.level == "SHOULD"]
    assert report.uncovered == [rid for rid in should if rid != "SEC-3"]


def test_capability_twilio_and_expiry_gating() -> None:
    reg = Registry()
    reg.add("IN-9", lambda ctx: None)  # form-body
    reg.add("FLOW-1", lambda ctx: None, needs_twilio=True)
    reg.add("AUTH-3", lambda ctx: None, needs_expired=True)
    backend = BackendClient("http://unused.invalid", passcode="x")
    config = SuiteConfig()
    results = {
        check.id: runner.execute(check, config=config, backend=backend, capabilities=set())
        for check in reg
    }
    assert results["IN-9"].status == "skip"
    assert results["IN-9"].summary.startswith("capability form-body not declared/detected")
    assert results["FLOW-1"].summary == NEEDS_TWILIO
    assert results["AUTH-3"].summary == NEEDS_EXPIRED
    assert all(r.exchanges == [] for r in results.values())


def test_embedded_run_without_chat_skips_chat_requirements() -> None:
    run = embedded_module.start(chat_enabled=False)
    try:
        reg = Registry()
        reg.add("TOK-7", lambda ctx: None)
        reg.add("TOK-6", lambda ctx: ctx.expect(not ctx.has("chat"), "chat?"))
        report = run_toy(run, reg)
    finally:
        run.close()
    assert report.result("TOK-7").status == "skip"
    assert report.result("TOK-6").status == "pass"
    assert report.capabilities.details["chat"]["present"] is False


# -- baseline ------------------------------------------------------------------------------------


def test_baseline_turns_known_failures_green_and_reports_fixed_ones(
    emb: Any, tmp_path: Any
) -> None:
    reg = Registry()
    reg.add("AUTH-1", lambda ctx: ctx.fail("known bug"))
    reg.add("AUTH-2", lambda ctx: None)
    baseline = tmp_path / "baseline.txt"
    baseline.write_text("# known failures\nAUTH-1  tracked in #12\nAUTH-2\n")
    report = run_toy(emb, reg, baseline_path=str(baseline))
    assert report.exit_code == 0
    assert report.result("AUTH-1").label == "fail (baseline)"
    assert report.baseline_fixed == ["AUTH-2"]
    assert report.baseline.reasons["AUTH-1"] == "tracked in #12"

    as_json = tmp_path / "baseline.json"
    as_json.write_text(json.dumps({"known_failures": ["AUTH-1"]}))
    assert run_toy(emb, reg, baseline_path=str(as_json)).exit_code == 0
    assert run_toy(emb, reg).exit_code == 1

    as_json.write_text(json.dumps(["AUTH-1", "NOPE-3"]))
    report = run_toy(emb, reg, baseline_path=str(as_json))
    assert report.exit_code == 2 and "unknown requirements: NOPE-3" in report.reason


# -- cleanups ------------------------------------------------------------------------------------


def test_cleanup_errors_turn_a_pass_into_an_error_but_keep_a_failure(emb: Any) -> None:
    reg = Registry()
    order: list[str] = []

    def passes(ctx: Any) -> None:
        ctx.cleanup(lambda: order.append("first"))
        ctx.cleanup(lambda: 1 / 0)
        ctx.cleanup(lambda: order.append("last registered runs first"))

    def fails(ctx: Any) -> None:
        ctx.cleanup(lambda: 1 / 0)
        ctx.fail("the real problem")

    reg.add("AUTH-2", passes)
    reg.add("AUTH-1", fails)
    report = run_toy(emb, reg)
    assert order == ["last registered runs first", "first"]
    passed = report.result("AUTH-2")
    assert passed.status == "error" and "ZeroDivisionError" in passed.summary
    failed = report.result("AUTH-1")
    assert failed.status == "fail" and failed.summary == "the real problem"
    assert "cleanup" in failed.detail and "ZeroDivisionError" in failed.detail


# -- harness failures (exit 2) -------------------------------------------------------------------


def test_bad_configuration_unreachable_backend_and_refused_passcode() -> None:
    reg = Registry()
    reg.add("AUTH-2", lambda ctx: None)
    report = runner.run(SuiteConfig(backend_url="http://127.0.0.1:1"), registry=reg)
    assert report.exit_code == 2 and report.reason.startswith("bad configuration: passcode")

    config = SuiteConfig(backend_url="http://127.0.0.1:1", passcode="x", wait_seconds=0.3)
    started = time.monotonic()
    report = runner.run(config, registry=reg)
    assert report.exit_code == 2 and report.aborted
    assert report.reason.startswith("backend unreachable at http://127.0.0.1:1")
    assert "after waiting 0.3 s" in report.reason and time.monotonic() - started >= 0.3

    with serve(toy_backend()) as url:
        report = runner.run(SuiteConfig(backend_url=url, passcode="wrong"), registry=reg)
        assert report.exit_code == 2
        assert report.reason == "the passcode was refused by the backend (401 passcode incorrect)"
        report = runner.run(
            SuiteConfig(
                backend_url=url, passcode="s3cret-passcode", twilio_url="http://127.0.0.1:1"
            ),
            registry=reg,
        )
        assert (
            report.exit_code == 2
            and "fake Twilio at http://127.0.0.1:1 is unreachable" in report.reason
        )
        report = runner.run(SuiteConfig(backend_url=url, passcode="s3cret-passcode"), registry=reg)
    assert report.exit_code == 0 and report.result("AUTH-2").status == "pass"
    details = report.capabilities.details
    assert details["delete-stream"]["present"] is False
    assert details["form-body"] == {
        "present": False,
        "source": "detected",
        "evidence": "form-encoded POST /join-stream-as-viewer answered 400 invalid request body",
    }
    assert details["chat"]["present"] is False


def test_missing_checks_of_the_default_registry_are_errors(emb: Any, monkeypatch: Any) -> None:
    fresh = Registry()
    fresh.add("AUTH-2", lambda ctx: None)
    monkeypatch.setattr(runner, "REGISTRY", fresh)
    monkeypatch.setattr(runner, "load_default", lambda: fresh)
    report = runner.run(SuiteConfig(select_groups={"AUTH"}), embedded=emb)
    assert report.result("AUTH-2").status == "pass"
    assert report.result("AUTH-1").status == "error"
    assert "no check is registered" in report.result("AUTH-1").summary
    assert report.exit_code == 2

    def broken() -> Registry:
        raise ImportError("cannot import name 'x'")

    monkeypatch.setattr(runner, "load_default", broken)
    report = runner.run(SuiteConfig(), embedded=emb)
    assert report.exit_code == 2 and report.reason.startswith("could not load the checks")


# -- context helpers -----------------------------------------------------------------------------


def _context(emb: Any, requirement_id: str = "FLOW-1", **config: Any) -> Any:
    from conformance.context import CheckContext

    return CheckContext(
        config=SuiteConfig(**config),
        requirement=get(requirement_id),
        backend=emb.backend_client(),
        twilio=emb.twilio,
        capabilities=emb.capabilities,
        expired_backend=emb.expired_client(),
    )


def test_eventually_polls_until_true_and_reports_the_last_observation(emb: Any) -> None:
    ctx = _context(emb, consistency_timeout=0.3)
    values = iter(range(100))
    assert ctx.eventually(lambda: next(values), lambda v: v >= 3, description="counter") == 3

    started = time.monotonic()
    with pytest.raises(CheckFailed) as raised:
        ctx.eventually(lambda: {"viewers": {}}, lambda s: s["viewers"], description="viewer added")
    assert time.monotonic() - started >= 0.3
    assert raised.value.summary == "viewer added: still not so after 0.3 s"
    assert raised.value.actual == {"viewers": {}}

    attempts = iter([CheckFailed("not yet"), CheckFailed("not yet"), "done"])

    def probe() -> str:
        item = next(attempts)
        if isinstance(item, CheckFailed):
            raise item
        return item

    assert ctx.eventually(probe, description="probe") == "done"
    with pytest.raises(CheckFailed, match=r"never: still not so after 0\.1 s: nope"):
        ctx.eventually(lambda: ctx.fail("nope"), description="never", timeout=0.1)


def test_expect_helpers_name_what_was_expected(emb: Any) -> None:
    ctx = _context(emb)
    ok = ctx.call("verify-passcode")
    ctx.expect_status(ok, 200)
    ctx.expect_status(ok, range(200, 300))
    ctx.expect_status(ok, (200, 201))
    assert ctx.expect_success(ok) == {"verified": True}
    with pytest.raises(CheckFailed, match=r"answered 200, expected 4xx"):
        ctx.expect_status(ok, range(400, 500))
    with pytest.raises(CheckFailed, match="expected an error status"):
        ctx.expect_error(ok)
    refused = ctx.call("verify-passcode", passcode="nope")
    error = ctx.expect_error(refused, status=401, message="passcode incorrect")
    assert error["explanation"] == "The passcode used to validate application users is incorrect."
    with pytest.raises(CheckFailed, match="expected exactly 'x'"):
        ctx.expect_error(refused, explanation="x")
    with pytest.raises(
        CheckFailed, match=r"answered 401, expected 200 \(message 'passcode incorrect'\)"
    ):
        ctx.expect_success(refused, "verify-passcode")
    with pytest.raises(CheckFailed, match="does not match protocol/error"):
        ctx.expect_schema("protocol/error", {"error": {"message": "m"}})
    assert [e.status for e in ctx.exchanges] == [200, 401]
    assert ctx.unique_name() != ctx.unique_name()
    assert ctx.identity("host").startswith("lc-host-")
    assert len(ctx.unique_name("stream")) <= 128


def test_decode_token_verifies_when_asked(emb: Any) -> None:
    ctx = _context(emb)
    stream = ctx.new_stream()
    header, claims = ctx.decode_token(stream.host_token)
    assert header["cty"] == "twilio-fpa;v=1" and claims["grants"]["identity"] == stream.host
    ctx.decode_token(stream.host_token, verify=True)  # the fake's API key secret
    wrong = _context(emb, api_key_secret="not-the-secret")
    with pytest.raises(CheckFailed, match="signature does not verify"):
        wrong.decode_token(stream.host_token)
    with pytest.raises(CheckFailed, match="not a decodable JWT"):
        ctx.decode_token("abc.def")
    no_twilio = _context(emb)
    no_twilio.twilio = None
    with pytest.raises(CheckSkipped, match="no API key secret"):
        no_twilio.decode_token(stream.host_token, verify=True)
    assert ctx.run_cleanups() == []


# -- scenario and Twilio view --------------------------------------------------------------------


def test_walkthrough_through_the_scenario_helpers(emb: Any) -> None:
    """Section 10 of the protocol, observed in the fake through the TwilioView."""
    ctx = _context(emb)
    twilio = emb.twilio
    stream = ctx.new_stream()
    host = stream.host
    assert stream.sync_state() == {
        "speakers": {host: {"host": True}},
        "raised_hands": {},
        "viewers": {},
        "documents": {},
    }
    assert twilio.room(stream.name)["sid"] == stream.room_sid
    assert ctx.backend.webhook_urls == {
        "rooms-webhook": f"{emb.public_url}/rooms-webhook",
        "sync-webhook": f"{emb.public_url}/sync-webhook",
    }
    stream.host_connects()
    bob = stream.join_viewer()
    bob.connect_player()
    stream.viewer_connected(bob.identity)
    stream.raise_hand(bob.identity, True)
    stream.invite(bob.identity)
    doc = f"user-{bob.identity}"
    state = stream.sync_state()
    assert state["raised_hands"] == {bob.identity: {}} and state["viewers"] == {bob.identity: {}}
    assert state["documents"] == {doc: {"speaker_invite": True}}
    assert (
        stream.player_streamer_sid
        and twilio.player_streamer(stream.player_streamer_sid)["status"] == "started"
    )
    assert len(twilio.media_processors(stream.room_sid)) == 1
    permissions = twilio.permissions(stream.sync_service_sid, "document", doc)
    assert permissions == {bob.identity: {"read": True, "write": False, "manage": False}}
    speaker = stream.join_speaker(bob.identity)
    mark = twilio.mark()
    speaker.connect_room()
    stream.wait_for_state(lambda s: bob.identity in s["speakers"], "bob becomes a speaker")
    assert twilio.writes_since(mark), "the rooms webhook handler wrote to Sync"
    assert stream.sync_state() == {
        "speakers": {host: {"host": True}, bob.identity: {"host": False}},
        "raised_hands": {},
        "viewers": {},
        "documents": {doc: {"speaker_invite": False}},
    }
    people = [i for i in stream.connected_identities() if not i.startswith("video-composer")]
    assert sorted(people) == sorted([host, bob.identity])
    stream.remove_speaker(bob.identity)
    stream.wait_for_state(lambda s: bob.identity not in s["speakers"], "bob is removed")
    if stream.chat_enabled:
        participants = twilio.conversation_participants(stream.room_sid, stream.chat_service_sid)
        assert sorted(participants) == sorted([host, bob.identity])
    exchange = stream.delete()
    assert exchange is not None and exchange.json == {"deleted": True}
    stream.wait_for_state(lambda s: s is None, "the Sync service is deleted")
    assert twilio.room(stream.name) is None
    assert twilio.room(stream.room_sid)["status"] == "completed"
    assert ctx.run_cleanups() == []


def test_scenario_moves_fail_with_the_exchange(emb: Any) -> None:
    ctx = _context(emb)
    stream = ctx.new_stream()
    with pytest.raises(CheckFailed) as raised:
        stream.invite("never-joined")
    assert raised.value.exchange is not None and raised.value.exchange.status == 404
    viewer = stream.join_viewer()
    with pytest.raises(CheckFailed, match=r"Twilio refused .*token for the room: error 20106"):
        viewer.connect_room()
    with pytest.raises(CheckFailed, match="creat"):
        ctx.new_stream(name=stream.name)
    ctx.run_cleanups()
    assert emb.twilio.room(stream.name) is None


def test_twilio_view_faults_and_refusals(emb: Any) -> None:
    from conformance.twilio_view import TwilioRefused

    twilio = emb.twilio
    ctx = _context(emb)
    ctx.new_stream()  # the deployment's own Sync service exists: the fault hits the stream's
    with twilio.fault(product="sync", method="POST", path_glob="/v1/Services", code=20500, times=1):
        exchange = ctx.call(
            "create-stream",
            {"user_identity": ctx.identity("host"), "stream_name": ctx.unique_name()},
        )
    assert exchange.status >= 500 and exchange.error_message == "error creating stream sync service"
    assert twilio.control.faults() == []
    with pytest.raises(TwilioRefused) as refused:
        twilio.connect_to_room("not-a-token", "RM" + "0" * 32)
    assert refused.value.code == 20101 and refused.value.status == 401
    assert twilio.map_items("IS" + "0" * 32, "speakers") is None


def test_a_reimported_check_replaces_itself() -> None:
    reg = Registry()

    def first_version(ctx: Any) -> None:
        pass

    def second_version(ctx: Any) -> None:
        pass

    second_version.__qualname__ = first_version.__qualname__
    reg.add("AUTH-1", first_version)
    reg.add("AUTH-1", second_version)  # the same module:function, imported anew
    assert reg.get("AUTH-1").func is second_version


@pytest.mark.server
def test_twilio_view_writes_documents_over_http() -> None:
    from conformance.twilio_view import TwilioRefused, TwilioView
    from fake_twilio.server import FakeServer

    with FakeServer() as fake:
        service = fake.client().sync.v1.services.create(friendly_name="view")
        service.documents.create(unique_name="user-a/b", data={"speaker_invite": False})
        view = TwilioView.connect(fake.url)
        try:
            mark = view.mark()
            written = view.write_document(service.sid, "user-a/b", {"speaker_invite": 1, "x": 2})
            assert written == {"speaker_invite": 1, "x": 2}
            assert view.document(service.sid, "user-a/b") == written
            assert [w["method"] for w in view.writes_since(mark)] == ["POST"]
            with pytest.raises(TwilioRefused) as refused:
                view.write_document(service.sid, "user-nobody", {})
            assert (refused.value.code, refused.value.status) == (20404, 404)
        finally:
            view.close()


@pytest.mark.parametrize("name", ["..", ".", "a/b", "?x#y"])
def test_twilio_view_reads_resources_with_awkward_names(name: str) -> None:
    from conformance.twilio_view import TwilioView
    from fake_twilio import create_app
    from fake_twilio.testing import sdk_client

    app = create_app()
    client = sdk_client(app)
    room = client.video.v1.rooms.create(unique_name=name)
    service = client.sync.v1.services.create(friendly_name="view")
    service.documents.create(unique_name=f"user-{name}", data={"n": name})
    view = TwilioView.in_process(app)
    try:
        assert view.room(name)["sid"] == room.sid
        assert view.document(service.sid, f"user-{name}") == {"n": name}
    finally:
        view.close()


def test_maxfail_stops_after_that_many_must_failures() -> None:
    from conformance.config import SuiteConfig
    from conformance.outcomes import NOT_RUN
    from conformance.registry import Registry
    from conformance.runner import run as run_suite

    registry = Registry()
    registry.add("AUTH-1", lambda ctx: ctx.fail("first"))
    registry.add("AUTH-4", lambda ctx: ctx.fail("a SHOULD failure does not count"))
    registry.add("AUTH-5", lambda ctx: ctx.fail("second"))
    registry.add("AUTH-6", lambda ctx: None)
    config = SuiteConfig(select_ids={"AUTH-1", "AUTH-4", "AUTH-5", "AUTH-6"}, max_failures=2)
    report = run_suite(config, registry=registry)
    statuses = {r.id: r.status for r in report.results}
    assert statuses == {"AUTH-1": "fail", "AUTH-4": "fail", "AUTH-5": "fail", "AUTH-6": "skip"}
    assert report.result("AUTH-6").summary == (
        f"{NOT_RUN}stopped after 2 MUST failure(s) (--maxfail 2)"
    )
    assert report.exit_code == 1
    assert report.reason.endswith("; stopped after 2 MUST failure(s) (--maxfail 2)")
