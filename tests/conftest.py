"""The fixtures every test may use, from tests/support/: a database on SQLite and on
PostgreSQL, the bot running against the emulator, its clock, and the guards that run around
every test. Helpers are imported from tests/support/ where used, never from a test module."""

import pytest

# The helpers assert too (join, saved, load_files…): a failure shows its values, as in a test.
pytest.register_assert_rewrite("tests.support")

pytest_plugins = [
    "tests.support.databases",  # database_url (SQLite and PostgreSQL), sqlite_url, db
    "tests.support.clock",  # clock
    "tests.support.sandbox",  # sandbox
    "tests.support.seasons",  # season: Lạng Sơn, 10/02/2026, registration open
    "tests.support.documents",  # documents: a small plan, campaign and results loaded
    # Guards around every test (autouse).
    "tests.support.calendar",  # no calendar override leaks into the next test
    "tests.support.processes",  # no bot process outlives its test
    "tests.support.request_guard",  # no Bot API request inside a write transaction
]
