"""`thiduabot demo`: the whole product offline, printing the chat transcript."""

from __future__ import annotations

import logging
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bot.datafiles import apply, read_files
from bot.sandbox import Sandbox
from messages import render_text
from storage.invites import create_invite
from storage.models import Role
from storage.units import unit_by_code

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


async def run_demo(examples: Path = EXAMPLES) -> int:
    """Run the scripted walk through the main flows and print what each person saw."""
    logging.getLogger().setLevel(logging.WARNING)
    load, errors = read_files([examples / "units-lang-son.yaml"])
    if errors:
        for error in errors:
            print(error, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="thidua-demo-") as tmp:
        sandbox = Sandbox(database_url=f"sqlite+aiosqlite:///{tmp}/demo.db", files_dir=Path(tmp))
        await sandbox.db.migrate()
        async with sandbox.db.write() as session:
            await apply(session, load, sandbox.settings.tz, datetime.now(UTC))
        async with sandbox:
            await _walk(sandbox)
        print(render_text("cli/demo_header"))
        for line in sandbox.emulator.transcript():
            print(line)
    return 0


async def _invite(sandbox: Sandbox, unit_code: str, role: Role) -> str:
    async with sandbox.db.write() as session:
        unit = await unit_by_code(session, unit_code)
        assert unit is not None, unit_code
        invite = await create_invite(session, unit, role, datetime.now(UTC))
        return invite.code


async def _walk(sandbox: Sandbox) -> None:
    office_code = await _invite(sandbox, "VP", Role.OFFICE)
    lan = sandbox.person(1001, "Lan")
    await lan.say(f"/start {office_code}")

    minh = sandbox.person(2002, "Minh")
    await minh.say("xin chào")  # not yet invited: told to ask Văn phòng
    invite = await lan.say("/moi HCTP focal")  # the office invites a focal point from the chat
    code = invite.text.split("Mã: ", 1)[1].split()[0]
    await minh.say(f"/start {code}")
    await minh.say("/trogiup")
    await minh.say("/moi VP office")  # a focal point cannot use an office command
    await lan.say("/donvi")
