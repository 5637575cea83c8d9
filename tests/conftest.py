"""Shared test configuration. The fake's own fixtures (``fake_twilio_app``...) come from its
pytest plugin, the conformance suite's options from its plugin.

Hypothesis profiles: ``ci`` (derandomized, no example database, no deadline, bounded) is loaded
when ``CI`` is set, as in ``.ci/run``; ``dev`` otherwise (random, with the local database so a
failure found once is replayed first). ``HYPOTHESIS_PROFILE`` picks one explicitly. Tests that
set ``max_examples`` themselves keep their bound; the profile decides the rest.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=50,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
