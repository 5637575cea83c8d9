"""STATE: what a stream is in Twilio (docs/PROTOCOL.md 5 and requirements STATE-1..STATE-7)."""

from __future__ import annotations

import json
from typing import Any

import schemas

from ..context import CheckContext
from ..registry import check
from ..twilio_view import TwilioRefused
from ._answers import grants_of
from ._twilio_state import MAPS, chat_service_of
from ._waiting import settle

_ITEM_SCHEMAS = {
    "speakers": "protocol/sync.speakers-item",
    "raised_hands": "protocol/sync.raised-hands-item",
    "viewers": "protocol/sync.viewers-item",
}


def _public_base(ctx: CheckContext) -> str | None:
    base = ctx.config.public_base_url or getattr(ctx.backend, "public_base_url", None)
    return base.rstrip("/") if base else None


def _expect_webhook_url(ctx: CheckContext, url: Any, path: str, what: str) -> None:
    base = _public_base(ctx)
    if base is not None:
        if url != f"{base}/{path}":
            ctx.fail(
                f"{what} is {url!r}, expected {base + '/' + path!r}",
                expected=f"{base}/{path}",
                actual=url,
            )
    elif not isinstance(url, str) or not url.endswith(f"/{path}"):
        ctx.fail(f"{what} is {url!r}, expected <public base>/{path}", actual=url)


@check("STATE-1", needs_twilio=True)
def stream_is_an_in_progress_group_room(ctx: CheckContext) -> None:
    """After create-stream, Twilio has an in-progress group room whose unique_name is the
    stream name, whose SID is the answered room_sid and whose status callback is
    <public base>/rooms-webhook with method POST.

    Passes: GET /v1/Rooms/RMfef2... shows type "group", unique_name "friday-townhall",
    status "in-progress", status_callback "https://backend.example/rooms-webhook" (POST).
    Fails: the room is of type "go", or has no status callback.
    """
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    room = view.room(stream.room_sid)
    if room is None:
        ctx.fail(f"no room {stream.room_sid} in Twilio", exchange=stream.create_response)
    expected = {
        "sid": stream.room_sid,
        "unique_name": stream.name,
        "type": "group",
        "status": "in-progress",
        "status_callback_method": "POST",
    }
    for key, value in expected.items():
        if room.get(key) != value:
            ctx.fail(
                f"the stream's room has {key} {room.get(key)!r}, expected {value!r}",
                exchange=stream.create_response,
                expected=value,
                actual=room.get(key),
            )
    _expect_webhook_url(
        ctx, room.get("status_callback"), "rooms-webhook", "the room's status_callback"
    )
    by_name = view.room(stream.name)
    if by_name is None or by_name.get("sid") != stream.room_sid:
        ctx.fail(f"the in-progress room named {stream.name!r} is not {stream.room_sid}")


def _context(processor: dict[str, Any]) -> Any:
    context = processor.get("extension_context")
    if isinstance(context, str):
        try:
            return json.loads(context)
        except ValueError:
            return context
    return context


@check("STATE-2", needs_twilio=True)
def room_is_composed_to_a_player_streamer(ctx: CheckContext) -> None:
    """After create-stream, a started MediaProcessor with extension video-composer-v2 and
    context {"room": {"name": <room SID>}, "outputs": [<PlayerStreamer SID>], "resolution":
    "1920x1080"} composes the room into a started PlayerStreamer, the one of the viewer
    tokens.

    Passes: MediaProcessor ZX... is "started", extension "video-composer-v2", context as
    above, and PlayerStreamer VJ... is "started".
    Fails: the MediaProcessor's resolution is "1280x720", or the PlayerStreamer is "created".
    """
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    processors = [
        p
        for p in view.media_processors(stream.room_sid)
        if p.get("status") in ("started", "created")
    ]
    if not processors:
        ctx.fail(
            f"no MediaProcessor composes room {stream.room_sid}", exchange=stream.create_response
        )
    processor = processors[0]
    if processor.get("status") != "started":
        ctx.fail(
            f"MediaProcessor {processor.get('sid')} is {processor.get('status')!r}, "
            "expected started"
        )
    if processor.get("extension") != "video-composer-v2":
        ctx.fail(
            f"MediaProcessor {processor.get('sid')} runs {processor.get('extension')!r}, "
            "expected video-composer-v2"
        )
    context = _context(processor)
    outputs = context.get("outputs") if isinstance(context, dict) else None
    streamer_sid = outputs[0] if isinstance(outputs, list) and outputs else None
    expected = {
        "room": {"name": stream.room_sid},
        "outputs": [streamer_sid],
        "resolution": "1920x1080",
    }
    if context != expected:
        ctx.fail(
            f"MediaProcessor {processor.get('sid')} has extension context {context!r}",
            expected=expected,
            actual=context,
        )
    streamer = view.player_streamer(str(streamer_sid))
    if streamer is None or streamer.get("status") != "started":
        ctx.fail(
            f"PlayerStreamer {streamer_sid} is "
            f"{(streamer or {}).get('status', 'missing')!r}, expected started"
        )
    member = stream.join_viewer()
    granted = (grants_of(ctx, member.token).get("player") or {}).get("playerStreamerSid")
    if granted != streamer_sid:
        ctx.fail(
            f"the viewer token's player grant is for {granted!r}, but the room is "
            f"composed to {streamer_sid!r}",
            exchange=member.response,
        )


@check("STATE-3", needs_twilio=True)
def stream_has_its_own_sync_service(ctx: CheckContext) -> None:
    """After create-stream, the stream's own Sync service (the one of its data_sync grants,
    not shared with another stream) has acl_enabled true, webhook_url <public
    base>/sync-webhook and reachability_webhooks_enabled true.

    Passes: Sync service IS63ad... has acl_enabled true, webhook_url
    "https://backend.example/sync-webhook", reachability_webhooks_enabled true.
    Fails: two streams' tokens name the same Sync service, or acl_enabled is false.
    """
    view = ctx.require_twilio()
    first = ctx.new_stream()
    second = ctx.new_stream()
    if first.sync_service_sid == second.sync_service_sid:
        ctx.fail(f"two streams share the Sync service {first.sync_service_sid}")
    service = view.sync_service(first.sync_service_sid)
    if service is None:
        ctx.fail(
            f"the host token names Sync service {first.sync_service_sid!r}, which does not exist",
            exchange=first.create_response,
        )
    for key in ("acl_enabled", "reachability_webhooks_enabled"):
        if service.get(key) is not True:
            ctx.fail(f"the stream's Sync service has {key} {service.get(key)!r}, expected true")
    _expect_webhook_url(
        ctx, service.get("webhook_url"), "sync-webhook", "the Sync service's webhook_url"
    )
    if not service.get("reachability_debouncing_enabled"):
        ctx.note("reachability debouncing is off (the protocol recommends it)")
    for member in (first.join_viewer(), first.join_speaker()):
        sid = (grants_of(ctx, member.token).get("data_sync") or {}).get("service_sid")
        if sid != first.sync_service_sid:
            ctx.fail(
                f"{member.identity}'s token names Sync service {sid!r}, the host's "
                f"{first.sync_service_sid!r}",
                exchange=member.response,
            )


def _validate_items(ctx: CheckContext, service_sid: str, when: str) -> None:
    view = ctx.require_twilio()
    for name in MAPS:
        for key, data in (view.map_items(service_sid, name) or {}).items():
            problems = schemas.errors(_ITEM_SCHEMAS[name], data)
            if problems:
                ctx.fail(
                    f"{when}: {name}[{key!r}] = {data!r} does not match "
                    f"{_ITEM_SCHEMAS[name]}: {problems[0]}"
                )
    for name, data in (view.documents(service_sid) or {}).items():
        if name.startswith("user-"):
            problems = schemas.errors("protocol/sync.user-document", data)
            if problems:
                ctx.fail(
                    f"{when}: document {name!r} = {data!r} does not match "
                    f"protocol/sync.user-document: {problems[0]}"
                )


@check("STATE-4", needs_twilio=True)
def sync_service_holds_the_maps_and_host(ctx: CheckContext) -> None:
    """Right after create-stream the Sync service has maps speakers (one item: the host,
    {"host": true}), raised_hands and viewers (empty); later, every item and user document
    validates its schema (a user document without speaker_invite, such as {}, is valid:
    absent means false).

    Passes: speakers = {"alice": {"host": true}}, raised_hands = {}, viewers = {}.
    Fails: speakers = {"alice": {"host": "yes"}}, or the viewers map does not exist.
    """
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    service = stream.sync_service_sid
    found = {name: view.map_items(service, name) for name in MAPS}
    expected = {"speakers": {stream.host: {"host": True}}, "raised_hands": {}, "viewers": {}}
    if found != expected:
        ctx.fail(
            "right after create-stream the stream's maps are not as documented",
            exchange=stream.create_response,
            expected=expected,
            actual=found,
        )
    _validate_items(ctx, service, "after create-stream")
    viewer = stream.join_viewer()
    stream.viewer_connected(viewer.identity)
    stream.raise_hand(viewer.identity, True)
    stream.invite(viewer.identity)
    speaker = stream.join_speaker()
    stream.host_connects()
    speaker.connect_room()
    settle(ctx)
    _validate_items(ctx, service, "during the stream")


@check("STATE-5", needs_twilio=True)
def users_read_shared_objects_and_own_document(ctx: CheckContext) -> None:
    """Host and joiners have read (not write, not manage) permission on the three maps,
    joiners also on their own user document only; no identity may write or manage anything,
    and no token can write the maps or documents.

    Passes: permissions on speakers = {"alice": {read: true, write: false, manage: false},
    "bob": {...same...}}; bob's token writing speakers is refused (54007).
    Fails: bob has read permission on user-carol, or alice has write permission on speakers.
    """
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    service = stream.sync_service_sid
    viewer = stream.join_viewer()
    speaker = stream.join_speaker()
    readers = {stream.host, viewer.identity, speaker.identity}
    read_only = {"read": True, "write": False, "manage": False}
    for name in MAPS:
        found = view.permissions(service, "map", name)
        for identity in sorted(readers):
            if found.get(identity) != read_only:
                ctx.fail(
                    f"{identity!r} has {found.get(identity)!r} on map {name}, expected {read_only}",
                    actual=found,
                )
        for identity, grant in found.items():
            if grant.get("write") or grant.get("manage"):
                ctx.fail(f"{identity!r} may write or manage map {name}: {grant}")
    for name in sorted(view.documents(service) or {}):
        found = view.permissions(service, "document", name)
        owner = name[len("user-") :] if name.startswith("user-") else None
        for identity, grant in found.items():
            if grant.get("write") or grant.get("manage"):
                ctx.fail(f"{identity!r} may write or manage document {name!r}: {grant}")
            if identity != owner and (
                grant.get("read") or grant.get("write") or grant.get("manage")
            ):
                ctx.fail(f"{identity!r} has a permission on another user's document {name!r}")
    for member in (viewer, speaker):
        document = f"user-{member.identity}"
        found = view.permissions(service, "document", document)
        if found.get(member.identity) != read_only:
            ctx.fail(
                f"{member.identity!r} has {found.get(member.identity)!r} on its own "
                f"document, expected {read_only}"
            )
    tokens = {
        stream.host: stream.host_token,
        viewer.identity: viewer.token,
        speaker.identity: speaker.token,
    }
    for identity, token in tokens.items():
        for name in MAPS:
            try:
                view.sync_write(token, "map", name, {"host": True}, key=identity)
            except TwilioRefused:
                pass
            else:
                ctx.fail(f"{identity!r}'s token could write an item of map {name}")
        if identity != stream.host:
            try:
                view.sync_write(token, "document", f"user-{identity}", {"speaker_invite": True})
            except TwilioRefused:
                pass
            else:
                ctx.fail(f"{identity!r}'s token could write its own user document")


_NEW_DOCUMENTS = ({"speaker_invite": False}, {})


@check("STATE-6", needs_twilio=True)
def joining_creates_the_user_document(ctx: CheckContext) -> None:
    """After join-stream-as-viewer or join-stream-as-speaker, the document user-<identity>
    exists; a new one holds {"speaker_invite": false} or {} (absent means false), and it is
    still there after the user joins again.

    Passes: after join-stream-as-speaker for "carol", user-carol = {"speaker_invite": false}
    (or {}, as the original creates a speaker's document).
    Fails: user-carol does not exist, or a new one is {"speaker_invite": true}.
    """
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    for join in (stream.join_viewer, stream.join_speaker):
        member = join()
        data = view.document(stream.sync_service_sid, f"user-{member.identity}")
        if data not in _NEW_DOCUMENTS:
            ctx.fail(
                f"after {member.response.endpoint} for {member.identity!r} the new document "
                f"user-{member.identity} is {data!r}, expected {{'speaker_invite': False}} "
                "or {}",
                exchange=member.response,
                expected=list(_NEW_DOCUMENTS),
                actual=data,
            )
        again = join(member.identity)
        if view.document(stream.sync_service_sid, f"user-{member.identity}") is None:
            ctx.fail(
                f"after {again.response.endpoint} again for {member.identity!r} the document "
                f"user-{member.identity} does not exist",
                exchange=again.response,
            )


@check("STATE-7", needs_twilio=True)
def stream_has_a_conversation_with_its_users(ctx: CheckContext) -> None:
    """With chat, after create-stream a conversation whose unique name is the room SID exists
    in the chat grants' Conversations service, and everyone who created or joined the stream
    is a participant exactly once (repeated joins included).

    Passes: conversation "RMfef2..." has participants ["alice", "bob", "carol"].
    Fails: bob joined twice and appears twice, or the viewer was never added.
    """
    if not ctx.has("chat"):
        ctx.skip("capability chat not declared or detected")
    view = ctx.require_twilio()
    stream = ctx.new_stream()
    service = chat_service_of(ctx, stream)
    if service is None:
        ctx.fail("the host token has no chat grant", exchange=stream.create_response)
    if view.conversation(stream.room_sid, service) is None:
        ctx.fail(f"no conversation named {stream.room_sid} in Conversations service {service}")
    viewer = stream.join_viewer()
    speaker = stream.join_speaker()
    stream.join_viewer(viewer.identity)
    stream.join_speaker(speaker.identity)
    participants = view.conversation_participants(stream.room_sid, service)
    for identity in (stream.host, viewer.identity, speaker.identity):
        count = participants.count(identity)
        if count != 1:
            ctx.fail(
                f"{identity!r} is a participant of the stream's conversation {count} "
                "times, expected exactly once",
                actual=participants,
            )
