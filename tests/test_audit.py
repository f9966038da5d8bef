"""The audit trail of dossiers through the emulator (PRODUCT §11, issue 20 item 5): every
change with who and when under /duyet, who was sent which files, the office's alone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.emulator import BotMessage
from bot.emulator.sandbox import Person, Reply, Sandbox
from storage.audit import HISTORY_SHOWN, DossierEvent, record_event
from storage.models import Member, Nominee, Role
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.pages import every_page
from tests.support.paths import EXAMPLES
from tests.support.people import join, pick
from tests.support.seasons import ngoai_vu_season
from tests.support.uploads import PDF, docx, xlsx

LOG = "🕘 Lịch sử hồ sơ"
READS = "👁 Nhật ký xem tệp"


@pytest.fixture
async def season(sandbox: Sandbox, clock: Clock) -> Sandbox:
    """20/10/2025, Sở Ngoại vụ: dossiers due 30/10/2025 (the Lạng Sơn Sở Tư pháp beside it)."""
    return await ngoai_vu_season(sandbox, clock)


async def _upload(
    person: Person, screen: BotMessage, document: str, content: bytes, name: str
) -> Reply:
    await person.press(screen, pick(screen, document))
    return await person.send_document(content, name)


async def _slot(person: Person, nominee: str) -> BotMessage:
    """The /nophoso screen of one of the unit's dossiers (📁: the unit's own documents)."""
    step = await person.say("/nophoso")
    return (await person.press(step.last, pick(step.last, nominee))).last


async def _an_s_dossier(hoa: Person, clock: Clock) -> None:
    """09:00 Nguyễn Văn An proposed with both files, 09:10 the unit's minutes, 09:30 a second
    version of the summary."""
    step = await hoa.say("/nophoso")
    awards = await hoa.press(step.last, pick(step.last, "➕"))
    await hoa.press(awards.last, "Giấy khen của Giám đốc Sở — cá nhân")
    added = await hoa.say("Nguyễn Văn An")
    done = await _upload(hoa, added.last, "Tóm tắt", PDF, "tom-tat-an.pdf")
    await _upload(hoa, done.last, "Báo cáo", docx("an"), "bao-cao-an.docx")
    await hoa.say("/huy")
    clock.set_local("2025-10-20 09:10")
    await _upload(hoa, await _slot(hoa, "📁"), "Biên bản", xlsx(), "bien-ban.xlsx")
    await hoa.say("/huy")
    clock.set_local("2025-10-20 09:30")
    await _upload(hoa, await _slot(hoa, "Nguyễn Văn An"), "Tóm tắt", PDF + b"%2", "tom-tat-v2.pdf")
    await hoa.say("/huy")


async def _open_an(lan: Person) -> BotMessage:
    """Lan opens An's dossier from /duyet: the screen under its files."""
    queue = await lan.say("/duyet")
    return (await lan.press(queue.last, pick(queue.last, "NV_HTQT · Nguyễn Văn An"))).last


async def _an_id(season: Sandbox) -> int:
    async with season.db.read() as session:
        found = await session.scalar(select(Nominee.id).where(Nominee.name == "Nguyễn Văn An"))
    assert found is not None
    return found


def _in_order(text: str, *parts: str) -> None:
    """Each part is in the text, after the one before it."""
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, (part, text)
        at = found + len(part)


async def test_the_history_lists_uploads_versions_a_return_and_an_approval_with_who_and_when(
    season: Sandbox, clock: Clock
) -> None:
    hoa = await join(season, 5001, "Hoa", "NV_HTQT", Role.FOCAL)
    lan = await join(season, 5002, "Lan", "NV_VP", Role.OFFICE)
    await _an_s_dossier(hoa, clock)
    clock.set_local("2025-10-20 10:00")
    screen = await _open_an(lan)
    await lan.press(screen, "↩️ Yêu cầu bổ sung")
    await lan.say("Báo cáo thiếu chữ ký thủ trưởng & dấu")
    clock.set_local("2025-10-21 08:15")
    await _upload(hoa, await _slot(hoa, "Nguyễn Văn An"), "Báo cáo", docx("ky"), "bao-cao-ky.docx")
    await hoa.say("/huy")
    clock.set_local("2025-10-21 08:20")  # the same content again: kept once, nothing changed
    same = await _upload(
        hoa, await _slot(hoa, "Nguyễn Văn An"), "Báo cáo", docx("ky"), "bao-cao-ky-2.docx"
    )
    assert "giống hệt" in same.text
    await hoa.say("/huy")
    clock.set_local("2025-10-21 14:00")
    approved = await lan.press(await _open_an(lan), "✅ Đủ điều kiện")
    assert LOG in approved.last.button_texts()  # the dossier's log after its buttons went

    log = await lan.press(approved.last, LOG)
    assert len(log.messages) == 1 and log.last.text.startswith("🕘 Lịch sử hồ sơ của Nguyễn Văn An")
    _in_order(
        log.last.text,
        "14:00 21/10/2025 · Lan\nThẩm định: đủ điều kiện trình Hội đồng xét",
        "14:00 21/10/2025 · Lan\nMở hồ sơ để thẩm định",
        "08:15 21/10/2025 · Hoa\nNộp bản thứ 2 của Báo cáo thành tích",
        '"bao-cao-ky.docx"',
        "10:00 20/10/2025 · Lan\nYêu cầu bổ sung: Báo cáo thiếu chữ ký thủ trưởng & dấu",
        "10:00 20/10/2025 · Lan\nMở hồ sơ để thẩm định",
        "09:30 20/10/2025 · Hoa\nNộp bản thứ 2 của Tóm tắt thành tích",
        '"tom-tat-v2.pdf"',
        "09:10 20/10/2025 · Hoa\nNộp Biên bản họp xét khen thưởng",
        '(tài liệu chung của đơn vị): "bien-ban.xlsx"',
        '"bao-cao-an.docx"',
        '"tom-tat-an.pdf"',
        "09:00 20/10/2025 · Hoa\nĐề nghị khen thưởng: Giấy khen của Giám đốc Sở",
    )
    assert "bao-cao-ky-2.docx" not in log.last.text and "08:20" not in log.last.text
    # The dossier's screen keeps its buttons: the log comes as a message of its own.
    assert "✅ Đủ điều kiện" not in log.last.button_texts()

    # Results loaded from the office's file: the decision in the history of whom it names.
    await load_files(season.db, EXAMPLES / "results-ngoai-vu-2025.yaml")
    again = await lan.press(approved.last, LOG)
    newest = again.last.text.split("\n\n")[1]
    assert newest == (
        "08:00 10/11/2025\nCông bố kết quả: Quyết định số 123/QĐ-SNgV — Giấy khen của Giám đốc Sở"
    )


async def test_the_files_sent_in_duyet_and_the_zip_are_in_the_access_log(
    season: Sandbox, clock: Clock
) -> None:
    hoa = await join(season, 5011, "Hoa", "NV_HTQT", Role.FOCAL)
    lan = await join(season, 5012, "Lan", "NV_VP", Role.OFFICE)
    await _an_s_dossier(hoa, clock)
    clock.set_local("2025-10-20 10:00")
    screen = await _open_an(lan)
    first = await lan.press(screen, READS)
    # Opening it sent its three current files: that is the first read.
    _in_order(
        first.last.text,
        "👁 Nhật ký xem tệp của Nguyễn Văn An",
        "10:00 20/10/2025 · Lan\nMở hồ sơ và nhận 3 tệp",
        '"bien-ban.xlsx"',
    )
    clock.set_local("2025-10-20 11:00")
    queue = await lan.say("/duyet")
    zipped = await lan.press(queue.last, pick(queue.last, "📦"))
    assert zipped.last.document is not None
    reads = await lan.press(screen, READS)
    _in_order(
        reads.last.text,
        "11:00 20/10/2025 · Lan\nTải ZIP hồ sơ của phong trào, gồm 4 tệp của hồ sơ này",
        "10:00 20/10/2025 · Lan\nMở hồ sơ và nhận 3 tệp",
    )
    assert '"tom-tat-an.pdf"' in reads.last.text  # the ZIP holds every version
    # The unit's focal point gets nothing of it.
    assert all("Nhật ký" not in m.text for m in hoa.messages)


async def test_only_the_dossier_s_office_sees_its_history_forged_data_as_unknown(
    season: Sandbox, clock: Clock
) -> None:
    hoa = await join(season, 5021, "Hoa", "NV_HTQT", Role.FOCAL)
    lan = await join(season, 5022, "Lan", "NV_VP", Role.OFFICE)
    await _an_s_dossier(hoa, clock)
    screen = await _open_an(lan)
    an = await _an_id(season)
    forged = [f"dy:h:{an}", f"dy:v:{an}", f"pg:lh:{an}:0", f"pg:lr:{an}:1"]

    khanh = await join(season, 5023, "Khánh", "NV_QLBG", Role.FOCAL)  # another unit's
    own = (await khanh.say("/hoso")).last
    for data in forged:
        assert (await khanh.press_data(own, data)).alert is not None, data
    assert (await hoa.press_data((await hoa.say("/hoso")).last, forged[0])).alert is not None
    for person in (khanh, hoa):  # a focal point, even of An's unit, never reads it
        assert all(
            "Lịch sử hồ sơ" not in m.text and "Nhật ký" not in m.text for m in person.messages
        )

    # The office of another body: An's dossier answers as one that does not exist.
    tuan = await join(season, 5024, "Tuấn", "VP", Role.OFFICE)
    mine = (await tuan.say("/duyet")).last
    unknown = [f"dy:h:{an + 999}", f"pg:lh:{an + 999}:0", "pg:lh:x:0", "pg:lr", f"dy:v:{an}0"]
    answers = set()
    for data in (*forged, *unknown):
        answer = await tuan.press_data(mine, data)
        assert not answer.messages, data
        answers.add(answer.alert)
    assert len(answers) == 1 and None not in answers
    # Lan's own buttons still work.
    assert "Lịch sử hồ sơ" in (await lan.press(screen, LOG)).text


async def test_a_long_history_comes_in_pages_each_within_the_limit(
    season: Sandbox, clock: Clock
) -> None:
    hoa = await join(season, 5031, "Hoa", "NV_HTQT", Role.FOCAL)
    lan = await join(season, 5032, "Lan", "NV_VP", Role.OFFICE)
    await _an_s_dossier(hoa, clock)
    screen = await _open_an(lan)
    an = await _an_id(season)
    async with season.db.write() as session:
        nominee = await session.get_one(Nominee, an)
        office = await session.scalar(select(Member).where(Member.telegram_user_id == 5032))
        assert office is not None
        for n in range(HISTORY_SHOWN + 10):
            await record_event(
                session,
                campaign_id=nominee.campaign_id,
                unit_id=nominee.unit_id,
                nominee_id=nominee.id,
                event=DossierEvent.REVIEW_RETURNED,
                actor_id=5032,
                actor_name="Lan <Văn phòng>",
                at=clock(),
                detail={"note": f"Lần {n:03d}: " + "bổ sung & ký lại " * 60},
            )
    first = (await lan.press(screen, LOG)).last
    assert "Sau ›" in first.button_texts()
    pages = await every_page(lan, first)
    assert len(pages) > 10 and all(len(p) <= 4096 for p in pages)
    assert all(p.startswith("🕘 Lịch sử hồ sơ của Nguyễn Văn An") for p in pages)
    assert all(f"Chỉ hiện {HISTORY_SHOWN} mục gần nhất." in p for p in pages)
    shown = "\n".join(pages)
    assert "Lan <Văn phòng>" in shown  # a name as data, escaped on the way
    assert f"Lần {HISTORY_SHOWN + 9:03d}:" in shown and "Lần 009:" not in shown
