"""Sync v1 REST routes: thin views over :class:`~fake_twilio.sync.models.SyncBackend`.

Each view parses its parameters with :func:`~fake_twilio.core.http.params` (listing every
parameter Twilio's spec has for the operation, so anything else is 20001), validates them all
before calling the model, and serialises with :mod:`fake_twilio.sync.models.render`.
"""

from __future__ import annotations

from . import items, objects, permissions, services
from ._blueprint import bp

__all__ = ["bp", "items", "objects", "permissions", "services"]
