"""``TwilioHttpClient`` variants that point any ``twilio.rest.Client`` at a fake.

- :class:`WSGITwilioHttpClient` hands every request to a fake's WSGI app in-process (no socket,
  no global patching): a ``requests`` transport adapter is mounted on the SDK's own session.
- :class:`FakeServerHttpClient` rewrites ``https://<product>[.edge.region].twilio.com/<path>``
  to ``<fake server URL>/<product>/<path>`` for a fake served over HTTP.

Both cover typed resources, ``client.request(...)`` (the only way to reach Media v1 with a
current SDK) and the absolute ``next_page_url`` of list pages, since all go through
``http_client.request``.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from twilio.http.http_client import TwilioHttpClient
from werkzeug.http import HTTP_STATUS_CODES

TWILIO_URL_RE = re.compile(
    r"^https?://(?P<product>[a-z]+)(?P<edge>(?:\.[a-z0-9-]+)*)\.twilio\.com(?::\d+)?(?P<rest>/.*)?$",
    re.IGNORECASE,
)


class WSGIAdapter(BaseAdapter):
    """A ``requests`` adapter that answers from a WSGI app instead of the network."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.app = app

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # The environ is built directly (no werkzeug EnvironBuilder): see inprocess.build_environ.
        from .inprocess import WSGITransport

        status, headers, content = WSGITransport(self.app)(request)
        response = requests.Response()
        response.status_code = status
        response.reason = HTTP_STATUS_CODES.get(status, "")
        response.headers = CaseInsensitiveDict(headers)
        response._content = content
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


class WSGITwilioHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, answering every ``*.twilio.com`` request from ``app``."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        real = (self.session or requests.Session()).get_adapter("https://")
        self.session = _InProcessSession()
        self.session.mount("https://", _TwilioOnly(WSGIAdapter(app), real))


class _InProcessSession(requests.Session):
    """A session that skips the environment lookups (proxies, no_proxy) for ``*.twilio.com``.

    Those URLs never leave the process, and ``requests`` reads every environment variable
    twice per request to find proxies (a large share of an in-process call's cost).
    """

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        if isinstance(url, str) and TWILIO_URL_RE.match(url):
            return {
                "proxies": proxies or {},
                "stream": self.stream if stream is None else stream,
                "verify": self.verify if verify is None else verify,
                "cert": self.cert if cert is None else cert,
            }
        return super().merge_environment_settings(url, proxies, stream, verify, cert)


class _TwilioOnly(BaseAdapter):
    """Route ``*.twilio.com`` to the fake and everything else to the normal adapter."""

    def __init__(self, fake: BaseAdapter, real: BaseAdapter) -> None:
        super().__init__()
        self.fake, self.real = fake, real

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if TWILIO_URL_RE.match(request.url or ""):
            return self.fake.send(request, **kwargs)
        return self.real.send(request, **kwargs)

    def close(self) -> None:
        self.real.close()


def rewrite_twilio_url(url: str, base_url: str) -> str:
    """``https://video.twilio.com/v1/Rooms`` -> ``<base_url>/video/v1/Rooms`` (others unchanged)."""
    match = TWILIO_URL_RE.match(url)
    if not match:
        return url
    return f"{base_url.rstrip('/')}/{match.group('product').lower()}{match.group('rest') or '/'}"


class FakeServerHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, sending every ``*.twilio.com`` request to a fake server."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(method, rewrite_twilio_url(url, self.base_url), *args, **kwargs)
