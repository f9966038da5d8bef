"""Pushes through the emulator: launch, /phatdong, reminders, /thongbao with its report,
results and /ketqua, a blocked member (PRODUCT §5 office, §7, §8)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.emulator.sandbox import Person, Sandbox
from storage.models import Announcement, Audience, Member, OutboxMessage, Role
from storage.units import unit_by_code
from tests.support.clock import Clock, in_office_hours
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import join


# Before the launch: overrides the season of tests/support/seasons.py (10/02) for this module.
@pytest.fixture
async def season(sandbox: Sandbox, clock: Clock) -> Sandbox:
    """Lạng Sơn 2026: plan and campaign (launch 15/01 08:00, registration due 15/03)."""
    clock.set_local("2026-01-10 09:00")
    await load_files(
        sandbox.db, EXAMPLES / "plan-2026-lang-son.yaml", EXAMPLES / "campaign-lang-son-2026.yaml"
    )
    return sandbox


async def people(box: Sandbox) -> dict[str, Person]:
    return {
        "hctp": await join(box, 5001, "Minh", "HCTP", Role.FOCAL),
        "tgpl": await join(box, 5002, "Hà", "TGPL", Role.FOCAL),
        "bttp": await join(box, 5003, "Tú", "BTTP", Role.FOCAL),
        "office": await join(box, 5004, "Lan", "VP", Role.OFFICE),
        "leader": await join(box, 5005, "Sơn", "LDS", Role.LEADER),
    }


def received(person: Person, needle: str) -> int:
    return sum(needle in m.text for m in person.messages)


async def test_a_launch_reaches_every_unit_once(season: Sandbox, clock: Clock) -> None:
    everyone = await people(season)
    assert await season.tick() > 0  # the Q1 task lists (2/1) are still current
    await season.deliver()
    assert all(received(p, "📣 Phát động") == 0 for p in everyone.values())

    clock.set_local("2026-01-15 08:05")
    await season.tick()
    await season.deliver()
    for name, person in everyone.items():
        assert received(person, "📣 Phát động: Phong trào thi đua thường xuyên năm 2026") == 1, name
    assert "Hạn đăng ký thi đua: 15/03/2026" in everyone["hctp"].messages[-1].text
    assert received(everyone["hctp"], "Nhiệm vụ thi đua quý I/2026") == 1

    clock.set_local("2026-01-15 08:06")  # a second tick, a restart: nothing twice
    assert await season.tick() == 0
    await season.deliver()
    assert all(received(p, "📣 Phát động") == 1 for p in everyone.values())


async def test_phatdong_launches_now(season: Sandbox, clock: Clock) -> None:
    everyone = await people(season)
    office = everyone["office"]
    listing = await office.say("/phatdong")
    assert "sẽ phát động lúc 08:00 15/01/2026" in listing.text
    assert "chỉ dành cho" in (await everyone["hctp"].say("/phatdong")).text
    launch_data = listing.last.button_data("🚀 Phát động ngay STP-LS-2026")
    done = await office.press(listing.last, "🚀 Phát động ngay STP-LS-2026")
    assert "Đã phát động" in done.text
    await season.tick()
    await season.deliver()
    assert received(everyone["tgpl"], "📣 Phát động") == 1
    stale = await office.press_data(listing.last, launch_data or "")
    assert stale.alert is not None  # already launched


async def test_reminders_go_only_to_units_still_missing(season: Sandbox, clock: Clock) -> None:
    everyone = await people(season)
    clock.set_local("2026-02-10 09:00")
    step = await everyone["hctp"].say("/dangky")
    await everyone["hctp"].press(step.last, "Không đăng ký")
    summary = await everyone["hctp"].say("Nguyễn Văn An; Trưởng phòng; LĐTT")
    await everyone["hctp"].press(summary.last, "✅ Xác nhận")

    clock.set_local("2026-03-12 08:00")  # 3 days before Sunday 15/3
    await season.tick()
    await season.deliver()
    assert received(everyone["tgpl"], "chưa đăng ký thi đua") == 1
    assert received(everyone["hctp"], "chưa đăng ký thi đua") == 0

    clock.set_local("2026-03-16 08:00")  # the Monday after: the digest for the office
    await season.tick()
    await season.deliver()
    digest = next(m for m in everyone["office"].messages if "Quá hạn 15/03/2026" in m.text)
    assert "Trung tâm Trợ giúp pháp lý nhà nước" in digest.text
    assert "Phòng Hành chính tư pháp" not in digest.text


async def test_thongbao_to_all_with_a_delivery_report(season: Sandbox, clock: Clock) -> None:
    everyone = await people(season)
    office = everyone["office"]
    await office.say("/thongbao")
    audience = await office.say("Kính gửi các đơn vị: họp giao ban thi đua lúc 14:00 & <đúng giờ>.")
    preview = await office.press(audience.last, "🏢 Tất cả đơn vị")
    assert "Xem trước" in preview.text and "(3 người)" in preview.text
    # The units nobody has joined are named: they will not get it (issue 16).
    assert "đơn vị chưa có đầu mối nào tham gia nên sẽ không nhận được" in preview.text
    assert "Phòng Công chứng số 1" in preview.text.split("sẽ không nhận được:")[1]
    assert "họp giao ban thi đua lúc 14:00 & <đúng giờ>" in preview.text
    saved = await office.press(preview.last, "📤 Gửi ngay")
    assert "Đang gửi thông báo" in saved.text
    await season.tick()
    await season.deliver()
    for name in ("hctp", "tgpl", "bttp"):
        assert received(everyone[name], "họp giao ban thi đua lúc 14:00 & <đúng giờ>") == 1
    await season.tick()  # every message has an outcome: the report
    await season.deliver()
    report = next(m for m in office.messages if "Báo cáo gửi thông báo" in m.text)
    assert "Đã gửi: 3 · Bị chặn: 0" in report.text
    assert "Không có ai nhận ở" in report.text and "Phòng Công chứng số 1" in report.text


async def test_thongbao_later_to_chosen_units_and_bad_times(season: Sandbox, clock: Clock) -> None:
    everyone = await people(season)
    office = everyone["office"]
    await office.say("/thongbao")
    audience = await office.say("Nhắc nộp báo cáo sơ kết.")
    units = await office.press(audience.last, "☑️ Chọn đơn vị")
    picked = await office.press(units.last, "▫️ TGPL")
    assert "Đã chọn: 1" in office.messages[-1].text
    preview = await office.press(office.messages[-1], "✔️ Xong")
    assert "(1 người)" in preview.text and picked.alert is None
    ask = await office.press(preview.last, "🕒 Hẹn giờ")
    assert "ngày/tháng/năm giờ:phút" in ask.text
    assert "Chưa đúng dạng" in (await office.say("mai 8 giờ")).text
    assert "đã qua" in (await office.say("01/01/2026 08:00")).text
    saved = await office.say("12/01/2026 08:00")
    assert "Đã hẹn gửi lúc 08:00 12/01/2026" in saved.text
    await season.tick()
    await season.deliver()
    assert received(everyone["tgpl"], "Nhắc nộp báo cáo sơ kết") == 0
    clock.set_local("2026-01-12 08:00")
    await season.tick()
    await season.deliver()
    assert received(everyone["tgpl"], "Nhắc nộp báo cáo sơ kết") == 1
    assert received(everyone["hctp"], "Nhắc nộp báo cáo sơ kết") == 0


async def test_a_blocked_member_is_reported_and_deactivated(season: Sandbox) -> None:
    everyone = await people(season)
    await season.tick()  # the quarter's tasks first: only the broadcast finds the block
    await season.deliver()
    everyone["bttp"].user.block()
    office = everyone["office"]
    await office.say("/thongbao")
    audience = await office.say("Thông báo thử.")
    preview = await office.press(audience.last, "🏢 Tất cả đơn vị")
    await office.press(preview.last, "📤 Gửi ngay")
    await season.tick()
    await season.deliver()
    await season.tick()
    await season.deliver()
    texts = [m.text for m in office.messages]
    # Named once, in the broadcast's own report: no message of its own (PRODUCT §8).
    assert [t for t in texts if "chặn bot" in t] == [
        next(t for t in texts if "Báo cáo gửi thông báo" in t)
    ]
    report = next(t for t in texts if "Báo cáo gửi thông báo" in t)
    assert "Đã gửi: 2 · Bị chặn: 1" in report and "Tú" in report
    async with season.db.read() as session:
        member = await session.scalar(select(Member).where(Member.telegram_user_id == 5003))
    assert member is not None and not member.active


async def test_blocked_recipients_of_a_push_are_told_in_one_message(
    season: Sandbox, clock: Clock
) -> None:
    """A launch finds two focal points who blocked the bot: the office gets one message
    naming both, with the invitation command of each unit, and never again."""
    everyone = await people(season)
    everyone["hctp"].user.block()
    everyone["bttp"].user.block()
    office = everyone["office"]
    clock.set_local("2026-01-15 08:05")
    await season.tick()
    await season.deliver()
    await season.tick()
    await season.deliver()
    await season.tick()
    await season.deliver()
    told = [m.text for m in office.messages if "chặn bot" in m.text]
    assert len(told) == 1, told
    assert "2 người đã chặn bot" in told[0]
    assert "Minh" in told[0] and "/moi HCTP" in told[0]
    assert "Tú" in told[0] and "/moi BTTP" in told[0]
    assert "tin phát động phong trào" in told[0] and "Hà (" not in told[0]
    assert told[0].count("\n• ") == 2
    assert received(everyone["tgpl"], "📣 Phát động") == 1


async def test_an_announcement_reaches_a_unit_that_joins_within_a_week_only(
    season: Sandbox, clock: Clock
) -> None:
    """A unit with nobody yet gets the announcement when its first member joins within a
    week of it (scheduler/snapshot.py ANNOUNCEMENT_REACH); after that it is history."""
    everyone = await people(season)
    office = everyone["office"]
    await office.say("/thongbao")
    audience = await office.say("Họp giao ban thi đua quý I.")
    preview = await office.press(audience.last, "🏢 Tất cả đơn vị")
    await office.press(preview.last, "📤 Gửi ngay")
    await season.tick()
    await season.deliver()
    assert received(everyone["hctp"], "Họp giao ban thi đua quý I") == 1

    clock.set_local("2026-01-14 09:00")  # four days on
    early = await join(season, 5201, "Bình", "CC1", Role.FOCAL)
    await season.tick()
    await season.deliver()
    assert received(early, "Họp giao ban thi đua quý I") == 1

    clock.set_local("2026-01-20 09:00")  # ten days on
    late = await join(season, 5202, "Cường", "DGTS", Role.FOCAL)
    await season.tick()
    await season.deliver()
    assert received(late, "Họp giao ban thi đua quý I") == 0


async def test_results_are_published_and_shown(sandbox: Sandbox, clock: Clock) -> None:
    clock.set_local("2025-11-01 09:00")
    await load_files(
        sandbox.db,
        EXAMPLES / "units-ngoai-vu-lang-son.yaml",
        EXAMPLES / "campaign-ngoai-vu-2025.yaml",
        EXAMPLES / "results-ngoai-vu-2025.yaml",
    )
    hoa = await join(sandbox, 5101, "Hoa", "NV_HTQT", Role.FOCAL)
    khanh = await join(sandbox, 5102, "Khánh", "NV_QLBG", Role.FOCAL)
    lan = await join(sandbox, 5103, "Lan", "NV_VP", Role.OFFICE)
    assert "Chưa có kết quả" in (await hoa.say("/ketqua")).text  # not yet published

    clock.set_local("2025-11-10 08:00")
    await sandbox.tick()
    await sandbox.deliver()
    pushed = [m.text for m in hoa.messages if "🏅 Kết quả thi đua, khen thưởng" in m.text]
    assert len(pushed) == 1 and "Nguyễn Văn An" in pushed[0] and "Trần Thị Bình" not in pushed[0]
    own = (await khanh.say("/ketqua")).text
    assert "Trần Thị Bình" in own and "Nguyễn Văn An" not in own
    everything = (await lan.say("/ketqua")).text
    assert "Nguyễn Văn An" in everything and "Trần Thị Bình" in everything
    counts = Counter("🏅" in m.text for m in lan.messages)
    assert counts[True] == 2  # the push and /ketqua


async def test_thongbao_with_a_document(season: Sandbox) -> None:
    everyone = await people(season)
    office = everyone["office"]
    await office.say("/thongbao")
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    audience = await office.send_document(pdf, "ke-hoach-kiem-tra.pdf")
    preview = await office.press(audience.last, "🏢 Tất cả đơn vị")
    assert "Kèm tệp: ke-hoach-kiem-tra.pdf" in preview.text
    await office.press(preview.last, "📤 Gửi ngay")
    await season.tick()
    await season.deliver()
    for name in ("hctp", "tgpl", "bttp"):
        documents = [m for m in everyone[name].messages if m.document]
        assert len(documents) == 1 and documents[0].document is not None
        assert documents[0].document["content"] == pdf
        assert "Thông báo của Văn phòng Sở" in documents[0].text


async def test_the_running_bot_sends_at_the_due_instant_not_at_the_next_minute(
    tmp_path: Path,
) -> None:
    """With the scheduler running on its own (as `thiduabot run`), an announcement due a few
    seconds from now leaves then: the tick wakes at the next due instant, not a minute later."""
    # The real clock, moved back to office hours if need be: the quiet hours would hold the
    # announcement until 07:00.
    shift = in_office_hours(datetime.now(UTC)) - datetime.now(UTC)

    def clock() -> datetime:
        return datetime.now(UTC) + shift

    box = Sandbox(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/wake.db",
        files_dir=tmp_path / "files",
        clock=clock,
        background=True,
    )
    await box.db.migrate()
    await load_files(box.db, EXAMPLES / "units-lang-son.yaml")
    send_at = clock() + timedelta(seconds=4)
    async with box.db.write() as session:
        hctp = await unit_by_code(session, "HCTP")
        assert hctp is not None
        session.add(
            Announcement(
                organization_id=1,
                text="Họp giao ban lúc 14:00.",
                audience=Audience.UNITS,
                unit_ids=[hctp.id],
                send_at=send_at,
                created_by=1,
                created_at=clock(),
            )
        )
    async with box:
        minh = await join(box, 5101, "Minh", "HCTP", Role.FOCAL)
        await box.emulator.wait_until(lambda: received(minh, "Họp giao ban") > 0, timeout=30)
        async with box.db.read() as session:
            row = (await session.scalars(select(OutboxMessage))).one()
        # Enqueued at its instant or just after, never before, and well before a minute tick.
        assert send_at <= row.created_at < send_at + timedelta(seconds=30)
        assert received(minh, "Họp giao ban") == 1


async def test_thongbao_to_a_group_of_units(season: Sandbox) -> None:
    """A cụm of xã (examples/units-lang-son-xa.yaml) chosen with one button; pressed again, it
    clears; a forged group id changes nothing."""
    await load_files(season.db, EXAMPLES / "units-lang-son-xa.yaml")
    office = await join(season, 5104, "Lan", "VP", Role.OFFICE)
    xa = await join(season, 5105, "Thảo", "XA_MAU_SON", Role.FOCAL)
    await office.say("/thongbao")
    audience = await office.say("Họp trực tuyến với các xã, phường.")
    units = await office.press(audience.last, "☑️ Chọn đơn vị")
    await office.press(units.last, "👥 Nhóm CAP_XA")
    assert "Đã chọn: 5" in office.messages[-1].text
    await office.press(office.messages[-1], "✅ Nhóm CAP_XA")
    assert "Đã chọn: 0" in office.messages[-1].text
    await office.press_data(office.messages[-1], "tb:g:999")
    assert "Đã chọn: 0" in office.messages[-1].text
    await office.press(office.messages[-1], "👥 Nhóm CAP_XA")
    preview = await office.press(office.messages[-1], "✔️ Xong")
    assert "(1 người)" in preview.text
    await office.press(preview.last, "📤 Gửi ngay")
    await season.tick()
    await season.deliver()
    assert received(xa, "Họp trực tuyến với các xã, phường.") == 1


async def test_choosing_among_many_units_comes_in_pages(season: Sandbox, tmp_path: Path) -> None:
    """A province's 130 xã: the picker keeps under Telegram's 100 buttons, page by page, and
    a unit chosen on page 3 keeps page 3 in view."""
    lines = [
        "organization: {code: STP-LS, name: Sở Tư pháp tỉnh Lạng Sơn}",
        "units:",
        *(f"  - {{code: XA{i:03d}, name: UBND xã số {i}, kind: ubnd_xa}}" for i in range(130)),
    ]
    path = tmp_path / "xa.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    await load_files(season.db, path)
    office = await join(season, 5204, "Lan", "VP", Role.OFFICE)
    await office.say("/thongbao")
    audience = await office.say("Thông báo tới các xã.")
    first = await office.press(audience.last, "☑️ Chọn đơn vị")
    assert len(first.last.button_texts()) <= 100 and "1/3" in first.last.button_texts()
    await office.press(first.last, "Sau ›")
    await office.press(office.messages[-1], "Sau ›")
    third = office.messages[-1]
    assert "3/3" in third.button_texts() and "▫️ XA129" in third.button_texts()
    await office.press(third, "▫️ XA129")
    assert "✅ XA129" in office.messages[-1].button_texts()
    assert "Đã chọn: 1" in office.messages[-1].text


async def test_a_time_in_the_quiet_hours_is_confirmed_with_the_real_send_time(
    season: Sandbox,
) -> None:
    """Nothing is pushed between 21:00 and 07:00: 23:00 is confirmed as 07:00 next morning."""
    office = (await people(season))["office"]
    await office.say("/thongbao")
    audience = await office.say("Nhắc nộp báo cáo sơ kết.")
    preview = await office.press(audience.last, "🏢 Tất cả đơn vị")
    await office.press(preview.last, "🕒 Hẹn giờ")
    saved = await office.say("12/01/2026 23:00")
    assert "Đã hẹn gửi lúc 23:00 12/01/2026" in saved.text
    assert "sẽ được gửi lúc 07:00 13/01/2026" in saved.text
