"""Reading the backend's answers leniently: error fields, a short description, the expected
failure or success, and the claims of a token in a success body.

Private to :mod:`conformance.checks`. The rule these follow is the rule of the checks: assert
only what the requirement at hand says. Reading an error ``message`` is therefore lenient (any
JSON body with ``error.message``): whether the body is exactly the error envelope is ERR-1's
business, not every check's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..transport import Exchange

if TYPE_CHECKING:
    from ..context import CheckContext


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
        ctx.fail(
            f"{what}: answered {describe_answer(exchange)}, expected 200",
            exchange=exchange,
            expected_success=True,
        )
    return exchange.json


def without_token(body: Any) -> Any:
    """A success body without its (freshly issued, so always different) token."""
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k != "token"}
    return body


def expect_2xx(ctx: CheckContext, exchange: Exchange, what: str) -> None:
    if not exchange.ok:
        ctx.fail(
            f"{what}: answered {describe_answer(exchange)}, expected 2xx",
            exchange=exchange,
            expected="2xx",
            actual=exchange.status,
            expected_success=True,
        )


# -- tokens in success bodies ----------------------------------------------------------------
def claims_of(ctx: CheckContext, token: Any) -> dict[str, Any]:
    """The token's payload, decoded without verifying anything (TOK-1 verifies)."""
    _, claims = ctx.decode_token(token, verify=False)
    return claims


def grants_of(ctx: CheckContext, token: Any) -> dict[str, Any]:
    grants = claims_of(ctx, token).get("grants")
    return grants if isinstance(grants, dict) else {}
