"""Nothing typed gets past the checks, and nothing changes unseen (issue 17, PRODUCT §8):
Vietnamese names compared as one name on every backend, races that end in a polite answer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.emulator.sandbox import Person, Reply, Sandbox
from scheduler import tick
from storage.campaigns import campaign_by_code
from storage.models import (
    Announcement,
    Audience,
    Member,
    Nominee,
    OutboxMessage,
    OutboxStatus,
    Role,
    StoredFile,
)
from storage.nominees import active_awards
from storage.quotas import propose
from storage.units import unit_by_code
from storage.uploads import stored_file_for
from tests.support.people import join, pick
from tests.support.registrations import register_quickly
from tests.support.registrations import saved as saved_registration

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


# ---- one bad row never stops the scheduler ---------------------------------------------------


async def _announce(box: Sandbox, text: str, send_at: datetime) -> int:
    async with box.db.write() as session:
        announcement = Announcement(
            organization_id=1,
            text=text,
            audience=Audience.ALL,
            unit_ids=[],
            send_at=send_at,
            created_by=1,
            created_at=box.clock(),
        )
        session.add(announcement)
        await session.flush()
        return announcement.id


async def test_a_send_time_of_9999_is_refused_where_it_is_typed(season: Sandbox) -> None:
    lan = await join(season, 7201, "Lan", "VP", Role.OFFICE)
    await lan.say("/thongbao")
    audience = await lan.say("Họp giao ban.")
    preview = await lan.press(audience.last, "🏢 Tất cả đơn vị")
    await lan.press(preview.last, pick(preview.last, "Hẹn giờ"))
    far = await lan.say("31/12/9999 22:00")
    assert "quá xa" in far.text and "10/02/2027" in far.text
    fine = await lan.say("12/02/2026 08:00")
    assert "Đã hẹn gửi" in fine.text


async def test_a_stored_send_time_of_9999_never_stops_the_other_pushes(season: Sandbox) -> None:
    minh = await join(season, 7202, "Minh", "HCTP", Role.FOCAL)
    await _announce(season, "Hẹn xa không tưởng.", datetime(9999, 12, 31, 15, tzinfo=UTC))
    await _announce(season, "Họp giao ban sáng nay.", season.clock())
    for _ in range(2):  # every tick, not only the first
        await season.tick()
        await season.deliver()
    assert sum("Họp giao ban sáng nay." in m.text for m in minh.messages) == 1
    assert not any("Hẹn xa" in m.text for m in minh.messages)


async def test_a_push_that_cannot_be_prepared_is_recorded_the_office_told_the_rest_sent(
    season: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    lan = await join(season, 7203, "Lan", "VP", Role.OFFICE)
    minh = await join(season, 7204, "Minh", "HCTP", Role.FOCAL)
    broken = await _announce(season, "Tin hỏng.", season.clock())
    await _announce(season, "Tin lành.", season.clock())
    real = tick.render_push

    async def render_push(session: Any, push: Any, now: datetime, tz: Any, **more: Any) -> Any:
        if push.kind == "announcement" and push.subject == str(broken):
            raise ValueError("a row no version of the code can read")
        return await real(session, push, now, tz, **more)

    monkeypatch.setattr(tick, "render_push", render_push)
    for _ in range(3):
        await season.tick()
        await season.deliver()
    assert sum("Tin lành." in m.text for m in minh.messages) == 1
    assert not any("Tin hỏng." in m.text for m in minh.messages)
    told = [m for m in lan.messages if "chưa gửi được thông báo" in m.text]
    assert len(told) == 1  # once, not once a tick
    async with season.db.read() as session:
        states = set(
            await session.scalars(
                select(OutboxMessage.status).where(
                    OutboxMessage.push_key.startswith(f"announcement:{broken}:")
                )
            )
        )
    assert states == {OutboxStatus.FAILED}


async def test_the_office_lists_and_cancels_a_scheduled_announcement(season: Sandbox) -> None:
    lan = await join(season, 7301, "Lan", "VP", Role.OFFICE)
    minh = await join(season, 7302, "Minh", "HCTP", Role.FOCAL)
    later = await _announce(season, "Họp tổng kết ngày mai.", datetime(2026, 2, 11, 2, tzinfo=UTC))
    await _announce(season, "Xa quá.", datetime(9999, 12, 31, 15, tzinfo=UTC))
    first = (await lan.say("/thongbao")).last
    assert "🗓 Đã hẹn (2)" in first.button_texts(), (first.text, first.button_texts())
    listed = await lan.press(first, "🗓 Đã hẹn (2)")
    assert "Họp tổng kết ngày mai." in listed.text and "11/02/2026 09:00" in listed.text
    ask = await lan.press(listed.last, pick(listed.last, f"✖️ Hủy #{later}"))
    assert "Hủy thông báo" in ask.text
    done = await lan.press(ask.last, "✖️ Hủy thông báo này")
    assert "Đã hủy thông báo" in done.text
    # Pressed again, or forged for another office's or an unknown one: one answer, nothing else.
    again = await lan.press_data(done.last, f"hh:y:{later}")
    assert again.alert is not None and not again.messages
    minh_forged = await minh.press_data(minh.messages[-1], f"hh:y:{later + 1}")
    assert minh_forged.alert is not None
    for _ in range(2):
        await season.tick()
        await season.deliver()
    assert not any("Họp tổng kết" in m.text for m in minh.messages)
    anew = (await lan.say("/thongbao")).last
    listed = await lan.press(anew, "🗓 Đã hẹn (1)")  # the one of 9999 is still there to cancel
    assert "Họp tổng kết" not in listed.text and "31/12/9999" in listed.text


async def test_a_registration_confirmed_over_another_person_s_newer_one_says_so(
    season: Sandbox,
) -> None:
    an = await join(season, 7401, "An", "HCTP", Role.FOCAL)
    binh = await join(season, 7402, "Bình", "HCTP", Role.FOCAL)
    step = await an.say("/dangky")
    await an.press(step.last, "Tập thể lao động tiên tiến")
    summary_an = (await an.say("Nguyễn Văn An; Trưởng phòng; LĐTT")).last
    await register_quickly(binh, "Tập thể lao động xuất sắc", "Lê Thị Bình; Chuyên viên; LĐTT")
    saved = await an.press(summary_an, "✅ Xác nhận")
    assert "Đã ghi nhận" in saved.text
    assert "Lưu ý" in saved.text and "Bình" in saved.text and "vừa được thay" in saved.text
    # Confirmed over one's own earlier registration: nothing to warn about.
    await register_quickly(an, "Tập thể lao động tiên tiến", "Nguyễn Văn An; Trưởng phòng; CSTĐCS")
    assert "Lưu ý" not in an.messages[-1].text
    registration = await saved_registration(season, "HCTP")
    assert registration is not None and registration.revision == 3


async def test_two_units_sending_the_same_content_at_once_share_one_stored_file(
    season: Sandbox,
) -> None:
    async def store() -> int:
        async with season.db.write() as session:
            row = await stored_file_for(
                session, sha256="ab" * 32, size=10, kind="pdf", path="ab/abab", now=season.clock()
            )
            return row.id

    first, second = await asyncio.gather(store(), store())
    assert first == second
    async with season.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(StoredFile)) == 1
