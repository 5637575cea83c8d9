"""The Twilio products the fake serves, and where each one's model and routes live.

To add a product: create ``fake_twilio/<name>/models.py`` (a backend class taking a
:class:`~fake_twilio.core.state.ProductContext`, with a ``dump()``) and ``routes.py`` (a Flask
``Blueprint`` named ``<name>`` called ``bp``), then list it here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint


@dataclass(frozen=True)
class ProductSpec:
    name: str
    backend: str  # "module:Class"
    routes: str  # "module:attribute" of the Blueprint

    def backend_class(self) -> Callable[..., Any]:
        return _load(self.backend)

    def blueprint(self) -> Blueprint:
        return _load(self.routes)


def _load(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


PRODUCTS: dict[str, ProductSpec] = {
    spec.name: spec
    for spec in (
        ProductSpec(
            "video", "fake_twilio.video.models:VideoBackend", "fake_twilio.video.routes:bp"
        ),
        ProductSpec(
            "media", "fake_twilio.media.models:MediaBackend", "fake_twilio.media.routes:bp"
        ),
        ProductSpec("sync", "fake_twilio.sync.models:SyncBackend", "fake_twilio.sync.routes:bp"),
        ProductSpec(
            "conversations",
            "fake_twilio.conversations.models:ConversationsBackend",
            "fake_twilio.conversations.routes:bp",
        ),
    )
}


def backend_factories() -> dict[str, Callable[..., Any]]:
    return {name: spec.backend_class() for name, spec in PRODUCTS.items()}
