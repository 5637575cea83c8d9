"""The walkthrough's recorder: plays its steps and records, around each one, what reached the
backend and Twilio and what Twilio held afterwards (:mod:`conformance.walkthrough`).

A :class:`Step` is plain data, ready for JSON: the exchanges with the backend (the
Authorization header redacted, tokens shortened and decoded instead, with their lifetime
rather than their instants), the clients' moves at Twilio, the REST calls the backend made to
Twilio (the fake's journal), the webhooks Twilio delivered, and the Twilio state afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import SuiteConfig
from .context import CheckContext
from .outcomes import CheckFailed
from .requirements import get as get_requirement
from .scenario import Stream
from .transport import Exchange

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


class Recorder:
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
