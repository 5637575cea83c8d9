"""Settings: construction, environment variables, and one readable problem per bad value."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reference_backend import Settings, SettingsError

from .conftest import CREDENTIALS

ENV = {
    "TWILIO_ACCOUNT_SID": CREDENTIALS.account_sid,
    "TWILIO_AUTH_TOKEN": CREDENTIALS.auth_token,
    "TWILIO_API_KEY_SID": CREDENTIALS.api_key_sid,
    "TWILIO_API_KEY_SECRET": CREDENTIALS.api_key_secret,
    "LIVE_BACKEND_PUBLIC_URL": "https://live.example.com/",
}


def base(**changes: Any) -> dict[str, Any]:
    return {**CREDENTIALS.as_dict(), "public_url": "https://live.example.com", **changes}


def test_defaults() -> None:
    settings = Settings(**base())
    assert settings.passcode.isdigit() and len(settings.passcode) == 14
    assert Settings(**base()).passcode != settings.passcode
    lifetime = settings.passcode_expires_at - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < lifetime <= timedelta(days=7)
    assert settings.chat_enabled and settings.form_body and settings.get_query
    assert settings.twilio_url is None
    assert (settings.twilio_timeout, settings.twilio_attempts, settings.twilio_retry_base) == (
        10.0,
        3,
        0.1,
    )
    assert (settings.throttle_max_failures, settings.throttle_window) == (10, 60.0)
    assert settings.webhook_url("rooms-webhook") == "https://live.example.com/rooms-webhook"


def test_secrets_are_not_in_repr() -> None:
    settings = Settings(**base(passcode="98765432109876"))
    text = repr(settings)
    for secret in ("98765432109876", CREDENTIALS.auth_token, CREDENTIALS.api_key_secret):
        assert secret not in text
    assert CREDENTIALS.account_sid in text


def test_settings_are_frozen() -> None:
    settings = Settings(**base())
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.passcode = "1"  # type: ignore[misc]


def test_from_env_with_the_original_names() -> None:
    env = {
        "ACCOUNT_SID": CREDENTIALS.account_sid,
        "AUTH_TOKEN": CREDENTIALS.auth_token,
        "TWILIO_API_KEY_SID": CREDENTIALS.api_key_sid,
        "TWILIO_API_KEY_SECRET": CREDENTIALS.api_key_secret,
        "DOMAIN_NAME": "live-1234-5678-dev.twil.io",
        "PASSCODE": "12345612345678",
        "APP_EXPIRY": "1893456000000",
        "DISABLE_CHAT": "true",
        "CONVERSATIONS_SERVICE_SID": "IS" + "a" * 32,
        "BACKEND_STORAGE_SYNC_SERVICE_SID": "IS" + "b" * 32,
    }
    settings = Settings.from_env(env)
    assert settings.public_url == "https://live-1234-5678-dev.twil.io"
    assert settings.passcode == "12345612345678"
    assert settings.passcode_expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert settings.chat_enabled is False
    assert settings.conversations_service_sid == "IS" + "a" * 32
    assert settings.backend_storage_service_sid == "IS" + "b" * 32


def test_from_env_with_our_names_and_overrides() -> None:
    env = {
        **ENV,
        "LIVE_BACKEND_ACCOUNT_SID": "AC" + "c" * 32,
        "LIVE_BACKEND_PASSCODE_EXPIRES_AT": "2031-02-03T04:05:06Z",
        "LIVE_BACKEND_TWILIO_TIMEOUT": "2.5",
        "LIVE_BACKEND_TWILIO_ATTEMPTS": "5",
        "LIVE_BACKEND_THROTTLE_MAX_FAILURES": "20",
        "LIVE_BACKEND_FORM_BODY": "false",
        "LIVE_BACKEND_GET_QUERY": "no",
        "LIVE_BACKEND_TWILIO_URL": "http://127.0.0.1:9000/",
    }
    settings = Settings.from_env(env, passcode="42", chat_enabled=None)
    assert settings.account_sid == "AC" + "c" * 32
    assert settings.public_url == "https://live.example.com"
    assert settings.passcode_expires_at == datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert (settings.twilio_timeout, settings.twilio_attempts) == (2.5, 5)
    assert settings.throttle_max_failures == 20
    assert (settings.form_body, settings.get_query, settings.chat_enabled) == (False, False, True)
    assert settings.twilio_url == "http://127.0.0.1:9000"
    assert settings.passcode == "42"


def test_every_missing_value_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({})
    problems = raised.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "account_sid",
        "auth_token",
        "api_key_sid",
        "api_key_secret",
        "public_url",
    ]
    assert all("missing (set " in p for p in problems)
    assert "TWILIO_ACCOUNT_SID" in problems[0]


@pytest.mark.parametrize(
    ("variable", "value", "field"),
    [
        ("LIVE_BACKEND_ACCOUNT_SID", "AC123", "account_sid"),
        ("TWILIO_API_KEY_SID", "AC" + "0" * 32, "api_key_sid"),
        ("LIVE_BACKEND_PUBLIC_URL", "ftp://example.com", "public_url"),
        ("LIVE_BACKEND_PUBLIC_URL", "https://example.com/?x=1", "public_url"),
        ("LIVE_BACKEND_PASSCODE_EXPIRES_AT", "tomorrow", "passcode_expires_at"),
        ("LIVE_BACKEND_PASSCODE_EXPIRES_AT", "2030-01-01T00:00:00", "passcode_expires_at"),
        ("LIVE_BACKEND_TWILIO_TIMEOUT", "0", "twilio_timeout"),
        ("LIVE_BACKEND_TWILIO_TIMEOUT", "soon", "twilio_timeout"),
        ("LIVE_BACKEND_TWILIO_ATTEMPTS", "0", "twilio_attempts"),
        ("LIVE_BACKEND_THROTTLE_WINDOW", "-1", "throttle_window"),
        ("LIVE_BACKEND_CHAT_ENABLED", "maybe", "chat_enabled"),
        ("LIVE_BACKEND_TWILIO_URL", "not a url", "twilio_url"),
        ("LIVE_BACKEND_STORAGE_SERVICE_SID", "MP" + "0" * 32, "backend_storage_service_sid"),
        ("LIVE_BACKEND_PASSCODE", "with space", "passcode"),
        ("LIVE_BACKEND_MEDIA_MAX_DURATION", "90001", "media_max_duration"),
        ("APP_EXPIRY", "99999999999999999999", "passcode_expires_at"),  # beyond year 9999
        ("APP_EXPIRY", "-99999999999999999999", "passcode_expires_at"),
    ],
)
def test_bad_values_are_named(variable: str, value: str, field: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**ENV, variable: value})
    (problem,) = raised.value.problems
    assert problem.startswith(f"{field}: ")
    assert "\n" not in problem


def test_direct_construction_is_validated() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings(**base(account_sid="nope", api_key_secret="", twilio_timeout=-1))
    assert [p.split(":")[0] for p in raised.value.problems] == [
        "account_sid",
        "api_key_secret",
        "twilio_timeout",
    ]
    with pytest.raises(SettingsError):
        Settings(**base(passcode_expires_at=datetime(2030, 1, 1)))  # naive
