"""The council session through the emulator (PRODUCT §11): members invited like everyone else
(a director keeps his role and gains a seat), the secret ballot in each member's chat, a
quorum missed then met after a reminder, the vote each award needs, the tally, the DOCX
drafts, the issued decision published and pushed, and forged buttons."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import docx
import pytest
from sqlalchemy import func, select

from bot.emulator import BotMessage
from bot.emulator.sandbox import Sandbox
from messages import render
from storage.audit import dossier_history
from storage.ballots import Cast, cast
from storage.models import CouncilProposal, CouncilSeat, CouncilSession, DossierEvent, Nominee, Role
from storage.units import unit_by_code
from tests.support.clock import TZ, Clock
from tests.support.council import (
    approve_proposals,
    council_campaign,
    seat,
    vote,
)
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import join


@pytest.fixture
async def council(sandbox: Sandbox, clock: Clock, tmp_path: Path) -> Sandbox:
    """Sở Ngoại vụ on 05/11/2025: its campaign with council rules and three approved
    proposals."""
    clock.set_local("2025-11-05 09:00")
    await load_files(
        sandbox.db, EXAMPLES / "units-ngoai-vu-lang-son.yaml", council_campaign(tmp_path)
    )
    await approve_proposals(sandbox, clock)
    return sandbox


def _screen(reply_messages: list[BotMessage]) -> str:
    return "\n\n".join(m.text for m in reply_messages)


async def test_a_council_session_end_to_end(council: Sandbox, clock: Clock) -> None:
    box = council
    office = await join(box, 7001, "Thảo", "NV_VP", Role.OFFICE)
    director = await join(box, 7002, "Giám đốc Hoàng", "NV_LDS", Role.LEADER)
    hung = await join(box, 7003, "Hùng", "NV_VP", Role.COUNCIL)
    lan = await join(box, 7004, "Lan", "NV_VP", Role.COUNCIL)
    focal = await join(box, 7005, "An", "NV_HTQT", Role.FOCAL)
    welcome = await seat(box, director)
    assert "lãnh đạo" in welcome and "thành viên Hội đồng Thi đua - Khen thưởng" in welcome
    assert "/bophieu" in welcome

    # Before the session: nothing to vote on; a focal point has no ballot at all.
    assert "không có phiên bỏ phiếu" in (await hung.say("/bophieu")).text
    assert "chỉ dành cho" in (await focal.say("/bophieu")).text
    assert "chỉ dành cho" in (await focal.say("/hoidong")).text

    first = await office.say("/hoidong")
    text = first.text
    assert "Giám đốc Hoàng" in text and "Hùng" in text and "Lan" in text
    assert "1 đề nghị / chỉ tiêu 1" in text and "2 đề nghị / chỉ tiêu 3" in text
    assert "từ 90% tổng số thành viên Hội đồng" in text
    opened = await office.press(first.last, "🗳 Mở phiên bỏ phiếu")
    assert "Đang bỏ phiếu kín" in opened.text and "0/3" in opened.text
    await box.deliver()
    for member in (director, hung, lan):
        assert "Mời Ông/Bà bỏ phiếu kín" in member.messages[-1].text
    assert not any("Mời Ông/Bà" in m.text for m in focal.messages + office.messages)

    # Hùng votes yes on all three; a press of a vote already cast is refused.
    assert await vote(hung, [True, True, True]) == ["Đã ghi nhận phiếu."] * 3
    done = (await hung.say("/bophieu")).last
    assert "đã bỏ phiếu đủ 3 đề nghị" in done.text and not done.buttons

    # One of three voted: below the quorum of 2/3, the session stays open.
    screen = (await office.say("/hoidong")).last
    assert "1/3" in screen.text and "Hùng" not in screen.text.split("Chưa bỏ phiếu đủ")[1]
    missed = await office.press(screen, "🔒 Kết thúc và kiểm phiếu")
    assert "Chưa đủ số thành viên" in missed.text and "cần ít nhất 2" in missed.text
    assert "đồng ý," not in missed.text  # no count is shown while the ballot is open

    # A reminder goes to the two who have not voted, and only to them.
    before = {p.id: len(p.messages) for p in (director, hung, lan)}
    reminded = await office.press(missed.last, "⏰ Nhắc thành viên chưa bỏ phiếu")
    assert "Giám đốc Hoàng" in reminded.text and "Lan" in reminded.text
    await box.deliver()
    assert "Nhắc bỏ phiếu" in director.messages[-1].text
    assert "Nhắc bỏ phiếu" in lan.messages[-1].text
    assert len(hung.messages) == before[hung.id]

    await vote(director, [True, True, False])
    await vote(lan, [True, True, True])  # late, after the reminder

    closing = (await office.say("/hoidong")).last
    tally = await office.press(closing, "🔒 Kết thúc và kiểm phiếu")
    counted = tally.text
    assert "Đã kiểm phiếu" in counted and "3/3" in counted
    # The collective's award: a majority of those present; the individuals': 90% of all.
    assert (
        "Phòng Hợp tác quốc tế (Phòng Hợp tác quốc tế): 3 đồng ý, 0 không đồng ý — ✅ đạt"
        in counted
    )
    assert "Nguyễn Văn An (Phòng Hợp tác quốc tế): 3 đồng ý, 0 không đồng ý — ✅ đạt" in counted
    assert "Trần Thị Bình" in counted
    assert "2 đồng ý, 1 không đồng ý — ❌ không đạt" in counted

    # A vote after the close is not taken.
    late = await hung.press_data(done, "bp:ok:1:1:1")
    assert late.alert is not None

    papers = await office.press(tally.last, "📄 Tải dự thảo văn bản (DOCX)")
    documents = [m.document for m in papers.messages if m.document]
    assert len(documents) == 3
    for document in documents:
        assert document is not None and document["file_name"].endswith(".docx")
        words = "\n".join(
            p.text for p in docx.Document(io.BytesIO(document["content"])).paragraphs
        ) + "\n".join(
            cell.text
            for table in docx.Document(io.BytesIO(document["content"])).tables
            for row in table.rows
            for cell in row.cells
        )
        assert "Ngoại vụ" in words, document["file_name"]
        assert "Nguyễn Văn An" in words, document["file_name"]
        # Two awards of one name ("Giấy khen của Giám đốc Sở") told apart by their target.
        assert "Giấy khen của Giám đốc Sở (cá nhân)" in words, document["file_name"]

    asked = await office.press(tally.last, "📢 Ghi số quyết định, công bố kết quả")
    assert "số và ngày" in asked.text
    wrong = await office.say("125")
    assert "ví dụ" in wrong.text
    decided = await office.say("125/QĐ-SNgV 15/11/2025")
    assert "Đã ghi Quyết định số 125/QĐ-SNgV ngày 15/11/2025" in decided.text
    await box.tick()
    await box.deliver()
    pushed = focal.messages[-1].text
    assert "125/QĐ-SNgV" in pushed and "Nguyễn Văn An" in pushed
    assert "Trần Thị Bình" not in pushed
    shown = await focal.say("/ketqua")
    assert "Nguyễn Văn An" in shown.text

    # The dossier's history: the vote opened, closed, and the result, with who and when.
    async with box.db.read() as session:
        unit = await unit_by_code(session, "NV_HTQT")
        assert unit is not None
        nominee_id = await session.scalar(
            Nominee.__table__.select()
            .with_only_columns(Nominee.id)
            .where(Nominee.unit_id == unit.id, Nominee.name == "Nguyễn Văn An")
        )
        history = await dossier_history(session, nominee_id)
    events = {h.event for h in history}
    lines = [render("review/log_event", e=h, tz=TZ) for h in history]
    assert any("3 đồng ý, 0 không đồng ý trên 3 thành viên bỏ phiếu — đạt" in t for t in lines)
    assert any("Quyết định số 125/QĐ-SNgV ngày 15/11/2025" in t for t in lines)
    assert {
        DossierEvent.VOTE_OPENED,
        DossierEvent.VOTE_CLOSED,
        DossierEvent.RESULT_PUBLISHED,
    } <= events

    after = (await office.say("/hoidong")).text
    assert "Đã ban hành Quyết định số 125/QĐ-SNgV" in after


async def test_forged_and_foreign_buttons(council: Sandbox) -> None:
    box = council
    office = await join(box, 7101, "Thảo", "NV_VP", Role.OFFICE)
    member = await join(box, 7102, "Hùng", "NV_VP", Role.COUNCIL)
    focal = await join(box, 7103, "An", "NV_HTQT", Role.FOCAL)
    screen = (await office.say("/hoidong")).last
    await office.press(screen, "🗳 Mở phiên bỏ phiếu")
    ballot = (await member.say("/bophieu")).last
    for data in (
        "bp:ok:999:1:1",
        "bp:ok:1:999:1",
        "bp:ok:1:1:7",
        "bp:v:x:1:1",
        "bp:pg:999:0",
        "bp:ok",
    ):
        reply = await member.press_data(ballot, data)
        assert reply.alert is not None, data
    refused = await focal.press_data(ballot, "bp:ok:1:1:1")
    assert refused.alert is not None
    for data in ("hd:m:999999", "hd:k:abc", "hd:q:0", "hd:p:999"):
        reply = await office.press_data(screen, data)
        assert reply.alert is not None, data
    # Nothing was counted by any of it.
    done = (await member.say("/bophieu")).last
    assert "Còn 3/3 đề nghị chưa bỏ phiếu" in done.text


async def test_two_offices_opening_at_once_open_one_session(council: Sandbox) -> None:
    box = council
    thao = await join(box, 7301, "Thảo", "NV_VP", Role.OFFICE)
    quang = await join(box, 7302, "Quang", "NV_VP", Role.OFFICE)
    member = await join(box, 7303, "Hùng", "NV_VP", Role.COUNCIL)
    screens = [(await office.say("/hoidong")).last for office in (thao, quang)]
    await asyncio.gather(
        *(o.press(s, "🗳 Mở phiên bỏ phiếu") for o, s in zip((thao, quang), screens, strict=True))
    )
    await box.deliver()
    async with box.db.read() as session:
        sessions = await session.scalar(select(func.count()).select_from(CouncilSession))
    assert sessions == 1
    assert sum("Mời Ông/Bà bỏ phiếu kín" in m.text for m in member.messages) == 1


async def test_two_presses_of_one_vote_at_once_count_once(council: Sandbox) -> None:
    box = council
    office = await join(box, 7401, "Thảo", "NV_VP", Role.OFFICE)
    member = await join(box, 7402, "Hùng", "NV_VP", Role.COUNCIL)
    await office.press((await office.say("/hoidong")).last, "🗳 Mở phiên bỏ phiếu")
    async with box.db.read() as session:
        session_id = await session.scalar(select(CouncilSession.id))
        proposal_id = await session.scalar(select(func.min(CouncilProposal.id)))
        seated = await session.scalar(select(CouncilSeat.member_id))
    assert session_id is not None and proposal_id is not None and seated is not None

    async def press() -> Cast:
        async with box.db.write() as session:
            return await cast(session, session_id, proposal_id, seated, True)

    outcomes = await asyncio.gather(press(), press(), press())
    assert sorted(outcomes) == sorted([Cast.COUNTED, Cast.ALREADY, Cast.ALREADY])
    async with box.db.read() as session:
        counted = (
            await session.execute(
                select(CouncilProposal.yes, CouncilProposal.no).where(
                    CouncilProposal.id == proposal_id
                )
            )
        ).one()
    assert tuple(counted) == (1, 0)
    assert "Còn 2/3 đề nghị" in (await member.say("/bophieu")).text
