"""MediaProcessors, and the room composers that join a Video Room and feed PlayerStreamers.

Lifecycle (decisions marked *fake* are not documented by Twilio and are the fake's choice):

- create -> ``started``; ``Status=ended`` (any letter case) -> ``ended`` / ``ended-via-api``;
  MaxDuration (from creation) running out on the fake clock -> ``ended`` /
  ``max-duration-exceeded``. *fake*: ending one that is already over answers 200 unchanged.
- Room extensions (``video-composer*``, ``audio-mixer*``): the ExtensionContext must carry
  ``room.name`` (a Room SID, or the unique name of an in-progress Room, of the same account)
  and ``outputs`` (a non-empty list of PlayerStreamer SIDs); otherwise 400 / 20001. On
  create the processor joins the room through the Video fake as participant
  ``<family>-<ZX sid>`` (``video-composer-ZX...``), which queues ``participant-connected``
  exactly like a client, and every ``created`` output becomes ``started``.
- *fake*: a context that is well formed but cannot run answers 201 with the processor already
  over, as Twilio's asynchronous extension loading would end up: the room is unknown or not
  in-progress, an output is unknown, or joining the room fails (e.g. MaxParticipants) ->
  ``failed`` / ``error-loading-extension``; an output is ``ended``/``failed`` -> ``failed`` /
  ``error-streaming-media``. Nothing else changes (no participant, no output started).
- Ending it disconnects its participant when the room is still in-progress
  (``participant-disconnected``), and each output that no other started processor feeds ends
  with ``stream-disconnected-by-source``. *fake*: the processor does not watch its room: it
  keeps running after the room completes, until ended or MaxDuration.
- Other extensions: the context must be a JSON object and is otherwise opaque.

Status callbacks (when StatusCallback is set): ``media-processor-started``, ``-ended``,
``-failed`` with AccountSid, MediaProcessorSid, Extension, ExtensionContext,
StatusCallbackEvent, Timestamp, and EndedReason / ErrorMessage when over.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..core.clock import format_datetime
from ..core.errors import TwilioError, invalid_param, missing_param, not_found
from ..core.jsontext import loads
from ..core.segments import resource_path
from ..core.sids import new_sid
from .index import OrderedView
from .resources import (
    DEFAULT_MAX_DURATION,
    PROCESSOR_ENDED_REASONS,
    MediaProcessor,
    PlayerStreamer,
    room_extension_family,
)
from .streamers import StreamerOps

MAX_CONTEXT_BYTES = 16 * 1024

Failure = tuple[str, str]  # (ended_reason, error message)


class ProcessorOps(StreamerOps):
    """MediaProcessor operations of :class:`~fake_twilio.media.models.MediaBackend`."""

    def create_media_processor(
        self,
        *,
        extension: str,
        extension_context: str,
        extension_environment: dict[str, Any] | None = None,
        status_callback: str | None = None,
        status_callback_method: str | None = None,
        max_duration: int = DEFAULT_MAX_DURATION,
    ) -> MediaProcessor:
        """Create a MediaProcessor (201 ``started``, or over at once: see the module doc).

        ``extension_context`` is the JSON string as sent (echoed unchanged). Raises
        TwilioError 20001 before any change for: a missing Extension or ExtensionContext, an
        ExtensionContext that is not a JSON object (or over 16 KiB), a room extension whose
        context lacks ``room.name`` or ``outputs``, an ExtensionEnvironment that is not an
        object, MaxDuration outside 1..90000, or a bad StatusCallback / method.
        """
        if not extension:
            raise missing_param("Extension")
        if not extension_context:
            raise missing_param("ExtensionContext")
        context = _json_object("ExtensionContext", extension_context)
        if extension_environment is not None and not isinstance(extension_environment, dict):
            raise invalid_param("ExtensionEnvironment", "must be a JSON object")
        self._check_max_duration(max_duration)
        url, method = self._check_callback(status_callback, status_callback_method)
        family = room_extension_family(extension)
        room_name, outputs = _room_context(context) if family else (None, [])

        failure: Failure | None = None
        room: Any = None
        streamers: list[PlayerStreamer] = []
        if room_name is not None:
            failure, room, streamers = self._resolve(room_name, outputs)

        now = self.ctx.now()
        processor = MediaProcessor(
            sid=new_sid("ZX"),
            account_sid=self.ctx.account_sid,
            seq=self._next_seq(),
            extension=extension,
            extension_context=extension_context,
            extension_environment=extension_environment,
            max_duration=max_duration,
            status_callback=url,
            status_callback_method=method,
            date_created=now,
            date_updated=now,
        )
        self._processors[processor.sid] = processor
        self._processor_index.add(processor)
        if family and failure is None:
            failure = self._join_room(processor, family, room)
        if failure is not None:
            self._finish_processor(processor, *failure)
            return processor

        processor.outputs = [s.sid for s in streamers]
        for streamer in streamers:
            streamer.sources.add(processor.sid)
            self._start_streamer(streamer)
        sid = processor.sid
        self.ctx.schedule(
            now + timedelta(seconds=max_duration), lambda _when: self._processor_deadline(sid)
        )
        self._processor_event(processor, "started")
        return processor

    def get_media_processor(self, sid: str) -> MediaProcessor:
        """The MediaProcessor ``sid`` of this account; TwilioError 20404 when unknown."""
        processor = self._processors.get(sid)
        if processor is None:
            raise not_found(resource_path("MediaProcessors", sid))
        return processor

    def list_media_processors(
        self, status: str | None = None, order: str = "desc"
    ) -> OrderedView[MediaProcessor]:
        """MediaProcessors by ``date_created`` (``order`` asc|desc), optionally one status."""
        return self._processor_index.view(status, descending=order != "asc")

    def end_media_processor(
        self, sid: str, reason: str = "ended-via-api", error_message: str | None = None
    ) -> MediaProcessor:
        """End a MediaProcessor (REST ``Status=ended`` uses the default reason).

        ``reason`` is one of the spec's ended reasons; ``error-*`` and
        ``internal-service-error`` make it ``failed`` (with ``error_message`` in the
        callback). Leaves the room and disconnects outputs as the module doc says. Already
        over: returned unchanged. TwilioError 20404 when unknown, 20001 for a bad reason.
        """
        self._check_reason(reason, PROCESSOR_ENDED_REASONS)
        processor = self.get_media_processor(sid)
        if processor.status == "started":
            self._finish_processor(processor, reason, error_message)
        return processor

    # -- room composers ------------------------------------------------------------------------
    def _resolve(
        self, room_name: str, outputs: list[str]
    ) -> tuple[Failure | None, Any, list[PlayerStreamer]]:
        """Look the room and the outputs up (no change); a failure is (reason, message)."""
        video = self.ctx.sibling("video")
        try:
            room = video.get_room(room_name)
        except TwilioError:
            return ("error-loading-extension", f"Room {room_name} was not found"), None, []
        if room.status != "in-progress":
            message = f"Room {room.sid} is {room.status}, not in-progress"
            return ("error-loading-extension", message), None, []
        streamers: list[PlayerStreamer] = []
        for sid in outputs:
            streamer = self._streamers.get(sid)
            if streamer is None:
                return ("error-loading-extension", f"PlayerStreamer {sid} was not found"), None, []
            if not streamer.active:
                message = f"PlayerStreamer {sid} is {streamer.status}"
                return ("error-streaming-media", message), None, []
            streamers.append(streamer)
        return None, room, streamers

    def _join_room(self, processor: MediaProcessor, family: str, room: Any) -> Failure | None:
        identity = f"{family}-{processor.sid}"
        try:
            participant = self.ctx.sibling("video").connect_participant(room.sid, identity)
        except TwilioError as exc:
            return "error-loading-extension", f"Could not join Room {room.sid}: {exc.message}"
        processor.room_sid = room.sid
        processor.participant_sid = participant.sid
        processor.participant_identity = identity
        return None

    def _leave_room(self, processor: MediaProcessor) -> None:
        if processor.room_sid is None or processor.participant_sid is None:
            return
        video = self.ctx.sibling("video")
        try:
            if video.get_room(processor.room_sid).status == "in-progress":
                video.disconnect_participant(processor.room_sid, processor.participant_sid)
        except TwilioError:
            pass  # the participant is already gone (room completed, or removed by REST)

    # -- transitions -------------------------------------------------------------------------
    def _finish_processor(
        self, processor: MediaProcessor, reason: str, error_message: str | None = None
    ) -> None:
        old = processor.status
        processor.status = PROCESSOR_ENDED_REASONS[reason]
        processor.ended_reason = reason
        processor.error_message = error_message if processor.status == "failed" else None
        processor.date_updated = self.ctx.now()
        self._processor_index.moved(processor, old)
        self._leave_room(processor)
        self._processor_event(processor, processor.status)
        for sid in processor.outputs:
            streamer = self._streamers.get(sid)
            if streamer is None:
                continue
            streamer.sources.discard(processor.sid)
            if streamer.status == "started" and not streamer.sources:
                self._finish_streamer(streamer, "stream-disconnected-by-source")

    def _processor_deadline(self, sid: str) -> None:
        processor = self._processors.get(sid)
        if processor is not None and processor.status == "started":
            self._finish_processor(processor, "max-duration-exceeded")

    def _processor_event(self, processor: MediaProcessor, event: str) -> None:
        params = [
            ("AccountSid", processor.account_sid),
            ("MediaProcessorSid", processor.sid),
            ("Extension", processor.extension),
            ("ExtensionContext", processor.extension_context),
            ("StatusCallbackEvent", f"media-processor-{event}"),
            ("Timestamp", format_datetime(self.ctx.now()) or ""),
        ]
        if processor.ended_reason:
            params.append(("EndedReason", processor.ended_reason))
        if processor.error_message:
            params.append(("ErrorMessage", processor.error_message))
        self._callback(
            processor.status_callback,
            processor.status_callback_method,
            params,
            "media.media_processor",
        )


def _json_object(name: str, text: str) -> dict[str, Any]:
    """Parse a JSON-object parameter; TwilioError 20001 naming it otherwise."""
    if len(text.encode("utf-8")) > MAX_CONTEXT_BYTES:
        raise invalid_param(name, f"exceeds the maximum size of {MAX_CONTEXT_BYTES} bytes")
    try:
        value = loads(text)
    except ValueError:
        raise invalid_param(name, "is not valid JSON") from None
    if not isinstance(value, dict):
        raise invalid_param(name, "must be a JSON object")
    return value


def _room_context(context: dict[str, Any]) -> tuple[str, list[str]]:
    """``(room name, output SIDs)`` of a room extension's context; 20001 when malformed."""
    room = context.get("room")
    name = room.get("name") if isinstance(room, dict) else None
    if not isinstance(name, str) or not name:
        raise invalid_param(
            "ExtensionContext", "room.name must name a Video Room (its SID or unique name)"
        )
    outputs = context.get("outputs")
    if (
        not isinstance(outputs, list)
        or not outputs
        or not all(isinstance(sid, str) and sid for sid in outputs)
    ):
        raise invalid_param(
            "ExtensionContext", "outputs must be a non-empty list of PlayerStreamer SIDs"
        )
    return name, list(dict.fromkeys(outputs))
