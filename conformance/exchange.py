"""What the suite sent to the backend and what came back: :class:`Exchange`, and redaction.

An :class:`Exchange` is the evidence of every check: the request (method, URL, the headers the
suite set, body) and the response (status, headers, body, elapsed time, or why nothing came
back). Reports print it as a readable paragraph (:meth:`Exchange.describe`), a curl command
line (:meth:`Exchange.curl`) or JSON (:meth:`Exchange.as_dict`), all redacted by default by the
exchange's :class:`Redactor`: the passcode (and near-misses of it), the Twilio secrets and the
signature part of access tokens never reach a report.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

__all__ = ["Exchange", "ReceivedResponse", "Redactor", "SentRequest"]

_BODY_LIMIT = 4000
#: Characters of an expected / actual value kept in reports (:meth:`Redactor.value`).
VALUE_LIMIT = 3000
_JWT_RE = re.compile(r"\b(eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{8,})")
_SECRET_HEADERS = {"authorization"}
#: Secrets shorter than this are redacted only where they stand as a whole value.
SHORT_SECRET = 8


def _standing_alone(secret: str) -> re.Pattern[str]:
    """Where a short secret stands as a whole value: quoted (not as a JSON key), as a query
    or form value, as a URL's password, or as the credential of an Authorization scheme.
    The group ``before`` is what precedes it (kept)."""
    s = re.escape(secret)
    return re.compile(
        rf"(?P<before>[\"'])(?={s}[\"'])(?:{s})(?![\"']\s*:)"  # "3092", '3092' (not a key)
        rf"|(?P<before2>(?:^|[?&;])[^=&#\s\"'/?]*=){s}(?=$|[&#;\s\"'])"  # ?a=3092&, a=3092
        rf"|(?P<before3>://[^/@\s:]*:){s}(?=@)"  # http://user:3092@host
        rf"|(?P<before4>\b(?i:Bearer|Basic|Token)\s+){s}(?![A-Za-z0-9])",  # Bearer 3092
        re.MULTILINE,
    )


def _kept(match: re.Match[str]) -> str:
    """What precedes a short secret :func:`_standing_alone` matched."""
    return "".join(match.group(name) or "" for name in ("before", "before2", "before3", "before4"))


# -- redaction --------------------------------------------------------------------------------
class Redactor:
    """Replaces secrets in text: ``{"<passcode>": "12345678901234", ...}``.

    Where a secret is replaced depends on its length (:data:`SHORT_SECRET` = 8):

    * a secret of 8 characters or more is replaced wherever it occurs, even inside other
      text (tokens, signatures and Basic credentials embed it); copies cut short by one to
      three characters are described (``<first 13 characters of passcode>``);
    * a shorter one (a passcode ``3092``, ``1``) would match inside ports, addresses and
      counts, so it is replaced only where it stands as a whole value: the whole text (a
      header value, an expected or actual value), the credential of ``Bearer``/``Basic``/
      ``Token``, a quoted string (a JSON string value, ``'3092'`` in a message; not a JSON
      key), a query or form value (``?passcode=3092&``, ``passcode=3092`` in a form body)
      and the password of a URL (``http://user:3092@host``). ``http://127.0.0.1:3092/x``
      stays as it is.

    Longer secrets are replaced first. JWT signatures become ``<signature>``. An
    ``Authorization`` value that is a near-miss of the passcode (a prefix of it, or the
    same length with a few characters changed) is described instead of shown, since it
    would reveal most of the passcode.
    """

    def __init__(self, secrets: Mapping[str, str | None] | None = None) -> None:
        pairs = [(label, value) for label, value in (secrets or {}).items() if value]
        self._pairs = sorted(pairs, key=lambda pair: len(pair[1]), reverse=True)
        self._short = [
            (label, _standing_alone(secret))
            for label, secret in self._pairs
            if len(secret) < SHORT_SECRET
        ]

    def with_secrets(self, secrets: Mapping[str, str | None]) -> Redactor:
        merged = {label: value for label, value in self._pairs}
        merged.update({k: v for k, v in secrets.items() if v})
        return Redactor(merged)

    @property
    def secrets(self) -> dict[str, str]:
        return dict(self._pairs)

    def value(self, value: Any) -> str | None:
        """An expected or actual value as reports print it, redacted: a string as it is,
        anything else as indented JSON (``repr`` if not serialisable), cut after
        :data:`VALUE_LIMIT` characters; ``None`` stays ``None``."""
        if value is None:
            return None
        if isinstance(value, str):
            text = value
        else:
            try:
                text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
            except (TypeError, ValueError):
                text = repr(value)
        if len(text) > VALUE_LIMIT:
            text = text[:VALUE_LIMIT] + f"... ({len(text) - VALUE_LIMIT} more characters)"
        return self._text(text, whole=isinstance(value, str))

    def text(self, value: str) -> str:
        """``value`` with its secrets replaced by their labels (see the class docstring)."""
        return self._text(value, whole=True)

    def _text(self, value: str, *, whole: bool) -> str:
        """``whole``: ``value`` is a value of its own (not the JSON of a number, say), so a
        secret equal to all of it is replaced whatever its length."""
        stripped = value.strip()
        for label, secret in self._pairs:  # the whole value (a header, a query value...)
            if whole and stripped == secret:
                return value.replace(secret, label)
        for label, secret in self._pairs:
            if len(secret) >= SHORT_SECRET and secret in value:
                value = value.replace(secret, label)
        for label, secret in self._pairs:  # truncated copies (e.g. echoed near-misses)
            if len(secret) >= SHORT_SECRET:
                for cut in (1, 2, 3):
                    prefix = secret[:-cut]
                    if prefix in value:
                        name = label.strip("<>")
                        value = value.replace(prefix, f"<first {len(prefix)} characters of {name}>")
        for label, pattern in self._short:
            value = pattern.sub(lambda m, label=label: _kept(m) + label, value)
        return _JWT_RE.sub(lambda m: f"{m.group(1)}.<signature>", value)

    def authorization(self, value: str) -> str:
        """An Authorization header value as reports may show it."""
        if any(value.strip() == secret for _, secret in self._pairs):
            return self.text(value)
        for label, secret in self._pairs:
            if len(secret) >= SHORT_SECRET and secret in value:
                return self.text(value)
            if len(secret) >= 4:
                stripped = value.strip()
                if stripped and secret.startswith(stripped) and stripped != secret:
                    shown = f"<first {len(stripped)} characters of {label.strip('<>')}>"
                    return value.replace(stripped, shown)
                if len(value) == len(secret):
                    changed = sum(1 for a, b in zip(value, secret, strict=True) if a != b)
                    if changed <= max(2, len(secret) // 4):
                        plural = "s" if changed > 1 else ""
                        return f"<{label.strip('<>')} with {changed} character{plural} changed>"
        return self.text(value)


# -- exchanges --------------------------------------------------------------------------------
@dataclass
class SentRequest:
    """The request half of an exchange (``headers``: the ones the suite set explicitly)."""

    method: str
    url: str
    headers: httpx.Headers
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


@dataclass
class ReceivedResponse:
    """The response half of an exchange; ``status`` is ``None`` when nothing came back."""

    status: int | None
    headers: httpx.Headers
    text: str
    elapsed: float
    error: str | None = None
    unsent: bool = False
    timed_out: bool = False

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is not JSON."""
        parsed, ok = _parse_json(self.text)
        return parsed if ok else None

    @property
    def is_json(self) -> bool:
        return _parse_json(self.text)[1]

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased (``""`` when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass
class Exchange:
    """One request to the backend and its answer.

    Flat shortcuts cover what checks use most: ``method``, ``url``, ``status``, ``headers``
    (response headers, case-insensitive), ``text``, ``json`` (``None`` unless the body is
    JSON), ``content_type``, ``elapsed`` (seconds). ``endpoint`` is the protocol endpoint
    called, when known.
    """

    request: SentRequest
    response: ReceivedResponse
    endpoint: str | None = None
    redactor: Redactor = field(default_factory=Redactor, repr=False)

    # -- shortcuts --------------------------------------------------------------------------
    @property
    def method(self) -> str:
        return self.request.method

    @property
    def url(self) -> str:
        return self.request.url

    @property
    def status(self) -> int | None:
        return self.response.status

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def text(self) -> str:
        return self.response.text

    @property
    def json(self) -> Any:
        return self.response.json

    @property
    def is_json(self) -> bool:
        return self.response.is_json

    @property
    def content_type(self) -> str:
        return self.response.content_type

    @property
    def elapsed(self) -> float:
        return self.response.elapsed

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def error_message(self) -> str | None:
        """``error.message`` of an error-envelope body, else ``None``."""
        body = self.json
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            message = body["error"].get("message")
            return message if isinstance(message, str) else None
        return None

    # -- rendering --------------------------------------------------------------------------
    def curl(self, redact: bool = True) -> str:
        """A curl command line repeating the request (``<passcode>`` etc. when redacted)."""
        parts = ["curl", "-sS", "-i"]
        method = self.request.method
        has_body = bool(self.request.body)
        if method != "GET" or has_body:
            parts += ["-X", method]
        parts.append(shlex.quote(self._show(self.request.url, redact)))
        for name, value in self.request.headers.multi_items():
            shown = self._show_header(name, value, redact)
            parts += ["-H", shlex.quote(f"{_title(name)}: {shown}")]
        if has_body:
            parts += ["--data-binary", _shell_bytes(self._show_bytes(self.request.body, redact))]
        return " ".join(parts)

    def describe(self, redact: bool = True, limit: int = _BODY_LIMIT) -> str:
        """A readable paragraph: the request sent, then the answer received."""
        lines = [f"sent: {self.request.method} {self._show(self.request.url, redact)}"]
        for name, value in self.request.headers.multi_items():
            lines.append(f"  {_title(name)}: {self._show_header(name, value, redact)}")
        if self.request.body:
            lines.append("  " + _clip(self._show(self.request.text, redact), limit))
        if self.response.status is None:
            error = self._show(self.response.error or "", redact)
            if self.response.unsent:
                lines.append(f"got: nothing, the HTTP client could not send it ({error})")
            else:
                lines.append(f"got: no answer ({error}) after {self._ms()}")
            return "\n".join(lines)
        lines.append(f"got: {self.response.status} after {self._ms()}")
        for name in ("content-type", "cache-control", "retry-after", "location"):
            for value in self.response.headers.get_list(name):
                lines.append(f"  {_title(name)}: {self._show(value, redact)}")
        if self.response.text:
            lines.append("  " + _clip(self._show(self.response.text, redact), limit))
        return "\n".join(lines)

    def as_dict(self, redact: bool = True, limit: int = _BODY_LIMIT) -> dict[str, Any]:
        """A JSON view for reports."""
        return {
            "endpoint": self.endpoint,
            "request": {
                "method": self.request.method,
                "url": self._show(self.request.url, redact),
                "headers": {
                    _title(k): self._show_header(k, v, redact)
                    for k, v in self.request.headers.multi_items()
                },
                "body": _clip(self._show(self.request.text, redact), limit),
            },
            "response": {
                "status": self.response.status,
                "error": None
                if self.response.error is None
                else self._show(self.response.error, redact),
                "headers": {
                    _title(k): self._show(v, redact) for k, v in self.response.headers.multi_items()
                },
                "body": _clip(self._show(self.response.text, redact), limit),
                "elapsed_s": round(self.response.elapsed, 4),
            },
            "curl": self.curl(redact),
        }

    def _ms(self) -> str:
        return f"{self.response.elapsed * 1000:.0f} ms"

    def _show(self, text: str, redact: bool) -> str:
        return self.redactor.text(text) if redact else text

    def _show_bytes(self, body: bytes, redact: bool) -> bytes:
        if not redact:
            return body
        try:
            return self.redactor.text(body.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return body

    def _show_header(self, name: str, value: str, redact: bool) -> str:
        if not redact:
            return value
        if name.lower() in _SECRET_HEADERS:
            return self.redactor.authorization(value)
        return self.redactor.text(value)


def _parse_json(text: str) -> tuple[Any, bool]:
    if not text.strip():
        return None, False
    try:
        return json.loads(text), True
    except ValueError:
        return None, False


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def _shell_bytes(body: bytes) -> str:
    """``body`` as one shell word: plain quoting when printable, else ``$'...'``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(ch.isprintable() or ch in "\n\t" for ch in text):
        return shlex.quote(text)
    escaped = []
    for byte in body:
        char = chr(byte)
        if char == "'" or char == "\\":
            escaped.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            escaped.append(char)
        else:
            escaped.append(f"\\x{byte:02x}")
    return "$'" + "".join(escaped) + "'"
