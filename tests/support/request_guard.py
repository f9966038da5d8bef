"""A test fails if the bot sent a Bot API request inside a write transaction (bot.request_guard
logs each at ERROR): a Telegram round trip must not hold the database's write lock."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.request_guard import log as guard_log


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


@pytest.fixture(autouse=True)
def no_request_inside_a_write_transaction() -> Iterator[None]:
    """Every test: no reply, edit or upload was made inside `Database.write()`."""
    collect = _Collect()
    guard_log.addHandler(collect)
    try:
        yield
    finally:
        guard_log.removeHandler(collect)
    assert not collect.seen, "; ".join(sorted(set(collect.seen)))
