"""pytest fixtures for the fake (registered as the ``fake_twilio`` pytest11 entry point).

Fixtures:

- ``fake_twilio``: an in-process fake (:func:`fake_twilio.mock`) active for the test; every
  ``https://*.twilio.com`` request made through ``requests`` goes to it.
- ``fake_twilio_app``: a fresh fake app (not intercepting anything).
- ``fake_twilio_client``: a ``twilio.rest.Client`` for the ``fake_twilio`` fake.
- ``fake_twilio_server``: a fake served on ``127.0.0.1:<free port>`` for the test.
- ``fake_twilio_server_session``: one served fake shared by the whole session.

Imports are deferred to the fixtures so that loading the plugin costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flask import Flask
    from twilio.rest import Client

    from fake_twilio.handle import FakeTwilio
    from fake_twilio.server import FakeServer


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """An in-process fake for this test (a fresh state), intercepting ``*.twilio.com``.

    Yields a :class:`fake_twilio.handle.FakeTwilio`: ``.client()`` gives a ready
    ``twilio.rest.Client``, ``.control`` the control plane, ``.credentials`` the default
    account; any ``twilio.rest.Client`` the code under test builds also reaches this fake.
    Non-Twilio hosts pass through. Stopped after the test.
    """
    from fake_twilio.inprocess import mock

    with mock() as handle:
        yield handle


@pytest.fixture
def fake_twilio_app() -> Flask:
    """A fresh fake app (own state), for ``fake_twilio.testing.sdk_client(app)`` or WSGI use.

    It intercepts nothing by itself.
    """
    from fake_twilio import create_app

    return create_app()


@pytest.fixture
def fake_twilio_client(fake_twilio: FakeTwilio) -> Client:
    """A ``twilio.rest.Client`` (default account, auth token) answered by ``fake_twilio``."""
    return fake_twilio.client()


def _started_server() -> Any:
    from fake_twilio.server import FakeServer

    return FakeServer().start()


@pytest.fixture
def fake_twilio_server() -> Iterator[FakeServer]:
    """A fake served over HTTP on ``127.0.0.1`` (free port) for this test, then stopped.

    Yields a :class:`fake_twilio.server.FakeServer`: ``.url``, ``.credentials``,
    ``.client()`` (a ``twilio.rest.Client`` sending to it), ``.control`` (HTTP control client).
    """
    server = _started_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fake_twilio_server_session() -> Iterator[FakeServer]:
    """One fake served over HTTP for the whole session (state is shared between tests:
    call ``.reset()`` or ``.control.reset()`` where a test needs a clean fake)."""
    server = _started_server()
    try:
        yield server
    finally:
        server.stop()
