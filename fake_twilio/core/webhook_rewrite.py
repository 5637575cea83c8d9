"""Webhook destination rewriting: send to a local receiver what Twilio would send to a public URL.

A backend registers callback URLs that point at where it is deployed
(``https://my-app-1234-dev.twil.io/room-status``). In a test the same backend listens on
``http://127.0.0.1:3000``. A rule ``https://my-app-1234-dev.twil.io=http://127.0.0.1:3000`` makes
the fake send that webhook to ``http://127.0.0.1:3000/room-status`` while ``X-Twilio-Signature``
is still computed over the URL the backend registered, exactly as Twilio signs it, so the
backend's own signature check (``RequestValidator.validate(public_url, params, signature)``)
passes unchanged. (That is also why a receiver behind a tunnel or a proxy validates against its
public URL, not the address it listens on.)

Rules come from ``fake-twilio serve --rewrite-webhooks PUBLIC=LOCAL`` (repeatable), the
environment variable ``FAKE_TWILIO_WEBHOOK_REWRITES="PUBLIC=LOCAL,PUBLIC2=LOCAL2"``, the control
plane (``PUT /_fake/webhooks/rewrites``) and Python (``state.webhooks.rewrites``).

Matching: a rule's public prefix is a scheme, a host (compared without regard to case; a default
port is the same as none) and optionally a path, matched at a ``/`` boundary: the rule for
``https://example.com/hooks`` applies to ``https://example.com/hooks``,
``https://example.com/hooks/room?x=1`` but not ``https://example.com/hooksmith``. The rest of the
path, the query and the fragment are appended to the local prefix. The longest matching prefix
wins; URLs no rule matches are delivered where they point.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

ENV_VAR = "FAKE_TWILIO_WEBHOOK_REWRITES"
DEFAULT_PORTS = {"http": 80, "https": 443}
_SEPARATOR = re.compile(r"[,\s]+")
_LOCAL_START = re.compile(r"=(?=https?://)", re.IGNORECASE)


class RewriteError(ValueError):
    """A malformed rule; the message names it and says what is wrong."""


def _split_url(url: str, what: str) -> SplitResult:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise RewriteError(f"{what} {url!r} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise RewriteError(f"{what} {url!r} must be an absolute http:// or https:// URL")
    if parts.query or parts.fragment:
        raise RewriteError(f"{what} {url!r} must not have a query or a fragment")
    return parts


def _origin(parts: SplitResult) -> tuple[str, str, int]:
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS[scheme]


def _normalized(url: str, what: str) -> str:
    parts = _split_url(url, what)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True)
class RewriteRule:
    """Send webhooks for URLs under ``public`` to the same place under ``local``."""

    public: str
    local: str

    @classmethod
    def create(cls, public: str, local: str) -> RewriteRule:
        """Validate and normalize (lower-case scheme and host, no trailing slash)."""
        if not isinstance(public, str) or not isinstance(local, str):
            raise RewriteError("a rewrite rule needs a public URL and a local URL (strings)")
        return cls(_normalized(public, "public URL"), _normalized(local, "local URL"))

    def _remainder(self, url: str) -> str | None:
        """What follows the public prefix in ``url`` (path rest + query + fragment), or None."""
        try:
            parts = urlsplit(url)
            if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
                return None
            origin = _origin(parts)
        except ValueError:
            return None
        public = urlsplit(self.public)
        if origin != _origin(public):
            return None
        path = parts.path
        prefix = public.path
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            return None
        rest = path[len(prefix) :]
        if parts.query:
            rest += "?" + parts.query
        if parts.fragment:
            rest += "#" + parts.fragment
        return rest

    def matches(self, url: str) -> bool:
        return self._remainder(url) is not None

    def apply(self, url: str) -> str:
        """``url`` moved under ``local`` (unchanged when this rule does not match)."""
        rest = self._remainder(url)
        if rest is None:
            return url
        if rest and not rest.startswith(("/", "?", "#")):
            rest = "/" + rest
        if not rest:
            rest = "/" if not urlsplit(self.local).path else ""
        return self.local + rest

    def as_dict(self) -> dict[str, str]:
        return {"public": self.public, "local": self.local}

    def __str__(self) -> str:
        return f"{self.public}={self.local}"


def parse_rule(text: str) -> RewriteRule:
    """``"PUBLIC=LOCAL"`` -> a rule (the ``=`` is the one followed by ``http(s)://``)."""
    text = text.strip()
    match = _LOCAL_START.search(text)
    if match is None:
        raise RewriteError(
            f"rewrite rule {text!r} must look like PUBLIC=LOCAL, "
            "e.g. https://my-app-1234-dev.twil.io=http://127.0.0.1:3000"
        )
    return RewriteRule.create(text[: match.start()], text[match.end() :])


def parse_rules(text: str | None) -> list[RewriteRule]:
    """``"P1=L1,P2=L2"`` (commas and/or whitespace between rules) -> rules; empty -> []."""
    if not text or not text.strip():
        return []
    return [parse_rule(item) for item in _SEPARATOR.split(text.strip()) if item]


def rules_from_env(environ: Mapping[str, str]) -> list[RewriteRule]:
    """The rules in ``FAKE_TWILIO_WEBHOOK_REWRITES`` (RewriteError names the variable)."""
    try:
        return parse_rules(environ.get(ENV_VAR))
    except RewriteError as exc:
        raise RewriteError(f"{ENV_VAR}: {exc}") from None


def rules_from_settings(
    flags: Iterable[str] | None, environ: Mapping[str, str]
) -> list[tuple[str, str]]:
    """``fake-twilio serve``'s rules: the environment variable's, then the ``--rewrite-webhooks``
    flags (a flag wins over the variable for the same public URL), as (public, local) pairs."""
    rules: dict[str, RewriteRule] = {rule.public: rule for rule in rules_from_env(environ)}
    for flag in flags or ():
        try:
            rule = parse_rule(flag)
        except RewriteError as exc:
            raise RewriteError(f"--rewrite-webhooks: {exc}") from None
        rules[rule.public] = rule
    return [(rule.public, rule.local) for rule in rules.values()]


RuleLike = RewriteRule | str | tuple[str, str] | Mapping[str, Any]


def to_rules(rules: Iterable[RuleLike] | Mapping[str, str] | str | None) -> list[RewriteRule]:
    """Rules from any accepted shape.

    ``"P=L,P2=L2"``, ``{"P": "L"}``, ``[("P", "L")]``, ``["P=L"]``,
    ``[{"public": "P", "local": "L"}]`` or :class:`RewriteRule` objects.
    """
    if rules is None:
        return []
    if isinstance(rules, str):
        return parse_rules(rules)
    if isinstance(rules, Mapping):
        return [RewriteRule.create(public, local) for public, local in rules.items()]
    result: list[RewriteRule] = []
    for item in rules:
        if isinstance(item, RewriteRule):
            result.append(RewriteRule.create(item.public, item.local))
        elif isinstance(item, str):
            result.append(parse_rule(item))
        elif isinstance(item, Mapping):
            unknown = sorted(set(item) - {"public", "local"})
            if unknown:
                raise RewriteError(f"unknown field(s) in a rewrite rule: {', '.join(unknown)}")
            result.append(RewriteRule.create(item.get("public"), item.get("local")))  # type: ignore[arg-type]
        elif isinstance(item, tuple | list) and len(item) == 2:
            result.append(RewriteRule.create(item[0], item[1]))
        else:
            raise RewriteError(f"cannot read a rewrite rule from {item!r}")
    return result


def rules_from_json(value: Any) -> list[RewriteRule]:
    """The ``rewrites`` of ``PUT /_fake/webhooks/rewrites``: a list or an object, else RewriteError.

    ``[{"public": P, "local": L}, ...]``, ``["P=L", ...]`` or ``{"P": "L", ...}``.
    """
    if not isinstance(value, list | dict):
        raise RewriteError(
            'must be a list of {"public": URL, "local": URL} objects, or an object mapping '
            "public URLs to local URLs"
        )
    return to_rules(value)


class WebhookRewrites:
    """The rewrite rules of one fake. Thread-safe; a later rule for the same public URL wins."""

    def __init__(self, rules: Iterable[RuleLike] | Mapping[str, str] | str | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: dict[str, RewriteRule] = {}
        if rules is not None:
            self.set(rules)

    # -- editing ---------------------------------------------------------------------------
    def add(self, public: str, local: str) -> RewriteRule:
        """Add (or replace) the rule for ``public``."""
        rule = RewriteRule.create(public, local)
        with self._lock:
            self._rules[rule.public] = rule
        return rule

    def extend(self, rules: Iterable[RuleLike] | Mapping[str, str] | str | None) -> None:
        parsed = to_rules(rules)
        with self._lock:
            for rule in parsed:
                self._rules[rule.public] = rule

    def set(self, rules: Iterable[RuleLike] | Mapping[str, str] | str | None) -> None:
        """Replace every rule (validated first: on error nothing changes)."""
        parsed = to_rules(rules)
        with self._lock:
            self._rules = {rule.public: rule for rule in parsed}

    def remove(self, public: str) -> bool:
        """Remove the rule for ``public``; False when there was none."""
        key = _normalized(public, "public URL")
        with self._lock:
            return self._rules.pop(key, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    # -- reading ---------------------------------------------------------------------------
    def rules(self) -> list[RewriteRule]:
        """The rules, most specific (longest public prefix) first: the order they are tried."""
        with self._lock:
            rules = list(self._rules.values())
        return sorted(rules, key=lambda rule: (-len(rule.public), rule.public))

    def as_list(self) -> list[dict[str, str]]:
        return [rule.as_dict() for rule in self.rules()]

    def find(self, url: str) -> RewriteRule | None:
        for rule in self.rules():
            if rule.matches(url):
                return rule
        return None

    def rewrite(self, url: str) -> str:
        """Where a webhook for ``url`` is delivered (``url`` itself when no rule matches)."""
        rule = self.find(url)
        return url if rule is None else rule.apply(url)

    __call__ = rewrite

    def __len__(self) -> int:
        with self._lock:
            return len(self._rules)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.rules())

    def __repr__(self) -> str:
        return f"WebhookRewrites({[str(rule) for rule in self.rules()]!r})"


__all__ = [
    "ENV_VAR",
    "RewriteError",
    "RewriteRule",
    "WebhookRewrites",
    "parse_rule",
    "parse_rules",
    "rules_from_env",
    "rules_from_json",
    "rules_from_settings",
    "to_rules",
]
