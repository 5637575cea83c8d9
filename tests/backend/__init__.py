"""Tests of the reference backend (reference_backend/)."""
