"""The ``run`` command's settings: the option table, and how flags, environment variables
and a TOML file layer into a :class:`~conformance.config.SuiteConfig`.

Every option can be given as a flag, as an environment variable ``LIVE_CONFORMANCE_<NAME>``
(lists comma-separated) and in the file named by ``--config`` (keys as the long options
without dashes, at the top level or under ``[tool.live-conformance]``). Flags win over the
environment, which wins over the file, which wins over the defaults. A bad value raises
:class:`UsageError` naming where it came from; :mod:`conformance.cli` prints it as one line.
So does a setting that only applies to a backend given by URL (``backend_only``: the passcode,
``--twilio``, the expired deployment...) given without one: the embedded run would ignore it.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import SuiteConfig, split_selection
from .requirements import CAPABILITIES, LEVELS

__all__ = ["ENV_PREFIX", "OPTIONS", "Option", "UsageError", "build_config"]

ENV_PREFIX = "LIVE_CONFORMANCE_"


class UsageError(Exception):
    """Bad usage or configuration: the message is printed as one line, exit code 2."""


@dataclass(frozen=True)
class Option:
    """One ``run`` setting: its flags, its type and its help."""

    name: str  # the key in files and, upper-cased, in the environment
    flags: tuple[str, ...]
    kind: str  # "str", "float", "int", "list", "flag", "count"
    help: str
    metavar: str | None = None
    #: Only meaningful against a backend given by URL: without one it is a usage error.
    backend_only: bool = False

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


OPTIONS: tuple[Option, ...] = (
    Option("passcode", ("--passcode",), "str", "the backend's passcode", "P", backend_only=True),
    Option(
        "twilio",
        ("--twilio",),
        "str",
        "URL of the fake Twilio the backend uses",
        "URL",
        backend_only=True,
    ),
    Option(
        "capability",
        ("--capability",),
        "list",
        f"declare a capability present (repeatable; {', '.join(CAPABILITIES)})",
        "NAME",
    ),
    Option("no_capability", ("--no-capability",), "list", "declare a capability absent", "NAME"),
    Option("no_auto_detect", ("--no-auto-detect",), "flag", "do not probe undeclared capabilities"),
    Option("select", ("--select",), "list", "run only these requirement IDs or groups", "ID|GROUP"),
    Option("level", ("--level",), "list", f"run only these levels ({', '.join(LEVELS)})", "LEVEL"),
    Option(
        "expired_url",
        ("--expired-url",),
        "str",
        "a deployment whose passcode expired",
        "URL",
        backend_only=True,
    ),
    Option(
        "expired_passcode", ("--expired-passcode",), "str", "its passcode", "P", backend_only=True
    ),
    Option(
        "api_key_secret",
        ("--api-key-secret",),
        "str",
        "verify token signatures",
        "S",
        backend_only=True,
    ),
    Option(
        "public_base_url",
        ("--public-base-url",),
        "str",
        "the URL Twilio calls the backend at (default: learned from the fake)",
        "URL",
        backend_only=True,
    ),
    Option("timeout", ("--timeout",), "float", "seconds per HTTP request (default 10)", "S"),
    Option(
        "consistency_timeout",
        ("--consistency-timeout", "--consistency-bound"),
        "float",
        "seconds webhook effects may take (the consistency bound, default 5)",
        "S",
    ),
    Option(
        "wait",
        ("--wait",),
        "float",
        "wait up to S seconds for the backend to answer",
        "S",
        backend_only=True,
    ),
    Option("baseline", ("--baseline",), "str", "file of requirement IDs known to fail", "FILE"),
    Option("name_prefix", ("--name-prefix",), "str", "prefix of the names the suite creates", "P"),
    Option("seed", ("--seed",), "int", "seed of the suite's randomness", "N"),
    Option("report_json", ("--report-json",), "str", "write the JSON report", "FILE"),
    Option("junit", ("--junit",), "str", "write a JUnit XML report", "FILE"),
    Option("html", ("--html",), "str", "write an HTML report", "FILE"),
    Option("property", ("--property",), "flag", "run only the property-based checks (PROP)"),
    Option("no_property", ("--no-property",), "flag", "run everything but the PROP checks"),
    Option(
        "property_examples",
        ("--property-examples", "--max-examples"),
        "int",
        "examples per property check (default 60)",
        "N",
    ),
    Option(
        "property_steps",
        ("--property-steps", "--stateful-steps"),
        "int",
        "steps per stateful example (default 20)",
        "N",
    ),
    Option(
        "property_deadline",
        ("--property-deadline",),
        "float",
        "seconds each property check may explore (default 30)",
        "S",
    ),
)
_BY_NAME = {option.name: option for option in OPTIONS}
_FILE_ONLY = {"backend_url"}


def _convert(option_name: str, kind: str, value: Any, where: str) -> Any:
    try:
        if kind in ("str",):
            if not isinstance(value, str):
                raise ValueError("expected a string")
            return value
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError("expected a number")
            return float(value)
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("expected an integer")
            return int(value)
        if kind == "flag":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError("expected true or false")
        if kind == "list":
            items = value if isinstance(value, list) else [value]
            result: list[str] = []
            for item in items:
                if not isinstance(item, str):
                    raise ValueError("expected a string or a list of strings")
                result += [part.strip() for part in item.replace(",", " ").split() if part.strip()]
            return result
    except ValueError as exc:
        raise UsageError(f"{where}: {option_name}: {value!r}: {exc}") from None
    raise AssertionError(kind)


def _from_file(path: str) -> tuple[dict[str, Any], dict[str, str]]:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise UsageError(f"cannot read the config file {path!r}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"the config file {path!r} is not valid TOML: {exc}") from None
    table = (
        data.get("tool", {}).get("live-conformance") if isinstance(data.get("tool"), dict) else None
    )
    if table is None:
        table = data.get("live-conformance", data)
    if not isinstance(table, dict):
        raise UsageError(f"the config file {path!r}: live-conformance must be a table of settings")
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name == "consistency_bound":
            name = "consistency_timeout"
        if name == "tool" and key not in _BY_NAME:
            continue
        if name in _FILE_ONLY:
            values[name] = _convert(name, "str", value, path)
        elif name in _BY_NAME:
            values[name] = _convert(key, _BY_NAME[name].kind, value, path)
        else:
            raise UsageError(f"the config file {path!r} has an unknown setting {key!r}")
        origins[name] = f"{key} (in {path})"
    return values, origins


def _from_env(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    if environ.get(ENV_PREFIX + "BACKEND_URL"):
        values["backend_url"] = environ[ENV_PREFIX + "BACKEND_URL"]
    for option in OPTIONS:
        raw = environ.get(option.env)
        if raw is not None and raw != "":
            values[option.name] = _convert(option.env, option.kind, raw, "environment")
    return values, {name: _BY_NAME[name].env for name in values if name in _BY_NAME}


def _from_flags(namespace: argparse.Namespace) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    given = vars(namespace)
    if given.get("backend_url"):
        values["backend_url"] = given["backend_url"]
    for option in OPTIONS:
        if option.name in given:
            values[option.name] = _convert(
                option.flags[0], option.kind, given[option.name], "command line"
            )
    return values, {name: _BY_NAME[name].flags[0] for name in values if name in _BY_NAME}


def _backend_only_error(merged: Mapping[str, Any], origins: Mapping[str, str]) -> str | None:
    """The usage error of settings that only apply to a backend URL, given without one."""
    if merged.get("backend_url"):
        return None
    names = [origins[o.name] for o in OPTIONS if o.backend_only and o.name in merged]
    if not names:
        return None
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    verb = "needs" if len(names) == 1 else "need"
    return (
        f"{listed} {verb} the backend URL (run BACKEND_URL ...); without one the suite "
        "tests its embedded reference backend"
    )


def build_config(
    namespace: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> SuiteConfig:
    """The :class:`SuiteConfig` of a parsed ``run`` command line (flags > env > file)."""
    environ = os.environ if environ is None else environ
    config_file = getattr(namespace, "config", None) or environ.get(ENV_PREFIX + "CONFIG")
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}  # the name each setting was given by, for messages
    layers = [_from_file(config_file)] if config_file else []
    layers += [_from_env(environ), _from_flags(namespace)]
    for values, names in layers:
        merged.update(values)
        origins.update(names)
    ids, groups = split_selection(merged.get("select", []))
    if merged.get("property") and merged.get("no_property"):
        raise UsageError("--property and --no-property exclude each other")
    if merged.get("property"):
        groups.add("PROP")
    verbosity = (getattr(namespace, "verbose", None) or 0) - (
        getattr(namespace, "quiet", None) or 0
    )
    config = SuiteConfig(
        backend_url=merged.get("backend_url"),
        passcode=merged.get("passcode"),
        twilio_url=merged.get("twilio"),
        capabilities=set(merged["capability"]) if merged.get("capability") else None,
        absent_capabilities=set(merged.get("no_capability", [])),
        auto_detect=not merged.get("no_auto_detect", False),
        select_ids=ids,
        select_groups=groups,
        select_levels={level.upper() for level in merged.get("level", [])},
        exclude_groups={"PROP"} if merged.get("no_property") else set(),
        expired_url=merged.get("expired_url"),
        expired_passcode=merged.get("expired_passcode"),
        api_key_secret=merged.get("api_key_secret"),
        public_base_url=merged.get("public_base_url"),
        baseline_path=merged.get("baseline"),
        seed=merged.get("seed"),
        report_json=merged.get("report_json"),
        junit=merged.get("junit"),
        html=merged.get("html"),
        verbosity=max(-1, min(1, verbosity)),
    )
    for option, field_name in (
        ("timeout", "request_timeout"),
        ("consistency_timeout", "consistency_timeout"),
        ("wait", "wait_seconds"),
        ("name_prefix", "name_prefix"),
        ("property_examples", "max_examples"),
        ("property_steps", "stateful_steps"),
        ("property_deadline", "property_deadline"),
    ):
        if option in merged:
            setattr(config, field_name, merged[option])
    problems = config.problems()
    if problems:
        raise UsageError(problems[0])
    backend_only = _backend_only_error(merged, origins)
    if backend_only:
        raise UsageError(backend_only)
    return config
