"""Fixtures of the conformance tests: whole suite runs against embedded backends.

``run_suite(factory=None, exclude_groups=None, **settings)`` runs every check (but those of
``exclude_groups``) against the reference backend (or a
variant built by ``factory(settings, twilio_http_client)``, see :mod:`faulty`) and a fake
Twilio, all in this process, and returns the :class:`conformance.runner.RunReport`.

The reference backend's throttle window is shortened so that SEC-2's wait for the cool-down
takes about a second, and the consistency bound is lowered (everything is in-process and
synchronous) so that a check waiting for an effect that never comes gives up quickly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

#: Settings every embedded run of these tests gets (unless a test overrides them).
TEST_SETTINGS: dict[str, Any] = {"throttle_window": 1.0}
#: The suite's consistency bound in these runs (seconds).
CONSISTENCY_TIMEOUT = 1.0


@pytest.fixture(autouse=True)
def _quiet_backend_logs() -> Iterator[None]:
    """The backends log every refused delivery and injected failure; keep the output short."""
    logger = logging.getLogger("reference_backend")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.fixture
def run_suite() -> Iterator[Callable[..., Any]]:
    from conformance import embedded, runner
    from conformance.config import SuiteConfig

    opened: list[Any] = []

    def run(
        factory: Callable[..., Any] | None = None,
        *,
        exclude_groups: set[str] | None = None,
        **settings: Any,
    ) -> Any:
        chat_enabled = settings.pop("chat_enabled", True)
        run_embedded = embedded.start(
            chat_enabled=chat_enabled,
            backend_factory=factory,
            **{**TEST_SETTINGS, **settings},
        )
        opened.append(run_embedded)
        config = SuiteConfig(
            consistency_timeout=CONSISTENCY_TIMEOUT,
            seed=20260101,
            exclude_groups=set(exclude_groups or ()),
        )
        return runner.run(config, embedded=run_embedded)

    yield run
    for item in opened:
        item.close()
