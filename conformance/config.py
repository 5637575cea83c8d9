"""The suite's configuration: one :class:`SuiteConfig` per run, built by the CLI or by code.

Every field has a default that makes sense for the embedded run (no ``backend_url``: the
reference backend and a fake Twilio in-process). :meth:`SuiteConfig.problems` lists what is
wrong with a configuration, one readable line each; the runner refuses to start (exit 2) when
there is any. The CLI layers flags over ``LIVE_CONFORMANCE_*`` environment variables over a
TOML file over these defaults.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .requirements import CAPABILITIES, LEVELS, all_requirements, groups

__all__ = ["DEFAULT_NAME_PREFIX", "SuiteConfig", "split_selection"]

DEFAULT_NAME_PREFIX = "lc-"
_PREFIX_RE = re.compile(r"^[A-Za-z0-9._-]{0,24}$")


@dataclass
class SuiteConfig:
    """Settings of one conformance run.

    * ``backend_url``: the backend's base URL; ``None`` runs the embedded reference backend.
    * ``passcode``: the backend's passcode (required with ``backend_url``).
    * ``twilio_url``: the fake Twilio the backend talks to (its control plane at
      ``/_fake/``); ``None`` skips the checks that need a view of Twilio.
    * ``capabilities``: capabilities declared present (``None``: none declared);
      ``absent_capabilities``: declared absent; ``auto_detect``: probe the undeclared ones.
    * ``select_ids`` / ``select_groups`` / ``select_levels``: run only these (empty: all);
      ``exclude_groups``: never run these groups (``--no-property``: ``{"PROP"}``);
      ``deselect_ids``: never run these requirement IDs (``--deselect``; wins over a selection).
    * ``max_failures``: stop the run once this many MUST requirements failed (failed or
      broken, not baselined; SHOULD/MAY warnings do not count); ``None``: run to the end.
      ``-x``/``--exitfirst`` is 1, ``--maxfail N`` is N.
    * ``expired_url`` / ``expired_passcode``: a twin deployment whose passcode has expired
      (for AUTH-3); ``api_key_secret``: verify token signatures with it.
    * ``public_base_url``: the URL Twilio calls the backend at, when it differs from
      ``backend_url`` and cannot be learned from the fake.
    * ``request_timeout``: seconds per HTTP request; ``consistency_timeout``: the protocol's
      consistency bound (seconds a webhook's effects may take); ``wait_seconds``: how long
      to wait for the backend to answer at all before giving up.
    * ``baseline_path``: a file of requirement IDs known to fail.
    * ``name_prefix``: prefix of every stream name and identity the suite creates; ``seed``:
      seed of the suite's randomness (``None``: a fresh one, printed in the report).
    * ``report_json`` / ``junit`` / ``html``: report files to write.
    * ``max_examples`` / ``stateful_steps`` / ``property_deadline``: budgets of each property
      check (PROP-1, PROP-2): examples, steps per stateful example, and seconds the whole
      property may explore (``None``: 30 s; a failure found is always shrunk and reported).
    * ``verbosity``: -1 quiet, 0 normal, 1 verbose (``-v``), 2 very verbose (``-vv``).
    """

    backend_url: str | None = None
    passcode: str | None = None
    twilio_url: str | None = None
    capabilities: set[str] | None = None
    absent_capabilities: set[str] = field(default_factory=set)
    auto_detect: bool = True
    select_ids: set[str] = field(default_factory=set)
    select_groups: set[str] = field(default_factory=set)
    select_levels: set[str] = field(default_factory=set)
    exclude_groups: set[str] = field(default_factory=set)
    deselect_ids: set[str] = field(default_factory=set)
    max_failures: int | None = None
    expired_url: str | None = None
    expired_passcode: str | None = None
    api_key_secret: str | None = None
    public_base_url: str | None = None
    request_timeout: float = 10.0
    consistency_timeout: float = 5.0
    wait_seconds: float = 0.0
    baseline_path: str | None = None
    name_prefix: str = DEFAULT_NAME_PREFIX
    seed: int | None = None
    report_json: str | None = None
    junit: str | None = None
    html: str | None = None
    max_examples: int = 60
    stateful_steps: int = 20
    property_deadline: float | None = None
    verbosity: int = 0

    @property
    def embedded(self) -> bool:
        """True when the run starts its own reference backend (no ``backend_url``)."""
        return self.backend_url is None

    def declared(self) -> set[str]:
        return set(self.capabilities or ())

    def replace(self, **changes: object) -> SuiteConfig:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def secrets(self) -> dict[str, str | None]:
        """The secrets this configuration holds, by the label reports print instead of them."""
        return {
            "<passcode>": self.passcode,
            "<expired-passcode>": self.expired_passcode,
            "<api-key-secret>": self.api_key_secret,
        }

    def problems(self) -> list[str]:
        """Everything wrong with this configuration, one line each (empty when valid)."""
        found: list[str] = []
        for name in ("backend_url", "twilio_url", "expired_url", "public_base_url"):
            value = getattr(self, name)
            if value is not None and not _is_http_url(value):
                found.append(f"{name.replace('_', '-')}: {value!r} is not an http(s) URL")
        if self.backend_url is not None and not self.passcode:
            found.append("passcode: required with a backend URL (--passcode P)")
        if self.expired_url is not None and not self.expired_passcode:
            found.append("expired-passcode: required with --expired-url")
        if self.passcode is not None and (self.passcode == "" or "\n" in self.passcode):
            found.append("passcode: must be a non-empty single line")
        declared = self.declared()
        for name in sorted(declared | self.absent_capabilities):
            if name == "delete-stream":
                found.append(
                    "capability: delete-stream is not a capability: every backend must have it"
                    " (FLOW-8)"
                )
            elif name not in CAPABILITIES:
                found.append(
                    f"capability: unknown capability {name!r} (known: {', '.join(CAPABILITIES)})"
                )
        both = declared & self.absent_capabilities
        if both:
            found.append(f"capability: declared both present and absent: {', '.join(sorted(both))}")
        known_ids = {r.id for r in all_requirements()}
        for requirement_id in sorted(self.select_ids):
            if requirement_id not in known_ids:
                found.append(f"select: unknown requirement ID {requirement_id!r}")
        for requirement_id in sorted(self.deselect_ids):
            if requirement_id not in known_ids:
                found.append(f"deselect: unknown requirement ID {requirement_id!r}")
        for group in sorted(self.select_groups | self.exclude_groups):
            if group not in groups():
                found.append(f"select: unknown group {group!r} (groups: {', '.join(groups())})")
        for level in sorted(self.select_levels):
            if level not in LEVELS:
                found.append(f"level: {level!r} is not one of {', '.join(LEVELS)}")
        for name in ("request_timeout", "consistency_timeout"):
            value = getattr(self, name)
            if not _is_seconds(value) or value <= 0:
                found.append(f"{name.replace('_', '-')}: {value!r} must be a number above 0")
        if not _is_seconds(self.wait_seconds) or self.wait_seconds < 0:
            found.append(f"wait: {self.wait_seconds!r} must be a number of seconds >= 0")
        if not _PREFIX_RE.match(self.name_prefix or ""):
            found.append(
                f"name-prefix: {self.name_prefix!r} must be at most 24 characters of "
                "letters, digits, '.', '_' or '-'"
            )
        if self.seed is not None and (
            not isinstance(self.seed, int) or isinstance(self.seed, bool)
        ):
            found.append(f"seed: {self.seed!r} must be an integer")
        for name in ("max_examples", "stateful_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                found.append(f"{name.replace('_', '-')}: {value!r} must be a positive integer")
        limit = self.max_failures
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        ):
            found.append(f"max-failures: {limit!r} must be a positive whole number")
        deadline = self.property_deadline
        if deadline is not None and (not _is_seconds(deadline) or deadline <= 0):
            found.append(f"property-deadline: {deadline!r} must be a number of seconds above 0")
        if self.baseline_path is not None and not Path(self.baseline_path).is_file():
            found.append(f"baseline: no such file {self.baseline_path!r}")
        return found


def split_selection(items: list[str] | tuple[str, ...] | set[str]) -> tuple[set[str], set[str]]:
    """Split ``--select`` values into requirement IDs and groups (case-insensitive).

    ``AUTH-1`` is an ID, ``AUTH`` a group; commas separate several values in one item.
    """
    ids: set[str] = set()
    selected_groups: set[str] = set()
    for item in items:
        for part in re.split(r"[,\s]+", item.strip()):
            if not part:
                continue
            value = part.upper()
            if re.fullmatch(r"[A-Z]+-\d+", value):
                ids.add(value)
            else:
                selected_groups.add(value)
    return ids, selected_groups


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError when out of range or not a number
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 host)
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _is_seconds(value: object) -> bool:
    """A finite number that is not a bool (``nan`` would make every deadline unreachable)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
