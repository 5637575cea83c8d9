"""Capability resolution: declarations, and auto-detection probes against the reference backend."""

from __future__ import annotations

from typing import Any

from conformance import embedded
from conformance.capabilities import resolve
from conformance.config import SuiteConfig


def _no_delete_stream(app: Any) -> Any:
    """WSGI middleware: the backend has no delete-stream endpoint (404 in the error envelope)."""
    wsgi = app.wsgi_app

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/delete-stream":
            body = b'{"error":{"message":"not found","explanation":"no such endpoint"}}'
            start_response("404 NOT FOUND", [("Content-Type", "application/json")])
            return [body]
        return wsgi(environ, start_response)

    app.wsgi_app = middleware
    return app


def test_every_capability_of_the_reference_backend_is_detected() -> None:
    run = embedded.start()
    try:
        names: list[str] = []

        def probe_name() -> str:
            names.append(f"lc-capability-probe-{len(names)}")
            return names[-1]

        report = resolve(
            SuiteConfig(), run.backend_client(), twilio=run.twilio, probe_name=probe_name
        )
        assert report.resolved == {"form-body", "get-query", "chat", "delete-stream"}
        assert report.detected == ["chat", "delete-stream", "form-body", "get-query"]
        assert report.declared == []
        assert report.details["form-body"]["evidence"] == (
            "form-encoded POST /join-stream-as-viewer answered 400 missing stream_name"
        )
        assert report.details["chat"]["evidence"] == (
            "a probe create-stream answered chat_enabled True"
        )
        # the probe stream was deleted (delete-stream detected first) and is gone
        assert names and run.twilio.room(names[0]) is None
    finally:
        run.close()


def test_absent_capabilities_are_not_detected() -> None:
    run = embedded.start(
        chat_enabled=False,
        form_body=False,
        get_query=False,
        backend_factory=lambda settings, client: _no_delete_stream(
            __import__("reference_backend").create_app(settings, twilio_http_client=client)
        ),
    )
    try:
        report = resolve(SuiteConfig(), run.backend_client(), twilio=run.twilio)
        assert report.resolved == set()
        details = report.details
        assert details["delete-stream"]["evidence"] == "POST /delete-stream {} answered 404"
        assert details["chat"]["evidence"] == "a probe create-stream answered chat_enabled False"
        assert details["get-query"]["source"] == "detected"
        # without delete-stream the probe stream's room is completed through Twilio
        rooms = run.twilio._list("/video/v1/Rooms", "rooms", {"Status": "in-progress"})
        assert rooms == []
    finally:
        run.close()


def test_declarations_win_over_probes_and_detection_can_be_off() -> None:
    run = embedded.start(form_body=False)
    try:
        backend = run.backend_client()
        config = SuiteConfig(capabilities={"form-body"}, absent_capabilities={"chat"})
        report = resolve(config, backend, twilio=run.twilio)
        assert report.details["form-body"] == {
            "present": True,
            "source": "declared",
            "evidence": "declared with --capability",
        }
        assert report.details["chat"]["source"] == "declared absent"
        assert report.resolved == {"form-body", "get-query", "delete-stream"}

        report = resolve(SuiteConfig(auto_detect=False), backend, twilio=run.twilio)
        # delete-stream is required by the protocol (FLOW-8): probed even without auto-detection
        assert report.resolved == {"delete-stream"}
        assert report.details["delete-stream"]["source"] == "detected"
        assert {d["source"] for n, d in report.details.items() if n != "delete-stream"} == {
            "not declared"
        }
        assert report.as_dict()["details"]["chat"]["evidence"] == "auto-detection is off"
    finally:
        run.close()


def test_a_probe_that_cannot_reach_the_backend_means_absent() -> None:
    from conformance.transport import BackendClient

    backend = BackendClient("http://127.0.0.1:1", passcode="x", timeout=1)
    report = resolve(SuiteConfig(), backend)
    assert report.resolved == set()
    assert report.details["form-body"]["evidence"].startswith("probe failed: BackendNoAnswer")


def test_capabilities_declared_absent_are_switched_off_in_the_embedded_backend() -> None:
    """--no-capability chat with the embedded run: its backend runs without chat, so the
    chat checks skip and TOK-6 (no chat grant without chat) is judged and passes."""
    from conformance.config import SuiteConfig
    from conformance.runner import run

    report = run(
        SuiteConfig(
            absent_capabilities={"chat", "get-query"},
            select_ids={"TOK-6", "TOK-7", "IN-10"},
            seed=3,
        )
    )
    assert {r.id: r.status for r in report.results} == {
        "IN-10": "skip",
        "TOK-6": "pass",
        "TOK-7": "skip",
    }, report.reason
    details = report.capabilities.details if report.capabilities else {}
    assert details["chat"]["source"] == "declared absent"
