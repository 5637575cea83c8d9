"""The control plane in Python: :class:`FakeControl` over one fake's state.

Everything a test or a conformance suite needs beyond Twilio's own API: simulated clients
that present real access tokens (:mod:`.clients`), the clock, fault injection, the request
journal, webhook deliveries, reset, state dumps and accounts. :class:`~.client.ControlClient`
offers the same methods over HTTP (``/_fake/...``); both return plain JSON-compatible values
(except the clock methods, which return ``datetime``) and raise
:class:`~fake_twilio.core.errors.TwilioError` with Twilio's codes.

FakeControl keeps no state of its own: create as many as you like over the same state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..core.clock import format_datetime, parse_datetime
from ..core.errors import TwilioError
from ..core.faults import FaultInjector, faults_of
from ..core.state import WEBHOOK_MODES, FakeState
from ..tokens import verify_access_token
from .clients import SimulatedClients

#: The most ``advance`` moves the clock in one call (100 years); the OpenAPI document says so.
MAX_ADVANCE_SECONDS = 100 * 365 * 24 * 3600
#: The Unix timestamps ``freeze`` takes: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, the
#: instants Twilio's four-digit-year format can write (also in the OpenAPI document).
MIN_TIMESTAMP = -62135596800
MAX_TIMESTAMP = 253402300799


def invalid(name: str, detail: str) -> TwilioError:
    """The control plane's own validation error: 400, code 20001, naming the field."""
    return TwilioError(20001, f"Invalid field {name}: {detail}", 400)


def to_datetime(value: datetime | str | float | int | None, name: str = "at") -> datetime | None:
    """A datetime from a datetime, an ISO-8601 string or a Unix timestamp (None stays None)."""
    if value is None:
        return None
    if isinstance(value, datetime):  # a naive datetime is taken as UTC, like parse_datetime
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bool):
        raise invalid(name, "must be an ISO-8601 date-time or a Unix timestamp")
    if isinstance(value, int | float):
        if not MIN_TIMESTAMP <= value <= MAX_TIMESTAMP:  # also NaN
            raise invalid(name, f"{value!r} is out of range [{MIN_TIMESTAMP}, {MAX_TIMESTAMP}]")
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise invalid(name, f"{value!r} is out of range") from None
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError:
            raise invalid(name, f"{value!r} is not an ISO-8601 date-time") from None
    raise invalid(name, "must be an ISO-8601 date-time or a Unix timestamp")


class FakeControl(SimulatedClients):
    """Control operations on one :class:`FakeState` (see the module docstring)."""

    def __init__(self, state: FakeState) -> None:
        self.state = state

    # -- tokens ---------------------------------------------------------------------------
    def verify_token(self, token: str, *, require_identity: bool = True) -> dict[str, Any]:
        """Verify an access token as Twilio would (2010x/20157 401 errors); its decoded view."""
        return verify_access_token(self.state, token, require_identity=require_identity).as_dict()

    # -- clock ----------------------------------------------------------------------------
    def now(self) -> datetime:
        """The fake clock's current time."""
        return self.state.clock.now()

    def clock(self) -> dict[str, Any]:
        """``{now (Twilio format), timestamp (float seconds), frozen}``."""
        now = self.state.clock.now()
        return {
            "now": format_datetime(now),
            "timestamp": now.timestamp(),
            "frozen": self.state.clock.frozen,
        }

    def freeze(self, at: datetime | str | float | None = None) -> datetime:
        """Stop the clock at ``at`` (default: now); deadlines that became due run at once."""
        when = to_datetime(at)
        frozen = self.state.clock.freeze(when)
        self.state.tick()
        return frozen

    def unfreeze(self) -> datetime:
        """Let the clock run again from where it stands."""
        self.state.clock.unfreeze()
        return self.state.clock.now()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward, running every deadline that came due (and its webhooks)."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise invalid("seconds", "must be a non-negative number")
        if seconds > MAX_ADVANCE_SECONDS:
            raise invalid("seconds", f"must be at most {MAX_ADVANCE_SECONDS} (100 years)")
        try:
            return self.state.advance_clock(seconds)
        except OverflowError:
            raise invalid("seconds", "the clock cannot go past the year 9999") from None

    # -- faults ---------------------------------------------------------------------------
    @property
    def _faults(self) -> FaultInjector:
        injector = faults_of(self.state)
        assert injector is not None
        return injector

    def add_fault(self, action: str = "error", **fields: Any) -> dict[str, Any]:
        """Add a fault rule (fields of :meth:`FaultInjector.add`); returns it with its ``id``."""
        account = fields.get("account_sid")
        if account is not None and account not in self.state.accounts:
            raise invalid("account", f"unknown account {account}")
        rule = self._faults.add(action, products=self.state.products, **fields)
        return rule.as_dict()

    def faults(self) -> list[dict[str, Any]]:
        """The active fault rules, in the order they are checked."""
        return [rule.as_dict() for rule in self._faults.rules()]

    def remove_fault(self, fault_id: str) -> None:
        """Remove one rule; 20404 when there is no such active rule."""
        if not self._faults.remove(fault_id):
            raise TwilioError(20404, f"The fault rule {fault_id} was not found", 404)

    def clear_faults(self) -> None:
        self._faults.clear()

    # -- journal --------------------------------------------------------------------------
    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """Journal entries (every product request answered), oldest first, filtered by the
        fields of :class:`~fake_twilio.core.journal.JournalFilter` (``since``, ``account_sid``,
        ``product``, ``method``, ``path_contains``, ``writes_only``, ``status``)."""
        return [entry.as_dict() for entry in self.state.journal.entries(**filters)]

    def mark(self) -> int:
        """The latest journal sequence number: pass it as ``since`` to see what came after."""
        return self.state.journal.mark()

    def clear_requests(self) -> None:
        self.state.journal.clear()

    # -- webhooks -------------------------------------------------------------------------
    def webhooks(
        self, *, since: int = 0, account_sid: str | None = None, source: str | None = None
    ) -> list[dict[str, Any]]:
        """Webhook deliveries (successful or not), in delivery order, filtered."""
        records = self.state.webhooks.records(since=since, account_sid=account_sid)
        return [
            record.as_dict()
            for record in records
            if source is None or record.source == source or record.source.startswith(source + ".")
        ]

    def clear_webhooks(self) -> None:
        self.state.webhooks.clear()

    def webhook_mode(self) -> str:
        return self.state.webhook_mode

    def set_webhook_mode(self, mode: str) -> str:
        """``sync`` or ``async`` (see :meth:`FakeState.set_webhook_mode`)."""
        if mode not in WEBHOOK_MODES:
            raise invalid("mode", f"{mode!r} is not one of {', '.join(WEBHOOK_MODES)}")
        self.state.set_webhook_mode(mode)
        return self.state.webhook_mode

    def flush_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait for queued async deliveries; False when ``timeout`` seconds were not enough."""
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
            raise invalid("timeout", "must be a non-negative number of seconds")
        return self.state.flush_webhooks(timeout)

    def register_wsgi(self, url_prefix: str, app: Any) -> None:
        """Deliver webhooks whose URL starts with ``url_prefix`` to a WSGI app (Python only)."""
        self.state.webhooks.register_wsgi(url_prefix, app)

    def unregister_wsgi(self, url_prefix: str) -> None:
        self.state.webhooks.unregister_wsgi(url_prefix)

    # -- reset, state, accounts -----------------------------------------------------------
    def reset(self, product: str | None = None, account_sid: str | None = None) -> None:
        """Forget resources: everything (also faults, journal, webhooks, clock), one product,
        one account, or one product of one account. Accounts themselves are kept."""
        self._check_scope(product, account_sid)
        self.state.reset(product=product, account_sid=account_sid)

    def dump(self, product: str | None = None, account_sid: str | None = None) -> dict[str, Any]:
        """Every resource as JSON: ``{account_sid: {product: {...}}}``, optionally narrowed."""
        self._check_scope(product, account_sid)
        return self.state.dump(product=product, account_sid=account_sid)

    def create_account(self, friendly_name: str = "") -> dict[str, str]:
        """A new account with one API key; returns its credentials."""
        if not isinstance(friendly_name, str):
            raise invalid("friendly_name", "must be a string")
        return self.state.accounts.create(friendly_name).as_dict()

    def accounts(self) -> list[str]:
        return self.state.accounts.sids()

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "products": self.state.products}

    def credentials(self) -> dict[str, str]:
        """The default account's credentials (account SID, auth token, API key and secret)."""
        return self.state.default_credentials.as_dict()

    def _check_scope(self, product: str | None, account_sid: str | None) -> None:
        if product is not None and product not in self.state.products:
            raise invalid("product", f"{product!r} is not one of {', '.join(self.state.products)}")
        if account_sid is not None and account_sid not in self.state.accounts:
            raise invalid("account", f"unknown account {account_sid}")
