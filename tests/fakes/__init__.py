"""Fakes of outside services for the tests (real local servers, no network)."""
