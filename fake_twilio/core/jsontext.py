"""JSON text from clients, parsed so that every malformed document is a ``ValueError``.

CPython's parser raises ``RecursionError``, not ``ValueError``, for deeply nested arrays or
objects, and such a document fits easily inside Twilio's size limits (``[`` x 10,000 is
10 KB). Every parser of client-sent JSON (Sync ``Data``, Conversations ``Attributes``, Media
``ExtensionContext``, access-token payloads, control-plane bodies) goes through :func:`loads`
so that each caller's ``except ValueError`` turns the bomb into its own Twilio error, not a 500.
"""

from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes) -> Any:
    """``json.loads``, with "nested too deeply" reported as the ``ValueError`` it is."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
