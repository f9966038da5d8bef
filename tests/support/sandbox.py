"""The bot running against the Bot API emulator, on the test's database and clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.emulator.sandbox import Sandbox
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES


@pytest.fixture
async def sandbox(database_url: str, tmp_path: Path, clock: Clock) -> AsyncIterator[Sandbox]:
    """The bot running against the Bot API emulator, with the Lạng Sơn units loaded."""
    box = Sandbox(database_url=database_url, files_dir=tmp_path / "files", clock=clock)
    await box.db.migrate()
    await load_files(box.db, EXAMPLES / "units-lang-son.yaml")
    async with box:
        yield box
