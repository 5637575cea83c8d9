"""The Sync blueprint object (mounted by the app at ``/sync/v1``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sync", __name__)
