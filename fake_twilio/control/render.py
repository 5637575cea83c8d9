"""JSON views of product objects returned by the control plane (its answers are plain dicts).

Each product renders its own resources; this module only finds the right renderer, so the
control plane returns exactly the JSON the product's REST API would return for the object.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

from ..core.clock import format_datetime


def to_json(value: Any) -> Any:
    """A JSON-compatible view of ``value``.

    Objects with a ``to_json()`` (Video rooms and participants) use it; Conversations objects
    use that product's renderers; dicts, lists and dataclasses are converted recursively with
    datetimes in Twilio's ``YYYY-MM-DDTHH:MM:SSZ`` format.
    """
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, Enum):
        return to_json(value.value)
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(item) for item in value]
    for method in ("to_json", "as_dict", "to_dict"):
        render = getattr(value, method, None)
        if callable(render):
            return to_json(render())
    rendered = _product_renderer(value)
    if rendered is not None:
        return to_json(rendered)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            item.name: to_json(getattr(value, item.name))
            for item in dataclasses.fields(value)
            if not item.name.startswith("_") and item.repr
        }
    return str(value)


def _product_renderer(value: Any) -> dict[str, Any] | None:
    module = type(value).__module__
    name = type(value).__name__
    if module.startswith("fake_twilio.conversations"):
        from ..conversations import resources

        render = {
            "Conversation": "render_conversation",
            "Participant": "render_participant",
            "Service": "render_service",
        }.get(name)
        if render is not None and hasattr(resources, render):
            # the service-scoped form: valid for every service, the default one included
            scoped = {"scoped": True} if name != "Service" else {}
            return getattr(resources, render)(value, **scoped)
    if module.startswith("fake_twilio.media"):
        from ..media import render as media_render

        render = {
            "PlayerStreamer": "render_player_streamer",
            "MediaProcessor": "render_media_processor",
        }.get(name)
        if render is not None and hasattr(media_render, render):
            return getattr(media_render, render)(value)
    return None
