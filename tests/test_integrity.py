"""Nothing typed gets past the checks, and nothing changes unseen (issue 17, PRODUCT §8):
Vietnamese names compared as one name on every backend, races that end in a polite answer."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.emulator.sandbox import Person, Reply, Sandbox
from storage.campaigns import campaign_by_code
from storage.models import Member, Nominee, Role
from storage.nominees import active_awards
from storage.quotas import propose
from storage.units import unit_by_code
from tests.support.people import join, pick

AWARD = "Giấy khen của Giám đốc Sở — cá nhân"
DUPLICATE = "Đơn vị đã đề nghị"


async def add_nominee(person: Person, name: str) -> Reply:
    step = await person.say("/nophoso")
    awards = await person.press(step.last, pick(step.last, "➕"))
    await person.press(awards.last, pick(awards.last, AWARD))
    return await person.say(name)


async def _nominees(box: Sandbox) -> list[str]:
    async with box.db.read() as session:
        return list(await session.scalars(select(Nominee.name).order_by(Nominee.id)))


async def test_a_vietnamese_name_in_another_case_is_the_same_nominee(season: Sandbox) -> None:
    minh = await join(season, 7101, "Minh", "HCTP", Role.FOCAL)
    first = await add_nominee(minh, "Đỗ Văn Trùng")
    assert DUPLICATE not in first.text and "Có lỗi" not in first.text
    await minh.say("/huy")
    for typed in ("Đỗ Văn Trùng", "đỗ văn trùng", "ĐỖ VĂN TRÙNG", "Đỗ  Văn\u00a0Trùng"):
        again = await add_nominee(minh, typed)
        assert DUPLICATE in again.text and "Có lỗi" not in again.text, typed
        await minh.say("/huy")
    # Decomposed Unicode (as some keyboards send it) is the same name too.
    decomposed = await add_nominee(minh, "A\u0301nh Dương")
    await minh.say("/huy")
    assert DUPLICATE not in decomposed.text
    twice = await add_nominee(minh, "ánh dương")
    assert DUPLICATE in twice.text
    await minh.say("/huy")
    assert await _nominees(season) == ["Đỗ Văn Trùng", "Ánh Dương"]


async def test_a_nul_in_a_name_is_read_as_a_space_never_an_error(season: Sandbox) -> None:
    minh = await join(season, 7102, "Minh", "HCTP", Role.FOCAL)
    reply = await add_nominee(minh, "Lê\x00Văn\x07Hải")
    assert "Có lỗi" not in reply.text
    assert await _nominees(season) == ["Lê Văn Hải"]


async def test_two_focal_points_adding_one_name_at_once_both_get_an_answer(
    season: Sandbox,
) -> None:
    """The storage race itself: two proposals of one name in two transactions at once end in one
    nominee and one polite 'duplicate', never an error."""
    minh = await join(season, 7103, "Minh", "HCTP", Role.FOCAL)
    async with season.db.read() as session:
        campaign = await campaign_by_code(session, "STP-LS-2026")
        unit = await unit_by_code(session, "HCTP")
        member = await session.scalar(select(Member).where(Member.telegram_user_id == 7103))
        assert campaign is not None and unit is not None and member is not None
        award = next(a for a in await active_awards(session, campaign.id) if a.code == "GK-CN")
    assert minh is not None

    async def one(name: str) -> object:
        async with season.db.write() as session:
            fresh = await session.get(type(award), award.id)
            assert fresh is not None
            return (
                await propose(
                    session,
                    campaign_id=campaign.id,
                    unit_id=unit.id,
                    name=name,
                    award=fresh,
                    target=fresh.target,
                    by=member.id,
                    now=season.clock(),
                )
            ).outcome

    outcomes = await asyncio.gather(one("Trần Văn Hòa"), one("TRẦN VĂN HÒA"))
    assert sorted(str(o) for o in outcomes) == ["added", "duplicate"]
    async with season.db.read() as session:
        count = await session.scalar(select(func.count()).select_from(Nominee))
    assert count == 1
