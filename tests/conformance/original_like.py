"""An "original-like" backend: the original Node.js Twilio Functions backend, imitated in Python.

The original (``twilio/twilio-live-interactive-video``, ``serverless/``) is what the protocol was
read from; this app reproduces its behaviour as /work/shared/research/original-backend.md
describes it (sections 2 to 9), bugs included, so that the test suite can show which
requirements of the conformance suite the original fails. Nothing here is fixed on purpose:

* Twilio Functions transport: GET, POST and OPTIONS run the function, any other method is
  refused by the gateway (405, plain text); query string, JSON body and form body are merged
  into one ``event``; a JSON body that does not parse (or is not an object or array) is refused
  by the gateway (400, plain text); other content types are ignored.
* The auth middleware (every client endpoint but ``remove-speaker``): expiry first, then the
  ``Authorization`` header compared verbatim; no throttling.
* JavaScript semantics: missing-parameter checks by truthiness, ``hand_raised`` by truthiness
  (``"false"`` raises the hand), values stringified the way a template string or twilio-node
  would (``5`` -> ``"5"``, missing -> ``"undefined"``).
* The TDZ bug of ``viewer-connected-to-player`` and ``raise-hand``: a missing parameter throws
  a ReferenceError, which the Functions runtime answers 500 with its own JSON body
  ``{"message": ..., "name": "ReferenceError"}`` (not the protocol's envelope).
* Every step with its own 500 message, the Twilio error's message as explanation (for the
  Media API, called with plain HTTP like the original's axios, axios' ``Request failed with
  status code N``); only 54301/54208/50433/20404 swallowed where the original does; no
  rollback; never a 404 or 409.
* twilio-node builds its request paths from the parameters unencoded, and axios parses the URL
  with Node's ``url.parse``, which trims whitespace and control characters off its end: a
  document, map item or participant named by an identity with a trailing space is looked up
  without it (so ``user-bob `` is created, then updated as ``user-bob``, which does not exist).
* The webhooks are "protected" functions: the gateway refuses a delivery without a valid
  ``X-Twilio-Signature`` (401, plain text).

State lives only in Twilio and in the objects the factory closes over.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import requests
from flask import Flask, Response, request
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant, PlaybackGrant, SyncGrant, VideoGrant
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.datastructures import MultiDict

__all__ = ["factory"]

log = logging.getLogger("reference_backend.original_like")

MEDIA_BASE = "https://media.twilio.com/v1"
MEDIA_EXTENSION = "video-composer-v2"
MAX_STREAM_DURATION = 60 * 30
TOKEN_TTL = 14400
STORAGE_SERVICE_NAME = "Live Video Backend Storage"
CONVERSATIONS_SERVICE_NAME = "Twilio Live Interactive Video Conversations Service"
STREAM_SERVICE_PREFIX = "Live Video Stream "
COMPOSER_PREFIX = "video-composer"
SPEAKERS, RAISED_HANDS, VIEWERS = "speakers", "raised_hands", "viewers"
#: The stream's maps in the order the original creates them, with their names in its messages.
MAPS = ((SPEAKERS, "speakers"), (RAISED_HANDS, "raised hands"), (VIEWERS, "viewers"))
NOT_FOUND, MAP_ITEM_EXISTS, UNIQUE_NAME_EXISTS, PARTICIPANT_EXISTS = 20404, 54208, 54301, 50433
FUNCTION_METHODS = frozenset({"GET", "POST", "OPTIONS"})
ALL_METHODS = ("GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH", "HEAD")

_CONVERSATION_FAILED = "Something went wrong when creating a conversation."
_PARTICIPANT_FAILED = "Something went wrong when creating a conversation participant."
_FIND_CONVERSATION_FAILED = "Something went wrong when finding a conversation."


# -- JavaScript values --------------------------------------------------------------------------
class _Undefined:
    """JavaScript's ``undefined``: what ``event.x`` is for a parameter nobody sent."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()


def _truthy(value: Any) -> bool:
    """JavaScript truthiness (``if (value)``)."""
    if value is UNDEFINED or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True  # arrays and objects, even empty ones


def _js(value: Any) -> str:
    """``String(value)`` / ``${value}``: how a value ends up in a URL path or a name."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if item is None or item is UNDEFINED else _js(item) for item in value)
    return "[object Object]"


def _param(value: Any) -> Any:
    """A twilio-node request parameter: ``undefined`` is left out, ``null`` sent empty."""
    if value is UNDEFINED:
        return values.unset
    if value is None:
        return ""
    return _js(value)


# -- failures -------------------------------------------------------------------------------------
class _Rejected(Exception):
    """A rejected promise of a Twilio call: the JS error's ``message`` and ``code``."""

    def __init__(self, message: str, code: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class _Answer(Exception):
    """``return callback(null, response)``: the answer, decided early."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class _Crash(Exception):
    """An exception the handler does not catch (the Functions runtime answers it)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


_CALL_ERRORS = (TwilioException, requests.RequestException, _Rejected)


def _rejection(exc: BaseException) -> _Rejected:
    """What twilio-node's RestException (or axios' error) would carry for ``exc``."""
    if isinstance(exc, _Rejected):
        return exc
    if isinstance(exc, TwilioRestException):
        text = str(exc.msg or "")
        prefix, separator, rest = text.partition(": ")
        if separator and prefix.startswith("Unable to "):
            return _Rejected(rest, exc.code)
        return _Rejected(f"[HTTP {exc.status}] Failed to execute request", exc.code)
    if isinstance(exc, TwilioException):  # RFC 9457 answers and page failures
        detail = getattr(exc, "detail", None) or getattr(exc, "title", None)
        return _Rejected(str(detail or exc), getattr(exc, "code", None))
    return _Rejected(str(exc) or type(exc).__name__)


def _json(status: int, body: Any) -> Response:
    """A ``Twilio.Response`` with ``Content-Type: application/json`` and ``body`` (None: none)."""
    text = "" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    response = Response(text, status=status)
    response.headers["Content-Type"] = "application/json"
    return response


def _error(status: int, message: str, explanation: str) -> _Answer:
    return _Answer(_json(status, {"error": {"message": message, "explanation": explanation}}))


@contextmanager
def _step(
    message: str, *, fixed: str | None = None, ignore: tuple[int, ...] = ()
) -> Iterator[None]:
    """One ``try { ... } catch (e)`` of the original: a failed Twilio call answers 500
    ``message`` / ``e.message`` (or the ``fixed`` explanation), unless its code is ignored (then
    the rest of the block is skipped, as in JS)."""
    try:
        yield
    except _CALL_ERRORS as exc:
        failure = _rejection(exc)
        if failure.code in ignore:
            return
        log.info("%s: %s", message, failure.message)
        raise _error(500, message, fixed or failure.message) from exc


def _runtime_error(name: str, message: str) -> Response:
    """The Functions runtime's answer to an uncaught exception (not the app's envelope)."""
    return _json(500, {"message": message, "name": name})


def _plain(status: int, text: str) -> Response:
    return Response(text, status=status, content_type="text/plain; charset=utf-8")


class _NodeAccessToken(AccessToken):
    """twilio-node's AccessToken: signed with ``jsonwebtoken``, which adds ``iat`` (and
    ``exp = iat + ttl``); no ``nbf`` unless asked."""

    def _generate_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = super()._generate_payload()
        payload["iat"] = int(time.time())
        return payload


class _AxiosUrls:
    """The HTTP client as twilio-node and axios use it: the URL is trimmed (``url.parse``)."""

    _TRIMMED = "".join(chr(code) for code in range(0x21))  # C0 controls and the space

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return self.inner.request(method, url.strip(self._TRIMMED), *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


# -- the request as Twilio Functions hands it over ------------------------------------------------
def _qs(text: str) -> dict[str, Any]:
    """``qs``-style parsing: repeated keys become arrays."""
    parsed: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key in parsed:
            existing = parsed[key]
            parsed[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            parsed[key] = value
    return parsed


def _event() -> dict[str, Any] | Response:
    """The merged ``event`` (query string, then the body), or the gateway's 400."""
    event = _qs(request.query_string.decode("utf-8", "replace"))
    raw = request.get_data(cache=True)
    mimetype = request.mimetype
    if mimetype == "application/json" and raw.strip():
        text = raw.decode("utf-8", "replace")
        try:
            body = json.loads(text)
        except RecursionError:  # V8 parses what Python's decoder is too shallow for
            body = [] if text.lstrip().startswith("[") else {}
        except ValueError:
            return _plain(400, "Bad Request")
        if isinstance(body, list):
            body = {str(index): item for index, item in enumerate(body)}
        if not isinstance(body, dict):  # body-parser's strict mode: objects and arrays only
            return _plain(400, "Bad Request")
        event.update(body)
    elif mimetype == "application/x-www-form-urlencoded":
        event.update(_qs(raw.decode("utf-8", "replace")))
    return event


# -- the functions ---------------------------------------------------------------------------------
class _OriginalLike:
    """The deployed service: its environment (settings, the SIDs the deploy script created)
    and one method per function."""

    def __init__(self, settings: Any, http_client: Any) -> None:
        self.settings = settings
        self.http = _AxiosUrls(http_client)
        self.client = Client(settings.account_sid, settings.auth_token, http_client=self.http)
        self.validator = RequestValidator(settings.auth_token)
        self.storage_sid: str = settings.backend_storage_service_sid or self._deploy_storage()
        self.conversations_sid: str | None = None
        if settings.chat_enabled:
            self.conversations_sid = (
                settings.conversations_service_sid or self._deploy_conversations()
            )

    # deploy.js ----------------------------------------------------------------------------------
    def _deploy_storage(self) -> str:
        service = self.client.sync.v1.services.create(
            friendly_name=STORAGE_SERVICE_NAME, acl_enabled=True
        )
        self.client.sync.v1.services(service.sid).sync_maps.create(unique_name="streams")
        return str(service.sid)

    def _deploy_conversations(self) -> str:
        service = self.client.conversations.v1.services.create(
            friendly_name=CONVERSATIONS_SERVICE_NAME
        )
        return str(service.sid)

    # common.js ----------------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return f"{self.settings.public_url}/{path}"

    def _media(self, path: str, data: dict[str, str]) -> dict[str, Any]:
        """An axios POST to the Media API (Basic auth with the account's credentials)."""
        response = self.http.request(
            "POST",
            f"{MEDIA_BASE}/{path}",
            data=data,
            auth=(self.settings.account_sid, self.settings.auth_token),
        )
        if not 200 <= response.status_code < 300:
            raise _Rejected(f"Request failed with status code {response.status_code}")
        try:
            payload = json.loads(response.text) if response.text else {}
        except ValueError:
            payload = {}
        return payload if isinstance(payload, dict) else {}

    def _stream_map_item(self, room_sid: Any) -> dict[str, Any]:
        """``getStreamMapItem``: the ``streams`` item's data."""
        storage = self.client.sync.v1.services(self.storage_sid)
        item = storage.sync_maps("streams").sync_map_items(_js(room_sid)).fetch()
        data = item.data
        return data if isinstance(data, dict) else {}

    def _stream_sync(self, data: dict[str, Any]) -> Any:
        return self.client.sync.v1.services(_js(data.get("sync_service_sid", UNDEFINED)))

    def _fetch_room(self, stream_name: Any) -> Any:
        with _step("error finding room"):
            return self.client.video.v1.rooms(_js(stream_name)).fetch()
        raise AssertionError("unreachable")  # pragma: no cover

    def _token(self, identity: Any, sync_sid: Any) -> AccessToken:
        token = _NodeAccessToken(
            self.settings.account_sid,
            self.settings.api_key_sid,
            self.settings.api_key_secret,
            # twilio-node puts the identity in only when it is a string
            identity=identity if isinstance(identity, str) else None,
            ttl=TOKEN_TTL,
            nbf=None,  # twilio-node adds nbf only when asked
        )
        token.add_grant(SyncGrant(service_sid=sync_sid))
        if self.conversations_sid is not None:
            token.add_grant(ChatGrant(service_sid=self.conversations_sid))
        return token

    @staticmethod
    def _object_names(identity: Any = UNDEFINED) -> dict[str, str]:
        names = {"speakers_map": SPEAKERS, "viewers_map": VIEWERS, "raised_hands_map": RAISED_HANDS}
        if identity is not UNDEFINED:
            names["user_document"] = f"user-{_js(identity)}"
        return names

    def _grant_read(self, target: Any, identity: Any, message: str) -> None:
        with _step(message):
            target(_js(identity)).update(read=True, write=False, manage=False)

    def _chat_participant(self, room_sid: str, identity: Any) -> None:
        assert self.conversations_sid is not None
        conversations = self.client.conversations.v1.services(self.conversations_sid).conversations
        with _step(
            "error creating conversation participant",
            fixed=_PARTICIPANT_FAILED,
            ignore=(PARTICIPANT_EXISTS,),
        ):
            conversations(room_sid).participants.create(identity=_param(identity))

    # auth.js ------------------------------------------------------------------------------------
    def check_passcode(self) -> None:
        if datetime.now(UTC) > self.settings.passcode_expires_at:
            raise _error(
                401,
                "passcode expired",
                "The passcode used to validate application users has expired. Re-deploy the "
                "application to refresh the passcode.",
            )
        if request.headers.get("Authorization") != self.settings.passcode:
            raise _error(
                401,
                "passcode incorrect",
                "The passcode used to validate application users is incorrect.",
            )

    @staticmethod
    def _require(event: dict[str, Any], *names: str) -> None:
        for name in names:
            if not _truthy(event.get(name, UNDEFINED)):
                raise _error(400, f"missing {name}", f"The {name} parameter is missing.")

    # functions ----------------------------------------------------------------------------------
    def verify_passcode(self, event: dict[str, Any]) -> Response:
        return _json(200, {"verified": True})

    def create_stream(self, event: dict[str, Any]) -> Response:
        self._require(event, "user_identity", "stream_name")
        identity, stream_name = event["user_identity"], event["stream_name"]
        with _step("error creating room"):
            room = self.client.video.v1.rooms.create(
                unique_name=_param(stream_name),
                type="group",
                status_callback=self._url("rooms-webhook"),
            )
        with _step("error creating stream"):
            player_streamer = self._media(
                "PlayerStreamers", {"MaxDuration": str(MAX_STREAM_DURATION), "Video": "true"}
            )
            extension_context = {
                "room": {"name": room.sid},
                "outputs": [player_streamer.get("sid")],
                "resolution": "1920x1080",
            }
            media_processor = self._media(
                "MediaProcessors",
                {
                    "MaxDuration": str(MAX_STREAM_DURATION),
                    "Extension": MEDIA_EXTENSION,
                    "ExtensionContext": json.dumps(extension_context, separators=(",", ":")),
                },
            )
        with _step("error creating stream sync service"):
            service = self.client.sync.v1.services.create(
                friendly_name=STREAM_SERVICE_PREFIX + room.sid,
                acl_enabled=True,
                webhook_url=self._url("sync-webhook"),
                reachability_webhooks_enabled=True,
                reachability_debouncing_enabled=True,
            )
        stream_sync = self.client.sync.v1.services(service.sid)
        with _step("error adding stream to streams map"):
            storage = self.client.sync.v1.services(self.storage_sid)
            record: dict[str, Any] = {
                "sync_service_sid": service.sid,
                "player_streamer_sid": player_streamer.get("sid"),
                "media_processor_sid": media_processor.get("sid"),
            }
            storage.sync_maps("streams").sync_map_items.create(
                key=room.sid, data={k: v for k, v in record.items() if v is not None}
            )
        for name, label in MAPS:
            with _step(f"error creating {label} map"):
                stream_sync.sync_maps.create(unique_name=name)
            if name == SPEAKERS:
                with _step("error adding host to speakers map"):
                    stream_sync.sync_maps(SPEAKERS).sync_map_items.create(
                        key=_param(identity), data={"host": True}
                    )
            self._grant_read(
                stream_sync.sync_maps(name).sync_map_permissions,
                identity,
                f"error adding read access to {label} map",
            )
        if self.conversations_sid is not None:
            conversations = self.client.conversations.v1.services(
                self.conversations_sid
            ).conversations
            with _step("error creating conversation", fixed=_CONVERSATION_FAILED):
                conversations.create(unique_name=room.sid, timers_closed="P1D")
            self._chat_participant(room.sid, identity)
        token = self._token(identity, service.sid)
        token.add_grant(VideoGrant(room=stream_name))
        return _json(
            200,
            {
                "token": token.to_jwt(),
                "sync_object_names": self._object_names(),
                "room_sid": room.sid,
                "chat_enabled": self.conversations_sid is not None,
            },
        )

    def _join(self, event: dict[str, Any], record_message: str, viewer: bool) -> Response:
        """join-stream-as-speaker and join-stream-as-viewer (they differ in a few steps)."""
        self._require(event, "user_identity", "stream_name")
        identity, stream_name = event["user_identity"], event["stream_name"]
        room = self._fetch_room(stream_name)
        with _step(record_message):
            record = self._stream_map_item(room.sid)
        stream_sync = self._stream_sync(record)
        document = f"user-{_js(identity)}"
        with _step("error creating user document", ignore=(UNIQUE_NAME_EXISTS,)):
            stream_sync.documents.create(unique_name=document)
        if viewer:
            with _step("error updating user  document"):  # sic: two spaces, as in the original
                stream_sync.documents(document).update(data={"speaker_invite": False})
        self._grant_read(
            stream_sync.documents(document).document_permissions,
            identity,
            "error adding read access to user document",
        )
        for name, label in MAPS:
            self._grant_read(
                stream_sync.sync_maps(name).sync_map_permissions,
                identity,
                f"error adding read access to {label} map",
            )
        if self.conversations_sid is not None:
            conversations = self.client.conversations.v1.services(
                self.conversations_sid
            ).conversations
            with _step("error finding conversation", fixed=_FIND_CONVERSATION_FAILED):
                conversations(room.sid).fetch()
            self._chat_participant(room.sid, identity)
        sync_sid = _js(record.get("sync_service_sid", UNDEFINED))
        token = self._token(identity, sync_sid)
        if viewer:
            with _step("error getting playback grant"):
                player_streamer = _js(record.get("player_streamer_sid", UNDEFINED))
                grant = self._media(
                    f"PlayerStreamers/{player_streamer}/PlaybackGrant",
                    {"AccessControlAllowOrigin": "*"},
                ).get("grant")
            if grant is not None:
                token.add_grant(PlaybackGrant(grant=grant))
        else:
            token.add_grant(VideoGrant(room=stream_name))
        return _json(
            200,
            {
                "token": token.to_jwt(),
                "sync_object_names": self._object_names(identity),
                "room_sid": room.sid,
                "chat_enabled": self.conversations_sid is not None,
            },
        )

    def join_stream_as_speaker(self, event: dict[str, Any]) -> Response:
        return self._join(event, "error finding stream map item", viewer=False)

    def join_stream_as_viewer(self, event: dict[str, Any]) -> Response:
        return self._join(event, "error fetching stream map item", viewer=True)

    @staticmethod
    def _tdz(event: dict[str, Any], *names: str) -> None:
        """The missing-parameter branches that use ``response`` before its ``let``."""
        for name in names:
            value = event.get(name, UNDEFINED)
            missing = value is UNDEFINED if name == "hand_raised" else not _truthy(value)
            if missing:
                raise _Crash("ReferenceError", "Cannot access 'response' before initialization")

    def viewer_connected_to_player(self, event: dict[str, Any]) -> Response:
        self._tdz(event, "user_identity", "stream_name")
        identity = event["user_identity"]
        room = self._fetch_room(event["stream_name"])
        with _step("error getting stream sync client"):
            stream_sync = self._stream_sync(self._stream_map_item(room.sid))
        with _step("error adding user to viewers map", ignore=(MAP_ITEM_EXISTS,)):
            stream_sync.sync_maps(VIEWERS).sync_map_items.create(key=_param(identity), data={})
        return _json(200, {"success": True})

    def raise_hand(self, event: dict[str, Any]) -> Response:
        self._tdz(event, "user_identity", "stream_name", "hand_raised")
        identity = event["user_identity"]
        room = self._fetch_room(event["stream_name"])
        with _step("error getting stream sync client"):
            stream_sync = self._stream_sync(self._stream_map_item(room.sid))
        raised_hands = stream_sync.sync_maps(RAISED_HANDS)
        with _step("error updating raised hands map", ignore=(NOT_FOUND, MAP_ITEM_EXISTS)):
            if _truthy(event["hand_raised"]):
                raised_hands.sync_map_items.create(key=_param(identity), data={})
            else:
                raised_hands.sync_map_items(_js(identity)).delete()
        return _json(200, {"sent": True})

    def send_speaker_invite(self, event: dict[str, Any]) -> Response:
        identity = event.get("user_identity", UNDEFINED)
        with _step("error updating user document"):
            stream_sync = self._stream_sync(self._stream_map_item(event.get("room_sid", UNDEFINED)))
            document = stream_sync.documents(f"user-{_js(identity)}").fetch()
            data = document.data if isinstance(document.data, dict) else {}
            stream_sync.documents(document.sid).update(data={**data, "speaker_invite": True})
        return _json(200, {"sent": True})

    def remove_speaker(self, event: dict[str, Any]) -> Response:
        room = _js(event.get("room_name", UNDEFINED))
        identity = _js(event.get("user_identity", UNDEFINED))
        with _step("error removing speaker"):
            self.client.video.v1.rooms(room).participants(identity).update(status="disconnected")
        return _json(200, {"removed": True})

    def delete_stream(self, event: dict[str, Any]) -> Response:
        with _step("error deleting stream"):
            self.client.video.v1.rooms(_js(event.get("stream_name", UNDEFINED))).update(
                status="completed"
            )
        return _json(200, {"deleted": True})

    # webhooks -----------------------------------------------------------------------------------
    def signed(self, path: str) -> bool:
        """The Functions gateway's check of a protected function's ``X-Twilio-Signature``."""
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            return False
        url = self._url(path)
        if request.query_string:
            url += "?" + request.query_string.decode("utf-8", "replace")
        params: MultiDict[str, str] = MultiDict()
        if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
            params = MultiDict(
                parse_qsl(
                    request.get_data(cache=True).decode("utf-8", "replace"), keep_blank_values=True
                )
            )
        return bool(self.validator.validate(url, params, signature))

    def rooms_webhook(self, event: dict[str, Any]) -> Response:
        kind = event.get("StatusCallbackEvent", UNDEFINED)
        room_sid = event.get("RoomSid", UNDEFINED)
        identity = event.get("ParticipantIdentity", UNDEFINED)
        if kind in ("participant-connected", "participant-disconnected"):
            if not isinstance(identity, str):  # event.ParticipantIdentity.startsWith(...)
                raise _Crash(
                    "TypeError", "Cannot read properties of undefined (reading 'startsWith')"
                )
            if not identity.startswith(COMPOSER_PREFIX):
                with _step("error getting stream sync client"):
                    stream_sync = self._stream_sync(self._stream_map_item(room_sid))
                if kind == "participant-connected":
                    self._speaker_connected(stream_sync, identity)
                else:
                    with _step("error removing user from speakers map", ignore=(NOT_FOUND,)):
                        stream_sync.sync_maps(SPEAKERS).sync_map_items(identity).delete()
        elif kind == "room-ended":
            with _step("error deleting stream"):
                storage = self.client.sync.v1.services(self.storage_sid)
                record = self._stream_map_item(room_sid)
                media_processor = _js(record.get("media_processor_sid", UNDEFINED))
                player_streamer = _js(record.get("player_streamer_sid", UNDEFINED))
                self._media(f"MediaProcessors/{media_processor}", {"Status": "ended"})
                self._media(f"PlayerStreamers/{player_streamer}", {"Status": "ended"})
                self._stream_sync(record).delete()
                storage.sync_maps("streams").sync_map_items(_js(room_sid)).delete()
        return _json(200, {"deleted": True})

    @staticmethod
    def _speaker_connected(stream_sync: Any, identity: str) -> None:
        with _step("error removing user from viewers map", ignore=(NOT_FOUND,)):
            stream_sync.sync_maps(VIEWERS).sync_map_items(identity).delete()
        with _step("error removing user from raised hands map", ignore=(NOT_FOUND,)):
            stream_sync.sync_maps(RAISED_HANDS).sync_map_items(identity).delete()
        with _step("error adding user to speakers map", ignore=(MAP_ITEM_EXISTS,)):
            stream_sync.sync_maps(SPEAKERS).sync_map_items.create(
                key=identity, data={"host": False}
            )

    def sync_webhook(self, event: dict[str, Any]) -> Response:
        if event.get("EventType", UNDEFINED) == "endpoint_disconnected":
            stream_sync = self.client.sync.v1.services(_js(event.get("ServiceSid", UNDEFINED)))
            identity = _js(event.get("Identity", UNDEFINED))
            for name, label in MAPS:
                with _step(f"error removing user from {label} map", ignore=(NOT_FOUND,)):
                    stream_sync.sync_maps(name).sync_map_items(identity).delete()
        return _json(200, None)


def factory(settings: Any, twilio_http_client: Any) -> Flask:
    """The original-like backend for ``settings`` (a ``reference_backend.settings.Settings``),
    talking to Twilio through ``twilio_http_client``; deploys the shared services first."""
    service = _OriginalLike(settings, twilio_http_client)
    functions: dict[str, tuple[Callable[[dict[str, Any]], Response], bool]] = {
        "verify-passcode": (service.verify_passcode, True),
        "create-stream": (service.create_stream, True),
        "delete-stream": (service.delete_stream, True),
        "join-stream-as-speaker": (service.join_stream_as_speaker, True),
        "join-stream-as-viewer": (service.join_stream_as_viewer, True),
        "viewer-connected-to-player": (service.viewer_connected_to_player, True),
        "raise-hand": (service.raise_hand, True),
        "send-speaker-invite": (service.send_speaker_invite, True),
        "remove-speaker": (service.remove_speaker, False),  # no auth middleware
    }
    webhooks: dict[str, Callable[[dict[str, Any]], Response]] = {
        "rooms-webhook": service.rooms_webhook,
        "sync-webhook": service.sync_webhook,
    }

    def function(path: str = "") -> Response:
        name = path.strip("/")
        if name not in functions and name not in webhooks:
            return _plain(404, "Not Found")
        if request.method not in FUNCTION_METHODS:
            return _plain(405, "Method Not Allowed")
        if name in webhooks and not service.signed(name):
            return _plain(401, "Unauthorized - you are not authenticated to perform this request")
        event = _event()
        if isinstance(event, Response):
            return event
        try:
            if name in webhooks:
                return webhooks[name](event)
            handler, protected = functions[name]
            if protected:
                service.check_passcode()
            return handler(event)
        except _Answer as answer:
            return answer.response
        except _Crash as crash:
            log.info("%s crashed: %s", name, crash)
            return _runtime_error(crash.name, crash.message)
        except Exception as exc:  # a bug of this imitation, not of the original
            log.exception("original-like backend: unexpected error in %s", name)
            return _runtime_error(type(exc).__name__, str(exc))

    app = Flask("original_like")
    app.add_url_rule("/", "root", function, methods=ALL_METHODS, provide_automatic_options=False)
    app.add_url_rule(
        "/<path:path>", "function", function, methods=ALL_METHODS, provide_automatic_options=False
    )
    return app
