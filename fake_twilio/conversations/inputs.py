"""Validated inputs of the Conversations write operations, parsed from the form.

Every check that does not need the state happens here, before the model is touched, so a
refused request changes nothing. ``None`` in an input means "not given" (left unchanged on
update). The codes are Twilio's Conversations/Chat codes (see ``docs`` of each parser).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..core.clock import parse_datetime
from ..core.errors import TwilioError, invalid_param
from ..core.jsontext import loads
from ..core.params import Params
from ..core.sids import is_sid
from .durations import parse_duration

MAX_NAME_LENGTH = 256
MAX_ATTRIBUTES_BYTES = 16 * 1024
MIN_INACTIVE = timedelta(minutes=1)
MIN_CLOSED = timedelta(minutes=10)
# Twilio documents no maximum; the fake must be able to add a timer to its clock and still
# have a date (years 1..9999), so it refuses longer ones as badly formed.
MAX_TIMER = timedelta(days=365 * 1000)
MESSAGING_SERVICE_RE = re.compile(r"^MG[0-9a-fA-F]{32}$")
ROLE_RE = re.compile(r"^RL[0-9a-fA-F]{32}$")
WRITABLE_STATES = ("initializing", "inactive", "active", "closed")
LISTABLE_STATES = ("active", "inactive", "closed")
REMOVE = "null"  # the wire value that removes a participant's proxy/projected address

CONVERSATION_FIELDS = (
    "FriendlyName",
    "UniqueName",
    "DateCreated",
    "DateUpdated",
    "MessagingServiceSid",
    "Attributes",
    "State",
    "Timers.Inactive",
    "Timers.Closed",
    "Bindings.Email.Address",
    "Bindings.Email.Name",
)
PARTICIPANT_CREATE_FIELDS = (
    "Identity",
    "MessagingBinding.Address",
    "MessagingBinding.ProxyAddress",
    "MessagingBinding.ProjectedAddress",
    "DateCreated",
    "DateUpdated",
    "Attributes",
    "RoleSid",
)
PARTICIPANT_UPDATE_FIELDS = (
    "DateCreated",
    "DateUpdated",
    "Attributes",
    "RoleSid",
    "MessagingBinding.ProxyAddress",
    "MessagingBinding.ProjectedAddress",
    "Identity",
    "LastReadMessageIndex",
    "LastReadTimestamp",
)


@dataclass
class ConversationInput:
    """A conversation create/update request, validated."""

    friendly_name: str | None = None
    unique_name: str | None = None
    attributes: str | None = None
    messaging_service_sid: str | None = None
    state: str | None = None
    timer_inactive: timedelta | None = None
    timer_closed: timedelta | None = None
    email_address: str | None = None
    email_name: str | None = None
    date_created: datetime | None = None
    date_updated: datetime | None = None


@dataclass
class ParticipantInput:
    """A participant create/update request, validated."""

    identity: str | None = None
    attributes: str | None = None
    role_sid: str | None = None
    address: str | None = None
    proxy_address: str | None = None
    projected_address: str | None = None
    date_created: datetime | None = None
    date_updated: datetime | None = None
    last_read_message_index: int | None = None
    last_read_timestamp: str | None = None


def friendly_name(params: Params, *, required: bool = False) -> str | None:
    """``FriendlyName``: at most 256 characters (50003)."""
    value = params.str("FriendlyName", required=required)
    if value is not None and len(value) > MAX_NAME_LENGTH:
        raise TwilioError(50003, f"Friendly name too long (at most {MAX_NAME_LENGTH} characters)")
    return value


def attributes(params: Params) -> str | None:
    """``Attributes``: a string holding valid JSON (50304), at most 16 KiB (50303)."""
    value = params.str("Attributes")
    if value is None:
        return None
    if len(value.encode("utf-8")) > MAX_ATTRIBUTES_BYTES:
        raise TwilioError(50303, f"Attributes too long (at most {MAX_ATTRIBUTES_BYTES} bytes)")
    try:
        loads(value)
    except ValueError:
        raise TwilioError(50304, "Attributes not valid JSON") from None
    return value


def dates(params: Params) -> tuple[datetime | None, datetime | None]:
    """``DateCreated`` (50308) and ``DateUpdated`` (50309) as ISO-8601 date-times."""
    result: list[datetime | None] = []
    for name, code in (("DateCreated", 50308), ("DateUpdated", 50309)):
        raw = params.str(name)
        if raw is None or raw == "":
            result.append(None)
            continue
        try:
            result.append(parse_datetime(raw))
        except ValueError:
            raise TwilioError(code, f"Invalid {name} parameter: {raw!r}") from None
    return result[0], result[1]


def _timer(
    params: Params, name: str, code: int, short_code: int, minimum: timedelta
) -> timedelta | None:
    raw = params.str(name)
    if raw is None:
        return None
    try:
        duration = parse_duration(raw)
    except ValueError:
        raise TwilioError(
            code, f"{name} format is invalid: {raw!r} is not an ISO-8601 duration"
        ) from None
    if duration > MAX_TIMER:
        raise TwilioError(code, f"{name} format is invalid: {raw!r} is longer than 1000 years")
    if duration < minimum:
        what = "1 minute" if minimum == MIN_INACTIVE else "10 minutes"
        raise TwilioError(short_code, f"{name} should be greater or equal to {what}")
    return duration


def conversation_input(params: Params, *, creating: bool) -> ConversationInput:
    """Parse a conversation create (``creating``) or update form; raise TwilioError on bad input.

    Codes: 50003/50004 names too long, 50390 unique name shaped like a CH SID, 50304/50303
    Attributes, 50341 MessagingServiceSid, 50374 empty State, 50378 unknown State, 50384 State
    closed on create, 50379/50375 Timers.Inactive format/minimum (1 min), 50380/50376
    Timers.Closed format/minimum (10 min), 50308/50309 dates.
    """
    result = ConversationInput(friendly_name=friendly_name(params), attributes=attributes(params))
    unique_name = params.str("UniqueName")
    if unique_name is not None:
        if len(unique_name) > MAX_NAME_LENGTH:
            raise TwilioError(50004, f"Unique Name too long (at most {MAX_NAME_LENGTH} characters)")
        if is_sid(unique_name, "CH"):
            raise TwilioError(50390, "Unique name should not match conversation sid pattern")
        result.unique_name = unique_name
    service = params.str("MessagingServiceSid")
    if service is not None:
        if not MESSAGING_SERVICE_RE.match(service):
            raise TwilioError(50341, f"Invalid messaging service SID: {service!r}")
        result.messaging_service_sid = service
    state = params.str("State")
    if state is not None:
        if state == "":
            raise TwilioError(50374, "'State' field can't be empty")
        if state not in WRITABLE_STATES:
            raise TwilioError(50378, f"'State' parameter value is invalid: {state!r}")
        if creating and state == "closed":
            raise TwilioError(50384, "Initial state can't be 'closed'")
        result.state = state
    result.timer_inactive = _timer(params, "Timers.Inactive", 50379, 50375, MIN_INACTIVE)
    result.timer_closed = _timer(params, "Timers.Closed", 50380, 50376, MIN_CLOSED)
    result.email_address = params.str("Bindings.Email.Address")
    result.email_name = params.str("Bindings.Email.Name")
    result.date_created, result.date_updated = dates(params)
    return result


def participant_input(params: Params, *, creating: bool) -> ParticipantInput:
    """Parse a participant create (``creating``) or update form; raise TwilioError on bad input.

    Codes: 20001 neither Identity nor MessagingBinding.Address/ProjectedAddress on create,
    50207 Identity too long, 50304/50303 Attributes, 50109 RoleSid not a role SID, 50411/50412
    address or proxy address missing from the pair, 50409 address equals proxy address, 50421
    LastReadMessageIndex not a non-negative integer, 50308/50309 dates.
    """
    result = ParticipantInput(attributes=attributes(params))
    identity = params.str("Identity")
    if identity is not None:
        if identity == "" or len(identity) > MAX_NAME_LENGTH:
            raise TwilioError(50207, f"Identity must be 1 to {MAX_NAME_LENGTH} characters")
        result.identity = identity
    role = params.str("RoleSid")
    if role is not None:
        if not ROLE_RE.match(role):
            raise TwilioError(50109, f"Conversation role not found: {role!r}")
        result.role_sid = role
    result.proxy_address = params.str("MessagingBinding.ProxyAddress")
    result.projected_address = params.str("MessagingBinding.ProjectedAddress")
    if creating:
        result.address = params.str("MessagingBinding.Address")
        if result.address and not result.proxy_address:
            raise TwilioError(50412, "Participant proxy address is empty")
        if result.proxy_address and not result.address:
            raise TwilioError(50411, "Participant address is empty")
        if result.address and result.address == result.proxy_address:
            raise TwilioError(50409, "Participant address equals proxy address")
        if not (result.identity or result.address or result.projected_address):
            raise TwilioError(
                20001, "Missing required parameter Identity or MessagingBinding.Address", 400
            )
    else:
        result.last_read_message_index = params.int("LastReadMessageIndex", minimum=0, code=50421)
        result.last_read_timestamp = params.str("LastReadTimestamp")
    result.date_created, result.date_updated = dates(params)
    return result


def webhook_enabled(value: str | None) -> bool | None:
    """The ``X-Twilio-Webhook-Enabled`` header: ``true``/``false`` (any case) or absent."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise invalid_param("X-Twilio-Webhook-Enabled", f"{value!r} is not true or false")
    return lowered == "true"


def list_filters(params: Params) -> tuple[datetime | None, datetime | None, str | None]:
    """``StartDate``, ``EndDate`` (a date means its whole day) and ``State`` of a list.

    Codes: 20001 a date that is not ISO-8601, 50396 EndDate before StartDate, 50378 State.
    """
    bounds: list[datetime | None] = []
    for name, end_of_day in (("StartDate", False), ("EndDate", True)):
        raw = params.str(name)
        if not raw:
            bounds.append(None)
            continue
        text = raw.strip()
        if len(text) == 10:
            text += "T23:59:59Z" if end_of_day else "T00:00:00Z"
        try:
            bounds.append(parse_datetime(text))
        except ValueError:
            raise invalid_param(name, f"{raw!r} is not an ISO-8601 date") from None
    start, end = bounds
    if start is not None and end is not None and end < start:
        raise TwilioError(50396, "EndDate parameter should be greater than StartDate parameter")
    state = params.str("State")
    if state is not None and state not in LISTABLE_STATES:
        raise TwilioError(50378, f"'State' parameter value is invalid: {state!r}")
    return start, end, state
