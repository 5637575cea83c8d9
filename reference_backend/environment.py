"""Where the backend's settings come from in the environment.

For each setting the first variable set (non-empty) wins; the original Node backend's names are
accepted as fallbacks so an existing ``.env`` keeps working. Values are returned raw (strings,
except the conversions of the legacy ``APP_EXPIRY`` and ``DISABLE_CHAT``); they are parsed and
validated by :class:`reference_backend.settings.Settings`.

=====================================  =============================================  ==========
setting                                variables                                      default
=====================================  =============================================  ==========
account_sid (AC + 32 hex)              LIVE_BACKEND_ACCOUNT_SID, TWILIO_ACCOUNT_SID,   required
                                       ACCOUNT_SID
auth_token                             LIVE_BACKEND_AUTH_TOKEN, TWILIO_AUTH_TOKEN,     required
                                       AUTH_TOKEN
api_key_sid (SK + 32 hex)              LIVE_BACKEND_API_KEY_SID, TWILIO_API_KEY_SID    required
api_key_secret                         LIVE_BACKEND_API_KEY_SECRET,                    required
                                       TWILIO_API_KEY_SECRET
public_url (base URL Twilio calls)     LIVE_BACKEND_PUBLIC_URL, DOMAIN_NAME (host     required
                                       only; ``https://`` is prepended)
passcode                               LIVE_BACKEND_PASSCODE, PASSCODE                 14 random
                                                                                      digits
passcode_expires_at (ISO-8601 with     LIVE_BACKEND_PASSCODE_EXPIRES_AT, APP_EXPIRY    now + 7 d
offset; APP_EXPIRY: ms since epoch)
chat_enabled (true/false)              LIVE_BACKEND_CHAT_ENABLED; DISABLE_CHAT=true    true
                                       turns chat off
twilio_url (a fake server; unset =     LIVE_BACKEND_TWILIO_URL                         real
real Twilio)                                                                           Twilio
twilio_timeout (s)                     LIVE_BACKEND_TWILIO_TIMEOUT                     10
twilio_attempts / twilio_retry_base    LIVE_BACKEND_TWILIO_ATTEMPTS,                   3 / 0.1 s
(s, doubled per retry)                 LIVE_BACKEND_TWILIO_RETRY_BASE
throttle_max_failures /                LIVE_BACKEND_THROTTLE_MAX_FAILURES,             10 / 60 s
throttle_window (s)                    LIVE_BACKEND_THROTTLE_WINDOW
backend_storage_service_sid            LIVE_BACKEND_STORAGE_SERVICE_SID,               provisioned
                                       BACKEND_STORAGE_SYNC_SERVICE_SID
conversations_service_sid              LIVE_BACKEND_CONVERSATIONS_SERVICE_SID,         provisioned
                                       CONVERSATIONS_SERVICE_SID
form_body / get_query (true/false)     LIVE_BACKEND_FORM_BODY, LIVE_BACKEND_GET_QUERY  true
media_max_duration (s)                 LIVE_BACKEND_MEDIA_MAX_DURATION                 14400
token_ttl (s)                          LIVE_BACKEND_TOKEN_TTL                          14400
trusted_proxies (X-Forwarded-For hops) LIVE_BACKEND_TRUSTED_PROXIES                    0
=====================================  =============================================  ==========
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["ENV_VARS", "env_values", "has_credentials"]

ENV_VARS: dict[str, tuple[str, ...]] = {
    "account_sid": ("LIVE_BACKEND_ACCOUNT_SID", "TWILIO_ACCOUNT_SID", "ACCOUNT_SID"),
    "auth_token": ("LIVE_BACKEND_AUTH_TOKEN", "TWILIO_AUTH_TOKEN", "AUTH_TOKEN"),
    "api_key_sid": ("LIVE_BACKEND_API_KEY_SID", "TWILIO_API_KEY_SID"),
    "api_key_secret": ("LIVE_BACKEND_API_KEY_SECRET", "TWILIO_API_KEY_SECRET"),
    "public_url": ("LIVE_BACKEND_PUBLIC_URL",),
    "passcode": ("LIVE_BACKEND_PASSCODE", "PASSCODE"),
    "passcode_expires_at": ("LIVE_BACKEND_PASSCODE_EXPIRES_AT",),
    "chat_enabled": ("LIVE_BACKEND_CHAT_ENABLED",),
    "twilio_url": ("LIVE_BACKEND_TWILIO_URL",),
    "twilio_timeout": ("LIVE_BACKEND_TWILIO_TIMEOUT",),
    "twilio_attempts": ("LIVE_BACKEND_TWILIO_ATTEMPTS",),
    "twilio_retry_base": ("LIVE_BACKEND_TWILIO_RETRY_BASE",),
    "throttle_max_failures": ("LIVE_BACKEND_THROTTLE_MAX_FAILURES",),
    "throttle_window": ("LIVE_BACKEND_THROTTLE_WINDOW",),
    "backend_storage_service_sid": (
        "LIVE_BACKEND_STORAGE_SERVICE_SID",
        "BACKEND_STORAGE_SYNC_SERVICE_SID",
    ),
    "conversations_service_sid": (
        "LIVE_BACKEND_CONVERSATIONS_SERVICE_SID",
        "CONVERSATIONS_SERVICE_SID",
    ),
    "form_body": ("LIVE_BACKEND_FORM_BODY",),
    "get_query": ("LIVE_BACKEND_GET_QUERY",),
    "media_max_duration": ("LIVE_BACKEND_MEDIA_MAX_DURATION",),
    "token_ttl": ("LIVE_BACKEND_TOKEN_TTL",),
    "trusted_proxies": ("LIVE_BACKEND_TRUSTED_PROXIES",),
}
"""Environment variables read for each setting, in priority order."""

_CREDENTIALS = ("account_sid", "auth_token", "api_key_sid", "api_key_secret")


def env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    """Raw setting values found in ``environ`` (field name -> string), legacy names included."""
    values: dict[str, Any] = {}
    for name, variables in ENV_VARS.items():
        for variable in variables:
            if environ.get(variable, "") != "":
                values[name] = environ[variable]
                break
    if "public_url" not in values and environ.get("DOMAIN_NAME"):
        values["public_url"] = "https://" + environ["DOMAIN_NAME"]
    if "passcode_expires_at" not in values and environ.get("APP_EXPIRY"):
        values["passcode_expires_at"] = _from_millis(environ["APP_EXPIRY"])
    if "chat_enabled" not in values and environ.get("DISABLE_CHAT"):
        values["chat_enabled"] = environ["DISABLE_CHAT"].strip().lower() != "true"
    return values


def _from_millis(raw: str) -> datetime | str:
    """``APP_EXPIRY`` (ms since the epoch) as a datetime; a value that is not such a number,
    or is out of the datetime range, is returned as it is, for the settings to report it."""
    try:
        return datetime.fromtimestamp(int(raw) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return raw


def has_credentials(environ: Mapping[str, str]) -> bool:
    """Whether ``environ`` names any Twilio credential (then the CLI talks to real Twilio)."""
    return any(name in env_values(environ) for name in _CREDENTIALS)
