"""Accounts and API keys, and resolution of HTTP Basic credentials to an account.

Twilio's v1 APIs never carry the account in the URL: the account is whoever the credentials
belong to. ``Basic <AccountSid>:<AuthToken>`` and ``Basic <ApiKeySid>:<ApiKeySecret>`` both
resolve here; anything else is Twilio's 20003 "Authenticate".
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
import threading
from dataclasses import dataclass, field

from .errors import authentication_failed
from .sids import is_sid, new_sid

# The fake's documented default credentials (README: "Credentials"). Fixed so that a backend
# configured for the fake needs nothing else; overridable by flags and environment variables.
DEFAULT_ACCOUNT_SID = "ACfa4e000000000000000000000000f001"
DEFAULT_AUTH_TOKEN = "fake_auth_token_0000000000000001"
DEFAULT_API_KEY_SID = "SKfa4e000000000000000000000000f001"
DEFAULT_API_KEY_SECRET = "fake_api_key_secret_000000000001"

ENV_OVERRIDES = {
    "account_sid": "FAKE_TWILIO_ACCOUNT_SID",
    "auth_token": "FAKE_TWILIO_AUTH_TOKEN",
    "api_key_sid": "FAKE_TWILIO_API_KEY_SID",
    "api_key_secret": "FAKE_TWILIO_API_KEY_SECRET",
}


@dataclass(frozen=True)
class Credentials:
    """One account's credentials: what a backend needs to talk to the fake."""

    account_sid: str = DEFAULT_ACCOUNT_SID
    auth_token: str = DEFAULT_AUTH_TOKEN
    api_key_sid: str = DEFAULT_API_KEY_SID
    api_key_secret: str = DEFAULT_API_KEY_SECRET

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        values = {name: env[var] for name, var in ENV_OVERRIDES.items() if env.get(var)}
        return cls(**values)

    def validate(self) -> None:
        if not is_sid(self.account_sid, "AC"):
            raise ValueError(f"account SID {self.account_sid!r} is not AC + 32 hex digits")
        if not is_sid(self.api_key_sid, "SK"):
            raise ValueError(f"API key SID {self.api_key_sid!r} is not SK + 32 hex digits")
        if not self.auth_token or not self.api_key_secret:
            raise ValueError("the auth token and the API key secret must not be empty")

    def as_dict(self) -> dict[str, str]:
        return {
            "account_sid": self.account_sid,
            "auth_token": self.auth_token,
            "api_key_sid": self.api_key_sid,
            "api_key_secret": self.api_key_secret,
        }


@dataclass
class Account:
    sid: str
    auth_token: str
    friendly_name: str = ""
    api_keys: dict[str, str] = field(default_factory=dict)


class AccountRegistry:
    """Every account the fake knows, with their API keys. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[str, Account] = {}
        self._key_owner: dict[str, str] = {}

    def add(self, credentials: Credentials, friendly_name: str = "") -> Account:
        credentials.validate()
        with self._lock:
            if credentials.api_key_sid in self._key_owner and (
                self._key_owner[credentials.api_key_sid] != credentials.account_sid
            ):
                raise ValueError(f"API key {credentials.api_key_sid} belongs to another account")
            account = self._accounts.get(credentials.account_sid)
            if account is None:
                account = Account(credentials.account_sid, credentials.auth_token, friendly_name)
                self._accounts[account.sid] = account
            account.auth_token = credentials.auth_token
            account.api_keys[credentials.api_key_sid] = credentials.api_key_secret
            self._key_owner[credentials.api_key_sid] = account.sid
            return account

    def create(self, friendly_name: str = "") -> Credentials:
        """Create a new account with one API key and random secrets."""
        credentials = Credentials(
            account_sid=new_sid("AC"),
            auth_token=secrets.token_hex(16),
            api_key_sid=new_sid("SK"),
            api_key_secret=secrets.token_hex(16),
        )
        self.add(credentials, friendly_name)
        return credentials

    def get(self, account_sid: str) -> Account | None:
        with self._lock:
            return self._accounts.get(account_sid)

    def __contains__(self, account_sid: str) -> bool:
        with self._lock:
            return account_sid in self._accounts

    def sids(self) -> list[str]:
        """Every account SID; copied under the lock (a copy racing :meth:`add` would raise)."""
        with self._lock:
            return list(self._accounts)

    def key(self, api_key_sid: str) -> tuple[str, str] | None:
        """``(account_sid, secret)`` of an API key, or None (both read in one locked step)."""
        with self._lock:
            owner = self._key_owner.get(api_key_sid)
            if owner is None:
                return None
            return owner, self._accounts[owner].api_keys[api_key_sid]

    def resolve_basic(self, header: str | None) -> str:
        """Return the account SID the ``Authorization: Basic`` header authenticates."""
        if not header or not header.startswith("Basic "):
            raise authentication_failed()
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise authentication_failed() from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise authentication_failed()
        return self.resolve(username, password)

    def resolve(self, username: str, password: str) -> str:
        account = self.get(username)
        if account is not None:
            if hmac.compare_digest(account.auth_token.encode(), password.encode()):
                return account.sid
            raise authentication_failed()
        owned = self.key(username)
        if owned is not None and hmac.compare_digest(owned[1].encode(), password.encode()):
            return owned[0]
        raise authentication_failed()
