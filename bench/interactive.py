"""Updates through the emulator over loopback: our Application and a bare echo bot, one driver.

Every request is a user's update queued in the emulator; latency runs from that moment to
the moment the Application has finished handling the update (`Sandbox.processed`), which
includes the getUpdates round trip and every reply the handler sent. Users are closed
loops: each sends its next update once the previous one is handled.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bench.cpu import Cpu, child_cpu
from bench.seed import BenchClock, Seeded, _pdf
from bot.emulator import BotApiEmulator, BotMessage, EmulatedUser, parse_html
from bot.emulator.sandbox import Handled, Sandbox
from messages import render
from storage.members import active_membership

Action = Callable[[EmulatedUser, int], Awaitable[int]]


@dataclass(slots=True)
class Measure:
    """Latencies (seconds) of a run and how long it took."""

    name: str
    users: int
    per_user: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    check: str = ""  # what the sample reply showed, when it was not what was expected
    # The bot's CPU per update, measured with the bot in its own process (bench/cpu.py), and
    # what the emulator and the driver spent beside it; None when not measured.
    cpu_ms_per_update: float | None = None
    driver_cpu_ms_per_update: float | None = None

    def took_cpu(self, cpu: Cpu) -> None:
        """Keep the CPU figures of the same traffic run against the bot as a child process."""
        self.cpu_ms_per_update, self.driver_cpu_ms_per_update = cpu.bot_ms, cpu.driver_ms

    @property
    def rate(self) -> float:
        """Updates handled per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        """The p-th percentile latency in ms (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[index] * 1000

    def as_json(self) -> dict[str, Any]:
        """The figures, for --json."""
        return {
            "users": self.users,
            "per_user": self.per_user,
            "updates": len(self.latencies),
            "seconds": round(self.seconds, 3),
            "updates_per_s": round(self.rate, 1),
            "p50_ms": round(self.pct(50), 2),
            "p95_ms": round(self.pct(95), 2),
            "p99_ms": round(self.pct(99), 2),
            "errors": self.errors,
            "cpu_ms_per_update": _rounded(self.cpu_ms_per_update),
            "driver_cpu_ms_per_update": _rounded(self.driver_cpu_ms_per_update),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


async def drive(
    name: str,
    users: list[EmulatedUser],
    per_user: int,
    action: Action,
    processed: Callable[[int], Awaitable[None]],
) -> Measure:
    """Each user performs `action` `per_user` times, all users at once; time every update."""
    measure = Measure(name, len(users), per_user)

    async def run(user: EmulatedUser) -> None:
        for i in range(per_user):
            started = time.perf_counter()
            try:
                await processed(await action(user, i))
            except TimeoutError:
                measure.errors += 1
                continue
            measure.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(run(u) for u in users))
    measure.seconds = time.perf_counter() - started
    return measure


# ------------------------------------------------------------------------- the echo bot


class EchoBox:
    """A bare python-telegram-bot Application: one MessageHandler replying the text."""

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator
        self.app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._handled = Handled()

    async def __aenter__(self) -> EchoBox:
        await self.emulator.start()
        app = (
            ApplicationBuilder()
            .token(self.emulator.token)
            .base_url(self.emulator.base_url)
            .base_file_url(self.emulator.file_url)
            .build()
        )

        async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.effective_message is not None
            await update.effective_message.reply_text(update.effective_message.text or "")

        app.add_handler(MessageHandler(filters.TEXT, echo))
        self._handled.track(app)
        await app.initialize()
        await app.start()
        assert app.updater is not None
        # The same polling settings as the Sandbox the real bot runs in.
        await app.updater.start_polling(poll_interval=0.0, timeout=2)
        self.app = app
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.app is not None:
            assert self.app.updater is not None
            await self.app.updater.stop()
            await self.app.stop()
            await self.app.shutdown()
        await self.emulator.stop()

    async def processed(self, update_id: int, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait until the echo bot has handled this update."""
        await self._handled.wait(update_id, timeout)


def cpu_rounds(users: int, per_user: int) -> int:
    """Updates per user of a CPU run: at least 200 in all, as the kernel counts CPU time in
    10 ms ticks (a quick run's 30 updates would read to within a third of a millisecond)."""
    return max(per_user, -(-200 // max(1, users)))


def interactive_emulator() -> BotApiEmulator:
    """The emulator for the interactive runs: flood control off (see README)."""
    return BotApiEmulator(flood_control=False)


async def run_echo(users: int, per_user: int, single: int) -> tuple[Measure, Measure]:
    """Echo throughput with `users` at once, and unloaded latency with one user; then the
    loaded traffic again against the echo bot as its own process, for its CPU per update."""
    async with EchoBox(interactive_emulator()) as box:
        people = [box.emulator.user(5_000_000 + i, f"E{i}") for i in range(users)]

        async def say(user: EmulatedUser, i: int) -> int:
            return await user.send(f"echo {i}")

        await drive("warm-up", people[:5], 4, say, box.processed)
        loaded = await drive("echo", people, per_user, say, box.processed)
        alone = await drive("echo, 1 user", people[:1], single, say, box.processed)
        sample = people[0].last.text
        if sample != f"echo {single - 1}":
            loaded.check = f"unexpected echo: {sample[:60]!r}"

    def echoers(emu: BotApiEmulator) -> list[EmulatedUser]:
        return [emu.user(5_000_000 + i, f"E{i}") for i in range(users)]

    loaded.took_cpu(await child_cpu("echo", echoers, say, cpu_rounds(users, per_user)))
    return loaded, alone


# ------------------------------------------------------------------------- our bot


def _last(user: EmulatedUser) -> BotMessage:
    return user.last


def shown(screen: str, **values: Any) -> str:
    """A template as the user's phone shows it: the plain text of its HTML."""
    return parse_html(render(screen, **values))[0]


async def run_bot(
    database_url: str,
    files_dir: Path,
    clock: BenchClock,
    seeded: Seeded,
    users: int,
    per_user: int,
    single: int,
) -> dict[str, Measure]:
    """/hoso, /start CODE, the /nhiemvu button and an upload, through the real Application;
    then /hoso again against the bot as its own process, for its CPU per update."""
    box = Sandbox(
        database_url=database_url, files_dir=files_dir, clock=clock, emulator=interactive_emulator()
    )
    results: dict[str, Measure] = {}
    async with box:
        emu = box.emulator
        focal_units = seeded.full_dossier_units[:users]
        people = [emu.user(seeded.focal_ids[u], f"ĐM{u}") for u in focal_units]

        async def hoso(user: EmulatedUser, _i: int) -> int:
            return await user.send("/hoso")

        await drive("warm-up", people[:5], 4, hoso, box.processed)
        results["hoso"] = await drive("/hoso", people, per_user, hoso, box.processed)
        results["hoso_1"] = await drive("/hoso, 1 user", people[:1], single, hoso, box.processed)
        text = _last(people[0]).text
        if not text.endswith(shown("status/verdict", missing=0, returned=0)):
            results["hoso"].check = f"/hoso did not show a full dossier: {text[-80:]!r}"

        # The /nhiemvu done/undone button: each press edits the screen and flips the button.
        screens: dict[int, BotMessage] = {}
        for person in people:
            await box.processed(await person.send("/nhiemvu"))
            screens[person.id] = _last(person)

        async def press(user: EmulatedUser, _i: int) -> int:
            screen = screens[user.id]
            data = screen.buttons[0][0][1]
            assert data is not None
            return await user.press_data(screen, data)

        before = screens[people[0].id].edits
        results["button"] = await drive("button", people, per_user, press, box.processed)
        if screens[people[0].id].edits <= before:
            results["button"].check = "the /nhiemvu screen was never edited"

        # A small PDF sent outside any flow: downloaded, checked, stored, answered.
        async def upload(user: EmulatedUser, i: int) -> int:
            return await user.send_document(
                _pdf(10_000_000 + user.id * 1000 + i), f"bao-cao-{i}.pdf", "application/pdf"
            )

        results["upload"] = await drive("upload", people, per_user, upload, box.processed)
        text = _last(people[0]).text
        if text != shown("dossier/stray_where", name=f"bao-cao-{per_user - 1}.pdf"):
            results["upload"].check = f"upload answered: {text[:80]!r}"

        # /start CODE: every update a new person with a fresh invite.
        codes = iter(seeded.invite_codes)
        joiners = [emu.user(7_000_000 + k * 10_000, f"Slot{k}") for k in range(users)]

        async def start(slot: EmulatedUser, i: int) -> int:
            newcomer = emu.user(slot.id + i + 1, f"Mới {slot.id + i + 1}")
            return await newcomer.send(f"/start {next(codes)}")

        per_start = min(per_user, len(seeded.invite_codes) // max(1, users))
        results["start"] = await drive("/start CODE", joiners, per_start, start, box.processed)
        first = joiners[0].id + 1
        async with box.db.read() as session:
            joined = await active_membership(session, first)
        if joined is None:
            text = _last(emu.user(first)).text
            results["start"].check = f"/start did not bind; it answered: {text[:80]!r}"

    def focal(emu: BotApiEmulator) -> list[EmulatedUser]:
        return [emu.user(seeded.focal_ids[u], f"ĐM{u}") for u in focal_units]

    cpu = await child_cpu(
        "ours",
        focal,
        hoso,
        cpu_rounds(users, per_user),
        database_url=database_url,
        files_dir=files_dir,
    )
    results["hoso"].took_cpu(cpu)
    return results
