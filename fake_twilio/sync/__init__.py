"""Fake Twilio Sync v1 (``https://sync.twilio.com/v1``, mounted at ``/sync/v1``).

* :mod:`fake_twilio.sync.models` -- :class:`~fake_twilio.sync.models.SyncBackend`, the pure
  domain: Services (``IS``), Documents (``ET``), Maps (``MP``) and Lists (``ES``) with their
  Items and Permissions, Streams (``TO``) and Stream Messages (``TZ``); revisions and
  ``If-Match``; TTLs on the fake clock; Service webhooks (object events and debounced
  reachability events); simulated SDK clients with ACL checks.
* :mod:`fake_twilio.sync.routes` -- the ``sync`` blueprint: thin REST views.

Documents, Maps, Lists and Streams are addressed by SID or unique name (Twilio documents the
unique name for the first three; the fake accepts it for Streams too). The error-code policy
(REST not-found is 20404; client operations use the 54xxx codes) is in
:mod:`fake_twilio.sync.models.common`.
"""
