"""The `thiduabot` command line run as an operator runs it: a process, its exit code, its
output."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.support.paths import ROOT


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The parent's environment, pointed at a SQLite file and a files folder in tmp_path."""
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        FILES_DIR=str(tmp_path / "files"),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


async def thiduabot(
    tmp_path: Path,
    *args: str,
    seconds: float = 60,
    **env: str,
) -> tuple[int, str, str]:
    """Run `thiduabot *args` in tmp_path; its exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=cli_env(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), seconds)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
