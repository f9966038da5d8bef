"""A unit's registration in the Lạng Sơn 2026 campaign: made quickly through /dangky, and
read back from the database."""

from __future__ import annotations

from bot.emulator.sandbox import Person, Sandbox
from storage.campaigns import campaign_by_code
from storage.models import Registration
from storage.registrations import registration_of
from storage.units import unit_by_code

CAMPAIGN = "STP-LS-2026"


async def saved(sandbox: Sandbox, unit: str) -> Registration | None:
    """The unit's saved registration in the campaign, if any."""
    async with sandbox.db.read() as session:
        campaign = await campaign_by_code(session, CAMPAIGN)
        found = await unit_by_code(session, unit)
        assert campaign is not None and found is not None
        return await registration_of(session, campaign.id, found.id)


async def register_quickly(person: Person, title: str, lines: str) -> None:
    """/dangky through to Xác nhận: the collective title, then the individuals' lines."""
    step = await person.say("/dangky")
    if "Đăng ký lại" in step.last.button_texts()[0]:
        step = await person.press(step.last, "📝 Đăng ký lại")
    await person.press(step.last, title)
    summary = await person.say(lines)
    await person.press(summary.last, "✅ Xác nhận")
