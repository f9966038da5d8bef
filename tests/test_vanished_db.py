"""A SQLite file that disappears under the running bot is noticed (PRODUCT §8): the bot logs
one critical line and stops, and `thiduabot run` exits non-zero with one Vietnamese line,
rather than writing on into a file no name leads to and starting empty the next time."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from bot.emulator import BotApiEmulator
from tests.support.processes import start_bot

WAIT = 30  # seconds: a bound on waiting for the process, never a measured duration


async def until_line(stream: asyncio.StreamReader, text: str, seen: list[str]) -> None:
    """Read the log until a line holds `text` (every line read is kept in `seen`)."""
    while not any(text in line for line in seen):
        line = (await asyncio.wait_for(stream.readline(), WAIT)).decode()
        assert line, "the bot exited first:\n" + "".join(seen)
        seen.append(line)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
async def test_the_bot_stops_when_its_database_file_goes(tmp_path: Path, how: str) -> None:
    database = tmp_path / "data" / "thidua.db"
    async with BotApiEmulator() as emu:
        process = await start_bot(tmp_path, emu, f"sqlite+aiosqlite:///{database}")
        assert process.stderr is not None
        seen: list[str] = []
        await until_line(process.stderr, " ready", seen)
        if how == "deleted":
            database.unlink()
        else:  # a copy put in its place: the same name, another file
            shutil.copyfile(database, tmp_path / "copy.db")
            os.replace(tmp_path / "copy.db", database)
        _, rest = await asyncio.wait_for(process.communicate(), WAIT)
    log = "".join(seen) + rest.decode()
    assert process.returncode == 1, log
    assert "CRITICAL" in log and "deleted or replaced under the bot: stopping" in log
    assert log.strip().splitlines()[-1] == (
        f"Tệp cơ sở dữ liệu {database} đã bị xóa hoặc bị thay thế khi bot đang chạy: bot đã "
        "dừng để không ghi tiếp vào một tệp không còn trên đĩa; hãy khôi phục từ bản sao lưu "
        "(thiduabot restore) rồi chạy lại."
    )
    assert "Traceback" not in log
