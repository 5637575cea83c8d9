"""Fake Twilio: video."""
