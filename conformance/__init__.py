"""The conformance suite for the Live Interactive Video backend protocol (docs/PROTOCOL.md).

One check per requirement of ``schemas/protocol/requirements.json`` (:mod:`conformance.checks`,
registered with :func:`conformance.registry.check`) runs against a backend over HTTP with a
:class:`~conformance.context.CheckContext`: a recording backend client
(:mod:`conformance.transport`), a view of the fake Twilio the backend uses
(:mod:`conformance.twilio_view`), assertion helpers and the protocol moves of
:mod:`conformance.scenario`. :func:`conformance.runner.run` runs a selection and returns a
:class:`~conformance.runner.RunReport` (exit code 0 / 1 / 2), rendered by
:mod:`conformance.reports`; without a backend URL it runs the reference backend in-process
(:mod:`conformance.embedded`). Entry points: the ``live-conformance`` command
(:mod:`conformance.cli`) and the pytest plugin (``pytest --live-backend URL``).
"""
