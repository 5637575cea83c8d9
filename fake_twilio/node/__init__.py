"""The Node.js side of the fake: a CommonJS module shipped as package data.

``index.js`` gives an ``httpClient`` for the official ``twilio`` npm package (v3, v4, v5) and a
patch of ``https.request``/``https.get``/``fetch``; ``preload.js`` installs that patch from
``node -r`` using ``FAKE_TWILIO_URL``. See ``README.md`` next to them. From Python or a shell::

    node -r "$(python -m fake_twilio.node preload)" app.js
"""

from __future__ import annotations

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
INDEX_JS = DIRECTORY / "index.js"
PRELOAD_JS = DIRECTORY / "preload.js"
README = DIRECTORY / "README.md"


def module_path() -> str:
    """The directory to ``require()`` (it holds ``package.json`` and ``index.js``)."""
    return str(DIRECTORY)


def preload_path() -> str:
    """The file to pass to ``node -r``."""
    return str(PRELOAD_JS)


__all__ = ["DIRECTORY", "INDEX_JS", "PRELOAD_JS", "README", "module_path", "preload_path"]
