"""Reference backend of the Live Interactive Video protocol (docs/PROTOCOL.md), on Flask.

``create_app(settings, twilio_http_client=None)`` builds the WSGI app; :class:`Settings`
configures it (``Settings.from_env(os.environ)``); ``reference-backend serve`` (or
``python -m reference_backend serve``) runs it, against real Twilio or a fake.
"""

from __future__ import annotations

from .app import backend_of, create_app
from .settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError", "backend_of", "create_app"]
