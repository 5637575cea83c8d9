"""The harness of a run: the backend(s) under test and the view of Twilio, made ready.

:class:`Harness` opens what a run needs (the embedded pair, or clients of the backend URL, of
the expired twin and of the fake Twilio), waits for the backend to answer, checks that the
passcode is accepted and that the expired twin answers, and makes each check's backend client
(in the embedded run, with a client address of its own). Any reason the run cannot happen is a
:class:`HarnessError` whose message is the one-line reason of exit code 2.
"""

from __future__ import annotations

import time
from typing import Any

from .config import SuiteConfig
from .liveness import short_error
from .requirements import CAPABILITIES
from .transport import BackendClient, Redactor
from .twilio_view import TwilioUnreachable, TwilioView

__all__ = ["Harness", "HarnessError", "config_redactor"]


class HarnessError(RuntimeError):
    """The run cannot proceed; the message is the one-line reason (exit code 2)."""


def config_redactor(config: SuiteConfig) -> Redactor:
    """A redactor of the secrets the configuration itself holds (the passcodes, the API key
    secret): enough for any message made before or without a view of Twilio."""
    return Redactor(config.secrets())


class Harness:
    """The backend(s) and Twilio view of one run, and how each check's clients are made."""

    def __init__(self, config: SuiteConfig, embedded: Any = None) -> None:
        self.config = config
        self.embedded = embedded
        self.owns_embedded = False
        self.twilio: TwilioView | None = None
        self.webhook_urls: dict[str, str] = {}
        self._shared: BackendClient | None = None
        self._shared_expired: BackendClient | None = None

    @classmethod
    def open(cls, config: SuiteConfig, embedded: Any = None) -> Harness:
        harness = cls(config, embedded)
        try:
            harness._open()
        except BaseException:
            harness.close()
            raise
        return harness

    def _open(self) -> None:
        config = self.config
        if config.backend_url is None and self.embedded is None:
            from .embedded import start as start_embedded

            absent = config.absent_capabilities
            try:
                # the capabilities declared absent are switched off in the embedded backend
                self.embedded = start_embedded(
                    chat_enabled="chat" not in absent,
                    form_body="form-body" not in absent,
                    get_query="get-query" not in absent,
                )
            except Exception as exc:
                raise HarnessError(
                    f"could not start the embedded reference backend: {type(exc).__name__}: {exc}"
                ) from exc
            self.owns_embedded = True
        if self.embedded is not None:
            self.twilio = self.embedded.twilio
            return
        if config.twilio_url:
            try:
                self.twilio = TwilioView.connect(config.twilio_url, timeout=config.request_timeout)
            except TwilioUnreachable as exc:
                raise HarnessError(str(exc)) from exc
        assert config.backend_url is not None
        self._shared = BackendClient(
            config.backend_url,
            passcode=config.passcode,
            timeout=config.request_timeout,
            auth_token=self.twilio.credentials.auth_token if self.twilio else None,
            public_base_url=config.public_base_url,
            webhook_urls=self.webhook_urls,
            redactor=self.redactor(),
        )
        if config.expired_url:
            self._shared_expired = BackendClient(
                config.expired_url,
                passcode=config.expired_passcode,
                timeout=config.request_timeout,
                redactor=self.redactor(),
            )

    @property
    def backend_url(self) -> str:
        if self.embedded is not None:
            return str(self.embedded.base_url)
        return str(self.config.backend_url)

    @property
    def passcode(self) -> str | None:
        return self.embedded.passcode if self.embedded is not None else self.config.passcode

    def redactor(self) -> Redactor:
        if self.embedded is not None:
            return self.embedded.redactor()
        if self.twilio is None:
            return config_redactor(self.config)
        return config_redactor(self.config).with_secrets(
            {
                "<auth-token>": self.twilio.credentials.auth_token,
                "<api-key-secret>": self.twilio.credentials.api_key_secret,
            }
        )

    def backend(self) -> BackendClient:
        """A client for one check (in the embedded run: with a fresh client address)."""
        if self.embedded is not None:
            return self.embedded.backend_client(
                timeout=self.config.request_timeout,
                remote_addr=self.embedded.next_address(),
                webhook_urls=self.webhook_urls,
            )
        assert self._shared is not None
        return self._shared

    def expired_backend(self) -> BackendClient | None:
        if self.embedded is not None:
            return self.embedded.expired_client(
                timeout=self.config.request_timeout, remote_addr=self.embedded.next_address()
            )
        return self._shared_expired

    def release(self, *clients: BackendClient | None) -> None:
        """Close the per-check clients of the embedded run (shared clients stay open)."""
        if self.embedded is None:
            return
        for client in clients:
            if client is not None:
                client.close()

    def declared_capabilities(self) -> SuiteConfig:
        """The configuration with the embedded backend's capabilities declared."""
        if self.embedded is None:
            return self.config
        return self.config.replace(
            capabilities=(set(self.embedded.capabilities) & set(CAPABILITIES))
            | self.config.declared(),
            auto_detect=False,
        )

    def close(self) -> None:
        for client in (self._shared, self._shared_expired):
            if client is not None:
                client.close()
        if self.owns_embedded and self.embedded is not None:
            self.embedded.close()
        elif self.embedded is None and self.twilio is not None:
            self.twilio.close()

    # -- readiness and preflight ---------------------------------------------------------------
    def wait_ready(self) -> None:
        """Poll verify-passcode until the backend gives any HTTP answer (``wait_seconds``)."""
        client = self.backend()
        deadline = time.monotonic() + self.config.wait_seconds
        while True:
            exchange = client.probe(min(self.config.request_timeout, 5.0))
            if exchange.status is not None:
                return
            if time.monotonic() >= deadline:
                waited = (
                    f" after waiting {self.config.wait_seconds:g} s"
                    if self.config.wait_seconds
                    else " (use --wait SECONDS if it is still starting)"
                )
                raise HarnessError(
                    f"backend unreachable at {self.backend_url}: "
                    f"{short_error(exchange.response.error or 'no answer')}{waited}"
                )
            time.sleep(0.2)

    def preflight(self) -> None:
        """The passcode must be accepted by verify-passcode, and the expired deployment
        (``--expired-url``), when there is one, must answer."""
        exchange = self.backend().call("verify-passcode")
        if exchange.ok:
            self._probe_expired()
            return
        message = exchange.error_message
        shown = f"{exchange.status}" + (f" {self.redactor().text(message)}" if message else "")
        if exchange.status == 401:
            raise HarnessError(f"the passcode was refused by the backend ({shown})")
        if exchange.status == 429:
            raise HarnessError(
                f"the backend is throttling this client ({shown}): wait for its cool-down"
            )
        if exchange.status in (404, 405):
            raise HarnessError(
                f"verify-passcode answered {shown} at {exchange.url}: is the backend URL right?"
            )
        raise HarnessError(f"verify-passcode answered {shown}: the passcode cannot be checked")

    def _probe_expired(self) -> None:
        """One verify-passcode, with its own passcode, to the expired deployment of a run
        against a backend URL: any HTTP answer will do."""
        client = self._shared_expired
        if self.embedded is not None or client is None:
            return
        exchange = client.probe(min(self.config.request_timeout, 5.0))
        if exchange.status is None:
            raise HarnessError(
                f"the expired deployment did not answer at {self.config.expired_url}: "
                f"{short_error(exchange.response.error or 'no answer')}"
            )
