"""Configuration of one fake (credentials, limits, webhook delivery)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .core.accounts import Credentials


@dataclass
class FakeConfig:
    """Settings of :func:`fake_twilio.create_app`.

    ``credentials`` is the default account (documented fixed values unless overridden);
    ``extra_accounts`` are created too. ``webhook_mode`` is ``"sync"`` (a call that triggers a
    webhook returns after the receiver answered: deterministic tests) or ``"async"``.
    """

    credentials: Credentials = field(default_factory=Credentials)
    extra_accounts: list[Credentials] = field(default_factory=list)
    max_body_bytes: int = 1024 * 1024
    webhook_mode: str = "sync"
    # (public URL prefix, local URL) pairs: see fake_twilio/core/webhook_rewrite.py
    webhook_rewrites: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def from_env(cls) -> FakeConfig:
        return cls(credentials=Credentials.from_env())
