"""Benchmarks of the fake Twilio, the reference backend and the conformance suite.

Run from the repository root: ``python -m bench`` (``--quick``, ``--only NAME``,
``--json FILE``, ``--list``). Needs the ``bench`` extra for the moto comparison
(``pip install -e '.[bench]'``); the other benchmarks need only the project. Figures are
medians with their spread, and every comparison is a ratio measured side by side in the same
run: see docs/PERFORMANCE.md.
"""
