"""The checks: one function per requirement ID of docs/PROTOCOL.md section 8.

Importing this package registers every check into :data:`conformance.registry.REGISTRY`. Each
group of requirements has its module; each check function is named after what it checks and
documents, in its docstring, an exchange that passes and one that fails (shown by
``live-conformance explain ID``).
"""

from . import (
    auth,
    errors,
    flow_endpoints,
    flow_webhooks,
    idempotency,
    input_bodies,
    input_validation,
    input_values,
    property,
    responses,
    security,
    state,
    tokens,
    twilio_failures,
    webhooks,
)

__all__ = [
    "auth",
    "errors",
    "flow_endpoints",
    "flow_webhooks",
    "idempotency",
    "input_bodies",
    "input_validation",
    "input_values",
    "property",
    "responses",
    "security",
    "state",
    "tokens",
    "twilio_failures",
    "webhooks",
]
