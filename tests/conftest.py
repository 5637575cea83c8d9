"""Shared fixtures. The fake's own fixtures (``fake_twilio_app``...) come from its pytest plugin."""
