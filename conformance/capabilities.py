"""Capabilities: which optional behaviours the backend has (docs/PROTOCOL.md 2.4).

A capability is *declared* by the operator (``--capability NAME`` present,
``--no-capability NAME`` absent) or, when undeclared and auto-detection is on, *detected* with
the protocol's probes, each sent with the passcode:

* ``form-body``: ``POST /join-stream-as-viewer`` form-encoded ``user_identity=probe`` answers
  ``400 missing stream_name``;
* ``get-query``: ``GET /join-stream-as-viewer?user_identity=probe`` answers the same;
* ``chat``: a probe stream's create-stream answer has ``chat_enabled: true`` (the probe stream
  is then ended: delete-stream when present, else its room is completed through Twilio).

delete-stream is not a capability: every backend must have it (FLOW-8). It is still probed
(``POST /delete-stream`` with ``{}``: present unless the answer is 404 or 405), so that a
backend without it fails FLOW-8 once and the other checks end their streams through Twilio
instead; it is probed even with auto-detection off.

The probes of form-body, get-query and delete-stream create nothing. The result, with the
evidence for each capability, is part of every report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import SuiteConfig
from .requirements import CAPABILITIES
from .transport import BackendClient, Exchange

__all__ = ["CapabilityReport", "detect", "resolve"]

_PROBE_IDENTITY = "probe"
_MISSING_STREAM_NAME = "missing stream_name"
#: The endpoint every backend must have but that is still probed (see the module docstring).
REQUIRED_ENDPOINT = "delete-stream"


@dataclass
class CapabilityReport:
    """Resolved capabilities and how each was decided.

    ``details[name]`` is ``{"present": bool, "source": "declared" | "declared absent" |
    "detected" | "not declared", "evidence": str}``.
    """

    resolved: set[str] = field(default_factory=set)
    details: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def declared(self) -> list[str]:
        return sorted(n for n, d in self.details.items() if d["source"] == "declared")

    @property
    def detected(self) -> list[str]:
        return sorted(
            n for n, d in self.details.items() if d["source"] == "detected" and d["present"]
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "resolved": sorted(self.resolved),
            "declared": self.declared,
            "detected": self.detected,
            "details": {name: dict(self.details[name]) for name in sorted(self.details)},
        }


def resolve(
    config: SuiteConfig,
    backend: BackendClient,
    *,
    twilio: Any = None,
    probe_name: Callable[[], str] | None = None,
) -> CapabilityReport:
    """Resolve every capability of :data:`~conformance.requirements.CAPABILITIES`."""
    report = CapabilityReport()
    declared = config.declared()
    order = [REQUIRED_ENDPOINT, "form-body", "get-query", "chat"]
    for name in [*order, *[c for c in CAPABILITIES if c not in order]]:
        if name == REQUIRED_ENDPOINT:  # always probed: it creates nothing
            present, evidence = detect(name, backend)
            source = "detected"
        elif name in declared:
            present, source, evidence = True, "declared", "declared with --capability"
        elif name in config.absent_capabilities:
            present, source, evidence = False, "declared absent", "declared with --no-capability"
        elif config.auto_detect:
            present, evidence = detect(
                name,
                backend,
                twilio=twilio,
                can_delete="delete-stream" in report.resolved,
                probe_name=probe_name,
            )
            source = "detected"
        else:
            present, source, evidence = False, "not declared", "auto-detection is off"
        report.details[name] = {"present": present, "source": source, "evidence": evidence}
        if present:
            report.resolved.add(name)
    return report


def detect(
    name: str,
    backend: BackendClient,
    *,
    twilio: Any = None,
    can_delete: bool = False,
    probe_name: Callable[[], str] | None = None,
) -> tuple[bool, str]:
    """Probe one capability; ``(present, evidence)``. Transport failures count as absent."""
    try:
        if name == "form-body":
            exchange = backend.call(
                "join-stream-as-viewer", {"user_identity": _PROBE_IDENTITY}, encoding="form"
            )
            return _missing_stream_name(exchange, "form-encoded POST /join-stream-as-viewer")
        if name == "get-query":
            exchange = backend.call(
                "join-stream-as-viewer", {"user_identity": _PROBE_IDENTITY}, encoding="query"
            )
            return _missing_stream_name(exchange, "GET /join-stream-as-viewer?user_identity=probe")
        if name == REQUIRED_ENDPOINT:
            exchange = backend.call(REQUIRED_ENDPOINT, {})
            present = exchange.status not in (404, 405)
            return present, f"POST /delete-stream {{}} answered {exchange.status}"
        if name == "chat":
            return _detect_chat(backend, twilio, can_delete, probe_name)
    except Exception as exc:  # a probe never breaks the run: the capability is just absent
        return False, f"probe failed: {type(exc).__name__}: {exc}"
    raise ValueError(f"unknown capability {name!r}")


def _missing_stream_name(exchange: Exchange, what: str) -> tuple[bool, str]:
    message = exchange.error_message
    present = exchange.status == 400 and message == _MISSING_STREAM_NAME
    shown = f"{exchange.status}" + (f" {message}" if message else "")
    return present, f"{what} answered {shown}"


def _detect_chat(
    backend: BackendClient,
    twilio: Any,
    can_delete: bool,
    probe_name: Callable[[], str] | None,
) -> tuple[bool, str]:
    name = probe_name() if probe_name else "lc-capability-probe"
    exchange = backend.call("create-stream", {"user_identity": f"{name}-host", "stream_name": name})
    body = exchange.json
    if exchange.status != 200 or not isinstance(body, dict):
        return False, f"the probe create-stream answered {exchange.status}: chat not detected"
    enabled = body.get("chat_enabled") is True
    _end_probe(backend, twilio, can_delete, name, body.get("room_sid"))
    return enabled, f"a probe create-stream answered chat_enabled {body.get('chat_enabled')!r}"


def _end_probe(
    backend: BackendClient, twilio: Any, can_delete: bool, name: str, room_sid: Any
) -> None:
    if can_delete:
        answer = backend.call("delete-stream", {"stream_name": name})
        if answer.status == 200:
            if twilio is not None:
                twilio.flush_webhooks()
            return
    if twilio is not None and isinstance(room_sid, str):
        with contextlib.suppress(Exception):
            twilio.complete_room(room_sid)
            twilio.flush_webhooks()
