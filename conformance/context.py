"""The :class:`CheckContext` every check receives: the backend, Twilio, and assertion helpers.

One context is made per check and per run; it records every exchange the check makes (for the
report and the curl repro), the notes it leaves and the cleanups it registers. Its ``expect_*``
helpers raise :class:`~conformance.outcomes.CheckFailed` with a one-line summary naming what
was expected and what came back, so a check reads as a list of protocol statements.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import schemas

from .config import SuiteConfig
from .outcomes import CheckFailed, CheckSkipped
from .requirements import Requirement
from .transport import BackendClient, Exchange

if TYPE_CHECKING:
    from .scenario import Stream
    from .twilio_view import TwilioView

__all__ = ["NEEDS_TWILIO", "CheckContext", "RunScope"]

T = TypeVar("T")
StatusSpec = int | range | Collection[int]

#: The skip reason of a check that needs a view of Twilio when there is none.
NEEDS_TWILIO = "needs a view of Twilio: run with --twilio URL"
NEEDS_EXPIRED = (
    "needs a deployment whose passcode has expired: run with --expired-url URL --expired-passcode P"
)
_MISSING = object()


class RunScope:
    """What the checks of one run share: a run ID for unique names, counters, detections."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.run_id = f"{random.SystemRandom().getrandbits(24):06x}"
        self._counter = 0
        self.chat_enabled: bool | None = None

    def next_number(self) -> int:
        self._counter += 1
        return self._counter


class CheckContext:
    """Everything a check needs (see the module docstring).

    Attributes: ``config`` (:class:`SuiteConfig`), ``requirement``, ``backend``
    (:class:`BackendClient`, recording), ``expired_backend`` (the expired-passcode twin, or
    ``None``), ``twilio`` (:class:`TwilioView` or ``None``), ``capabilities`` (the resolved
    set), ``rng`` (a :class:`random.Random` seeded from the run's seed and the requirement),
    ``exchanges`` (recorded so far) and ``notes``.
    """

    def __init__(
        self,
        *,
        config: SuiteConfig,
        requirement: Requirement,
        backend: BackendClient,
        twilio: TwilioView | None = None,
        capabilities: Collection[str] = (),
        expired_backend: BackendClient | None = None,
        scope: RunScope | None = None,
    ) -> None:
        self.config = config
        self.requirement = requirement
        self.scope = scope or RunScope(config.seed or 0)
        self.capabilities: set[str] = set(capabilities)
        self.twilio = twilio
        self.exchanges: list[Exchange] = []
        self.notes: list[str] = []
        self._cleanups: list[Callable[[], Any]] = []
        self.backend = backend.observed(self.exchanges.append)
        self.unrecorded_backend = backend
        self.expired_backend = (
            expired_backend.observed(self.exchanges.append) if expired_backend else None
        )
        self.rng = random.Random(f"{self.scope.seed}:{requirement.id}")

    # -- capabilities and prerequisites --------------------------------------------------------
    def has(self, capability: str) -> bool:
        """Whether the backend has ``capability`` (declared or detected)."""
        return capability in self.capabilities

    def require_twilio(self) -> TwilioView:
        """The TwilioView, or skip the check when the run has none."""
        if self.twilio is None:
            raise CheckSkipped(NEEDS_TWILIO)
        return self.twilio

    def require_expired(self) -> BackendClient:
        """The expired-passcode twin, or skip the check when the run has none."""
        if self.expired_backend is None:
            raise CheckSkipped(NEEDS_EXPIRED)
        return self.expired_backend

    # -- requests -----------------------------------------------------------------------------
    def call(self, endpoint: str, params: Any = None, **kwargs: Any) -> Exchange:
        """:meth:`BackendClient.call` on the backend under test (recorded)."""
        return self.backend.call(endpoint, params, **kwargs)

    def webhook(self, path: str, form: dict[str, Any], **kwargs: Any) -> Exchange:
        """:meth:`BackendClient.post_webhook` (signed over the registered URL by default)."""
        if kwargs.get("signature", "auto") == "auto" and not self.backend.auth_token:
            raise CheckSkipped(NEEDS_TWILIO + " (to sign webhooks with the account's auth token)")
        return self.backend.post_webhook(path, form, **kwargs)

    def backend_from_another_address(self) -> tuple[BackendClient, str]:
        """``(client, address)``: a client of the backend under test like :attr:`backend`
        (recorded, same passcode and settings) whose requests come from another client
        address, ``address``; it is closed after the check.

        In the embedded run (``httpx.WSGITransport``) the WSGI ``REMOTE_ADDR`` differs
        (192.0.2.x, which no other check uses); over HTTP to a backend on IPv4 loopback
        (127.0.0.0/8 or ``localhost``) the connections are bound to another loopback address
        (127.0.0.2). Anywhere else the check is skipped: the suite has one address only.
        """
        from urllib.parse import urlsplit

        import httpx

        base = self.unrecorded_backend
        # the transport the backend's client was made with (httpx has no public accessor)
        transport = getattr(getattr(base, "_http", None), "_transport", None)
        new: httpx.BaseTransport
        if isinstance(transport, httpx.WSGITransport):
            address = "192.0.2.1" if transport.remote_addr != "192.0.2.1" else "192.0.2.2"
            new = httpx.WSGITransport(
                app=transport.app,
                raise_app_exceptions=transport.raise_app_exceptions,
                script_name=transport.script_name,
                remote_addr=address,
                wsgi_errors=transport.wsgi_errors,
            )
        elif isinstance(transport, httpx.HTTPTransport):
            host = (urlsplit(base.base_url).hostname or "").lower()
            if not _ipv4_loopback(host):
                self.skip(
                    f"needs requests from a second client address: the backend ({host}) is "
                    "neither embedded nor on IPv4 loopback (127.0.0.1 or localhost, where the "
                    "suite can bind 127.0.0.2)"
                )
            address = "127.0.0.2" if host != "127.0.0.2" else "127.0.0.3"
            new = httpx.HTTPTransport(local_address=address)
        else:
            self.skip(
                "needs requests from a second client address: the suite's transport to the "
                f"backend ({type(transport).__name__}) cannot send from another one"
            )
        client = BackendClient(
            base.base_url,
            passcode=base.passcode,
            transport=new,
            timeout=base.timeout,
            auth_token=base.auth_token,
            public_base_url=base.public_base_url,
            webhook_urls=base.webhook_urls,
            redactor=base.redactor,
            max_response_bytes=base.max_response_bytes,
        )
        self.cleanup(client.close)
        return client.observed(self.exchanges.append), address

    # -- outcomes -----------------------------------------------------------------------------
    def fail(
        self,
        summary: str,
        *,
        exchange: Exchange | None = None,
        expected: Any = None,
        actual: Any = None,
        expected_success: bool = False,
    ) -> NoReturn:
        """Conclude that the implementation breaks the requirement (``expected_success``: the
        check expected ``exchange`` to succeed; see :class:`~.outcomes.CheckFailed`)."""
        raise CheckFailed(
            summary,
            exchange=exchange,
            expected=expected,
            actual=actual,
            expected_success=expected_success,
        )

    def skip(self, reason: str) -> NoReturn:
        """Conclude that the requirement cannot be judged in this run."""
        raise CheckSkipped(reason)

    def note(self, text: str) -> None:
        """Leave an informational line in the report (e.g. how a MAY requirement is met)."""
        self.notes.append(text)

    def expect(self, condition: Any, summary: str, **kwargs: Any) -> None:
        """Fail with ``summary`` (and ``exchange``/``expected``/``actual``) unless ``condition``."""
        if not condition:
            self.fail(summary, **kwargs)

    def expect_status(self, exchange: Exchange, status: StatusSpec) -> None:
        """The answer's status is ``status`` (an int, a range or a collection of ints)."""
        if not _status_matches(exchange.status, status):
            self.fail(
                f"{_what(exchange)} answered {_status_text(exchange)}, expected "
                f"{_status_spec_text(status)}{_message_suffix(exchange)}",
                exchange=exchange,
                expected=_status_spec_text(status),
                actual=exchange.status,
                expected_success=_only_success(status),
            )

    def expect_json(self, exchange: Exchange) -> Any:
        """The answer has ``Content-Type: application/json`` and a JSON body; returns it."""
        if exchange.content_type != "application/json":
            shown = exchange.headers.get("content-type") or "no Content-Type"
            self.fail(
                f"{_what(exchange)} answered {exchange.status} with {shown}, "
                "expected application/json",
                exchange=exchange,
                expected="application/json",
                actual=shown,
            )
        if not exchange.is_json:
            self.fail(
                f"{_what(exchange)} answered {exchange.status} with a body that is not JSON",
                exchange=exchange,
                actual=exchange.text[:200],
            )
        return exchange.json

    def expect_error(
        self,
        exchange: Exchange,
        *,
        status: StatusSpec | None = None,
        message: str | None = None,
        explanation: str | None = None,
    ) -> dict[str, str]:
        """A non-2xx answer in the error envelope, with exactly these values when given.

        Checks, in order: the status is not 2xx (and matches ``status`` when given); the
        content type is JSON; the body validates ``protocol/error``; ``error.message`` and
        ``error.explanation`` equal ``message`` / ``explanation`` when given. Returns the
        ``error`` object.
        """
        if exchange.status is None or 200 <= exchange.status < 300:
            expected = _status_spec_text(status) if status is not None else "an error status"
            self.fail(
                f"{_what(exchange)} answered {_status_text(exchange)}, expected {expected}"
                + (f" with message {message!r}" if message else ""),
                exchange=exchange,
                expected=expected,
                actual=exchange.status,
            )
        if status is not None:
            self.expect_status(exchange, status)
        body = self.expect_json(exchange)
        self.expect_schema("protocol/error", body, exchange)
        error: dict[str, str] = body["error"]
        if message is not None and error["message"] != message:
            self.fail(
                f"{_what(exchange)} answered message {error['message']!r}, expected {message!r}",
                exchange=exchange,
                expected=message,
                actual=error["message"],
            )
        if explanation is not None and error["explanation"] != explanation:
            self.fail(
                f"{_what(exchange)} answered explanation {error['explanation']!r}, "
                f"expected exactly {explanation!r}",
                exchange=exchange,
                expected=explanation,
                actual=error["explanation"],
            )
        return error

    def expect_success(self, exchange: Exchange, endpoint: str | None = None) -> Any:
        """A 200 JSON answer validating ``protocol/<endpoint>.response``; returns the body."""
        name = endpoint or exchange.endpoint
        try:
            self.expect_status(exchange, 200)
            body = self.expect_json(exchange)
            if name:
                self.expect_schema(f"protocol/{name}.response", body, exchange)
        except CheckFailed as failure:
            failure.expected_success = True
            raise
        return body

    def expect_schema(self, name: str, instance: Any, exchange: Exchange | None = None) -> None:
        """``instance`` validates the shipped schema ``name`` (e.g. ``protocol/token.viewer``)."""
        problems = schemas.errors(name, instance)
        if problems:
            shown = "; ".join(problems[:3]) + (
                f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
            )
            where = f"{_what(exchange)}: " if exchange is not None else ""
            self.fail(
                f"{where}does not match {name}: {shown}",
                exchange=exchange,
                expected=name,
                actual=instance,
            )

    def expect_no_writes(self, mark: int, summary: str, exchange: Exchange | None = None) -> None:
        """No POST or DELETE reached Twilio since ``mark`` (:meth:`TwilioView.mark`)."""
        writes = self.require_twilio().writes_since(mark)
        if writes:
            shown = ", ".join(f"{w.get('method')} {w.get('path')}" for w in writes[:5])
            more = f" (+{len(writes) - 5} more)" if len(writes) > 5 else ""
            self.fail(f"{summary}: {shown}{more}", exchange=exchange, actual=writes)

    # -- tokens ---------------------------------------------------------------------------------
    def decode_token(self, token: Any, *, verify: bool | None = None) -> tuple[dict, dict]:
        """``(header, claims)`` of an access token.

        Decoding never checks expiry. The HS256 signature is verified when ``verify`` is true
        (skipping the check when no secret is known), or when ``verify`` is ``None`` and the
        configuration has ``api_key_secret``. With ``verify=True`` and no configured secret,
        the fake's API key secret is used for tokens issued with the fake's API key.
        """
        import jwt

        if not isinstance(token, str) or not token:
            self.fail(f"the token is not a non-empty string: {token!r}", actual=token)
        options = {
            "verify_signature": False,
            "verify_exp": False,
            "verify_nbf": False,
            "verify_iat": False,
            "verify_aud": False,
            "verify_iss": False,
        }
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options=options, algorithms=["HS256"])
        except jwt.PyJWTError as exc:
            self.fail(f"the token is not a decodable JWT: {exc}", actual=token)
        secret = None
        if verify or verify is None:
            secret = self._token_secret(claims, explicit=bool(verify))
        if verify and secret is None:
            self.skip(
                "no API key secret to verify token signatures with: "
                "run with --api-key-secret S or --twilio URL"
            )
        if secret is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    jwt.decode(
                        token,
                        secret,
                        algorithms=["HS256"],
                        options={**options, "verify_signature": True},
                    )
            except jwt.PyJWTError as exc:
                self.fail(
                    f"the token's signature does not verify with the API key secret ({exc})",
                    actual=header,
                )
        return header, claims

    def _token_secret(self, claims: dict[str, Any], *, explicit: bool) -> str | None:
        if self.config.api_key_secret:
            return self.config.api_key_secret
        if explicit and self.twilio is not None:
            credentials = self.twilio.credentials
            if claims.get("iss") in (None, credentials.api_key_sid):
                return credentials.api_key_secret
        return None

    # -- names ----------------------------------------------------------------------------------
    def unique_name(self, kind: str = "stream") -> str:
        """A stream name (or other name) unique to this run: ``<prefix><kind>-<run>-<n>``."""
        return f"{self.config.name_prefix}{kind}-{self.scope.run_id}-{self.scope.next_number()}"

    def identity(self, role: str = "viewer") -> str:
        """A user identity unique to this run, e.g. ``lc-viewer-3fa9c2-12``."""
        return self.unique_name(role)

    # -- waiting ----------------------------------------------------------------------------------
    def eventually(
        self,
        probe: Callable[[], T],
        until: Callable[[T], Any] | None = None,
        *,
        description: str,
        timeout: float | None = None,
    ) -> T:
        """Poll ``probe()`` until ``until(value)`` holds (or, without ``until``, until the probe
        stops raising :class:`CheckFailed`), for at most ``timeout`` seconds (default: the
        consistency bound). Then fail with ``description`` and the last observation.
        """
        limit = self.config.consistency_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        interval = 0.02
        last_value: Any = _MISSING
        last_failure: CheckFailed | None = None
        while True:
            try:
                value = probe()
            except CheckFailed as failure:
                last_failure = failure
            else:
                if until is None or until(value):
                    return value
                last_value, last_failure = value, None
            if time.monotonic() >= deadline:
                break
            time.sleep(min(interval, max(deadline - time.monotonic(), 0)))
            interval = min(interval * 1.6, 0.25)
        if last_failure is not None:
            raise CheckFailed(
                f"{description}: still not so after {limit:g} s: {last_failure.summary}",
                exchange=last_failure.exchange,
                expected=last_failure.expected,
                actual=last_failure.actual,
            )
        raise CheckFailed(
            f"{description}: still not so after {limit:g} s",
            actual=None if last_value is _MISSING else last_value,
        )

    # -- cleanup ----------------------------------------------------------------------------------
    def cleanup(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """Run ``fn()`` after the check (last registered first), whatever its outcome."""
        self._cleanups.append(fn)
        return fn

    def run_cleanups(self) -> list[str]:
        """Run the registered cleanups; one line per cleanup that raised."""
        problems: list[str] = []
        while self._cleanups:
            fn = self._cleanups.pop()
            try:
                fn()
            except Exception as exc:
                name = getattr(fn, "__qualname__", repr(fn))
                problems.append(f"cleanup {name} failed: {type(exc).__name__}: {exc}")
        return problems

    # -- scenario ---------------------------------------------------------------------------------
    def new_stream(self, host: str | None = None, *, name: str | None = None) -> Stream:
        """Create a stream (create-stream) that is deleted after the check; see :mod:`.scenario`."""
        from .scenario import Stream

        return Stream.create(self, host=host, name=name)


def _only_success(spec: StatusSpec | None) -> bool:
    """True when ``spec`` accepts 2xx statuses only."""
    if spec is None:
        return False
    if isinstance(spec, int):
        return 200 <= spec < 300
    statuses = list(spec)
    return bool(statuses) and all(200 <= status < 300 for status in statuses)


def _status_matches(actual: int | None, spec: StatusSpec | None) -> bool:
    if actual is None:
        return False
    if spec is None:
        return True
    if isinstance(spec, int):
        return actual == spec
    return actual in spec


def _status_spec_text(spec: StatusSpec | None) -> str:
    if spec is None:
        return "any status"
    if isinstance(spec, int):
        return str(spec)
    if isinstance(spec, range):
        if spec.step == 1 and spec.start % 100 == 0 and spec.stop == spec.start + 100:
            return f"{spec.start // 100}xx"
        return f"{spec.start}..{spec.stop - 1}"
    return " or ".join(str(s) for s in sorted(spec))


def _status_text(exchange: Exchange) -> str:
    if exchange.status is None:
        return f"nothing ({exchange.response.error})"
    return str(exchange.status)


def _message_suffix(exchange: Exchange) -> str:
    message = exchange.error_message
    return f" (message {message!r})" if message else ""


def _what(exchange: Exchange | None) -> str:
    if exchange is None:
        return "the answer"
    return f"{exchange.method} {exchange.request.path}"


def _ipv4_loopback(host: str) -> bool:
    """Whether ``host`` (a URL's host name) is ``localhost`` or an IPv4 loopback address."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.version == 4 and address.is_loopback
