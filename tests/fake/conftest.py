"""Fixtures for the fake's own tests: a fresh app per test, its state and control plane, and a
real SDK client for it."""

from __future__ import annotations

import pytest
from flask import Flask
from twilio.rest import Client

from fake_twilio import create_app, state_of
from fake_twilio.control import FakeControl
from fake_twilio.core.state import FakeState
from fake_twilio.testing import sdk_client


@pytest.fixture
def app() -> Flask:
    """A fresh fake: its own state, shared with no other test."""
    return create_app()


@pytest.fixture
def fake_app(app: Flask) -> Flask:
    """The same app as ``app``, under the name the product tests ask for."""
    return app


@pytest.fixture
def state(app: Flask) -> FakeState:
    return state_of(app)


@pytest.fixture
def control(state: FakeState) -> FakeControl:
    """The in-process control plane over the test's fake."""
    return FakeControl(state)


@pytest.fixture
def client(app: Flask) -> Client:
    return sdk_client(app)
