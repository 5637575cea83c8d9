"""Machine-readable contract of the Live Interactive Video backend protocol.

The schemas are JSON Schema (draft 2020-12) documents shipped as package data in two
families, each a plain directory next to this module:

* ``protocol/<name>.json`` -- the backend protocol (requests, responses, the error
  envelope, Sync data, decoded tokens, webhook payloads), ``$id`` =
  ``https://live-conformance.example/schemas/protocol/<name>.json``;
* ``twilio/<name>.json`` -- Twilio REST resources, same ``$id`` convention with ``twilio``.

A schema is named ``"<family>/<name>"`` without the ``.json`` suffix, e.g.
``"protocol/create-stream.request"`` or ``"twilio/room"``. Every function that takes a name
also accepts the ``.json`` suffix or the schema's full ``$id``.

``protocol/requirements.json`` is not a schema: it is the list of protocol requirements, read
with :func:`requirements`. Everything here works offline: ``$ref`` between shipped schemas is
resolved through :func:`registry`, never over the network.

Public API: :func:`names`, :func:`load`, :func:`uri`, :func:`registry`, :func:`validator`,
:func:`validate`, :func:`errors`, :func:`is_valid`, :func:`requirements`,
:func:`requirement`, :func:`clear_caches`, the exceptions :class:`SchemaNotFoundError` and
:class:`SchemaValidationError`, and the constants :data:`BASE_URI` and :data:`FAMILIES`.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "BASE_URI",
    "FAMILIES",
    "SchemaNotFoundError",
    "SchemaValidationError",
    "clear_caches",
    "errors",
    "is_valid",
    "load",
    "names",
    "registry",
    "requirement",
    "requirements",
    "uri",
    "validate",
    "validator",
]

#: Root of every shipped ``$id``: ``BASE_URI + "<family>/<name>.json"``.
BASE_URI = "https://live-conformance.example/schemas/"
#: Schema families, i.e. the sub-directories scanned for ``*.json`` schemas.
FAMILIES: tuple[str, ...] = ("protocol", "twilio", "conformance")

_ROOT = Path(__file__).resolve().parent
_REQUIREMENTS = _ROOT / "protocol" / "requirements.json"


class SchemaNotFoundError(KeyError):
    """Raised when a name does not designate a shipped schema."""


class SchemaValidationError(ValueError):
    """Raised by :func:`validate` when an instance does not match a schema.

    ``schema_name`` is the normalized schema name and ``errors`` the complete list of
    :class:`jsonschema.ValidationError` found (at least one), ordered by instance path. The
    message lists every error as ``<json path>: <message>``.
    """

    def __init__(self, schema_name: str, errors: list[ValidationError]) -> None:
        self.schema_name = schema_name
        self.errors = errors
        lines = [f"{e.json_path}: {e.message}" for e in errors]
        super().__init__(f"instance does not match {schema_name}:\n  " + "\n  ".join(lines))


def _normalize(name: str) -> str:
    """Turn ``"protocol/x"``, ``"protocol/x.json"`` or a full ``$id`` into ``"protocol/x"``."""
    if name.startswith(BASE_URI):
        name = name[len(BASE_URI) :]
    name = name.split("#", 1)[0]
    if name.endswith(".json"):
        name = name[: -len(".json")]
    return name


@cache
def _catalog() -> dict[str, Path]:
    """Map every shipped schema name to its file.

    A ``*.json`` file of a family directory is a schema when its top level is an object
    with a ``$id``; other JSON files (such as ``requirements.json``) are data, not schemas.
    """
    found: dict[str, Path] = {}
    for family in FAMILIES:
        directory = _ROOT / family
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.json")):
            contents = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(contents, dict) and "$id" in contents:
                found[f"{family}/{path.stem}"] = path
    return found


@cache
def _raw(name: str) -> dict[str, Any]:
    """The parsed schema (shared, never handed out: callers get copies)."""
    path = _catalog().get(name)
    if path is None:
        raise SchemaNotFoundError(f"no shipped schema named {name!r}")
    contents: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return contents


def names(family: str | None = None) -> list[str]:
    """Sorted names of every shipped schema, optionally only those of one ``family``."""
    prefix = f"{family}/" if family else ""
    return sorted(n for n in _catalog() if n.startswith(prefix))


def load(name: str) -> dict[str, Any]:
    """A fresh copy of the schema ``name`` (mutating it does not affect later calls).

    Raises :class:`SchemaNotFoundError` for an unknown name.
    """
    return copy.deepcopy(_raw(_normalize(name)))


def uri(name: str) -> str:
    """The ``$id`` of the schema ``name`` as written in its file."""
    identifier: str = _raw(_normalize(name))["$id"]
    return identifier


@cache
def registry() -> Registry:
    """A crawled :class:`referencing.Registry` holding every shipped schema under its ``$id``.

    Resources are interpreted as draft 2020-12 when they do not say otherwise. Lookups of
    any URI not in the registry fail instead of touching the network.
    """
    resources = [
        (_raw(n)["$id"], Resource.from_contents(_raw(n), default_specification=DRAFT202012))
        for n in _catalog()
    ]
    return Registry().with_resources(resources).crawl()


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        _raw(name),
        registry=registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def validator(name: str) -> Draft202012Validator:
    """A cached draft 2020-12 validator for ``name``, resolving ``$ref`` offline.

    Format assertions are on (for the formats whose checkers are installed). Raises
    :class:`SchemaNotFoundError` for an unknown name.
    """
    return _validator(_normalize(name))


def _sorted_errors(name: str, instance: Any) -> list[ValidationError]:
    return sorted(validator(name).iter_errors(instance), key=lambda e: (e.json_path, e.message))


def errors(name: str, instance: Any) -> list[str]:
    """Every violation of ``name`` by ``instance``, as ``"<json path>: <message>"`` strings.

    The list is empty when ``instance`` is valid.
    """
    return [f"{e.json_path}: {e.message}" for e in _sorted_errors(name, instance)]


def is_valid(name: str, instance: Any) -> bool:
    """Whether ``instance`` matches the schema ``name``."""
    return validator(name).is_valid(instance)


def validate(name: str, instance: Any) -> None:
    """Return if ``instance`` matches ``name``; else raise :class:`SchemaValidationError`."""
    found = _sorted_errors(name, instance)
    if found:
        raise SchemaValidationError(_normalize(name), found)


@cache
def _requirements() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(_REQUIREMENTS.read_text(encoding="utf-8")))


def requirements() -> list[dict[str, Any]]:
    """The protocol requirements, in document order (a fresh copy).

    Each item has ``id`` (e.g. ``"AUTH-1"``), ``group`` (e.g. ``"AUTH"``), ``level``
    (``"MUST"``, ``"SHOULD"`` or ``"MAY"``), ``capability`` (``None`` or one of
    ``"form-body"``, ``"get-query"``, ``"chat"``, ``"delete-stream"``), ``title`` (one line),
    ``text`` (the full requirement) and ``rationale``. IDs are stable across versions.
    """
    return copy.deepcopy(list(_requirements()))


def requirement(requirement_id: str) -> dict[str, Any]:
    """The requirement with that ID (a fresh copy); :class:`KeyError` if there is none."""
    for item in _requirements():
        if item["id"] == requirement_id:
            return copy.deepcopy(item)
    raise KeyError(requirement_id)


def clear_caches() -> None:
    """Forget every cached file, registry and validator (e.g. after adding schema files)."""
    for cached in (_catalog, _raw, registry, _validator, _requirements):
        cached.cache_clear()
