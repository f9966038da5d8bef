"""CPU time per update of a bot run as its own process: the bare echo bot or ours.

In bench/interactive.py's runs the bot shares this process (and its one event loop) with
the emulator and the driver, so this process's CPU clock cannot tell the bot's share from
theirs. Here the bot runs alone in a child (`python -m bench.cpu echo|ours`, with no
scheduler or outbox worker, as in the in-process runs) against the emulator in this
process; the child's CPU (user + system time of all its threads, from /proc/<pid>/stat)
over the loaded phase, divided by the updates handled, is what the bot spent on each.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.seed import BenchClock
from bot.emulator import BotApiEmulator, EmulatedUser
from bot.emulator.sandbox import process_environment

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Cpu:
    """The child bot's and this process's (emulator and driver) CPU per update, ms."""

    updates: int
    bot_ms: float
    driver_ms: float
    seconds: float


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, its exited threads included."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15)


def own_cpu_seconds() -> float:
    """This process's user + system CPU time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Answers:
    """How many Bot API calls the bot made per chat, counted as they arrive (the emulator's
    own per-chat lookups scan every message, too slow to poll under load)."""

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator
        self.seen = 0
        self.per_chat: Counter[int] = Counter()

    def count(self, chat_id: int) -> int:
        """Calls addressed to this chat so far."""
        requests = self.emulator.requests
        for request in requests[self.seen :]:
            if request.chat_id is not None:
                self.per_chat[request.chat_id] += 1
        self.seen = len(requests)
        return self.per_chat[chat_id]


Say = Callable[[EmulatedUser, int], Awaitable[int]]


async def child_cpu(
    kind: str,
    people: Callable[[BotApiEmulator], list[EmulatedUser]],
    say: Say,
    per_user: int,
    *,
    database_url: str = "sqlite+aiosqlite:///:memory:",
    files_dir: Path = ROOT,
) -> Cpu:
    """Start the `kind` bot as a child, warm it up, then time `per_user` updates a user."""
    async with BotApiEmulator(flood_control=False) as emu:
        users = people(emu)
        answers = Answers(emu)
        env = process_environment(emu, database_url, files_dir)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.cpu", kind, env=env, cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            await emu.wait_until(lambda: any(r.method == "getUpdates" for r in emu.requests), 60)

            async def run(user: EmulatedUser, times: int) -> None:
                for i in range(times):
                    before = answers.count(user.id)
                    await say(user, i)
                    await emu.wait_until(lambda u=user, b=before: answers.count(u.id) > b, 30)

            await asyncio.gather(*(run(u, 4) for u in users[:5]))  # warm-up
            bot, own, started = process_cpu_seconds(process.pid), own_cpu_seconds(), time.time()
            await asyncio.gather(*(run(u, per_user) for u in users))
            seconds = time.time() - started
            updates = len(users) * per_user
            return Cpu(
                updates,
                (process_cpu_seconds(process.pid) - bot) / updates * 1000,
                (own_cpu_seconds() - own) / updates * 1000,
                seconds,
            )
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)


# ------------------------------------------------------------------------- the child


def _echo_app() -> Any:
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    app = (
        ApplicationBuilder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(os.environ["BOT_API_BASE_URL"])
        .base_file_url(os.environ["BOT_API_FILE_URL"])
        .build()
    )

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


def _our_app() -> Any:
    from bot.app import build_application
    from bot.config import load_settings
    from scheduler.delivery.budget import Budget
    from storage.db import Database

    settings = load_settings()
    # As the in-process runs (a Sandbox whose emulator has no flood control): no scheduler,
    # no worker, no send budget.
    db = Database(settings.database_url)
    return build_application(
        settings, db, clock=BenchClock(), background=False, budget=Budget.unlimited()
    )


def main(kind: str) -> None:
    """The child: one bot polling the emulator until SIGTERM."""
    app = _echo_app() if kind == "echo" else _our_app()
    # The same polling settings as the Sandbox and the in-process echo bot.
    app.run_polling(
        poll_interval=0.0,
        timeout=2,
        stop_signals=(signal.SIGINT, signal.SIGTERM),
        drop_pending_updates=False,
    )


if __name__ == "__main__":
    main(sys.argv[1])
