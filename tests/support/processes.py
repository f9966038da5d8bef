"""The bot as its own process (`python -m bot run`), killed when the test that started it
ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.emulator import BotApiEmulator
from bot.emulator.sandbox import process_environment

# Bot processes a test started; whatever is still running when the test ends is killed, so
# a failing test leaves no `python -m bot run` behind.
_CHILDREN: list[asyncio.subprocess.Process] = []


def track_child(process: asyncio.subprocess.Process) -> asyncio.subprocess.Process:
    """Kill this process when the current test ends, if it has not ended by then."""
    _CHILDREN.append(process)
    return process


@pytest.fixture(autouse=True)
def no_orphan_bots() -> Iterator[None]:
    """Every test: the bot processes it started do not outlive it."""
    yield
    while _CHILDREN:
        process = _CHILDREN.pop()
        if process.returncode is None:  # not reaped yet, so the pid is still this process
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)


async def start_bot(
    tmp_path: Path, emu: BotApiEmulator, url: str, **settings: str
) -> asyncio.subprocess.Process:
    """`python -m bot run` against the emulator and the database at `url` (and any other
    settings, e.g. ZALO_BOT_TOKEN)."""
    env = process_environment(emu, url, tmp_path / "files", **settings)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    return track_child(process)
