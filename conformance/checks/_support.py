"""Helpers shared by the checks: endpoints and their parameters, passcode near-misses,
lenient error reading, Twilio-side snapshots, webhook payloads and secret scanning.

Everything here is private to :mod:`conformance.checks`. The rule the helpers follow is the
rule of the checks: assert only what the requirement at hand says. Reading an error
``message`` is therefore lenient (any JSON body with ``error.message``): whether the body is
exactly the error envelope is ERR-1's business, not every check's.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from schemas import catalog

from ..outcomes import CheckFailed
from ..transport import Exchange

if TYPE_CHECKING:
    from ..context import CheckContext
    from ..twilio_view import TwilioView

MAPS: tuple[str, ...] = ("speakers", "raised_hands", "viewers")
STREAM_PARAMS: tuple[str, ...] = ("stream_name", "room_sid", "room_name")

#: Client endpoints in document order (delete-stream only with its capability).
ALL_CLIENT_ENDPOINTS: tuple[str, ...] = tuple(e.name for e in catalog.CLIENT_ENDPOINTS)
#: Client endpoints that name a stream.
STREAM_ENDPOINTS: tuple[str, ...] = tuple(
    e.name for e in catalog.CLIENT_ENDPOINTS if any(p in STREAM_PARAMS for p in e.params)
)
#: Endpoints whose success body carries a token.
TOKEN_ENDPOINTS: tuple[str, ...] = (
    "create-stream",
    "join-stream-as-speaker",
    "join-stream-as-viewer",
)

PASSCODE_INCORRECT = next(c for c in catalog.AUTH_ERRORS if c.message == "passcode incorrect")
PASSCODE_EXPIRED = next(c for c in catalog.AUTH_ERRORS if c.message == "passcode expired")


# -- endpoints and parameters ---------------------------------------------------------------
def params_of(endpoint: str) -> tuple[str, ...]:
    """The endpoint's parameters in checking order."""
    return catalog.endpoint(endpoint).params


def client_endpoints(ctx: CheckContext, *, with_params: bool = False) -> list[str]:
    """The client endpoints the backend has (delete-stream only with its capability)."""
    found = [
        name for name in ALL_CLIENT_ENDPOINTS if name != "delete-stream" or ctx.has("delete-stream")
    ]
    if with_params:
        found = [name for name in found if params_of(name)]
    return found


def random_room_sid(ctx: CheckContext) -> str:
    """A well-formed Room SID that names no room (32 random lowercase hex digits)."""
    return "RM" + "".join(ctx.rng.choice("0123456789abcdef") for _ in range(32))


def random_sid(ctx: CheckContext, prefix: str) -> str:
    return prefix + "".join(ctx.rng.choice("0123456789abcdef") for _ in range(32))


def valid_params(
    ctx: CheckContext,
    endpoint: str,
    *,
    identity: str | None = None,
    stream_name: str | None = None,
    room_sid: str | None = None,
    hand_raised: bool = True,
) -> dict[str, Any]:
    """Parameters that pass input validation; unnamed streams are fresh (unknown) names."""
    values: dict[str, Any] = {}
    for param in params_of(endpoint):
        if param == "user_identity":
            values[param] = ctx.identity() if identity is None else identity
        elif param in ("stream_name", "room_name"):
            values[param] = ctx.unique_name() if stream_name is None else stream_name
        elif param == "room_sid":
            values[param] = random_room_sid(ctx) if room_sid is None else room_sid
        elif param == "hand_raised":
            values[param] = hand_raised
    return values


def stream_params(ctx: CheckContext, endpoint: str, stream: Any, identity: str) -> dict[str, Any]:
    """Valid parameters naming ``stream`` (its name, or its room SID for send-speaker-invite)."""
    return valid_params(
        ctx, endpoint, identity=identity, stream_name=stream.name, room_sid=stream.room_sid
    )


# -- passcodes ----------------------------------------------------------------------------------
def near_misses(passcode: str) -> list[tuple[str, str]]:
    """``(label, header value)`` pairs that are not exactly the passcode but close to it."""
    changed_char = "1" if passcode[0] != "1" else "2"
    last = passcode[-1]
    appended = "0" if last != "0" else "1"
    found = [
        ("a 'Bearer ' prefix", f"Bearer {passcode}"),
        ("a leading space", f" {passcode}"),
        ("a trailing space", f"{passcode} "),
        ("a trailing tab", f"{passcode}\t"),
        ("its last character missing", passcode[:-1]),
        ("one character appended", passcode + appended),
        ("its first character changed", changed_char + passcode[1:]),
        ("a completely different value", "not-the-passcode"),
    ]
    if passcode.lower() != passcode.upper():
        swapped = passcode.swapcase()
        found.append(("its letters' case swapped", swapped))
    return [(label, value) for label, value in found if value != passcode and value]


def restore_standing(ctx: CheckContext) -> Exchange:
    """A successful request after a failed passcode attempt.

    SEC-2 counts *consecutive* failures, so a check that sends wrong passcodes on purpose
    follows each with an accepted one and never provokes the throttle itself.
    """
    return ctx.call("verify-passcode", {})


def refused_call(
    ctx: CheckContext,
    endpoint: str,
    params: Any = None,
    *,
    passcode: Any,
    what: str,
    **kwargs: Any,
) -> Exchange:
    """Call with a wrong (or no) passcode, then restore standing; a 429 fails the check."""
    exchange = ctx.call(endpoint, params, passcode=passcode, **kwargs)
    restore_standing(ctx)
    if exchange.status == 429:
        ctx.fail(
            f"{endpoint} with {what} answered 429 instead of 401, although every failed "
            "attempt of the suite was followed by an accepted one (SEC-2 counts consecutive "
            "failures)",
            exchange=exchange,
        )
    return exchange


# -- reading answers leniently ------------------------------------------------------------------
def error_fields(exchange: Exchange) -> tuple[str | None, str | None]:
    """``(message, explanation)`` of a JSON error body, leniently (``None`` when absent)."""
    body = exchange.json
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        message = error.get("message")
        explanation = error.get("explanation")
        return (
            message if isinstance(message, str) else None,
            explanation if isinstance(explanation, str) else None,
        )
    return None, None


def describe_answer(exchange: Exchange) -> str:
    message, _ = error_fields(exchange)
    if message is not None:
        return f"{exchange.status} {message!r}"
    text = exchange.text.strip().replace("\n", " ")
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{exchange.status} {text}" if text else str(exchange.status)


def expect_failure_message(
    ctx: CheckContext,
    exchange: Exchange,
    message: str,
    *,
    what: str,
    status: int | range | None = None,
    explanation: str | None = None,
) -> None:
    """A non-2xx answer whose ``error.message`` is ``message`` (and more when given)."""
    got_message, got_explanation = error_fields(exchange)
    ok_status = exchange.status is not None and not 200 <= exchange.status < 300
    if status is not None:
        ok_status = ok_status and (
            exchange.status == status if isinstance(status, int) else exchange.status in status
        )
    if not ok_status or got_message != message:
        expected = f"{status if isinstance(status, int) else 'non-2xx'} {message!r}"
        if isinstance(status, range):
            expected = f"{status.start // 100}xx {message!r}"
        ctx.fail(
            f"{what}: answered {describe_answer(exchange)}, expected {expected}",
            exchange=exchange,
            expected=expected,
            actual=describe_answer(exchange),
        )
    if explanation is not None and got_explanation != explanation:
        ctx.fail(
            f"{what}: explanation {got_explanation!r}, expected exactly {explanation!r}",
            exchange=exchange,
            expected=explanation,
            actual=got_explanation,
        )


def expect_ok(ctx: CheckContext, exchange: Exchange, what: str) -> Any:
    """A 2xx answer with a JSON body (returned); leniently, for set-up steps."""
    if not exchange.ok:
        ctx.fail(f"{what}: answered {describe_answer(exchange)}, expected 200", exchange=exchange)
    return exchange.json


def without_token(body: Any) -> Any:
    """A success body without its (freshly issued, so always different) token."""
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k != "token"}
    return body


# -- tokens -------------------------------------------------------------------------------------
def claims_of(ctx: CheckContext, token: Any) -> dict[str, Any]:
    """The token's payload, decoded without verifying anything (TOK-1 verifies)."""
    _, claims = ctx.decode_token(token, verify=False)
    return claims


def grants_of(ctx: CheckContext, token: Any) -> dict[str, Any]:
    grants = claims_of(ctx, token).get("grants")
    return grants if isinstance(grants, dict) else {}


# -- Twilio-side snapshots ----------------------------------------------------------------------
def maps_snapshot(view: TwilioView, service_sid: str) -> dict[str, Any]:
    """``{map: {key: data} | None}`` of the stream's three maps."""
    return {name: view.map_items(service_sid, name) for name in MAPS}


def sync_snapshot(view: TwilioView, service_sid: str) -> dict[str, Any]:
    """The stream's Sync data: the three maps and every document (``None`` when gone)."""
    snapshot = maps_snapshot(view, service_sid)
    snapshot["documents"] = view.documents(service_sid)
    return snapshot


def permissions_snapshot(view: TwilioView, service_sid: str) -> dict[str, Any]:
    """Permissions on the three maps and on every document of the service."""
    found: dict[str, Any] = {}
    if view.sync_service(service_sid) is None:
        return found
    for name in MAPS:
        found[f"map:{name}"] = view.permissions(service_sid, "map", name)
    for name in sorted(view.documents(service_sid) or {}):
        found[f"document:{name}"] = view.permissions(service_sid, "document", name)
    return found


def stream_snapshot(ctx: CheckContext, stream: Any) -> dict[str, Any]:
    """Everything a client request may change for one stream, as seen in Twilio."""
    view = ctx.require_twilio()
    snapshot: dict[str, Any] = {
        "sync": sync_snapshot(view, stream.sync_service_sid),
        "permissions": permissions_snapshot(view, stream.sync_service_sid),
    }
    chat = chat_service_of(ctx, stream)
    if chat is not None:
        snapshot["conversation_participants"] = sorted(
            view.conversation_participants(stream.room_sid, chat)
        )
    return snapshot


def chat_service_of(ctx: CheckContext, stream: Any) -> str | None:
    """The Conversations service named by the host token's chat grant, if any."""
    grant = grants_of(ctx, stream.host_token).get("chat")
    if isinstance(grant, dict) and isinstance(grant.get("service_sid"), str):
        return grant["service_sid"]
    return None


def diff(before: Any, after: Any, path: str = "") -> list[str]:
    """Readable differences between two JSON-like values (at most a few dozen)."""
    found: list[str] = []
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in before:
                found.append(f"{where} appeared: {after[key]!r}")
            elif key not in after:
                found.append(f"{where} disappeared (was {before[key]!r})")
            else:
                found += diff(before[key], after[key], where)
    elif before != after:
        found.append(f"{path or 'value'}: {before!r} -> {after!r}")
    return found[:40]


def expect_unchanged(
    ctx: CheckContext,
    before: Any,
    after: Any,
    what: str,
    exchange: Exchange | None = None,
) -> None:
    changes = diff(before, after)
    if changes:
        more = f" (+{len(changes) - 4} more)" if len(changes) > 4 else ""
        shown = "; ".join(changes[:4]) + more
        ctx.fail(f"{what}: {shown}", exchange=exchange, expected=before, actual=after)


def successful_writes(view: TwilioView, mark: int) -> list[dict[str, Any]]:
    """Writes (POST/DELETE) after ``mark`` that Twilio accepted (2xx)."""
    return [w for w in view.writes_since(mark) if 200 <= int(w.get("status") or 0) < 300]


def show_writes(writes: list[dict[str, Any]]) -> str:
    shown = ", ".join(f"{w.get('method')} {w.get('path')} -> {w.get('status')}" for w in writes[:5])
    return shown + (f" (+{len(writes) - 5} more)" if len(writes) > 5 else "")


def settle(ctx: CheckContext) -> None:
    """Let queued webhook deliveries reach the backend before a snapshot."""
    if ctx.twilio is not None:
        ctx.twilio.flush_webhooks()


def correctness_timeout(ctx: CheckContext) -> float:
    """How long state checks wait for webhook-driven effects.

    Twice the consistency bound: timeliness itself is FLOW-12's requirement, so the other
    checks judge only whether the effect happens.
    """
    return 2 * ctx.config.consistency_timeout


def wait_for(
    ctx: CheckContext,
    probe: Callable[[], Any],
    until: Callable[[Any], Any],
    description: str,
    timeout: float | None = None,
) -> Any:
    """:meth:`CheckContext.eventually` after flushing the fake's webhook queue."""
    settle(ctx)
    return ctx.eventually(
        probe,
        until,
        description=description,
        timeout=correctness_timeout(ctx) if timeout is None else timeout,
    )


def quiet_wait(
    ctx: CheckContext, probe: Callable[[], Any], until: Callable[[Any], Any], timeout: float
) -> bool:
    """Poll without failing: whether ``until(probe())`` became true within ``timeout``."""
    settle(ctx)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if until(probe()):
                return True
        except CheckFailed:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def advance_past_debouncing(ctx: CheckContext, service_sid: str) -> None:
    """Move the fake clock past the Sync service's reachability debouncing window."""
    view = ctx.require_twilio()
    service = view.sync_service(service_sid) or {}
    if service.get("reachability_debouncing_enabled"):
        window = service.get("reachability_debouncing_window") or 5000
        view.advance_clock(float(window) / 1000.0 + 0.5)
    view.flush_webhooks()


# -- webhooks -----------------------------------------------------------------------------------
def registered_url(ctx: CheckContext, stream: Any, path: str) -> str:
    """The webhook URL the backend registered for ``stream`` (read from the fake)."""
    view = ctx.require_twilio()
    if path == "rooms-webhook":
        room = view.room(stream.room_sid) or {}
        url = room.get("status_callback")
    else:
        service = view.sync_service(stream.sync_service_sid) or {}
        url = service.get("webhook_url")
    if isinstance(url, str) and url:
        ctx.backend.webhook_urls.setdefault(path, url)
        return url
    return ctx.backend.webhook_url(path)


_SEQUENCE = iter(range(100, 10**9))


def room_event(
    ctx: CheckContext,
    room_sid: str,
    room_name: str,
    event: str,
    identity: str | None = None,
    participant_sid: str | None = None,
    *,
    room_status: str = "in-progress",
) -> dict[str, str]:
    """A rooms-webhook form like Twilio's."""
    view = ctx.require_twilio()
    form = {
        "AccountSid": view.credentials.account_sid,
        "RoomSid": room_sid,
        "RoomName": room_name,
        "RoomStatus": room_status,
        "RoomType": "group",
        "StatusCallbackEvent": event,
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "SequenceNumber": str(next(_SEQUENCE)),
    }
    if identity is not None:
        form["ParticipantIdentity"] = identity
        form["ParticipantSid"] = participant_sid or random_sid(ctx, "PA")
        form["ParticipantStatus"] = (
            "disconnected" if event == "participant-disconnected" else "connected"
        )
    if event == "room-ended":
        form["RoomStatus"] = "completed"
        form["RoomDuration"] = "60"
    return form


def sync_event(ctx: CheckContext, service_sid: str, event: str, identity: str) -> dict[str, str]:
    """A sync-webhook form like Twilio's reachability webhooks."""
    view = ctx.require_twilio()
    return {
        "AccountSid": view.credentials.account_sid,
        "ServiceSid": service_sid,
        "EventType": event,
        "Identity": identity,
        "EndpointId": f"{identity}-endpoint",
        "DateCreated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def participant_sid(ctx: CheckContext, room_sid: str, identity: str) -> str | None:
    """SID of the connected participant ``identity`` of the room, if any."""
    for participant in ctx.require_twilio().room_participants(room_sid):
        if participant.get("identity") == identity:
            return str(participant.get("sid"))
    return None


def expect_2xx(ctx: CheckContext, exchange: Exchange, what: str) -> None:
    if not exchange.ok:
        ctx.fail(
            f"{what}: answered {describe_answer(exchange)}, expected 2xx",
            exchange=exchange,
            expected="2xx",
            actual=exchange.status,
        )


def deliver_without_effect(
    ctx: CheckContext,
    view: TwilioView,
    service_sid: str,
    path: str,
    form: dict[str, str],
    before: Any,
    what: str,
    changed: str | None = None,
) -> Exchange:
    """Deliver ``form`` to the webhook ``path``: it must be acknowledged (2xx) and, once the
    deliveries settled, leave the Sync state of ``service_sid`` as ``before``.

    ``what`` names the delivery in a failure; ``changed`` is the message when the state moved
    (by default "<what> changed the state").
    """
    exchange = ctx.webhook(path, form)
    expect_2xx(ctx, exchange, what)
    settle(ctx)
    after = sync_snapshot(view, service_sid)
    expect_unchanged(ctx, before, after, changed or f"{what} changed the state", exchange)
    return exchange


def stream_with_audience(ctx: CheckContext) -> tuple[Any, Any, Any]:
    """A live stream with a viewer in viewers and raised_hands, and a speaker connected to the
    room: ``(stream, viewer, speaker)``."""
    stream = ctx.new_stream()
    stream.host_connects()
    viewer = stream.join_viewer()
    stream.viewer_connected(viewer.identity)
    stream.raise_hand(viewer.identity, True)
    speaker = stream.join_speaker()
    speaker.connect_room()
    return stream, viewer, speaker


# -- secrets and internals ----------------------------------------------------------------------
_TRACE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Python traceback", re.compile(r"Traceback \(most recent call last\)")),
    ("a Python source location", re.compile(r"File \"[^\"]+\.py\", line \d+")),
    (
        "a source file with a line number",
        re.compile(r"[\w./\\-]+\.(?:py|js|ts|java|rb|go|php|cs)[:(]\d+"),
    ),
    ("a JavaScript stack frame", re.compile(r"\n\s+at [\w.<>$]+ \([^)]*:\d+:\d+\)")),
    ("a Java stack frame", re.compile(r"\n\s+at [\w.$]+\([\w]+\.java:\d+\)")),
)


def leaks(exchange: Exchange, secrets: Mapping[str, str | None]) -> list[str]:
    """What ``exchange``'s answer (body and headers) discloses: secrets and stack traces."""
    texts = [exchange.text]
    texts += [f"{name}: {value}" for name, value in exchange.headers.multi_items()]
    blob = "\n".join(texts)
    found = [f"the {label}" for label, value in secrets.items() if value and value in blob]
    found += [label for label, pattern in _TRACE_PATTERNS if pattern.search(blob)]
    return found


def secrets_of(ctx: CheckContext) -> dict[str, str | None]:
    """The secrets no answer may contain, as far as this run knows them."""
    found: dict[str, str | None] = {"passcode": ctx.config.passcode or ctx.backend.passcode}
    found["API key secret"] = ctx.config.api_key_secret
    if ctx.twilio is not None:
        found["API key secret"] = found["API key secret"] or ctx.twilio.credentials.api_key_secret
        found["auth token"] = ctx.twilio.credentials.auth_token
    expired = ctx.config.expired_passcode
    if expired:
        found["expired deployment's passcode"] = expired
    return found
