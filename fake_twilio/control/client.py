"""The control plane over HTTP: :class:`ControlClient` has :class:`FakeControl`'s methods.

For a fake running as a server (``fake-twilio serve``) or any fake a suite did not start
itself: ``ControlClient("http://127.0.0.1:8080")``. Errors come back as
:class:`~fake_twilio.core.errors.TwilioError` with the code, message and status the control
API answered, exactly like the in-process facade raises them. ``register_wsgi`` has no HTTP
equivalent (a WSGI app cannot be sent over the wire).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import requests

from ..core.errors import TwilioError
from ..core.journal import JournalFilter

DEFAULT_TIMEOUT = 30.0
# Filter fields whose query parameter has another name than the keyword argument.
QUERY_NAMES = {"account_sid": "account"}


class ControlClient:
    """HTTP client of ``<base_url>/_fake/...`` (see ``GET /_fake/openapi.json``)."""

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        payload = None if body is None else {k: v for k, v in body.items() if v is not None}
        params = None
        if query:
            params = {
                k: ("true" if v is True else "false" if v is False else v)
                for k, v in query.items()
                if v is not None
            }
        response = self.session.request(
            method,
            f"{self.base_url}/_fake{path}",
            json=payload,
            params=params,
            timeout=timeout or self.timeout,
        )
        if response.status_code == 204 or not response.content:
            if response.status_code >= 400:
                raise TwilioError(response.status_code, response.reason, response.status_code)
            return None
        try:
            data = response.json()
        except ValueError:
            raise TwilioError(
                20500, f"The control API answered non-JSON: {response.text[:200]}", 500
            ) from None
        if response.status_code >= 400:
            if isinstance(data, dict) and "code" in data:
                raise TwilioError(
                    int(data["code"]), str(data.get("message", "")), response.status_code
                )
            raise TwilioError(response.status_code, str(data), response.status_code)
        return data

    @staticmethod
    def _time(clock: dict[str, Any]) -> datetime:
        return datetime.fromtimestamp(clock["timestamp"], UTC)

    # -- service --------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def credentials(self) -> dict[str, str]:
        return self._call("GET", "/credentials")

    def openapi(self) -> dict[str, Any]:
        return self._call("GET", "/openapi.json")

    def verify_token(self, token: str, *, require_identity: bool = True) -> dict[str, Any]:
        return self._call(
            "POST", "/tokens/verify", {"token": token, "require_identity": require_identity}
        )

    # -- simulated clients ----------------------------------------------------------------
    def connect_to_room(
        self, token: str, room: str, *, account_sid: str | None = None
    ) -> dict[str, Any]:
        return self._call(
            "POST", "/video/connect", {"token": token, "room": room, "account": account_sid}
        )

    def disconnect_from_room(
        self, room: str, identity: str, *, account_sid: str | None = None
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            "/video/disconnect",
            {"room": room, "identity": identity, "account": account_sid},
        )

    def complete_room(self, room: str, *, account_sid: str | None = None) -> dict[str, Any]:
        return self._call("POST", "/video/complete", {"room": room, "account": account_sid})

    def connect_to_player(
        self,
        token: str,
        player_streamer_sid: str | None = None,
        *,
        account_sid: str | None = None,
    ) -> dict[str, Any]:
        body = {"token": token, "player_streamer_sid": player_streamer_sid, "account": account_sid}
        return self._call("POST", "/player/connect", body)

    def disconnect_from_player(
        self, player_streamer_sid: str, identity: str, *, account_sid: str | None = None
    ) -> dict[str, Any]:
        body = {
            "player_streamer_sid": player_streamer_sid,
            "identity": identity,
            "account": account_sid,
        }
        return self._call("POST", "/player/disconnect", body)

    def connect_to_sync(
        self, token: str, service_sid: str | None = None, *, account_sid: str | None = None
    ) -> dict[str, Any]:
        body = {"token": token, "service_sid": service_sid, "account": account_sid}
        return self._call("POST", "/sync/connect", body)

    def disconnect_from_sync(
        self,
        service_sid: str,
        identity: str,
        endpoint_id: str | None = None,
        *,
        account_sid: str | None = None,
    ) -> dict[str, Any]:
        body = {
            "service_sid": service_sid,
            "identity": identity,
            "endpoint_id": endpoint_id,
            "account": account_sid,
        }
        return self._call("POST", "/sync/disconnect", body)

    def sync_read(
        self,
        token: str,
        kind: str,
        name: str,
        key: str | None = None,
        service_sid: str | None = None,
        *,
        account_sid: str | None = None,
    ) -> dict[str, Any]:
        body = {
            "token": token,
            "kind": kind,
            "name": name,
            "key": key,
            "service_sid": service_sid,
            "account": account_sid,
        }
        return self._call("POST", "/sync/read", body)

    def sync_write(
        self,
        token: str,
        kind: str,
        name: str,
        data: dict[str, Any],
        key: str | None = None,
        service_sid: str | None = None,
        *,
        account_sid: str | None = None,
    ) -> dict[str, Any]:
        body = {
            "token": token,
            "kind": kind,
            "name": name,
            "data": data,
            "key": key,
            "service_sid": service_sid,
            "account": account_sid,
        }
        return self._call("POST", "/sync/write", body)

    def join_conversation(
        self, token: str, conversation: str, *, account_sid: str | None = None
    ) -> dict[str, Any]:
        body = {"token": token, "conversation": conversation, "account": account_sid}
        return self._call("POST", "/conversations/join", body)

    # -- clock ----------------------------------------------------------------------------
    def clock(self) -> dict[str, Any]:
        return self._call("GET", "/clock")

    def now(self) -> datetime:
        return self._time(self.clock())

    def freeze(self, at: datetime | str | float | None = None) -> datetime:
        value = at.isoformat() if isinstance(at, datetime) else at
        return self._time(self._call("POST", "/clock/freeze", {"at": value}))

    def unfreeze(self) -> datetime:
        return self._time(self._call("POST", "/clock/unfreeze", {}))

    def advance(self, seconds: float) -> datetime:
        return self._time(self._call("POST", "/clock/advance", {"seconds": seconds}))

    # -- faults ---------------------------------------------------------------------------
    def add_fault(self, action: str = "error", **fields: Any) -> dict[str, Any]:
        body = {"action": action, **fields}
        if "account_sid" in body:
            body["account"] = body.pop("account_sid")
        return self._call("POST", "/faults", body)

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")["faults"]

    def remove_fault(self, fault_id: str) -> None:
        self._call("DELETE", f"/faults/{fault_id}")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    # -- journal --------------------------------------------------------------------------
    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """Journal entries, filtered by the fields of :class:`JournalFilter` (as in-process)."""
        wanted = asdict(JournalFilter(**filters))  # an unknown filter fails here, as in-process
        query = {QUERY_NAMES.get(name, name): value for name, value in wanted.items()}
        return self._call("GET", "/requests", query=query)["requests"]

    def mark(self) -> int:
        return self._call("GET", "/requests/mark")["mark"]

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    # -- webhooks -------------------------------------------------------------------------
    def webhooks(
        self, *, since: int = 0, account_sid: str | None = None, source: str | None = None
    ) -> list[dict[str, Any]]:
        query = {"since": since or None, "account": account_sid, "source": source}
        return self._call("GET", "/webhooks", query=query)["webhooks"]

    def clear_webhooks(self) -> None:
        self._call("DELETE", "/webhooks")

    def webhook_mode(self) -> str:
        return self._call("GET", "/webhooks/mode")["mode"]

    def set_webhook_mode(self, mode: str) -> str:
        return self._call("PUT", "/webhooks/mode", {"mode": mode})["mode"]

    def flush_webhooks(self, timeout: float = 10.0) -> bool:
        answer = self._call(
            "POST", "/webhooks/flush", {"timeout": timeout}, timeout=self.timeout + timeout
        )
        return bool(answer["flushed"])

    def register_wsgi(self, url_prefix: str, app: Any) -> None:
        raise NotImplementedError("register_wsgi is only available in-process (FakeControl)")

    # -- reset, state, accounts -----------------------------------------------------------
    def reset(self, product: str | None = None, account_sid: str | None = None) -> None:
        self._call("POST", "/reset", {"product": product, "account": account_sid})

    def dump(self, product: str | None = None, account_sid: str | None = None) -> dict[str, Any]:
        return self._call("GET", "/state", query={"product": product, "account": account_sid})

    def create_account(self, friendly_name: str = "") -> dict[str, str]:
        return self._call("POST", "/accounts", {"friendly_name": friendly_name or None})

    def accounts(self) -> list[str]:
        return self._call("GET", "/accounts")["accounts"]
