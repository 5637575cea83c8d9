"""Fake Twilio: conversations."""
