"""bench/cpu.py: the bot run as its own process answers every update, and its CPU time, read
from the kernel, is counted apart from this process's (the emulator's and the driver's)."""

from __future__ import annotations

import math

from bench.cpu import child_cpu
from bot.emulator import BotApiEmulator, EmulatedUser


async def test_the_echo_bot_as_a_child_answers_every_update_and_its_cpu_is_its_own() -> None:
    people: list[EmulatedUser] = []

    def users(emu: BotApiEmulator) -> list[EmulatedUser]:
        people.extend(emu.user(9_000 + i, f"E{i}") for i in range(2))
        return people

    async def say(user: EmulatedUser, i: int) -> int:
        return await user.send(f"echo {i}")

    cpu = await child_cpu("echo", users, say, 50)
    assert cpu.updates == 100
    # Every echo came back, the last one last (the child's answers, not this process's).
    assert [m.text for m in people[0].messages[-2:]] == ["echo 48", "echo 49"]
    assert cpu.bot_ms > 0 and cpu.driver_ms > 0 and math.isfinite(cpu.seconds)
