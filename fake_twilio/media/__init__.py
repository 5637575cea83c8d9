"""Fake Twilio: Live (Media v1) -- PlayerStreamers, PlaybackGrants and MediaProcessors.

``models.MediaBackend`` is the per-account domain model (operations in ``streamers`` and
``processors``, data in ``resources``), ``routes.bp`` the REST views at ``/media/v1``.
"""
