"""Fixtures of the ecosystem tests (helpers live in :mod:`.helpers`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .helpers import PUBLIC_URL, WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver that believes it is deployed at ``https://my-app-1234-dev.twil.io``."""
    hook = WebhookReceiver(PUBLIC_URL)
    try:
        yield hook
    finally:
        hook.stop()
