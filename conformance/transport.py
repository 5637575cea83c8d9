"""HTTP between the suite and the backend: :class:`BackendClient` sends, :class:`Exchange` records.

Every request the suite makes to the backend yields an :class:`~conformance.exchange.Exchange`
(what was sent, what came back, how long it took; re-exported here) that checks assert on and
reports print, redacted (:mod:`conformance.exchange`).

The client runs over any :class:`httpx.BaseTransport`: the network for a real URL, or
``httpx.WSGITransport(app=backend_app)`` in-process. Webhook deliveries are signed like
Twilio's (:meth:`BackendClient.post_webhook`), over the URL the backend registered.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from .exchange import Exchange, ReceivedResponse, Redactor, SentRequest
from .outcomes import BackendNoAnswer, RequestTimedOut, UnsendableRequest

__all__ = [
    "CLIENT_ENDPOINTS",
    "DEFAULT",
    "MAX_RESPONSE_BYTES",
    "WEBHOOK_ENDPOINTS",
    "BackendClient",
    "Exchange",
    "Redactor",
    "sign_webhook",
]

#: Client endpoints in document order.
CLIENT_ENDPOINTS: tuple[str, ...] = (
    "verify-passcode",
    "create-stream",
    "join-stream-as-speaker",
    "join-stream-as-viewer",
    "viewer-connected-to-player",
    "raise-hand",
    "send-speaker-invite",
    "remove-speaker",
    "delete-stream",
)
WEBHOOK_ENDPOINTS: tuple[str, ...] = ("rooms-webhook", "sync-webhook")
#: The largest response body the suite reads (protocol answers are a few kilobytes).
MAX_RESPONSE_BYTES = 1024 * 1024


class _Default:
    """Sentinel type of :data:`DEFAULT`."""

    _instance: _Default | None = None

    def __new__(cls) -> _Default:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DEFAULT"


#: "Use the configured passcode" (the default of :meth:`BackendClient.call`).
DEFAULT: Any = _Default()


def sign_webhook(auth_token: str, url: str, form: Mapping[str, str]) -> str:
    """The ``X-Twilio-Signature`` Twilio computes for a POST of ``form`` to ``url``."""
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(auth_token).compute_signature(url, dict(form)))


# -- the client -------------------------------------------------------------------------------
ExchangeObserver = Callable[[Exchange], None]


class BackendClient:
    """Sends protocol requests to one backend deployment and records them as exchanges.

    ``base_url`` is the backend's base URL; ``passcode`` the one :data:`DEFAULT` stands for;
    ``transport`` any httpx transport (``None``: the network); ``timeout`` seconds per request.
    ``auth_token`` signs webhook deliveries; ``webhook_urls`` maps ``"rooms-webhook"`` /
    ``"sync-webhook"`` to the URLs the backend registered with Twilio (shared between the
    clients of a run; the scenario helpers fill it in from the fake). ``redactor`` hides
    secrets in reports. Observers are called with every exchange (the check context records
    them this way).

    A backend under test may be hostile or broken, so an answer is bounded: ``timeout`` is
    the whole exchange's budget (httpx's own timeout is per network read, so a body that
    trickles in would otherwise never time out), ``max_response_bytes`` the largest
    (decoded) body read. An answer over either bound is recorded as no answer, saying why.
    Redirects are never followed.
    """

    def __init__(
        self,
        base_url: str,
        *,
        passcode: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        auth_token: str | None = None,
        public_base_url: str | None = None,
        webhook_urls: dict[str, str] | None = None,
        redactor: Redactor | None = None,
        client: httpx.Client | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.passcode = passcode
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.auth_token = auth_token
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.webhook_urls: dict[str, str] = webhook_urls if webhook_urls is not None else {}
        self.redactor = redactor or Redactor({"<passcode>": passcode})
        self._http = client or httpx.Client(
            transport=transport, timeout=timeout, follow_redirects=False
        )
        self._observers: list[ExchangeObserver] = []
        #: Told of every request before it is sent and of every exchange (see
        #: :class:`conformance.liveness.Liveness`); shared by the clients derived from this one.
        self.liveness: Any = None

    # -- derived clients ----------------------------------------------------------------------
    def observed(self, observer: ExchangeObserver) -> BackendClient:
        """A client sharing this one's connection and settings that also reports to ``observer``."""
        clone = object.__new__(BackendClient)
        clone.__dict__.update(self.__dict__)
        clone._observers = [*self._observers, observer]
        return clone

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BackendClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- client endpoints -------------------------------------------------------------------
    def call(
        self,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        *,
        passcode: Any = DEFAULT,
        encoding: str = "json",
        method: str | None = None,
        body: bytes | str | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str | None] | None = None,
    ) -> Exchange:
        """Call a client endpoint and return the exchange (whatever the status).

        ``passcode``: :data:`DEFAULT` sends the configured passcode, ``None`` no
        ``Authorization`` header, a string exactly that header value. ``encoding``:
        ``"json"`` POSTs ``params`` as a JSON object (``{}`` when ``None``), ``"form"`` POSTs
        them form-encoded, ``"query"`` sends a GET with them in the query string (form and
        query: booleans as ``true``/``false``, lists as repeated parameters, ``None`` values
        left out). ``method`` overrides the HTTP method; ``body`` replaces the encoded body
        verbatim; ``content_type`` overrides the Content-Type; ``headers`` adds headers (a
        ``None`` value removes one the suite would set).

        Raises :class:`~conformance.outcomes.BackendNoAnswer` (a check failure) when the
        backend gives no HTTP answer.
        """
        if encoding not in ("json", "form", "query"):
            raise ValueError(f"encoding must be json, form or query, not {encoding!r}")
        url = self.url(endpoint)
        sent_headers: dict[str, str | None] = {}
        content: bytes = b""
        if encoding == "query":
            http_method = method or "GET"
            if params:
                url = f"{url}?{urlencode(_form_pairs(params))}"
        elif encoding == "form":
            http_method = method or "POST"
            content = urlencode(_form_pairs(params or {})).encode("ascii")
            sent_headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            http_method = method or "POST"
            content = json.dumps({} if params is None else params).encode("utf-8")
            sent_headers["Content-Type"] = "application/json"
        if body is not None:
            content = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        if content_type is not None:
            sent_headers["Content-Type"] = content_type
        if passcode is DEFAULT:
            passcode = self.passcode
        if passcode is not None:
            sent_headers["Authorization"] = passcode
        for name, value in (headers or {}).items():
            for existing in [k for k in sent_headers if k.lower() == name.lower()]:
                del sent_headers[existing]
            sent_headers[name] = value
        return self.send(http_method, url, sent_headers, content, endpoint=endpoint.strip("/"))

    def probe(self, timeout: float) -> Exchange:
        """verify-passcode with the configured passcode, as an answer or its absence (never
        raises; the liveness monitor is not told): readiness, preflight and liveness probes."""
        saved, self.liveness = self.liveness, None
        try:
            return self.try_send(
                "POST",
                self.url("verify-passcode"),
                {"Authorization": self.passcode, "Content-Type": "application/json"},
                b"{}",
                endpoint="verify-passcode",
                timeout=timeout,
            )
        finally:
            self.liveness = saved

    # -- webhooks -----------------------------------------------------------------------------
    def webhook_url(self, path: str) -> str:
        """The URL the backend registered for ``path`` (``rooms-webhook``/``sync-webhook``).

        Learned from the fake when known; else ``<public base URL>/<path>``; else the URL the
        suite posts to.
        """
        name = path.strip("/")
        if name in self.webhook_urls:
            return self.webhook_urls[name]
        if self.public_base_url:
            return f"{self.public_base_url}/{name}"
        return self.url(name)

    def post_webhook(
        self,
        path: str,
        form: Mapping[str, Any],
        *,
        signature: str | None = "auto",
        url_for_signature: str | None = None,
        headers: Mapping[str, str | None] | None = None,
    ) -> Exchange:
        """POST a form-encoded webhook delivery to ``<base>/<path>``, as Twilio would.

        ``signature="auto"`` signs with ``auth_token`` over ``url_for_signature`` (default:
        :meth:`webhook_url`); ``None`` sends no ``X-Twilio-Signature``; any other string is
        sent as the header verbatim. No ``Authorization`` header is sent.
        """
        fields = {str(k): _form_value(v) for k, v in form.items() if v is not None}
        sent_headers: dict[str, str | None] = {
            "Content-Type": "application/x-www-form-urlencoded",
        }
        if signature == "auto":
            if not self.auth_token:
                raise RuntimeError("no auth token to sign webhooks with (needs a view of Twilio)")
            target = url_for_signature or self.webhook_url(path)
            sent_headers["X-Twilio-Signature"] = sign_webhook(self.auth_token, target, fields)
        elif signature is not None:
            sent_headers["X-Twilio-Signature"] = signature
        for name, value in (headers or {}).items():
            sent_headers[name] = value
        content = urlencode(list(fields.items())).encode("ascii")
        return self.send("POST", self.url(path), sent_headers, content, endpoint=path.strip("/"))

    # -- plumbing -----------------------------------------------------------------------------
    def url(self, endpoint: str) -> str:
        endpoint = endpoint.lstrip("/")
        return f"{self.base_url}/{endpoint}" if endpoint else self.base_url + "/"

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str | None],
        content: bytes = b"",
        *,
        endpoint: str | None = None,
    ) -> Exchange:
        """Send one request; raise :class:`BackendNoAnswer` when no HTTP answer came."""
        exchange = self.try_send(method, url, headers, content, endpoint=endpoint)
        if exchange.status is None:
            error = self.redactor.text(exchange.response.error or "")
            if exchange.response.unsent:
                raise UnsendableRequest(
                    f"{method} {exchange.request.path} could not be sent: {error}",
                    exchange=exchange,
                )
            kind = RequestTimedOut if exchange.response.timed_out else BackendNoAnswer
            raise kind(
                f"{method} {exchange.request.path} got no HTTP answer: {error}",
                exchange=exchange,
            )
        return exchange

    def try_send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str | None],
        content: bytes = b"",
        *,
        endpoint: str | None = None,
        timeout: float | None = None,
    ) -> Exchange:
        """Like :meth:`send`, but a missing answer is returned as an exchange without status
        (``response.unsent`` when the HTTP client refused to send the request at all)."""
        explicit = httpx.Headers([(k, v) for k, v in headers.items() if v is not None])
        request = self._http.build_request(
            method,
            url,
            content=content,
            headers=explicit,
            timeout=timeout if timeout is not None else self.timeout,
        )
        for name, value in headers.items():
            if value is None and name in request.headers:
                del request.headers[name]
        if (
            not content
            and method in ("GET", "HEAD", "DELETE")
            and "content-length" in request.headers
        ):
            del request.headers["content-length"]
        sent = SentRequest(method, url, explicit, content)
        if self.liveness is not None:
            self.liveness.before_send()
        budget = timeout if timeout is not None else self.timeout
        started = time.perf_counter()
        try:
            response = self._http.send(request, stream=True)
            try:
                text = self._read_text(response, started, budget)
            finally:
                response.close()
        except (httpx.HTTPError, _AnswerOutOfBounds) as exc:
            received = ReceivedResponse(
                None,
                httpx.Headers(),
                "",
                time.perf_counter() - started,
                _describe_error(exc),
                unsent=isinstance(exc, httpx.LocalProtocolError),
                timed_out=isinstance(exc, httpx.TimeoutException)
                or (isinstance(exc, _AnswerOutOfBounds) and exc.timed_out),
            )
        else:
            received = ReceivedResponse(
                response.status_code,
                response.headers,
                text,
                time.perf_counter() - started,
            )
        exchange = Exchange(sent, received, endpoint=endpoint, redactor=self.redactor)
        for observer in self._observers:
            observer(exchange)
        if self.liveness is not None:
            self.liveness.observe(exchange)
        return exchange

    def _read_text(self, response: httpx.Response, started: float, budget: float) -> str:
        """The body of a streamed ``response`` as text, within the size and time bounds."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_response_bytes:
                raise _AnswerOutOfBounds(
                    f"the {response.status_code} answer's body is larger than "
                    f"{self.max_response_bytes} bytes; the suite stopped reading it"
                )
            if time.perf_counter() - started > budget:
                raise _AnswerOutOfBounds(
                    f"the {response.status_code} answer's body was still arriving after the "
                    f"timeout ({budget:g} s); the suite stopped reading it",
                    timed_out=True,
                )
            chunks.append(chunk)
        return b"".join(chunks).decode(response.encoding or "utf-8", "replace")


class _AnswerOutOfBounds(Exception):
    """An answer larger or slower than the client's bounds (recorded as no answer)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def _form_pairs(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        values: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
        pairs.extend((name, _form_value(item)) for item in values)
    return pairs


def _describe_error(exc: Exception) -> str:
    if isinstance(exc, _AnswerOutOfBounds):
        return str(exc)
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
