"""The fake's control plane: simulated clients, clock, faults, journal, webhooks, reset, state.

In Python, :class:`FakeControl` (``FakeControl(state_of(app))``); over HTTP, the routes under
``/_fake`` (described by ``GET /_fake/openapi.json``) and :class:`ControlClient`, which has the
same methods.
"""

from .client import ControlClient
from .facade import FakeControl

__all__ = ["ControlClient", "FakeControl"]
