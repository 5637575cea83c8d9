"""The ``run`` command's settings: the option table, and how flags, environment variables
and a TOML file layer into a :class:`~conformance.config.SuiteConfig`.

Every option can be given as a flag, as an environment variable ``LIVE_CONFORMANCE_<NAME>``
(lists comma-separated) and in the file named by ``--config`` (keys as the long options
without dashes, at the top level or under ``[tool.live-conformance]``). Flags win over the
environment, which wins over the file, which wins over the defaults. A bad value raises
:class:`UsageError` naming where it came from; :mod:`conformance.cli` prints it as one line.
So does a setting that only applies to a backend given by URL (``backend_only``: the passcode,
``--twilio``, the expired deployment...) given without one: the embedded run would ignore it,
and a ``LIVE_CONFORMANCE_*`` variable that names no setting (a typo would otherwise be silently
ignored; the message suggests the closest known name).

Messages name a setting the way the user gave it: the flag typed (``--max-examples`` or
``--property-examples``), the environment variable, or the key in the file.
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import SuiteConfig, split_selection
from .requirements import CAPABILITIES, LEVELS

__all__ = [
    "ENV_PREFIX",
    "ENV_VARIABLES",
    "OPTIONS",
    "Option",
    "TypedFlag",
    "UsageError",
    "build_config",
]

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
    Option(
        "deselect",
        ("--deselect",),
        "list",
        "do not run this requirement ID (repeatable; wins over --select)",
        "ID",
    ),
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
    Option(
        "exitfirst",
        ("-x", "--exitfirst"),
        "flag",
        "stop after the first MUST failure (--maxfail 1, and wins over it)",
    ),
    Option(
        "maxfail",
        ("--maxfail",),
        "int",
        "stop after N MUST failures (baselined ones and SHOULD/MAY warnings do not count)",
        "N",
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
#: Every ``LIVE_CONFORMANCE_*`` variable the suite reads (anything else is a usage error).
ENV_VARIABLES: tuple[str, ...] = (
    ENV_PREFIX + "BACKEND_URL",
    ENV_PREFIX + "CONFIG",
    *(option.env for option in OPTIONS),
)

#: The name :meth:`SuiteConfig.problems` gives a setting -> the option it comes from.
_PROBLEM_OPTIONS = {
    "backend-url": "backend_url",
    "twilio-url": "twilio",
    "expired-url": "expired_url",
    "public-base-url": "public_base_url",
    "passcode": "passcode",
    "expired-passcode": "expired_passcode",
    "capability": "capability",
    "select": "select",
    "deselect": "deselect",
    "level": "level",
    "request-timeout": "timeout",
    "consistency-timeout": "consistency_timeout",
    "wait": "wait",
    "name-prefix": "name_prefix",
    "seed": "seed",
    "max-examples": "property_examples",
    "stateful-steps": "property_steps",
    "property-deadline": "property_deadline",
    "max-failures": "maxfail",
    "baseline": "baseline",
}


class TypedFlag(argparse.Action):
    """Stores a ``run`` option's value and remembers the flag typed (an alias, ``-x``...), so
    that messages name what the user wrote."""

    def __init__(self, option_strings: list[str], dest: str, kind: str = "str", **kwargs: Any):
        self.kind = kind
        if kind == "flag":
            kwargs["nargs"] = 0
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if self.kind == "flag":
            value: Any = True
        elif self.kind == "list":
            value = [*(getattr(namespace, self.dest, None) or []), values]
        else:
            value = values
        setattr(namespace, self.dest, value)
        typed = dict(getattr(namespace, "typed_flags", None) or {})
        typed[self.dest] = option_string or self.option_strings[0]
        namespace.typed_flags = typed


def _convert(kind: str, value: Any, where: str) -> Any:
    """``value`` as an option of ``kind`` (``where``: the name to blame, e.g. ``--seed``)."""
    if kind == "str":
        if not isinstance(value, str):
            raise UsageError(f"{where}: {value!r} is not a string")
        return value
    if kind == "float":
        if isinstance(value, bool):
            raise UsageError(f"{where}: {value!r} is not a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise UsageError(f"{where}: {value!r} is not a number") from None
    if kind == "int":
        return _whole_number(value, where)
    if kind == "flag":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise UsageError(f"{where}: {value!r} is not true or false (or 1/0, yes/no, on/off)")
    if kind == "list":
        items = value if isinstance(value, list) else [value]
        result: list[str] = []
        for item in items:
            if not isinstance(item, str):
                raise UsageError(f"{where}: {value!r} is not a string or a list of strings")
            result += [part.strip() for part in item.replace(",", " ").split() if part.strip()]
        return result
    raise AssertionError(kind)


def _whole_number(value: Any, where: str) -> int:
    problem = f"{where}: {value!r} is not a whole number"
    if isinstance(value, bool):
        raise UsageError(problem)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise UsageError(problem)
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise UsageError(problem) from None


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
        name = _FILE_ALIASES.get(name, name)
        if name == "tool" and key not in _BY_NAME:
            continue
        where = f"{key} (in {path})"
        if name in _FILE_ONLY:
            values[name] = _convert("str", value, where)
        elif name in _BY_NAME:
            values[name] = _convert(_BY_NAME[name].kind, value, where)
        else:
            known = [*_BY_NAME, *_FILE_ONLY, *_FILE_ALIASES]
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0].replace('_', '-')!r}?)" if close else ""
            raise UsageError(f"the config file {path!r} has an unknown setting {key!r}{hint}")
        origins[name] = where
    return values, origins


#: Other names the file accepts for a setting (the flags' aliases).
_FILE_ALIASES = {
    "consistency_bound": "consistency_timeout",
    "max_examples": "property_examples",
    "stateful_steps": "property_steps",
}


def _from_env(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    unknown = sorted(
        name for name in environ if name.startswith(ENV_PREFIX) and name not in ENV_VARIABLES
    )
    if unknown:
        close = difflib.get_close_matches(unknown[0], ENV_VARIABLES, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise UsageError(
            f"the environment variable {unknown[0]} is not a live-conformance setting{hint} "
            f"(see live-conformance run --help)"
        )
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    if environ.get(ENV_PREFIX + "BACKEND_URL"):
        values["backend_url"] = environ[ENV_PREFIX + "BACKEND_URL"]
        origins["backend_url"] = ENV_PREFIX + "BACKEND_URL"
    for option in OPTIONS:
        raw = environ.get(option.env)
        if raw is not None and raw != "":
            values[option.name] = _convert(option.kind, raw, option.env)
            origins[option.name] = option.env
    return values, origins


def _long_flag(option: Option) -> str:
    return next((flag for flag in option.flags if flag.startswith("--")), option.flags[0])


def _from_flags(namespace: argparse.Namespace) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    given = vars(namespace)
    typed: Mapping[str, str] = given.get("typed_flags") or {}
    origins: dict[str, str] = {}
    if given.get("backend_url"):  # positional: its problems keep the name backend-url
        values["backend_url"] = given["backend_url"]
    for option in OPTIONS:
        if option.name in given:
            flag = typed.get(option.name) or _long_flag(option)
            values[option.name] = _convert(option.kind, given[option.name], flag)
            origins[option.name] = flag
    return values, origins


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


def _named_as_given(problem: str, origins: Mapping[str, str]) -> str:
    """``problem`` (``"request-timeout: 0.0 must be..."``, as :meth:`SuiteConfig.problems`
    words it) with the setting named the way the user gave it (``--timeout``, an environment
    variable, a key in the file)."""
    name, separator, rest = problem.partition(": ")
    option = _PROBLEM_OPTIONS.get(name)
    if not separator or option is None:
        return problem
    if name == "capability" and option not in origins:
        option = "no_capability"
    if option not in origins:
        return problem
    return f"{origins[option]}: {rest}"


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
        if values.get("exitfirst"):  # -x is --maxfail 1, and wins over it in its own layer
            values["maxfail"], names["maxfail"] = 1, names["exitfirst"]
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
    deselect_ids, deselect_groups = split_selection(merged.get("deselect", []))
    if deselect_groups:
        group = sorted(deselect_groups)[0]
        raise UsageError(
            f"{origins['deselect']}: {group!r} is not a requirement ID (e.g. AUTH-1); "
            "to leave out a group, select the others"
        )
    max_failures = merged.get("maxfail")
    config = SuiteConfig(
        backend_url=merged.get("backend_url"),
        passcode=merged.get("passcode"),
        twilio_url=merged.get("twilio"),
        capabilities=set(merged["capability"]) if merged.get("capability") else None,
        absent_capabilities=set(merged.get("no_capability", [])),
        auto_detect=not merged.get("no_auto_detect", False),
        select_ids=ids,
        select_groups=groups,
        deselect_ids=deselect_ids,
        max_failures=max_failures,
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
        verbosity=max(-1, min(2, verbosity)),
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
        raise UsageError(_named_as_given(problems[0], origins))
    backend_only = _backend_only_error(merged, origins)
    if backend_only:
        raise UsageError(backend_only)
    return config
