"""Helpers and fixtures shared by the tests (no test module imports another)."""
