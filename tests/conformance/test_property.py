"""The property-based checks: the reference passes, and faults only they reveal are found.

PROP-1 (the stateful model) and PROP-2 (schema-driven fuzzing) run at the default budget
(the CI budget) against the embedded reference backend and against variants of
:mod:`faulty_sequences`. A sequence fault must be caught by PROP-1 with a short reported
sequence whose script and curl lines reach the JSON report, and by no hand-picked check.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings

import schemas
from conformance import embedded, runner
from conformance.config import SuiteConfig
from conformance.property.fuzz import HUGE, cases, huge_identity_cases
from conformance.property.model import ProtocolModel
from schemas import catalog

from .faulty import outcome_table
from .faulty_sequences import BENIGN_SEQUENCES, INPUT_FAULTS, SEQUENCE_FAULTS

#: The largest number of requests a reported failing sequence may hold.
SEQUENCE_BOUND = 8


@pytest.fixture
def run_property() -> Iterator[Callable[..., Any]]:
    """``run_property(factory, *ids)``: run only the given requirements, embedded."""
    opened: list[Any] = []
    logging.getLogger("reference_backend").setLevel(logging.CRITICAL)

    def run(factory: Any, *ids: str, **config: Any) -> Any:
        pair = embedded.start(backend_factory=factory, throttle_window=1.0)
        opened.append(pair)
        suite = SuiteConfig(consistency_timeout=1.0, seed=20260101, select_ids=set(ids), **config)
        return runner.run(suite, embedded=pair)

    yield run
    for pair in opened:
        pair.close()


def test_reference_passes_the_stateful_model(run_property) -> None:
    report = run_property(None, "PROP-1")
    assert [r.status for r in report.results] == ["pass"], outcome_table(report)
    assert "examples" in report.results[0].notes[0], report.results[0].notes


def test_reference_passes_fuzzing(run_property) -> None:
    report = run_property(None, "PROP-2")
    assert [r.status for r in report.results] == ["pass"], outcome_table(report)
    (note,) = [n for n in report.result("PROP-2").notes if "budget" in n]
    assert note.startswith("fuzzing:") and "steps" not in note, note


#: What the failure of each sequence fault names (the Sync state that went wrong).
FOUND_IN = {
    "hand-kept-unless-watching": "raised_hands has",
    "reinvite-outside-audience-skipped": "no new revision of user-",
    "invitations-outlive-the-stream": "expected speaker_invite False",
}


@pytest.mark.parametrize("fault", SEQUENCE_FAULTS, ids=str)
def test_sequence_faults_are_found_with_a_short_replayable_sequence(run_property, fault) -> None:
    report = run_property(fault.factory, "PROP-1")
    result = report.result("PROP-1")
    assert result is not None and result.status == "fail", outcome_table(report)
    assert FOUND_IN[fault.name] in result.summary, result.summary
    requests = [line for line in result.repro if line.startswith("curl ")]
    assert 1 <= len(requests) <= SEQUENCE_BOUND, result.detail
    assert "Shortest failing sequence" in result.detail and " 1. POST /create-stream" in (
        result.detail
    )
    from conformance.reports import to_dict

    data = json.loads(json.dumps(to_dict(report), default=str))
    shown = next(r for r in data["results"] if r["id"] == "PROP-1")
    assert shown["repro"] == result.repro
    assert " 1. POST /create-stream" in shown["detail"]


@pytest.mark.parametrize("variant", BENIGN_SEQUENCES, ids=str)
def test_allowed_behaviours_pass_the_stateful_model(run_property, variant) -> None:
    """What the protocol allows besides the reference's choice (a join resetting the
    invitation, FLOW-3; a connection keeping it, FLOW-4; a speaker's document {}) is not a
    failure of the model."""
    report = run_property(variant.factory, "PROP-1")
    assert [r.status for r in report.results] == ["pass"], outcome_table(report)


@pytest.mark.slow
@pytest.mark.parametrize("fault", [*SEQUENCE_FAULTS, *BENIGN_SEQUENCES], ids=str)
def test_sequence_faults_escape_the_hand_picked_checks(run_suite, fault) -> None:
    report = run_suite(fault.factory, exclude_groups={"PROP"})
    assert all(r.status == "pass" for r in report.results), outcome_table(report)


@pytest.mark.parametrize("fault", INPUT_FAULTS, ids=str)
def test_input_faults_are_found_by_fuzzing(run_property, fault) -> None:
    report = run_property(fault.factory, "PROP-2")
    result = report.result("PROP-2")
    assert result is not None and result.status == "fail", outcome_table(report)
    assert result.repro and result.repro[-1].startswith("curl ")


def test_a_deadline_stops_the_exploration(run_property) -> None:
    report = run_property(None, "PROP-1", max_examples=10_000, property_deadline=1.0)
    result = report.result("PROP-1")
    assert result is not None and result.status == "pass", outcome_table(report)
    examples = int(result.notes[0].split("stateful model: ")[1].split()[0])
    assert examples < 10_000


# -- the generators and the model, without a backend ---------------------------------------
@settings(max_examples=200, deadline=None, database=None)
@given(case=cases())
def test_generated_cases_are_what_they_claim(case) -> None:
    if case.kind == "valid":
        assert catalog.input_error(case.endpoint, case.params) is None, case
    elif case.kind == "not-object":  # a mutated body may stay valid: the oracle decides
        assert catalog.input_error(case.endpoint, case.params) is not None, case
    elif case.kind == "malformed":
        with pytest.raises(ValueError):
            json.loads(case.body)


def test_every_identity_endpoint_gets_a_huge_identity_first() -> None:
    found = huge_identity_cases()
    endpoints = {e.name for e in catalog.CLIENT_ENDPOINTS if "user_identity" in e.params}
    assert {case.endpoint for case in found} == endpoints
    for case in found:
        assert len(case.params["user_identity"]) == HUGE
        assert catalog.input_error(case.endpoint, case.params) is not None, case.endpoint


def test_the_model_follows_the_walkthrough() -> None:
    """docs/PROTOCOL.md section 10, steps 2 to 9, in the model's terms."""
    model = ProtocolModel()
    grants = {"data_sync": {"service_sid": "IS" + "0" * 32}}
    body = {"room_sid": "RM" + "a" * 32, "token": "t"}
    create = {"user_identity": "alice", "stream_name": "friday-townhall"}
    assert model.expect("create-stream", create).ok
    stream = model.apply("create-stream", create, body, grants)
    assert stream is not None
    bob = {"user_identity": "bob", "stream_name": "friday-townhall"}
    for endpoint in ("join-stream-as-viewer", "viewer-connected-to-player"):
        model.apply(endpoint, bob, body, grants)
    model.apply("raise-hand", {**bob, "hand_raised": True}, {}, {})
    invite = {"user_identity": "bob", "room_sid": stream.room_sid}
    assert model.expect("send-speaker-invite", invite).ok
    model.apply("send-speaker-invite", invite, {}, {})
    assert stream.documents == {"bob": frozenset({True})}
    model.apply("join-stream-as-speaker", bob, body, grants)
    # FLOW-3: a join may keep the pending invitation or reset it
    assert stream.documents == {"bob": frozenset({True, False})}
    model.connected(stream, "bob")
    # FLOW-4: the connection may consume the invitation or leave it
    assert stream.expected_state() == {
        "speakers": {"alice": [True], "bob": [False]},
        "raised_hands": [],
        "viewers": [],
        "documents": {"user-bob": {"speaker_invite": [False, True]}},
    }
    carol = {"user_identity": "carol", "stream_name": "friday-townhall"}
    model.apply("join-stream-as-viewer", carol, body, grants)
    assert stream.documents["carol"] == frozenset({False})  # a new document: not invited
    model.disconnected(stream, "alice")
    model.connected(stream, "alice")
    assert stream.speakers["alice"] == frozenset({True})  # FLOW-16: the host again
    assert schemas.is_valid(
        "protocol/sync.state",
        {"speakers": {"bob": {"host": False}}, "raised_hands": {}, "viewers": {}, "documents": {}},
    )
    remove = {"user_identity": "bob", "room_name": "friday-townhall"}
    assert model.expect("remove-speaker", remove).ok
    model.apply("remove-speaker", remove, {}, {})
    assert model.expect("remove-speaker", remove).message == "error removing speaker"
    model.apply("delete-stream", {"stream_name": "friday-townhall"}, {}, {})
    assert model.expect("join-stream-as-viewer", bob).message == "error finding room"
    assert model.expect("create-stream", create).ok
