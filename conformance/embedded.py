"""The embedded run: the reference backend and a fake Twilio, both in this process.

What ``live-conformance run`` does without a backend URL, and what tests use: a fresh fake
(:func:`fake_twilio.create_app`), the reference backend configured with the fake's default
credentials and a generated passcode (:func:`reference_backend.create_app` over
:class:`fake_twilio.http_client.WSGITwilioHttpClient`), the fake's webhooks delivered to the
backend in-process, and a twin of the backend on the same fake whose passcode has expired, so
that AUTH-3 runs too. No socket is opened. The suite reaches the backend at
:data:`BASE_URL` through ``httpx.WSGITransport`` while Twilio is told :data:`PUBLIC_URL`, so
webhook signatures are checked against a URL other than the one the request arrives at (as
behind a reverse proxy). Every capability is declared (the reference has them all).

Each check gets its own client address (``REMOTE_ADDR``), so the reference backend's
per-client throttling of wrong passcodes in one check cannot leak into the next, and the
throttle's window (its cool-down) is 2 seconds instead of 60, which SEC-2 allows, so that
SEC-2 does not wait a minute. Twilio retries back off 10 ms instead of 100 ms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from .requirements import CAPABILITIES
from .transport import BackendClient, Redactor
from .twilio_view import TwilioView

__all__ = ["BASE_URL", "EXPIRED_BASE_URL", "PUBLIC_URL", "EmbeddedRun", "start"]

#: Where the suite sends its requests in the embedded run (never resolved: WSGI transport).
BASE_URL = "http://reference-backend.embedded"
EXPIRED_BASE_URL = "http://expired-backend.embedded"
#: The public URL the embedded backend gives Twilio for its webhooks.
PUBLIC_URL = "https://reference-backend.invalid"


@dataclass
class EmbeddedRun:
    """The in-process pair (fake, reference backend) plus the expired twin.

    ``passcode`` / ``expired_passcode`` are the two deployments' passcodes; ``twilio`` the
    :class:`TwilioView` over the fake; ``capabilities`` what the backend offers.
    """

    fake_app: Any
    backend_app: Any
    expired_app: Any
    passcode: str
    expired_passcode: str
    twilio: TwilioView
    capabilities: set[str] = field(default_factory=lambda: {*CAPABILITIES, "delete-stream"})
    base_url: str = BASE_URL
    expired_base_url: str = EXPIRED_BASE_URL
    public_url: str = PUBLIC_URL
    _addresses: int = 0

    @property
    def state(self) -> Any:
        from fake_twilio import state_of

        return state_of(self.fake_app)

    def next_address(self) -> str:
        """A fresh client address (``10.x.y.z``) for one check's requests."""
        self._addresses += 1
        n = self._addresses
        return f"10.{(n >> 16) & 0xFF}.{(n >> 8) & 0xFF}.{(n & 0xFF) or 1}"

    def backend_client(
        self,
        *,
        timeout: float = 10.0,
        remote_addr: str = "127.0.0.1",
        webhook_urls: dict[str, str] | None = None,
        redactor: Redactor | None = None,
    ) -> BackendClient:
        """A client of the reference backend (in-process) with the passcode configured."""
        return BackendClient(
            self.base_url,
            passcode=self.passcode,
            transport=httpx.WSGITransport(
                app=self.backend_app, remote_addr=remote_addr, raise_app_exceptions=False
            ),
            timeout=timeout,
            auth_token=self.twilio.credentials.auth_token,
            public_base_url=self.public_url,
            webhook_urls=webhook_urls,
            redactor=redactor or self.redactor(),
        )

    def expired_client(
        self,
        *,
        timeout: float = 10.0,
        remote_addr: str = "127.0.0.1",
        redactor: Redactor | None = None,
    ) -> BackendClient:
        """A client of the expired twin, configured with the twin's (expired) passcode."""
        return BackendClient(
            self.expired_base_url,
            passcode=self.expired_passcode,
            transport=httpx.WSGITransport(
                app=self.expired_app, remote_addr=remote_addr, raise_app_exceptions=False
            ),
            timeout=timeout,
            redactor=redactor or self.redactor(),
        )

    def redactor(self) -> Redactor:
        credentials = self.twilio.credentials
        return Redactor(
            {
                "<passcode>": self.passcode,
                "<expired-passcode>": self.expired_passcode,
                "<auth-token>": credentials.auth_token,
                "<api-key-secret>": credentials.api_key_secret,
            }
        )

    def close(self) -> None:
        self.twilio.close()


def start(
    *,
    chat_enabled: bool = True,
    backend_factory: Any = None,
    **overrides: Any,
) -> EmbeddedRun:
    """Build an embedded run.

    ``chat_enabled`` and ``overrides`` (other :class:`reference_backend.settings.Settings`
    fields) configure the reference backend. ``backend_factory(settings, twilio_http_client)``
    replaces :func:`reference_backend.create_app` (tests use it to run the suite against
    deliberately faulty variants); it is used for the expired twin too.
    """
    from fake_twilio import create_app as create_fake
    from fake_twilio import state_of
    from fake_twilio.http_client import WSGITwilioHttpClient
    from reference_backend import create_app as create_backend
    from reference_backend.settings import Settings, generate_passcode

    factory = backend_factory or (
        lambda settings, client: create_backend(settings, twilio_http_client=client)
    )
    fake_app = create_fake()
    state = state_of(fake_app)
    credentials = state.default_credentials
    common: dict[str, Any] = {
        "account_sid": credentials.account_sid,
        "auth_token": credentials.auth_token,
        "api_key_sid": credentials.api_key_sid,
        "api_key_secret": credentials.api_key_secret,
        "public_url": PUBLIC_URL,
        "chat_enabled": chat_enabled,
        "twilio_retry_base": 0.01,
        # SEC-2 allows any cool-down up to 60 s; a short one keeps the embedded run fast
        "throttle_window": 2.0,
    }
    common.update(overrides)
    passcode = common.pop("passcode", None) or generate_passcode()
    expired_passcode = generate_passcode()
    while expired_passcode == passcode:
        expired_passcode = generate_passcode()
    settings = Settings(**{"passcode": passcode, **common})
    expired = Settings(
        **{
            **common,
            "passcode": expired_passcode,
            "passcode_expires_at": datetime.now(UTC) - timedelta(days=1),
        }
    )
    backend_app = factory(settings, _in_process_client(WSGITwilioHttpClient, fake_app))
    expired_app = factory(expired, _in_process_client(WSGITwilioHttpClient, fake_app))
    state.webhooks.register_wsgi(PUBLIC_URL, backend_app)
    capabilities = {*CAPABILITIES, "delete-stream"}
    if not chat_enabled:
        capabilities.discard("chat")
    if not common.get("form_body", True):
        capabilities.discard("form-body")
    if not common.get("get_query", True):
        capabilities.discard("get-query")
    return EmbeddedRun(
        fake_app=fake_app,
        backend_app=backend_app,
        expired_app=expired_app,
        passcode=passcode,
        expired_passcode=expired_passcode,
        twilio=TwilioView.in_process(fake_app),
        capabilities=capabilities,
    )


def _in_process_client(client_class: Any, fake_app: Any) -> Any:
    """The SDK's HTTP client answered by ``fake_app``; it ignores proxy environment variables
    (no request leaves the process, and looking them up costs a quarter of the run's time)."""
    client = client_class(fake_app)
    client.session.trust_env = False
    return client
