"""Every screen fits the phone whatever the data (PRODUCT §5, issue 16): a 45-nominee /hoso
in pages, a 60-award decision pushed and shown, a full 1,024-character caption delivered, a
150-unit picker, all through the emulator, which refuses what Telegram refuses."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.emulator import BotMessage
from bot.emulator.sandbox import Person, Sandbox
from storage.campaigns import campaign_by_code
from storage.models import Member, Role
from storage.nominees import active_awards, add_nominee
from storage.units import unit_by_code
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.pages import every_page
from tests.support.people import join
from tests.support.uploads import PDF

NOMINEES = 45


def _within_limits(messages: list[BotMessage]) -> None:
    for m in messages:
        assert len(m.text) <= (1024 if m.document else 4096)
        assert sum(len(row) for row in m.buttons) <= 100


async def _propose_many(box: Sandbox, person: Person, unit: str, count: int) -> list[str]:
    """`count` individuals proposed by the unit, straight into the database."""
    names = [f"Nguyễn Thị Phương Thảo Minh Khai Số {n:02d}" for n in range(1, count + 1)]
    async with box.db.write() as session:
        campaign = await campaign_by_code(session, "STP-LS-2026")
        unit_row = await unit_by_code(session, unit)
        member = await session.scalar(
            select(Member).where(Member.telegram_user_id == person.user.id)
        )
        assert campaign is not None and unit_row is not None and member is not None
        award = next(a for a in await active_awards(session, campaign.id) if a.code == "GK-CN")
        for name in names:
            await add_nominee(
                session,
                campaign_id=campaign.id,
                unit_id=unit_row.id,
                name=name,
                award=award,
                by=member.id,
                now=box.clock(),
            )
    return names


async def test_a_45_nominee_hoso_comes_in_pages_each_whole(season: Sandbox) -> None:
    minh = await join(season, 6101, "Minh", "HCTP", Role.FOCAL)
    names = await _propose_many(season, minh, "HCTP", NOMINEES)
    reply = await minh.say("/hoso")
    assert len(reply.messages) == 1, [m.text[:80] for m in reply.messages]
    first = reply.last
    labels = first.button_texts()
    assert "Sau ›" in labels and "‹ Trước" not in labels
    pages = await every_page(minh, first)
    assert len(pages) > 1 and all(len(p) <= 4096 for p in pages)
    assert "‹ Trước" in first.button_texts() and "Sau ›" not in first.button_texts()
    for page in pages:  # the campaign and the verdict on every page
        assert page.startswith("📂 ") and "Còn thiếu" in page
    shown = "\n".join(pages)
    assert all(shown.count(f"👤 {name} ") == 1 for name in names)
    assert shown.count("Tài liệu chung của đơn vị") == 1


async def test_a_page_button_of_another_unit_or_nonsense_gets_the_stale_answer(
    season: Sandbox,
) -> None:
    minh = await join(season, 6102, "Minh", "HCTP", Role.FOCAL)
    await _propose_many(season, minh, "HCTP", NOMINEES)
    first = (await minh.say("/hoso")).last
    data = first.button_data("Sau ›")
    assert data is not None
    campaign_id = data.split(":")[2]
    for forged in ("pg:hs:999999:1", f"pg:hs:{campaign_id}:x", "pg:hs"):
        answer = await minh.press_data(first, forged)
        assert answer.alert is not None and not answer.messages
    # Another unit pressing the page of this campaign sees its own dossier, never this one's.
    hoa = await join(season, 6103, "Hoa", "BTTP", Role.FOCAL)
    own = (await hoa.say("/hoso")).last
    await hoa.press_data(own, data)
    assert all("Phương Thảo" not in m.text and "HCTP" not in m.text for m in hoa.messages)


def _decision(awards: int) -> str:
    units = ["HCTP", "BTTP", "TGPL", "CC1", "DGTS", "PBGDPL"]
    items = "\n".join(
        f"    - {{unit: {units[i % len(units)]}, nominee: Trần Văn Thành Công Người Thứ {i:02d}"
        f" của đơn vị, award: GK-CN}}"
        for i in range(awards)
    )
    return (
        "organization: STP-LS\nresults:\n  campaign: STP-LS-2026\n"
        "  decision: 1234/QĐ-STP\n  decided_by: Giám đốc Sở Tư pháp tỉnh Lạng Sơn\n"
        f"  publish_at: 2026-12-10 08:00\n  items:\n{items}\n"
    )


async def test_a_60_award_decision_is_pushed_and_shown_whole(
    season: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    path = tmp_path / "results.yaml"
    path.write_text(_decision(60), encoding="utf-8")
    await load_files(season.db, path)
    lan = await join(season, 6201, "Lan", "VP", Role.OFFICE)
    boss = await join(season, 6202, "Giám đốc", "LDS", Role.LEADER)
    minh = await join(season, 6203, "Minh", "HCTP", Role.FOCAL)

    clock.set_local("2026-12-10 08:00")
    await season.tick()
    await season.deliver()
    for person in (lan, boss):
        pushed = [m for m in person.messages if "1234/QĐ-STP" in m.text or "Người Thứ" in m.text]
        _within_limits(pushed)
        text = "\n".join(m.text for m in pushed)
        assert len(pushed) > 1  # several messages, in order, nothing refused
        assert all(f"Người Thứ {i:02d} " in text for i in range(60)), person.user.first_name
        assert text.index("Người Thứ 00 ") < text.index("Người Thứ 59 ")
    own = "\n".join(m.text for m in minh.messages if "Người Thứ" in m.text)
    assert "Người Thứ 00 " in own and "Người Thứ 01 " not in own  # only the unit's own
    refused = [r for r in season.emulator.requests if r.method.startswith("send") and not r.ok]
    assert not refused, refused

    shown = await lan.say("/ketqua")
    pages = await every_page(lan, shown.last)
    assert all(len(p) <= 4096 for p in pages)
    assert all(f"Người Thứ {i:02d} " in "\n".join(pages) for i in range(60))


async def test_a_full_1024_character_caption_reaches_everyone(season: Sandbox) -> None:
    lan = await join(season, 6301, "Lan", "VP", Role.OFFICE)
    units = {
        code: await join(season, 6310 + n, f"Người {code}", code, Role.FOCAL)
        for n, code in enumerate(("HCTP", "BTTP", "TGPL"))
    }
    caption = ("Kính gửi các phòng, đơn vị: đề nghị rà soát hồ sơ theo kế hoạch. " * 20)[
        :1023
    ] + "!"
    assert len(caption) == 1024
    await lan.say("/thongbao")
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    audience = await lan.send_document(pdf, "ke-hoach.pdf", caption=caption)
    preview = await lan.press(audience.last, "🏢 Tất cả đơn vị")
    _within_limits(preview.messages)
    await lan.press(preview.last, "📤 Gửi ngay")
    await season.tick()
    await season.deliver()
    for person in units.values():
        got = person.messages
        _within_limits(got)
        documents = [m for m in got if m.document]
        assert len(documents) == 1 and documents[0].document is not None
        assert documents[0].document["content"] == pdf
        before = got[: got.index(documents[0])]
        assert any(caption[:200] in m.text and caption[-30:] in m.text for m in before)
    await season.tick()
    await season.deliver()
    report = lan.messages[-1].text
    assert "Đã gửi: 3 · Bị chặn: 0 · Chưa xác nhận được: 0 · Lỗi: 0" in report


def _units_file(count: int) -> str:
    lines = [
        "organization:",
        "  code: UBND-T",
        "  name: Ủy ban nhân dân tỉnh Thử Nghiệm",
        "  office: Văn phòng UBND tỉnh",
        "  head: Chủ tịch UBND tỉnh",
        "  short: tỉnh",
        "units:",
        "  - {code: VPT, name: Văn phòng UBND tỉnh, kind: phong}",
    ]
    lines += [
        f"  - {{code: X{n:03d}, name: Ủy ban nhân dân xã Thử Nghiệm Số {n:03d}, kind: ubnd_xa}}"
        for n in range(1, count + 1)
    ]
    return "\n".join(lines) + "\n"


async def _body_of(sandbox: Sandbox, clock: Clock, tmp_path: Path, xa: int, office: int) -> Person:
    """A province of `xa` communes loaded on 02/03/2026, and its office joined."""
    clock.set_local("2026-03-02 09:00")
    path = tmp_path / "units.yaml"
    path.write_text(_units_file(xa), encoding="utf-8")
    await load_files(sandbox.db, path)
    return await join(sandbox, office, "Lan", "VPT", Role.OFFICE)


async def test_a_150_unit_picker_in_pages_within_100_buttons(
    sandbox: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    lan = await _body_of(sandbox, clock, tmp_path, 150, 6401)
    x120 = await join(sandbox, 6402, "Xã 120", "X120", Role.FOCAL)
    x001 = await join(sandbox, 6403, "Xã 1", "X001", Role.FOCAL)
    await lan.say("/thongbao")
    audience = await lan.say("Đề nghị các xã gửi báo cáo.")
    picker = (await lan.press(audience.last, pick_label(audience.last, "Chọn đơn vị"))).last
    _within_limits([picker])
    seen: set[str] = set()
    message, pages = picker, 1
    while "X120" not in " ".join(message.button_texts()):
        seen |= {t for t in message.button_texts() if " X" in t}
        await lan.press(message, "Sau ›")  # the same message, turned to the next page
        pages += 1
        _within_limits([message])
    assert pages > 1 and len(seen) >= 100
    await lan.press(message, pick_label(message, "X120"))
    assert any("X120" in t and "✅" in t for t in message.button_texts())
    preview = await lan.press(message, pick_label(message, "Xong"))
    assert "1 đơn vị" in preview.text
    await lan.press(preview.last, "📤 Gửi ngay")
    await sandbox.tick()
    await sandbox.deliver()
    assert any("gửi báo cáo" in m.text for m in x120.messages)
    assert not any("gửi báo cáo" in m.text for m in x001.messages)


def pick_label(message: BotMessage, part: str) -> str:
    """The label of the button whose words hold `part`."""
    return next(t for t in message.button_texts() if part in t)


async def test_a_unit_with_many_nominees_turns_the_pages_of_its_nominee_buttons(
    season: Sandbox,
) -> None:
    minh = await join(season, 6501, "Minh", "HCTP", Role.FOCAL)
    names = await _propose_many(season, minh, "HCTP", 120)
    step = (await minh.say("/nophoso")).last
    _within_limits([step])
    labels = step.button_texts()
    assert "Sau ›" in labels and "➕ Thêm đề nghị" in labels[-1]
    seen: set[str] = set()
    while True:
        seen |= {n for n in names if any(t.startswith(n) for t in step.button_texts())}
        if "Sau ›" not in step.button_texts():
            break
        await minh.press(step, "Sau ›")  # the same message, the next page of buttons
        _within_limits([step])
    assert seen == set(names)
    last = names[-1]
    chosen = await minh.press(step, pick_label(step, last))
    assert chosen.messages and last in chosen.text


async def test_a_file_sent_outside_the_flow_reaches_the_last_of_many_nominees(
    season: Sandbox,
) -> None:
    minh = await join(season, 6601, "Minh", "HCTP", Role.FOCAL)
    names = await _propose_many(season, minh, "HCTP", 120)
    step = (await minh.send_document(PDF, "bao-cao.pdf")).last
    if not any(n in " ".join(step.button_texts()) for n in names):  # which campaign first
        step = (await minh.press(step, step.button_texts()[0])).last
    pages = 1
    while not any(t.startswith(names[-1]) for t in step.button_texts()):
        _within_limits([step])
        step = (await minh.press(step, "Sau ›")).last
        pages += 1
    assert pages > 1
    chosen = await minh.press(step, pick_label(step, names[-1]))
    assert chosen.messages and chosen.last.button_texts()  # the documents of that nominee


async def test_every_office_screen_of_a_2000_unit_body_is_taken_by_the_emulator(
    sandbox: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    lan = await _body_of(sandbox, clock, tmp_path, 2000, 6701)
    for command in ("/tonghop", "/nhiemvu", "/lich", "/duyet", "/phatdong", "/ketqua", "/trogiup"):
        reply = await lan.say(command)
        assert reply.messages, command
        _within_limits(reply.messages)
    await lan.say("/thongbao")
    audience = await lan.say("Đề nghị các xã gửi báo cáo.")
    preview = await lan.press(audience.last, "🏢 Tất cả đơn vị")
    _within_limits(preview.messages)
    assert "Gửi đến 2001 đơn vị" in preview.text  # the xã and the office's own unit
    refused = [r for r in sandbox.emulator.requests if r.error]
    assert not refused, refused[:1]
    assert all("Có lỗi xảy ra" not in m.text for m in lan.messages)
