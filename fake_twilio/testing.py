"""Small helpers for tests that drive a fake through the real ``twilio`` SDK."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .app import state_of
from .core.state import FakeState
from .http_client import WSGITwilioHttpClient


def sdk_client(app: Flask, *, api_key: bool = False, account_sid: str | None = None) -> Client:
    """A real ``twilio.rest.Client`` answered in-process by ``app``.

    With ``api_key=True`` it authenticates with the default API key instead of the auth token.
    With ``account_sid`` it uses that account's credentials (auth token).
    """
    return sdk_client_for(
        state_of(app), WSGITwilioHttpClient(app), api_key=api_key, account_sid=account_sid
    )


def sdk_client_for(
    state: FakeState,
    http_client: TwilioHttpClient | None,
    *,
    api_key: bool = False,
    account_sid: str | None = None,
) -> Client:
    """A ``twilio.rest.Client`` with credentials of ``state``, talking through ``http_client``
    (None: the SDK's default one).

    Default account with its auth token; ``api_key=True`` authenticates with the default API key
    instead; ``account_sid`` picks another account of the fake (its auth token). Raises
    ``KeyError`` for an account the fake does not know.
    """
    creds = state.default_credentials
    if account_sid is not None and account_sid != creds.account_sid:
        account = state.accounts.get(account_sid)
        if account is None:
            raise KeyError(account_sid)
        return Client(account.sid, account.auth_token, http_client=http_client)
    if api_key:
        return Client(
            creds.api_key_sid,
            creds.api_key_secret,
            account_sid=creds.account_sid,
            http_client=http_client,
        )
    return Client(creds.account_sid, creds.auth_token, http_client=http_client)


def media_request(
    client: Client, method: str, path: str, data: dict[str, Any] | None = None
) -> Any:
    """Call Media v1 the way a current SDK must: ``client.request`` on media.twilio.com.

    Returns the decoded JSON body; raises ``TwilioRestException`` on an error like the SDK's
    typed resources do.
    """
    url = f"https://media.twilio.com/v1{path}"
    response = client.request(
        method,
        url,
        data=data if method != "GET" else None,
        params=data if method == "GET" else None,
    )
    body = response.text
    payload = json.loads(body) if body else {}
    if response.status_code >= 400:
        raise TwilioRestException(
            response.status_code, url, payload.get("message", ""), payload.get("code")
        )
    return payload
