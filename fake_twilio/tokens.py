"""Verification of Twilio access tokens, as Twilio's edge does before a client may connect.

An access token (``twilio.jwt.access_token.AccessToken.to_jwt()``) is a JWT signed with HS256
using an API key's secret. Its header carries ``cty: twilio-fpa;v=1`` (and ``twr`` when a
region was given); its payload carries ``iss`` (the API key SID), ``sub`` (the account SID),
``nbf``, ``exp``, ``jti`` and ``grants`` (``identity`` plus one object per product grant).

:func:`verify_access_token` checks, in this order, and raises a :class:`TwilioError` with HTTP
status 401 naming precisely what is wrong:

=====  ============================================================================
20101  not a JWT at all (not three base64url segments, undecodable JSON, payload not an
       object), or a claim with the wrong type
20102  header: ``alg`` is not ``HS256``, ``typ`` is present but not ``JWT``, or ``cty`` is not
       ``twilio-fpa;v=1``
20103  ``iss`` is not an API key SID the fake knows, or ``sub`` is not that key's account
20107  the signature does not verify with that key's secret
20104  ``exp`` is missing or not a number, or is at or before the fake clock's now
20105  ``nbf`` is after now (beyond :data:`NBF_LEEWAY_SECONDS`)
20157  the token's lifetime (``exp`` minus ``nbf``, else ``iat``, else now) exceeds 24 hours
20106  ``grants`` is missing or not an object, or carries no ``identity`` when one is required
=====  ============================================================================

Time comes from the fake's clock, so freezing and advancing it makes tokens expire
deterministically. ``nbf`` is allowed a few seconds of clock skew because tokens minted by a
backend use the wall clock (``int(time.time())``) while the fake clock may have been frozen a
moment earlier; ``exp`` gets no leeway. How much skew real Twilio tolerates is not documented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jwt

from .core.clock import format_datetime
from .core.errors import TwilioError
from .core.jsontext import loads

if TYPE_CHECKING:
    from .core.state import FakeState

TOKEN_CONTENT_TYPE = "twilio-fpa;v=1"
ALGORITHM = "HS256"
MAX_LIFETIME_SECONDS = 24 * 60 * 60
NBF_LEEWAY_SECONDS = 5.0

# The keys of ``grants`` each product's client SDK looks for.
GRANT_KEYS = {
    "video": "video",
    "sync": "data_sync",
    "chat": "chat",
    "player": "player",
    "voice": "voice",
    "task_router": "task_router",
}


@dataclass(frozen=True)
class VerifiedToken:
    """What a verified access token says: who, for which account, allowed to do what, until when."""

    identity: str | None
    account_sid: str
    api_key_sid: str
    grants: dict[str, Any]
    expires_at: datetime
    not_before: datetime | None
    issued_at: datetime | None = None
    jti: str | None = None
    region: str | None = None
    header: dict[str, Any] = field(default_factory=dict, repr=False)

    def grant(self, key: str) -> Any:
        """The grant under ``key`` (``video``, ``data_sync``, ``chat``, ``player``...) or None."""
        return self.grants.get(key)

    def as_dict(self) -> dict[str, Any]:
        """A JSON view (dates in Twilio's format)."""
        return {
            "identity": self.identity,
            "account_sid": self.account_sid,
            "api_key_sid": self.api_key_sid,
            "grants": self.grants,
            "expires_at": format_datetime(self.expires_at),
            "not_before": format_datetime(self.not_before),
            "issued_at": format_datetime(self.issued_at),
            "jti": self.jti,
            "region": self.region,
        }


def token_error(code: int, detail: str) -> TwilioError:
    """A 401 access-token error with Twilio's title followed by the precise reason."""
    titles = {
        20101: "Invalid Access Token",
        20102: "Invalid Access Token header",
        20103: "Invalid Access Token issuer/subject",
        20104: "Access Token expired or expiration date invalid",
        20105: "Access Token not yet valid",
        20106: "Invalid Access Token grants",
        20107: "Invalid Access Token signature",
        20157: "Expiration Time Exceeds Maximum Time Allowed",
    }
    return TwilioError(code, f"{titles.get(code, 'Invalid Access Token')}: {detail}", 401)


def verify_access_token(
    state: FakeState,
    token: str,
    *,
    now: datetime | None = None,
    require_identity: bool = True,
) -> VerifiedToken:
    """Verify ``token`` against the fake's API keys and clock; see the module docstring.

    ``now`` defaults to the fake clock's current time. With ``require_identity`` (the default,
    since every client SDK that takes a token needs one) a token without ``grants.identity``
    is refused with 20106. Never changes any state.
    """
    if not isinstance(token, str) or not token.strip():
        raise token_error(20101, "the token is empty or not a string")
    token = token.strip()
    if token.count(".") != 2:
        raise token_error(20101, "the token is not a JWT (expected three dot-separated parts)")
    header = _header(token)
    payload = _unverified_payload(token)

    issuer = payload.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise token_error(20103, "the 'iss' claim (the API key SID) is missing")
    owned = state.accounts.key(issuer)
    if owned is None:
        raise token_error(20103, f"the issuer {issuer!r} is not a known API key")
    account_sid, secret = owned
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject:
        raise token_error(20103, "the 'sub' claim (the account SID) is missing")
    if subject != account_sid:
        raise token_error(
            20103, f"the subject {subject!r} is not the account that owns API key {issuer}"
        )

    try:
        jwt.PyJWS().decode(token, secret, algorithms=[ALGORITHM])
    except jwt.InvalidSignatureError:
        raise token_error(
            20107, f"the signature does not match the secret of API key {issuer}"
        ) from None
    except jwt.PyJWTError as exc:
        raise token_error(20101, f"the token cannot be decoded ({exc})") from None

    current = (now or state.clock.now()).astimezone(UTC)
    current_ts = current.timestamp()
    expires = payload.get("exp")
    if not _is_number(expires):
        raise token_error(20104, "the 'exp' claim is missing or not a number")
    not_before = payload.get("nbf")
    if not_before is not None and not _is_number(not_before):
        raise token_error(20101, "the 'nbf' claim is not a number")
    issued = payload.get("iat")
    if issued is not None and not _is_number(issued):
        raise token_error(20101, "the 'iat' claim is not a number")
    if expires <= current_ts:
        raise token_error(
            20104,
            f"the token expired at {_iso(expires)} "
            f"(the fake clock says {format_datetime(current)})",
        )
    if not_before is not None and not_before > current_ts + NBF_LEEWAY_SECONDS:
        raise token_error(
            20105,
            f"the token is not valid before {_iso(not_before)} "
            f"(the fake clock says {format_datetime(current)})",
        )
    if not_before is not None:
        start = not_before
    else:  # a future iat cannot shorten the lifetime that counts
        start = min(issued, current_ts) if issued is not None else current_ts
    if expires - start > MAX_LIFETIME_SECONDS:
        raise token_error(
            20157,
            f"the token is valid for {int(expires - start)} s, more than the maximum of "
            f"{MAX_LIFETIME_SECONDS} s (24 hours)",
        )

    grants = payload.get("grants")
    if not isinstance(grants, dict):
        raise token_error(20106, "the 'grants' claim is missing or not an object")
    identity = grants.get("identity")
    if identity is not None and (not isinstance(identity, str) or not identity):
        raise token_error(20106, "grants.identity must be a non-empty string")
    if require_identity and identity is None:
        raise token_error(20106, "the token has no identity (grants.identity)")
    jti = payload.get("jti")
    try:
        issued_at = _datetime(issued) if issued is not None else None
    except (OverflowError, OSError, ValueError):
        raise token_error(20101, "the 'iat' claim is out of range") from None
    return VerifiedToken(
        identity=identity,
        account_sid=account_sid,
        api_key_sid=issuer,
        grants=grants,
        expires_at=_datetime(expires),
        not_before=_datetime(not_before) if not_before is not None else None,
        issued_at=issued_at,
        jti=jti if isinstance(jti, str) else None,
        region=header.get("twr") if isinstance(header.get("twr"), str) else None,
        header=header,
    )


def _header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise token_error(20101, f"the header cannot be decoded ({exc})") from None
    algorithm = header.get("alg")
    if algorithm != ALGORITHM:
        raise token_error(20102, f"the algorithm is {algorithm!r}; only {ALGORITHM} is accepted")
    if "typ" in header and header["typ"] != "JWT":
        raise token_error(20102, f"the type is {header['typ']!r}; expected 'JWT'")
    content_type = header.get("cty")
    if content_type != TOKEN_CONTENT_TYPE:
        raise token_error(
            20102, f"the content type (cty) is {content_type!r}; expected {TOKEN_CONTENT_TYPE!r}"
        )
    return header


def _unverified_payload(token: str) -> dict[str, Any]:
    try:
        raw = jwt.PyJWS().decode_complete(token, options={"verify_signature": False})["payload"]
        payload = loads(raw)
    except (jwt.PyJWTError, ValueError, UnicodeDecodeError) as exc:
        raise token_error(20101, f"the payload cannot be decoded ({exc})") from None
    if not isinstance(payload, dict):
        raise token_error(20101, "the payload is not a JSON object")
    return payload


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _iso(timestamp: float) -> str:
    try:
        return format_datetime(_datetime(timestamp)) or str(timestamp)
    except (OverflowError, OSError, ValueError):
        return str(timestamp)
