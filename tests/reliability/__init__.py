"""Reliability and security tests of the fake and of the reference backend (docs/RELIABILITY.md)."""
