"""`thiduabot demo`: the whole product offline, printing the chat transcript."""

from __future__ import annotations

import io
import logging
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import yaml
from sqlalchemy import select

from bot.datafiles import apply, read_files
from bot.demo_council import council_walk
from bot.emulator.sandbox import Sandbox
from bot.emulator.zalo import ZaloEmulator
from messages import render_text
from messages.keyboards import label
from storage.invites import create_invite
from storage.models import Invite, Role
from storage.units import unit_by_code

LABELS_REVIEW = {"approve": render_text("buttons/approve")}
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO_FILES = (
    "units-lang-son.yaml",
    "plan-2026-lang-son.yaml",
    "campaign-lang-son-2026.yaml",
    "calendar-2026.yaml",
    "rules-tdkt-2022.yaml",
)
# The demo walks through 2026: the launch (15/01), work in February, a reminder in March.
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEMO_NOW = datetime(2026, 1, 15, 7, 30, tzinfo=TZ)


class DemoClock:
    """The bot's clock in the demo: set by the script."""

    def __init__(self) -> None:
        self.now = DEMO_NOW

    def __call__(self) -> datetime:
        return self.now


async def run_demo(examples: Path = EXAMPLES) -> int:
    """Run the scripted walk through the main flows and print what each person saw."""
    logging.getLogger().setLevel(logging.WARNING)
    load, errors = read_files([examples / name for name in DEMO_FILES])
    if errors:
        for error in errors:
            print(error, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="thidua-demo-") as tmp:
        clock = DemoClock()
        sandbox = Sandbox(
            database_url=f"sqlite+aiosqlite:///{tmp}/demo.db",
            files_dir=Path(tmp),
            clock=clock,
            zalo=ZaloEmulator(),
        )
        assert sandbox.zalo is not None
        sandbox.zalo.transcript = sandbox.emulator.note  # one transcript, both channels
        await sandbox.db.migrate()
        async with sandbox.db.write() as session:
            await apply(session, load, sandbox.settings.tz, DEMO_NOW)
        async with sandbox:
            await _walk(sandbox, examples, clock)
        print(render_text("cli/demo_header", now=DEMO_NOW))
        for line in sandbox.emulator.transcript():
            print(line)
    return 0


async def _invite(sandbox: Sandbox, unit_code: str, role: Role) -> str:
    async with sandbox.db.write() as session:
        unit = await unit_by_code(session, unit_code)
        assert unit is not None, unit_code
        invite = await create_invite(session, unit, role, DEMO_NOW)
        return invite.code


async def _newest_invite(sandbox: Sandbox) -> str:
    """The code of the invite issued last (the one /moi just showed the office)."""
    async with sandbox.db.read() as session:
        code = await session.scalar(select(Invite.code).order_by(Invite.id.desc()).limit(1))
    assert code is not None
    return code


def _jump(sandbox: Sandbox, clock: DemoClock, when: datetime) -> None:
    """Move the demo's clock, and mark the jump in the transcript."""
    clock.now = when
    sandbox.emulator.note(render_text("cli/demo_clock", at=when))


async def _walk(sandbox: Sandbox, examples: Path, clock: DemoClock) -> None:
    sandbox.emulator.note(render_text("cli/demo_clock", at=clock.now))
    # Onboarding: the office joins, then invites a focal point from the chat.
    script = yaml.safe_load((examples / "demo-registration.yaml").read_text(encoding="utf-8"))
    lan = sandbox.person(1001, "Lan")
    await lan.say(f"/start {await _invite(sandbox, 'VP', Role.OFFICE)}")
    minh = sandbox.person(2002, "Minh")
    await minh.say(script["greeting"])  # not yet invited: told to ask the office
    await lan.say("/moi HCTP focal")
    await minh.say(f"/start {await _newest_invite(sandbox)}")  # the code Lan passed on
    await minh.say("/moi VP office")  # a focal point cannot use an office command
    ha = sandbox.person(3003, script["second_focal_point"])
    await ha.say(f"/start {await _invite(sandbox, 'TGPL', Role.FOCAL)}")
    # A third focal point uses Zalo only (Telegram is blocked on her phone's network): the
    # office's code, sent to the Zalo bot, makes her a member there.
    assert sandbox.zalo is not None
    thao = sandbox.zalo.user("thao", script["zalo_focal_point"])
    await lan.say("/moi BTTP focal")
    await sandbox.zalo_say(thao, await _newest_invite(sandbox))
    # Hà links her Zalo too, with the code /kenh gives: pushes go to both from now on.
    given = await ha.press((await ha.say("/kenh")).last, label("channel_code"))
    code = given.text.split(":", 1)[1].split()[0]
    await sandbox.zalo_say(sandbox.zalo.user("ha", ha.user.first_name), code)
    await sandbox.deliver()  # Telegram tells her of the link
    await ha.say("/kenh")  # pushes now go to both

    # 15/01 08:05: the scheduler's tick sends the campaign launch and this quarter's tasks.
    _jump(sandbox, clock, datetime(2026, 1, 15, 8, 5, tzinfo=TZ))
    await sandbox.tick()
    await sandbox.deliver()
    _jump(sandbox, clock, datetime(2026, 2, 10, 9, 0, tzinfo=TZ))

    # This quarter's tasks: mark one done.
    tasks = await minh.say("/nhiemvu")
    await minh.press(tasks.last, tasks.last.button_texts()[0])
    await minh.say("/lich")

    # Registration: a title, five people of whom two lines are malformed, the fix, confirm.
    title = await minh.say("/dangky")
    await minh.press(title.last, script["collective_title"])
    await minh.say(script["people"])  # two of the five lines are malformed
    summary = await minh.say(script["fixed"])
    # A deployment restarts the bot before Minh confirms: the step and the list are kept.
    await sandbox.restart_bot()
    sandbox.emulator.note(render_text("cli/demo_restart"))
    await minh.press(summary.last, label("confirm"))

    # The office follows up.
    await lan.say("/nhiemvu")
    await lan.say("/tonghop")

    # A dossier: a nominee, two files (one refused for its content), /hoso, the office's review.
    step = await minh.say("/nophoso")
    awards = await minh.press(step.last, step.last.button_texts()[-1])
    names = await minh.press(awards.last, awards.last.button_texts()[1])
    assert names.messages
    documents = await minh.say(script["nominee"])
    await minh.press(documents.last, documents.last.button_texts()[0])
    await minh.send_document(b"MZ\x90\x00" + b"\x00" * 60, "bao-cao.pdf")  # a program, not a PDF
    back = await minh.send_document(_pdf("Bao cao thanh tich"), "bao-cao-thanh-tich.pdf")
    await minh.press(back.last, back.last.button_texts()[-1])
    step = await minh.say("/nophoso")
    own = await minh.press(step.last, step.last.button_texts()[0])
    await minh.press(own.last, own.last.button_texts()[0])
    await minh.send_document(_pdf("Bien ban hop xet"), "bien-ban-hop-xet.pdf")
    await minh.say("/huy")
    await minh.say("/hoso")
    queue = await lan.say("/duyet")
    opened = await lan.press(queue.last, queue.last.button_texts()[0])
    await lan.press(opened.last, LABELS_REVIEW["approve"])
    await minh.say("/hoso")

    # An announcement to every unit, sent now, and its delivery report to the office.
    await lan.say("/thongbao")
    audience = await lan.say(script["announcement"])
    preview = await lan.press(audience.last, audience.last.button_texts()[0])
    await lan.press(preview.last, preview.last.button_texts()[0])
    await sandbox.tick()
    await sandbox.deliver()
    await sandbox.tick()
    await sandbox.deliver()

    # 12/03 08:00, three days before the registration deadline: only the unit that has not
    # registered yet is reminded.
    _jump(sandbox, clock, datetime(2026, 3, 12, 8, 0, tzinfo=TZ))
    await sandbox.tick()
    await sandbox.deliver()
    # On Zalo, the focal point who got the reminder asks for her unit's dossier.
    await sandbox.zalo_say(thao, "hoso")

    # The council of three votes on the approved dossier from their phones; the papers; the
    # decision's number and date publish the results.
    await council_walk(
        sandbox,
        lan,
        lambda when: _jump(sandbox, clock, when),
        datetime(2026, 3, 12, 9, 30, tzinfo=TZ),
        script,
    )


def _pdf(title: str) -> bytes:
    """A small one-page PDF, whole as the content check wants (pypdf writes its xref)."""
    writer = pypdf.PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
