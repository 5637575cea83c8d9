"""A stateful fake of Twilio Video, Live (Media v1), Sync and Conversations.

Two ways in, one state: :func:`create_app` returns a Flask app that owns its state (serve it, or
hand it to the in-process :func:`mock`, which routes every ``https://*.twilio.com`` request made
through ``requests`` to it).
"""

from __future__ import annotations

from typing import Any

from .app import HostDispatch, create_app, state_of
from .config import FakeConfig
from .core.accounts import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_API_KEY_SECRET,
    DEFAULT_API_KEY_SID,
    DEFAULT_AUTH_TOKEN,
    Credentials,
)
from .core.errors import TwilioError
from .core.state import FakeState

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_API_KEY_SECRET",
    "DEFAULT_API_KEY_SID",
    "DEFAULT_AUTH_TOKEN",
    "Credentials",
    "FakeConfig",
    "FakeState",
    "HostDispatch",
    "TwilioError",
    "create_app",
    "mock",
    "state_of",
]


def mock(*args: Any, **kwargs: Any) -> Any:
    """In-process mode: see :func:`fake_twilio.inprocess.mock`."""
    from .inprocess import mock as _mock

    return _mock(*args, **kwargs)
