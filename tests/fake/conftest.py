"""Fixtures for the fake's own tests: a fresh app per test, and a real SDK client for it."""

from __future__ import annotations

import pytest
from flask import Flask
from twilio.rest import Client

from fake_twilio import create_app
from fake_twilio.testing import sdk_client


@pytest.fixture
def fake_app() -> Flask:
    return create_app()


@pytest.fixture
def client(fake_app: Flask) -> Client:
    return sdk_client(fake_app)
