"""Handles on a running fake: what ``mock()`` yields and what ``FakeServer`` is.

:class:`FakeHandle` holds what both modes share: the app and its state, the default
credentials, and shortcuts to the clock, journal, webhooks, reset and dump. Its subclasses
differ in how a ``twilio.rest.Client`` reaches the fake and in ``control``:

- :class:`FakeTwilio` (in-process, :func:`fake_twilio.mock`): a plain ``Client`` whose requests
  the active mock intercepts; ``control`` is the in-process ``FakeControl``.
- :class:`fake_twilio.server.FakeServer`: a ``Client`` with a URL-rewriting HTTP client;
  ``control`` is the HTTP ``ControlClient``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .app import state_of
from .core.accounts import Credentials
from .core.clock import Clock
from .core.journal import Journal
from .core.state import FakeState
from .core.webhooks import WebhookDispatcher
from .testing import media_request, sdk_client_for


class FakeHandle:
    """A fake (one app, one state) and the credentials of its default account."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._control: Any = None

    # -- state and credentials -----------------------------------------------------------
    @property
    def state(self) -> FakeState:
        """The fake's whole state (lock it with ``state.locked()`` around backend calls)."""
        return state_of(self.app)

    @property
    def credentials(self) -> Credentials:
        """The default account's credentials (account SID, auth token, API key and secret)."""
        return self.state.default_credentials

    @property
    def account_sid(self) -> str:
        return self.credentials.account_sid

    @property
    def auth_token(self) -> str:
        return self.credentials.auth_token

    @property
    def api_key_sid(self) -> str:
        return self.credentials.api_key_sid

    @property
    def api_key_secret(self) -> str:
        return self.credentials.api_key_secret

    # -- clients ---------------------------------------------------------------------------
    def _http_client(self) -> TwilioHttpClient | None:
        """The SDK HTTP client that reaches this fake (None: the SDK's default one)."""
        return None

    def client(self, api_key: bool = False, account_sid: str | None = None) -> Client:
        """A ``twilio.rest.Client`` for this fake.

        Default account with its auth token; ``api_key=True`` authenticates with the default
        API key instead; ``account_sid`` picks another account of the fake (its auth token).
        Raises ``KeyError`` for an account the fake does not know.
        """
        return sdk_client_for(
            self.state, self._http_client(), api_key=api_key, account_sid=account_sid
        )

    def media(
        self, method: str, path: str, data: dict[str, Any] | None = None, **client_kwargs: Any
    ) -> Any:
        """Call Media v1 (``path`` after ``/v1``) as a current SDK must, via ``client.request``.

        Returns the decoded JSON body; raises ``TwilioRestException`` on an error.
        ``client_kwargs`` go to :meth:`client` (``api_key``, ``account_sid``).
        """
        return media_request(self.client(**client_kwargs), method, path, data)

    # -- control plane ---------------------------------------------------------------------
    @property
    def control(self) -> Any:
        """The control plane (simulated clients, clock, faults, journal, reset ...)."""
        if self._control is None:
            self._control = self._make_control()
        return self._control

    def _make_control(self) -> Any:
        from .control.facade import FakeControl

        return FakeControl(self.state)

    # -- shortcuts -------------------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        """The fake's clock; prefer :meth:`advance`, which also runs due deadlines."""
        return self.state.clock

    def advance(self, seconds: float) -> Any:
        """Move the fake clock forward and run the deadlines that came due (with webhooks)."""
        return self.state.advance_clock(seconds)

    @property
    def journal(self) -> Journal:
        """Every REST request the fake answered."""
        return self.state.journal

    @property
    def webhooks(self) -> WebhookDispatcher:
        """Webhook deliveries (``records()``) and in-process targets."""
        return self.state.webhooks

    def register_webhook_app(self, url_prefix: str, wsgi_app: Any) -> None:
        """Deliver webhooks whose URL starts with ``url_prefix`` to ``wsgi_app`` in-process."""
        self.state.webhooks.register_wsgi(url_prefix, wsgi_app)

    def backend(self, product: str, account_sid: str | None = None) -> Any:
        """One account's product backend (default account); lock the state around its use."""
        return self.state.backend(account_sid or self.account_sid, product)

    def reset(self, product: str | None = None, account_sid: str | None = None) -> None:
        """Forget resources: all, one product's, one account's, or one product of one account."""
        self.state.reset(product=product, account_sid=account_sid)

    def dump(self, product: str | None = None, account_sid: str | None = None) -> dict[str, Any]:
        """A JSON view of the resources: ``{account_sid: {product: {...}}}``."""
        return self.state.dump(product=product, account_sid=account_sid)


class FakeTwilio(FakeHandle):
    """The in-process fake yielded by :func:`fake_twilio.mock`.

    While the mock is active every ``https://*.twilio.com`` request made through ``requests``
    (so every ``twilio.rest.Client`` without a custom HTTP client) reaches this fake.
    """

    def __repr__(self) -> str:
        return f"<FakeTwilio account_sid={self.account_sid}>"


__all__ = ["FakeHandle", "FakeTwilio"]
