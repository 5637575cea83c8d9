"""Configuration of the reference backend: one frozen :class:`Settings`, validated at start.

A :class:`Settings` is built directly (tests), from a mapping of raw values
(:meth:`Settings.from_mapping`, used by the CLI to merge flags over the environment) or from the
environment (:meth:`Settings.from_env`). Every problem is collected and reported at once in a
:class:`SettingsError` (one readable line per missing or bad value); nothing is checked lazily.

Where values come from in the environment (``LIVE_BACKEND_*`` or the original backend's
names): :mod:`reference_backend.environment`.

Secrets (auth token, API key secret, passcode) never appear in ``repr()``.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from .environment import ENV_VARS, env_values

__all__ = [
    "DEFAULT_PASSCODE_LIFETIME",
    "Settings",
    "SettingsError",
    "generate_passcode",
]

DEFAULT_PASSCODE_LIFETIME = timedelta(days=7)
_REQUIRED = ("account_sid", "auth_token", "api_key_sid", "api_key_secret", "public_url")
_SID_RE = {prefix: re.compile(rf"^{prefix}[0-9a-f]{{32}}$") for prefix in ("AC", "SK", "IS")}
_CONTROL_RE = re.compile(r"[\x00-\x20\x7f-\x9f]")


class SettingsError(ValueError):
    """Invalid configuration; ``problems`` holds one readable line per bad or missing value."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def generate_passcode() -> str:
    """A fresh passcode: 14 decimal digits (6 + 8, the length of the original's), from
    :mod:`secrets`."""
    return "".join(secrets.choice("0123456789") for _ in range(14))


def _default_expiry() -> datetime:
    return datetime.now(UTC) + DEFAULT_PASSCODE_LIFETIME


@dataclass(frozen=True)
class Settings:
    """Everything the backend needs; validated on construction (raises :class:`SettingsError`).

    ``public_url`` is the base URL Twilio calls back (webhooks are registered as
    ``<public_url>/rooms-webhook`` and ``<public_url>/sync-webhook`` and their signatures are
    checked against those URLs); it is stored without a trailing slash.
    """

    account_sid: str
    auth_token: str = field(repr=False)
    api_key_sid: str
    api_key_secret: str = field(repr=False)
    public_url: str
    passcode: str = field(default_factory=generate_passcode, repr=False)
    passcode_expires_at: datetime = field(default_factory=_default_expiry)
    chat_enabled: bool = True
    twilio_url: str | None = None
    twilio_timeout: float = 10.0
    twilio_attempts: int = 3
    twilio_retry_base: float = 0.1
    throttle_max_failures: int = 10
    throttle_window: float = 60.0
    backend_storage_service_sid: str | None = None
    conversations_service_sid: str | None = None
    form_body: bool = True
    get_query: bool = True
    media_max_duration: int = 14400
    token_ttl: int = 14400
    trusted_proxies: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        if self.twilio_url is not None:
            object.__setattr__(self, "twilio_url", self.twilio_url.rstrip("/"))
        problems = _problems(dataclasses.asdict(self))
        if problems:
            raise SettingsError(problems)

    # -- builders -------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Build from field-name keyed values, each a typed value or its string form.

        ``None`` or an absent key means "not given" (the default applies; required values are
        reported missing). Strings are parsed: booleans ``true/false/1/0/yes/no``, numbers,
        ISO-8601 date-times (an offset is required). All problems are reported together.
        """
        parsed: dict[str, Any] = {}
        problems: list[str] = []
        for spec in dataclasses.fields(cls):
            raw = values.get(spec.name)
            if raw is None:
                continue
            try:
                parsed[spec.name] = _PARSERS.get(spec.name, _text)(raw)
            except ValueError as exc:
                problems.append(f"{spec.name}: {exc}")
        for name in _REQUIRED:
            if name not in parsed and not any(p.startswith(f"{name}:") for p in problems):
                problems.append(f"{name}: missing (set {' or '.join(ENV_VARS[name])})")
        if problems:
            complete = {**_placeholders(), **parsed}
            problems += [p for p in _problems(complete) if p.split(":", 1)[0] in parsed]
            raise SettingsError(problems)
        return cls(**parsed)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Build from environment variables (see the module docstring), then ``overrides``
        (field name -> value; ``None`` values are ignored)."""
        values = env_values(environ)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_mapping(values)

    def webhook_url(self, path: str) -> str:
        """The public URL Twilio is given for ``path`` (e.g. ``"rooms-webhook"``)."""
        return f"{self.public_url}/{path.lstrip('/')}"


# -- parsing ----------------------------------------------------------------------------------
def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"expected a string, got {type(raw).__name__}")
    return raw


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"{raw!r} is not a boolean (true or false)")


def _number(kind: Callable[[str], Any]) -> Callable[[Any], Any]:
    def parse(raw: Any) -> Any:
        if isinstance(raw, bool):
            raise ValueError(f"{raw!r} is not a number")
        if isinstance(raw, int | float) and kind is float:
            return float(raw)
        if isinstance(raw, int) and kind is int:
            return raw
        try:
            return kind(str(raw).strip())
        except ValueError:
            raise ValueError(
                f"{raw!r} is not {'an integer' if kind is int else 'a number'}"
            ) from None

    return parse


def _datetime(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        return raw
    text = str(raw).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{raw!r} is not an ISO-8601 date-time") from None
    if value.tzinfo is None:
        raise ValueError(f"{raw!r} has no UTC offset (add Z or +hh:mm)")
    return value


def _optional_text(raw: Any) -> str | None:
    text = _text(raw).strip()
    return text or None


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "passcode_expires_at": _datetime,
    "chat_enabled": _boolean,
    "form_body": _boolean,
    "get_query": _boolean,
    "twilio_url": _optional_text,
    "backend_storage_service_sid": _optional_text,
    "conversations_service_sid": _optional_text,
    "twilio_timeout": _number(float),
    "twilio_retry_base": _number(float),
    "throttle_window": _number(float),
    "twilio_attempts": _number(int),
    "throttle_max_failures": _number(int),
    "media_max_duration": _number(int),
    "token_ttl": _number(int),
    "trusted_proxies": _number(int),
}


# -- validation -------------------------------------------------------------------------------
def _placeholders() -> dict[str, Any]:
    """Valid stand-ins, so values that parsed can be validated while others are missing."""
    return {
        "account_sid": "AC" + "0" * 32,
        "auth_token": "x",
        "api_key_sid": "SK" + "0" * 32,
        "api_key_secret": "x",
        "public_url": "https://example.invalid",
        "passcode": "0",
        "passcode_expires_at": _default_expiry(),
        **{
            f.name: f.default
            for f in dataclasses.fields(Settings)
            if f.default is not dataclasses.MISSING
        },
    }


def _url_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{value!r} is not an http(s) URL"
    if parts.query or parts.fragment:
        return f"{value!r} must not have a query or a fragment"
    return None


def _problems(values: Mapping[str, Any]) -> list[str]:
    """Every problem of a complete set of typed values, one line each."""
    problems: list[str] = []

    def check(name: str, ok: bool, message: str) -> None:
        if not ok:
            problems.append(f"{name}: {message}")

    for name, prefix in (("account_sid", "AC"), ("api_key_sid", "SK")):
        value = values[name]
        check(
            name,
            isinstance(value, str) and bool(_SID_RE[prefix].match(value)),
            f"{value!r} is not {prefix} followed by 32 lowercase hex digits",
        )
    for name in ("backend_storage_service_sid", "conversations_service_sid"):
        value = values[name]
        check(
            name,
            value is None or (isinstance(value, str) and bool(_SID_RE["IS"].match(value))),
            f"{value!r} is not IS followed by 32 lowercase hex digits",
        )
    for name in ("auth_token", "api_key_secret"):
        check(name, isinstance(values[name], str) and values[name] != "", "must not be empty")
    passcode = values["passcode"]
    check(
        "passcode",
        isinstance(passcode, str) and passcode != "" and not _CONTROL_RE.search(passcode),
        "must be a non-empty string without spaces or control characters",
    )
    url_problem = _url_problem(values["public_url"])
    check("public_url", url_problem is None, url_problem or "")
    if values["twilio_url"] is not None:
        url_problem = _url_problem(values["twilio_url"])
        check("twilio_url", url_problem is None, url_problem or "")
    expires = values["passcode_expires_at"]
    check(
        "passcode_expires_at",
        isinstance(expires, datetime) and expires.tzinfo is not None,
        "must be a timezone-aware datetime",
    )
    for name in ("chat_enabled", "form_body", "get_query"):
        check(name, isinstance(values[name], bool), "must be true or false")
    for name, low in (("twilio_timeout", 0.0), ("throttle_window", 0.0)):
        value = values[name]
        check(
            name,
            _is_number(value) and value > low,
            f"{value!r} must be a number above {low:g}",
        )
    check(
        "twilio_retry_base",
        _is_number(values["twilio_retry_base"]) and values["twilio_retry_base"] >= 0,
        "must be a number of seconds >= 0",
    )
    for name, low, high in (
        ("twilio_attempts", 1, 10),
        ("throttle_max_failures", 1, 1_000_000),
        ("media_max_duration", 1, 90_000),
        ("token_ttl", 1, 86_400),
        ("trusted_proxies", 0, 10),
    ):
        value = values[name]
        check(
            name,
            isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
            f"{value!r} must be an integer from {low} to {high}",
        )
    return problems


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
