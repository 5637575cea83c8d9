"""Helpers shared by the fake's own tests: serve an app on a real socket, mint access tokens.

Kept apart from ``conftest.py`` because these are plain functions the tests call, not fixtures.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from twilio.jwt.access_token import AccessToken
from werkzeug.serving import make_server

from fake_twilio.core.state import FakeState


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) in a thread; stop it afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def access_token(
    state: FakeState, *grants: Any, identity: str | None = "alice", **options: Any
) -> str:
    """A token from the official ``AccessToken`` class, signed with the default API key.

    ``options`` go to ``AccessToken`` as they are (``ttl``, ``nbf``, ``valid_until``, ``region``).
    """
    creds = state.default_credentials
    return AccessToken(
        creds.account_sid,
        creds.api_key_sid,
        creds.api_key_secret,
        grants=list(grants),
        identity=identity,
        **options,
    ).to_jwt()
