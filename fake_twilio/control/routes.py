"""The control plane over HTTP, mounted at ``/_fake`` (see ``GET /_fake/openapi.json``).

Thin views: validate the JSON body or query (:mod:`.inputs`; unknown or wrong fields are 400
with code 20001 naming the field), call :class:`~.facade.FakeControl`, answer JSON. Errors
from the products and from token verification pass through with their Twilio codes; the app
renders every error in Twilio's shape. Inputs name accounts ``account``; outputs say
``account_sid``. These views do not hold the state lock themselves: FakeControl takes it
around each product operation only.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from ..core.errors import TwilioError
from ..core.faults import ACTIONS
from ..core.http import current_state
from ..core.state import WEBHOOK_MODES
from ..core.webhook_rewrite import RewriteError, rules_from_json
from .clients import SYNC_KINDS
from .facade import MAX_ADVANCE_SECONDS, FakeControl, to_datetime
from .inputs import Fields
from .openapi import openapi_document

bp = Blueprint("control", __name__)


def _control() -> FakeControl:
    return FakeControl(current_state())


def _no_content() -> Response:
    return Response(status=204)


def _key(fields: Fields) -> str | None:
    value = fields.raw("key")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return fields.str("key")  # raises the right error
    return str(value)


# -- service ---------------------------------------------------------------------------------
@bp.get("/health")
def health() -> Any:
    Fields.args()
    return jsonify(_control().health())


@bp.get("/credentials")
def credentials() -> Any:
    Fields.args()
    return jsonify(_control().credentials())


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(openapi_document())


@bp.post("/tokens/verify")
def verify_token() -> Any:
    fields = Fields.body("token", "require_identity")
    require = fields.bool("require_identity")
    token = fields.str("token", required=True) or ""
    return jsonify(_control().verify_token(token, require_identity=require is not False))


# -- simulated clients -------------------------------------------------------------------------
@bp.post("/video/connect")
def video_connect() -> Any:
    fields = Fields.body("token", "room", "account")
    token, room = fields.str("token", required=True), fields.str("room", required=True)
    account = fields.str("account")
    return jsonify(_control().connect_to_room(token or "", room or "", account_sid=account))


@bp.post("/video/disconnect")
def video_disconnect() -> Any:
    fields = Fields.body("room", "identity", "account")
    room, identity = fields.str("room", required=True), fields.str("identity", required=True)
    account = fields.str("account")
    return jsonify(_control().disconnect_from_room(room or "", identity or "", account_sid=account))


@bp.post("/video/complete")
def video_complete() -> Any:
    fields = Fields.body("room", "account")
    room, account = fields.str("room", required=True), fields.str("account")
    return jsonify(_control().complete_room(room or "", account_sid=account))


@bp.post("/player/connect")
def player_connect() -> Any:
    fields = Fields.body("token", "player_streamer_sid", "account")
    token = fields.str("token", required=True) or ""
    streamer, account = fields.str("player_streamer_sid"), fields.str("account")
    return jsonify(_control().connect_to_player(token, streamer, account_sid=account))


@bp.post("/player/disconnect")
def player_disconnect() -> Any:
    fields = Fields.body("player_streamer_sid", "identity", "account")
    streamer = fields.str("player_streamer_sid", required=True) or ""
    identity = fields.str("identity", required=True) or ""
    account = fields.str("account")
    return jsonify(_control().disconnect_from_player(streamer, identity, account_sid=account))


@bp.post("/sync/connect")
def sync_connect() -> Any:
    fields = Fields.body("token", "service_sid", "account")
    token = fields.str("token", required=True) or ""
    service, account = fields.str("service_sid"), fields.str("account")
    return jsonify(_control().connect_to_sync(token, service, account_sid=account))


@bp.post("/sync/disconnect")
def sync_disconnect() -> Any:
    fields = Fields.body("service_sid", "identity", "endpoint_id", "account")
    service = fields.str("service_sid", required=True) or ""
    identity = fields.str("identity", required=True) or ""
    endpoint, account = fields.str("endpoint_id"), fields.str("account")
    return jsonify(
        _control().disconnect_from_sync(service, identity, endpoint, account_sid=account)
    )


@bp.post("/sync/read")
def sync_read() -> Any:
    fields = Fields.body("token", "kind", "name", "key", "service_sid", "account")
    token = fields.str("token", required=True) or ""
    kind = fields.choice("kind", SYNC_KINDS, required=True) or ""
    name = fields.str("name", required=True) or ""
    key, service, account = _key(fields), fields.str("service_sid"), fields.str("account")
    return jsonify(_control().sync_read(token, kind, name, key, service, account_sid=account))


@bp.post("/sync/write")
def sync_write() -> Any:
    fields = Fields.body("token", "kind", "name", "data", "key", "service_sid", "account")
    token = fields.str("token", required=True) or ""
    kind = fields.choice("kind", SYNC_KINDS, required=True) or ""
    name = fields.str("name", required=True) or ""
    data = fields.object("data", required=True) or {}
    key, service, account = _key(fields), fields.str("service_sid"), fields.str("account")
    return jsonify(
        _control().sync_write(token, kind, name, data, key, service, account_sid=account)
    )


@bp.post("/conversations/join")
def conversations_join() -> Any:
    fields = Fields.body("token", "conversation", "account")
    token = fields.str("token", required=True) or ""
    conversation = fields.str("conversation", required=True) or ""
    account = fields.str("account")
    return jsonify(_control().join_conversation(token, conversation, account_sid=account))


# -- clock -----------------------------------------------------------------------------------
@bp.get("/clock")
def clock() -> Any:
    Fields.args()
    return jsonify(_control().clock())


@bp.post("/clock/freeze")
def clock_freeze() -> Any:
    fields = Fields.body("at")
    control = _control()
    control.freeze(to_datetime(fields.datetime_like("at")))
    return jsonify(control.clock())


@bp.post("/clock/unfreeze")
def clock_unfreeze() -> Any:
    Fields.body()
    control = _control()
    control.unfreeze()
    return jsonify(control.clock())


@bp.post("/clock/advance")
def clock_advance() -> Any:
    fields = Fields.body("seconds")
    seconds = fields.number("seconds", required=True, minimum=0, maximum=MAX_ADVANCE_SECONDS) or 0
    control = _control()
    control.advance(seconds)
    return jsonify(control.clock())


# -- faults ----------------------------------------------------------------------------------
FAULT_FIELDS = (
    "action",
    "product",
    "method",
    "path",
    "path_glob",
    "account",
    "code",
    "status",
    "message",
    "latency_ms",
    "times",
    "after",
    "probability",
    "seed",
)


@bp.get("/faults")
def list_faults() -> Any:
    Fields.args()
    return jsonify({"faults": _control().faults()})


@bp.post("/faults")
def add_fault() -> Any:
    fields = Fields.body(*FAULT_FIELDS)
    rule = _control().add_fault(
        fields.choice("action", ACTIONS) or "error",
        product=fields.str("product"),
        method=fields.str("method"),
        path=fields.str("path"),
        path_glob=fields.str("path_glob"),
        account_sid=fields.str("account"),
        code=fields.int("code"),
        status=fields.int("status"),
        message=fields.str("message") or None,  # "" is free text: Twilio's own message
        latency_ms=fields.number("latency_ms", minimum=0),
        times=fields.int("times", minimum=1),
        after=fields.int("after", minimum=0) or 0,
        probability=fields.number("probability", minimum=0),
        seed=fields.int("seed"),
    )
    return jsonify(rule), 201


@bp.delete("/faults")
def clear_faults() -> Any:
    Fields.args()
    _control().clear_faults()
    return _no_content()


@bp.get("/faults/<fault_id>")
def get_fault(fault_id: str) -> Any:
    for rule in _control().faults():
        if rule["id"] == fault_id:
            return jsonify(rule)
    raise TwilioError(20404, f"The fault rule {fault_id} was not found", 404)


@bp.delete("/faults/<fault_id>")
def remove_fault(fault_id: str) -> Any:
    _control().remove_fault(fault_id)
    return _no_content()


# -- journal ---------------------------------------------------------------------------------
@bp.get("/requests")
def list_requests() -> Any:
    fields = Fields.args(
        "since", "account", "product", "method", "path_contains", "writes_only", "status"
    )
    control = _control()
    entries = control.requests(
        since=fields.int("since", minimum=0) or 0,
        account_sid=fields.str("account"),
        product=fields.str("product"),
        method=fields.str("method"),
        path_contains=fields.str("path_contains"),
        writes_only=bool(fields.bool("writes_only")),
        status=fields.int("status"),
    )
    return jsonify({"requests": entries, "mark": control.mark()})


@bp.delete("/requests")
def clear_requests() -> Any:
    Fields.args()
    _control().clear_requests()
    return _no_content()


@bp.get("/requests/mark")
def requests_mark() -> Any:
    Fields.args()
    return jsonify({"mark": _control().mark()})


# -- webhooks --------------------------------------------------------------------------------
@bp.get("/webhooks")
def list_webhooks() -> Any:
    fields = Fields.args("since", "account", "source")
    records = _control().webhooks(
        since=fields.int("since", minimum=0) or 0,
        account_sid=fields.str("account"),
        source=fields.str("source"),
    )
    return jsonify({"webhooks": records})


@bp.delete("/webhooks")
def clear_webhooks() -> Any:
    Fields.args()
    _control().clear_webhooks()
    return _no_content()


@bp.get("/webhooks/mode")
def get_webhook_mode() -> Any:
    Fields.args()
    return jsonify({"mode": _control().webhook_mode()})


@bp.put("/webhooks/mode")
def put_webhook_mode() -> Any:
    fields = Fields.body("mode")
    mode = fields.choice("mode", WEBHOOK_MODES, required=True) or "sync"
    return jsonify({"mode": _control().set_webhook_mode(mode)})


@bp.post("/webhooks/flush")
def flush_webhooks() -> Any:
    fields = Fields.body("timeout")
    timeout = fields.number("timeout", minimum=0)
    flushed = _control().flush_webhooks(10.0 if timeout is None else timeout)
    return jsonify({"flushed": flushed})


@bp.get("/webhooks/rewrites")
def get_webhook_rewrites() -> Any:
    Fields.args()
    return jsonify({"rewrites": current_state().webhooks.rewrites.as_list()})


@bp.put("/webhooks/rewrites")
def put_webhook_rewrites() -> Any:
    """Replace every rule (fake_twilio/core/webhook_rewrite.py); a bad one changes nothing."""
    fields = Fields.body("rewrites")
    rewrites = current_state().webhooks.rewrites
    try:
        rewrites.set(rules_from_json(fields.raw("rewrites")))
    except RewriteError as exc:
        raise TwilioError(20001, f"Invalid field rewrites: {exc}", 400) from None
    return jsonify({"rewrites": rewrites.as_list()})


@bp.delete("/webhooks/rewrites")
def clear_webhook_rewrites() -> Any:
    Fields.args()
    current_state().webhooks.rewrites.clear()
    return _no_content()


# -- reset, state, accounts ------------------------------------------------------------------
@bp.post("/reset")
def reset() -> Any:
    fields = Fields.body("product", "account")
    product, account = fields.str("product"), fields.str("account")
    _control().reset(product=product, account_sid=account)
    return jsonify({"reset": True, "product": product, "account_sid": account})


@bp.get("/state")
def state() -> Any:
    fields = Fields.args("product", "account")
    product, account = fields.str("product"), fields.str("account")
    return jsonify(_control().dump(product=product, account_sid=account))


@bp.get("/accounts")
def list_accounts() -> Any:
    Fields.args()
    return jsonify({"accounts": _control().accounts()})


@bp.post("/accounts")
def create_account() -> Any:
    fields = Fields.body("friendly_name")
    return jsonify(_control().create_account(fields.str("friendly_name") or "")), 201
