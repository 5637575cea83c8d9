"""Property-based parts of the suite: a stateful model of live streams (PROP-1) and
schema-driven fuzzing of the client endpoints (PROP-2).

:mod:`.model` is the oracle (pure), :mod:`.observe` reads the fake's state for it,
:mod:`.stateful` is the Hypothesis state machine, :mod:`.fuzz` the body generators and
their properties, :mod:`.script` renders a failing sequence, :mod:`.budget` bounds and seeds
the exploration.
"""
