"""SEC: disclosure, throttling and caching (docs/PROTOCOL.md 7 and requirements SEC-1..SEC-4)."""

from __future__ import annotations

import contextlib
import time

from ..context import CheckContext
from ..outcomes import BackendNoAnswer
from ..registry import check
from ..transport import WEBHOOK_ENDPOINTS, BackendClient, Exchange
from ._answers import describe_answer, error_fields
from ._leaks import leaks, secrets_of
from ._parameters import TOKEN_ENDPOINTS, client_endpoints, valid_params
from ._passcodes import refused_call
from .errors import MALFORMED_BODIES

#: SEC-2's numbers: throttled after at least this many consecutive failures ...
MIN_FAILURES = 5
#: ... and at most this many ...
MAX_FAILURES = 20
#: ... within this window, for a cool-down of at most this long (seconds).
WINDOW_S = 60.0
COOL_DOWN_S = 60.0


@check("SEC-1")
def nothing_secret_is_disclosed(ctx: CheckContext) -> None:
    """No answer (body or header) of any endpoint contains the API key secret, the auth
    token, the passcode or a stack trace, whatever the request: successes, authentication
    and input errors, malformed bodies, wrong methods, forged webhooks, Twilio failures.

    Passes: POST /create-stream with body "[" * 5000 answers 400 'invalid request body'.
    Fails: the same request answers 500 with "Traceback (most recent call last): File
    "app.py", line 42 ..." in the body.
    """
    secrets = secrets_of(ctx)
    answers: list[tuple[str, Exchange]] = []

    def keep(what: str, exchange: Exchange) -> None:
        answers.append((what, exchange))

    for endpoint in client_endpoints(ctx):
        keep(f"{endpoint} with {{}}", ctx.call(endpoint, {}))
        keep(
            f"{endpoint} naming an unknown stream", ctx.call(endpoint, valid_params(ctx, endpoint))
        )
        for label, body, content_type in MALFORMED_BODIES:
            keep(
                f"{endpoint} with {label}", ctx.call(endpoint, body=body, content_type=content_type)
            )
        for method in ("PUT", "DELETE"):
            keep(f"{method} {endpoint}", ctx.call(endpoint, None, method=method, body=b""))
    for passcode, who in (
        (None, "no passcode"),
        ("not-the-passcode", "a wrong passcode"),
        (f"Bearer {ctx.backend.passcode}", "a Bearer passcode"),
    ):
        keep(
            f"verify-passcode with {who}",
            refused_call(ctx, "verify-passcode", {}, passcode=passcode, what=who),
        )
    if ctx.expired_backend is not None:
        keep(
            "verify-passcode on the expired deployment",
            ctx.expired_backend.call("verify-passcode", {}),
        )
    for path in WEBHOOK_ENDPOINTS:
        form = {
            "StatusCallbackEvent": "participant-connected",
            "RoomSid": "RM" + "0" * 32,
            "ParticipantIdentity": "x",
            "EventType": "endpoint_disconnected",
        }
        keep(f"an unsigned {path} delivery", ctx.backend.post_webhook(path, form, signature=None))
        keep(
            f"a forged {path} delivery",
            ctx.backend.post_webhook(path, form, signature="bm90IGEgc2lnbmF0dXJl"),
        )
    if ctx.twilio is not None or ctx.has("delete-stream"):
        stream = ctx.new_stream()
        keep("create-stream", stream.create_response)
        for endpoint in ("join-stream-as-viewer", "join-stream-as-speaker"):
            keep(
                endpoint,
                ctx.call(endpoint, {"user_identity": ctx.identity(), "stream_name": stream.name}),
            )
        keep(
            "create-stream for a name in use",
            ctx.call(
                "create-stream", {"user_identity": ctx.identity("host"), "stream_name": stream.name}
            ),
        )
        if ctx.twilio is not None:
            with ctx.twilio.fault(
                product="sync",
                method="POST",
                path=r"/v1/Services",
                code=20500,
                status=500,
                message="Injected failure for a disclosure check",
            ):
                keep(
                    "create-stream while Twilio fails",
                    ctx.call("create-stream", valid_params(ctx, "create-stream")),
                )
    for what, exchange in answers:
        found = leaks(exchange, secrets)
        if found:
            ctx.fail(
                f"the answer to {what} ({exchange.status}) contains {', '.join(found)}",
                exchange=exchange,
            )
    ctx.note(f"{len(answers)} answers scanned")


def _throttled(exchange: Exchange) -> bool:
    return exchange.status == 429


@check("SEC-2", order=1)
def wrong_passcodes_are_throttled(ctx: CheckContext) -> None:
    """After at least 5 and at most 20 consecutive wrong passcodes within 60 s from one client
    address, the backend answers that address 429 'too many requests' (even with the right
    passcode) until a cool-down of at most 60 s has passed; then the passcode is accepted
    again. Runs after every other check (order=1): it throttles the suite's own address.

    Passes: the 11th wrong passcode answers 429 {"error": {"message": "too many requests",
    ...}} with Retry-After: 60; the right passcode answers 429 too, then 200 after the wait.
    Fails: 21 wrong passcodes in a row all answer 401; or the 3rd already answers 429 (a
    user mistyping is locked out); or the right passcode answers 200 while throttled.
    """
    attempts = 0
    first_429: Exchange | None = None
    for attempts in range(1, MAX_FAILURES + 2):
        exchange = ctx.call("verify-passcode", {}, passcode=f"wrong-{attempts}")
        if _throttled(exchange):
            first_429 = exchange
            break
    if first_429 is None:
        ctx.fail(
            f"{MAX_FAILURES + 1} consecutive wrong passcodes were all answered "
            f"{describe_answer(exchange)}; expected 429 at the latest after {MAX_FAILURES}",
            exchange=exchange,
        )
    if attempts <= MIN_FAILURES:
        ctx.fail(
            f"wrong passcode number {attempts} was answered 429 already, after only "
            f"{attempts - 1} failed attempts: at least {MIN_FAILURES} must be allowed before "
            "throttling (a user mistyping must not be locked out)",
            exchange=first_429,
            expected=f"401 for attempts 1 to {MIN_FAILURES}",
            actual=f"429 at attempt {attempts}",
        )
    throttled_at = time.monotonic()
    message, _ = error_fields(first_429)
    if message != "too many requests":
        ctx.fail(
            f"the throttled answer has message {message!r}, expected 'too many requests'",
            exchange=first_429,
        )
    retry_after = first_429.headers.get("retry-after")
    if retry_after is None:
        ctx.note("the 429 answer has no Retry-After header (recommended)")
    right = ctx.call("verify-passcode", {})
    if not _throttled(right):
        ctx.fail(
            f"while throttled, the right passcode answered {describe_answer(right)}, "
            "expected 429 (throttling must not reveal the passcode)",
            exchange=right,
        )
    ctx.note(f"throttled after {attempts - 1} wrong passcodes")
    wait = 0.5
    try:
        hinted = float(retry_after) if retry_after is not None else None
    except ValueError:
        hinted = None
    if hinted is not None and 0 < hinted <= COOL_DOWN_S:
        time.sleep(max(0.0, hinted - 0.5))
    deadline = throttled_at + COOL_DOWN_S + 2.0
    while True:
        answer = ctx.call("verify-passcode", {})
        if answer.status == 200:
            ctx.note(f"accepted again {time.monotonic() - throttled_at:.1f} s after the first 429")
            return
        if not _throttled(answer):
            ctx.fail(
                f"after the cool-down the right passcode answered "
                f"{describe_answer(answer)}, expected 200",
                exchange=answer,
                expected_success=True,
            )
        if time.monotonic() >= deadline:
            ctx.fail(
                f"the right passcode is still answered 429 {COOL_DOWN_S:g} s after "
                "throttling started (the cool-down is at most 60 s)",
                exchange=answer,
            )
        time.sleep(wait)
        wait = min(wait * 1.5, 3.0)


@check("SEC-3")
def token_answers_are_not_cacheable(ctx: CheckContext) -> None:
    """The answers of create-stream, join-stream-as-speaker and join-stream-as-viewer carry
    Cache-Control: no-store.

    Passes: create-stream answers 200 with "Cache-Control: no-store".
    Fails: join-stream-as-viewer answers 200 without Cache-Control, or with "private".
    """
    if ctx.twilio is None and not ctx.has("delete-stream"):
        ctx.skip("needs delete-stream or a view of Twilio to create and end a stream")
    stream = ctx.new_stream()
    answers = [("create-stream", stream.create_response)]
    for endpoint in TOKEN_ENDPOINTS[1:]:
        answers.append(
            (
                endpoint,
                ctx.call(endpoint, {"user_identity": ctx.identity(), "stream_name": stream.name}),
            )
        )
    for endpoint, exchange in answers:
        if exchange.status != 200:
            ctx.fail(
                f"{endpoint} answered {describe_answer(exchange)}, expected 200",
                exchange=exchange,
                expected_success=True,
            )
        values = exchange.headers.get_list("cache-control")
        directives = {
            part.strip().split("=", 1)[0].lower() for value in values for part in value.split(",")
        }
        if "no-store" not in directives:
            shown = ", ".join(values) if values else "no Cache-Control header"
            ctx.fail(
                f"{endpoint}'s token answer has {shown}, expected Cache-Control: no-store",
                exchange=exchange,
            )


#: The forwarded address SEC-4 claims from the throttled address (TEST-NET-2).
_SPOOFED_ADDRESS = "198.51.100.7"


def _throttle(client: BackendClient) -> tuple[int, Exchange]:
    """Wrong passcodes from ``client`` until one answers 429 (at most ``MAX_FAILURES + 1``):
    ``(attempts, last answer)``."""
    attempts = 0
    for attempts in range(1, MAX_FAILURES + 2):
        exchange = client.call("verify-passcode", {}, passcode=f"wrong-elsewhere-{attempts}")
        if _throttled(exchange):
            break
    return attempts, exchange


def _wait_until_accepted(client: BackendClient, limit: float) -> Exchange:
    """Poll verify-passcode (the right passcode) from ``client`` while it answers 429, for
    at most ``limit`` seconds; the last answer."""
    deadline = time.monotonic() + limit
    wait = 0.25
    while True:
        answer = client.call("verify-passcode", {})
        if not _throttled(answer) or time.monotonic() >= deadline:
            return answer
        time.sleep(wait)
        wait = min(wait * 1.5, 3.0)


@check("SEC-4", order=1)
def the_throttle_locks_out_only_the_failing_address(ctx: CheckContext) -> None:
    """While a second client address of the suite is throttled (SEC-2), the suite's own
    address is answered as without the throttle: the right passcode answers 200 and a wrong
    one 401, not 429; and the throttled address stays throttled when it claims another
    address in X-Forwarded-For (only a trusted proxy's forwarded address is believed). Needs
    a second address: the embedded run's, or 127.0.0.2 for a backend on loopback; skipped
    elsewhere. Runs after every other check (order=1).

    Passes: after 11 wrong passcodes from 127.0.0.2 it answers 429 'too many requests',
    while 127.0.0.1 gets 200 {"verified": true} with the right passcode.
    Fails: 127.0.0.1 gets 429 too (the throttle is keyed on a constant, the proxy's address
    or the whole deployment), or 127.0.0.2 gets 200 by sending "X-Forwarded-For:
    198.51.100.7".
    """
    other, address = ctx.backend_from_another_address()
    try:
        probe = other.call("verify-passcode", {})
    except BackendNoAnswer as exc:
        ctx.skip(f"needs a second client address, but the suite cannot send from {address}: {exc}")
    if _throttled(probe):  # e.g. left so by an earlier run: wait for its cool-down
        probe = _wait_until_accepted(other, COOL_DOWN_S + 2.0)
    if probe.status != 200:
        ctx.fail(
            f"before any failed attempt from {address}, the right passcode from there answered "
            f"{describe_answer(probe)}, expected 200",
            exchange=probe,
            expected_success=True,
        )
    attempts, first_429 = _throttle(other)
    if not _throttled(first_429):
        ctx.note(
            f"{address} was not throttled after {attempts} wrong passcodes (SEC-2's "
            "failure): there is no throttle whose scope could be judged"
        )
        return

    def leave_own_address_usable() -> None:
        # a throttle keyed on more than the address would lock out the rest of the run
        with contextlib.suppress(BackendNoAnswer):
            _wait_until_accepted(ctx.unrecorded_backend, COOL_DOWN_S + 2.0)

    ctx.cleanup(leave_own_address_usable)
    right = ctx.call("verify-passcode", {})
    if right.status != 200:
        ctx.fail(
            f"while {address} is throttled (after {attempts - 1} wrong passcodes from it), the "
            f"right passcode from the suite's own address answered {describe_answer(right)}, "
            "expected 200: the throttle locks out addresses that made no failed attempt",
            exchange=right,
            expected=200,
            actual=right.status,
            expected_success=True,
        )
    wrong = ctx.call("verify-passcode", {}, passcode="wrong-here")
    restored = ctx.call("verify-passcode", {})
    for what, answer in (("a wrong", wrong), ("then the right", restored)):
        if _throttled(answer):
            ctx.fail(
                f"while {address} is throttled, {what} passcode from the suite's own address "
                f"answered {describe_answer(answer)}, expected what it answers without the "
                "throttle",
                exchange=answer,
            )
    spoofed = other.call("verify-passcode", {}, headers={"X-Forwarded-For": _SPOOFED_ADDRESS})
    still = other.call("verify-passcode", {})
    if not _throttled(still):
        ctx.skip(
            f"{address}'s throttle lifted within moments (its right passcode answered "
            f"{describe_answer(still)}), before the forwarded-address case could be judged"
        )
    if not _throttled(spoofed):
        ctx.fail(
            f"throttled {address} got {describe_answer(spoofed)} with the right passcode by "
            f"sending X-Forwarded-For: {_SPOOFED_ADDRESS}, expected 429: a forwarded address "
            "is believed only from a trusted proxy",
            exchange=spoofed,
        )
    ctx.note(f"{address} throttled after {attempts - 1} wrong passcodes; the suite's own not")
