"""What the campaign data now says about a dossier, through the emulator and as pure rules
(PRODUCT §5 /nophoso, /hoso, /duyet; §6.1 awards and documents; §8 bad input): an award's own
documents, optional ones, notes, accepted formats, per-unit quotas, targets, review limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.emulator.sandbox import Person, Reply, Sandbox
from handlers.review_queue import by_urgency, overdue_by
from messages import render
from messages.long_text import pack_blocks as pack
from messages.text import short_labels
from scheduler.tick import Scheduler
from storage.campaigns import campaign_by_code, participating_units
from storage.dossier_status import (
    DocumentStatus,
    NomineeStatus,
    Shown,
    dossier_status,
    missing_units,
    units_with_complete_dossier,
)
from storage.files import FileKind
from storage.models import (
    Award,
    Campaign,
    DocumentScope,
    Nominee,
    OutboxMessage,
    RequiredDocument,
    ReviewState,
    Role,
    Target,
    Unit,
    Upload,
)
from storage.nominees import active_awards
from storage.quotas import CampaignQuotas, OverQuota, choices_of, unit_quota
from storage.requirements import accepts, format_of, nominee_documents, required_ids
from storage.reviews import QueueItem
from storage.units import unit_by_code
from tests.support.clock import TZ, Clock
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import join, pick
from tests.support.uploads import PDF, docx

CAMPAIGN = "NV-QIV-2025"
CLOSED = "NV-CU-2025"
NOTE = "bản chính, có chữ ký số của thủ trưởng đơn vị"
RULES = f"""\
organization: SNGV-LS
campaign:
  code: {CAMPAIGN}
  title: Phong trào thi đua quý IV năm 2025
  kind: theo_dot
  start: 2025-10-01
  end: 2025-12-31
  units: [NV_VP, NV_QLBG, NV_HTQT, NV_TTDVDN]
  launch_at: 2025-11-03 08:00
  dossier_deadline: 2025-11-28
  review_within_working_days: 3
  awards:
    - {{code: GK-CN, name: "Giấy khen của Giám đốc Sở", target: ca_nhan, quota: 5,
       quota_per_unit: 2, quota_overrides: {{NV_QLBG: 3, NV_TTDVDN: 0}}, documents: [BC, BS, TTR],
       decided_by: "Giám đốc Sở"}}
    - {{code: GK-TT, name: "Giấy khen của Giám đốc Sở", target: any, quota: 1}}
    - {{code: BK-HGD, name: "Bằng khen của Chủ tịch UBND tỉnh", target: ho_gia_dinh,
       decided_by: "Chủ tịch UBND tỉnh"}}
  documents:
    - {{code: TTR, name: "Tờ trình đề nghị khen thưởng", per: unit, formats: [pdf], note: "{NOTE}"}}
    - {{code: BC, name: "Báo cáo thành tích", per: nominee}}
    - {{code: BS, name: "Bản sao quyết định khen thưởng trước đó", per: nominee, optional: true}}
    - {{code: XN, name: "Xác nhận của cơ quan thuế", per: nominee}}
---
organization: SNGV-LS
campaign:
  code: {CLOSED}
  title: Phong trào thi đua đã hết hạn nộp hồ sơ
  kind: theo_dot
  start: 2025-01-01
  end: 2025-10-31
  units: ALL
  launch_at: 2025-01-05 08:00
  dossier_deadline: 2025-10-31
  awards:
    - {{code: GK-CU, name: "Giấy khen đợt trước", target: ca_nhan}}
  documents:
    - {{code: BC, name: "Báo cáo thành tích", per: nominee}}
"""


@pytest.fixture
async def rules(sandbox: Sandbox, clock: Clock, tmp_path: Path) -> Sandbox:
    """Monday 03/11/2025 09:00, just after the launch: the campaign above takes dossiers."""
    clock.set_local("2025-11-03 09:00")
    path = tmp_path / "campaign-rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    await load_files(sandbox.db, EXAMPLES / "units-ngoai-vu-lang-son.yaml", path)
    return sandbox


async def awards_screen(person: Person) -> Reply:
    step = await person.say("/nophoso")
    return await person.press(step.last, pick(step.last, "➕"))


async def propose(person: Person, award_label: str, name: str) -> Reply:
    awards = await awards_screen(person)
    await person.press(awards.last, award_label)
    return await person.say(name)


async def ask_for_the_to_trinh(person: Person) -> Reply:
    """/nophoso → the unit's own documents → the pdf-only Tờ trình: the file prompt."""
    step = await person.say("/nophoso")
    own = await person.press(step.last, pick(step.last, "📁"))
    assert "Tờ trình đề nghị khen thưởng · chỉ nhận PDF" in own.text
    return await person.press(own.last, pick(own.last, "Tờ trình"))


async def send_the_to_trinh(person: Person) -> None:
    await ask_for_the_to_trinh(person)
    assert 'Đã nhận "to-trinh.pdf"' in (await person.send_document(PDF, "to-trinh.pdf")).text
    await person.say("/huy")


async def nominees(box: Sandbox, unit: str) -> list[Nominee]:
    async with box.db.read() as session:
        found = await unit_by_code(session, unit)
        assert found is not None
        rows = await session.scalars(
            select(Nominee).where(Nominee.unit_id == found.id).order_by(Nominee.id)
        )
        return list(rows)


async def uploads_count(box: Sandbox) -> int:
    async with box.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Upload)) or 0)


GK_CN = "Giấy khen của Giám đốc Sở — cá nhân"
GK_TT = "Giấy khen của Giám đốc Sở — tập thể hoặc cá nhân"
BK_HGD = "Bằng khen của Chủ tịch UBND tỉnh — hộ gia đình"


# ---- through the emulator ----------------------------------------------------------------------


async def test_award_screen_shows_whole_and_unit_quotas_and_who_decides(rules: Sandbox) -> None:
    hoa = await join(rules, 4101, "Hoa", "NV_HTQT", Role.FOCAL)
    screen = (await awards_screen(hoa)).text
    assert "Giấy khen của Giám đốc Sở (cá nhân) — do Giám đốc Sở quyết định" in screen
    assert (
        "chỉ tiêu chung 5, chưa có đề nghị nào; mỗi đơn vị không quá 02; đơn vị đã đề nghị 0"
        in (screen)
    )
    assert "(tập thể hoặc cá nhân)" in screen and "(hộ gia đình) — do Chủ tịch UBND tỉnh" in screen
    assert "không giới hạn chỉ tiêu chung" in screen
    await hoa.say("/huy")

    khanh = await join(rules, 4102, "Khánh", "NV_QLBG", Role.FOCAL)
    own = (await awards_screen(khanh)).text
    assert "đơn vị của bạn không quá 03 (chỉ tiêu riêng); đơn vị đã đề nghị 0" in own
    await khanh.say("/huy")

    tam = await join(rules, 4103, "Tâm", "NV_TTDVDN", Role.FOCAL)
    screen = await awards_screen(tam)
    assert "đơn vị của bạn không thuộc diện đề nghị" in screen.text
    refused = await tam.press(screen.last, GK_CN)
    assert (
        "không thuộc diện đề nghị" in refused.text
        and "chọn danh hiệu, hình thức khác" in refused.text
    )
    assert await nominees(rules, "NV_TTDVDN") == []


async def test_the_units_quota_refuses_one_more_and_saves_nothing(rules: Sandbox) -> None:
    hoa = await join(rules, 4111, "Hoa", "NV_HTQT", Role.FOCAL)
    hung = await join(rules, 4112, "Hùng", "NV_HTQT", Role.FOCAL)
    added = await propose(hoa, GK_CN, "Nguyễn Văn An")
    assert "Đơn vị đã đề nghị 1, chỉ tiêu của đơn vị là 02" in added.text
    await hoa.say("/huy")

    # Hùng chooses the award while one place is left; Hoa takes it before Hùng types a name.
    screen = await awards_screen(hung)
    assert "mỗi đơn vị không quá 02; đơn vị đã đề nghị 1" in screen.text
    await hung.press(screen.last, GK_CN)
    await propose(hoa, GK_CN, "Trần Thị Bình")
    await hoa.say("/huy")
    late = await hung.say("Lê Văn Cường")
    assert 'đã đủ chỉ tiêu của đơn vị (không quá 02), nên chưa thêm "Lê Văn Cường"' in late.text
    assert pick(late.last, "Giấy khen")  # the award choice again
    assert [n.name for n in await nominees(rules, "NV_HTQT")] == ["Nguyễn Văn An", "Trần Thị Bình"]

    # Pressing the full award now is refused at once, before any name is asked.
    pressed = await hung.press(late.last, GK_CN)
    assert "Đơn vị đã đề nghị 2" in pressed.text and "Gửi họ và tên" not in pressed.text
    # Another unit is not held back by this unit's quota.
    khanh = await join(rules, 4113, "Khánh", "NV_QLBG", Role.FOCAL)
    assert "Đã thêm" in (await propose(khanh, GK_CN, "Phạm Văn Dũng")).text


async def test_an_award_open_to_either_asks_which_and_a_household_is_named_so(
    rules: Sandbox,
) -> None:
    hoa = await join(rules, 4121, "Hoa", "NV_HTQT", Role.FOCAL)
    screen = await awards_screen(hoa)
    ask = await hoa.press(screen.last, GK_TT)
    assert "tập thể hay cá nhân" in ask.text
    assert ask.last.button_texts() == ["👥 Tập thể", "👤 Cá nhân"]
    typed = await hoa.say("Phòng Hợp tác quốc tế")  # text where a button is expected
    assert "bấm một nút" in typed.text and typed.last.button_texts() == ["👥 Tập thể", "👤 Cá nhân"]
    for forged in ("np:t:any", "np:t:ho_gia_dinh", "np:t:x", "np:t"):
        assert (await hoa.press_data(typed.last, forged)).alert is not None, forged
    name = await hoa.press(typed.last, "👥 Tập thể")
    assert "tên tập thể" in name.text
    assert "Đã thêm" in (await hoa.say("Phòng Hợp tác quốc tế")).text
    await hoa.say("/huy")

    household = await propose(hoa, BK_HGD, "Hộ ông Hoàng Văn Dũng")
    assert "Đã thêm" in household.text
    screen = await awards_screen(hoa)
    asked = await hoa.press(screen.last, BK_HGD)
    assert "tên hộ gia đình" in asked.text and "Hộ ông" in asked.text
    await hoa.say("/huy")
    targets = {n.name: n.target for n in await nominees(rules, "NV_HTQT")}
    assert targets == {
        "Phòng Hợp tác quốc tế": Target.TAP_THE,
        "Hộ ông Hoàng Văn Dũng": Target.HO_GIA_DINH,
    }


async def test_a_forged_award_button_of_another_campaign_is_refused(rules: Sandbox) -> None:
    hoa = await join(rules, 4131, "Hoa", "NV_HTQT", Role.FOCAL)
    async with rules.db.read() as session:
        closed = await campaign_by_code(session, CLOSED)
        assert closed is not None
        other = (await active_awards(session, closed.id))[0].id
    screen = await awards_screen(hoa)
    for data in (f"np:a:{other}", "np:a:999999", "np:a:x"):
        forged = await hoa.press_data(screen.last, data)
        assert forged.alert is not None, data
        assert all("Gửi" not in m.text for m in forged.messages), data
    assert (await hoa.press_data(screen.last, f"np:a:{other}")).alert == (
        await hoa.press_data(screen.last, "np:a:999999")
    ).alert  # unknown and forbidden read alike
    assert "Đã thêm" in (await propose(hoa, GK_CN, "Nguyễn Văn An")).text  # the flow goes on
    assert len(await nominees(rules, "NV_HTQT")) == 1


async def test_award_documents_optional_ones_notes_and_status(rules: Sandbox) -> None:
    hoa = await join(rules, 4141, "Hoa", "NV_HTQT", Role.FOCAL)
    added = await propose(hoa, GK_CN, "Nguyễn Văn An")
    # GK-CN has its own list: BC, then BS (nếu có); XN is not asked; TTR is the unit's.
    assert added.last.button_texts()[:2] == [
        "⬜ Báo cáo thành tích",
        "⬜ Bản sao quyết định khen thưởng trước đó (nếu có)",
    ]
    assert not any("Xác nhận" in t or "Tờ trình" in t for t in added.last.button_texts())
    assert "❌ Báo cáo thành tích" in added.text and "⬜ Bản sao quyết định" in added.text
    await hoa.press(added.last, pick(added.last, "Báo cáo"))
    done = await hoa.send_document(docx("an"), "bao-cao-an.docx")
    assert 'Đã nhận "bao-cao-an.docx"' in done.text
    await hoa.say("/huy")

    other = await propose(hoa, BK_HGD, "Hộ ông Hoàng Văn Dũng")  # no list: every nominee document
    texts = other.last.button_texts()
    assert any(t.startswith("⬜ Xác nhận của cơ quan thuế") for t in texts)
    await hoa.say("/huy")

    status = (await hoa.say("/hoso")).text
    assert f"❌ Tờ trình đề nghị khen thưởng · {NOTE}" in status
    an = status.split("👤 Nguyễn Văn An")[1].split("👤")[0]
    assert "✅ Báo cáo thành tích" in an and "⬜ Bản sao quyết định" in an and "(nếu có)" in an
    assert "Xác nhận" not in an and "Chưa nộp đủ" in an  # the unit's TTR is still missing
    household = status.split("👤 Hộ ông Hoàng Văn Dũng")[1]
    assert "❌ Báo cáo thành tích" in household and "❌ Xác nhận của cơ quan thuế" in household
    # TTR, and the household's BC and XN: the optional document is never counted.
    assert "Còn thiếu 3 tài liệu" in status

    asked = await ask_for_the_to_trinh(hoa)
    assert f"Lưu ý: {NOTE}" in asked.text and "Nhận: PDF;" in asked.text
    await hoa.send_document(PDF, "to-trinh.pdf")
    await hoa.say("/huy")
    status = (await hoa.say("/hoso")).text
    assert "Nguyễn Văn An — Giấy khen của Giám đốc Sở · Đã nộp đủ" in status
    assert "Còn thiếu 2 tài liệu" in status


async def test_a_docx_for_a_pdf_only_document_is_refused_in_and_outside_the_flow(
    rules: Sandbox,
) -> None:
    hoa = await join(rules, 4151, "Hoa", "NV_HTQT", Role.FOCAL)
    await ask_for_the_to_trinh(hoa)
    before = await uploads_count(rules)
    refused = await hoa.send_document(docx("to trinh"), "to-trinh.docx")
    assert "chỉ nhận tệp PDF; tệp vừa gửi là DOCX nên chưa được nộp" in refused.text
    assert "ví dụ tai-lieu.pdf" in refused.text
    assert await uploads_count(rules) == before
    assert not list(rules.files_dir.rglob("*.docx"))  # not even kept: it was asked for a PDF
    accepted = await hoa.send_document(PDF, "to-trinh.pdf")  # the step still waits for a file
    assert 'Đã nhận "to-trinh.pdf"' in accepted.text
    await hoa.say("/huy")

    khanh = await join(rules, 4152, "Khánh", "NV_QLBG", Role.FOCAL)
    where = await khanh.send_document(docx("to trinh"), "to-trinh-qlbg.docx")
    assert "Đã nhận và lưu tệp" in where.text
    slot = await khanh.press(where.last, where.last.button_texts()[0])
    documents = await khanh.press(slot.last, pick(slot.last, "📁"))
    stray = await khanh.press(documents.last, pick(documents.last, "Tờ trình"))
    assert 'tệp "to-trinh-qlbg.docx" là DOCX nên chưa được nộp' in stray.text
    assert "vẫn được lưu" in stray.text
    assert "❌ Tờ trình" in (await khanh.say("/hoso")).text
    placed = await khanh.press(stray.last, pick(stray.last, "📎"))  # as another document
    assert 'Đã nhận "to-trinh-qlbg.docx"' in placed.text


async def test_overdue_reviews_come_first_in_the_queue(rules: Sandbox, clock: Clock) -> None:
    hoa = await join(rules, 4161, "Hoa", "NV_HTQT", Role.FOCAL)
    lan = await join(rules, 4162, "Lan", "NV_VP", Role.OFFICE)
    await send_the_to_trinh(hoa)
    await propose(hoa, GK_CN, "Nguyễn Văn An")  # proposed first, complete last
    await hoa.say("/huy")
    added = await propose(hoa, GK_CN, "Trần Thị Bình")
    await hoa.press(added.last, pick(added.last, "Báo cáo"))
    await hoa.send_document(PDF + b"%binh", "bao-cao-binh.pdf")  # complete on Monday 03/11
    await hoa.say("/huy")

    clock.set_local("2025-11-06 10:00")  # Thursday
    step = await hoa.say("/nophoso")
    screen = await hoa.press(step.last, pick(step.last, "Nguyễn Văn An"))
    await hoa.press(screen.last, pick(screen.last, "Báo cáo"))
    await hoa.send_document(PDF + b"%an", "bao-cao-an.pdf")
    await hoa.say("/huy")

    clock.set_local("2025-11-07 09:00")  # Friday: 4 working days since Monday, the limit is 3
    queue = await lan.say("/duyet")
    assert "Hồ sơ chờ thẩm định (2), 1 hồ sơ quá hạn thẩm định" in queue.text
    listed = queue.text.split("Hồ sơ chờ thẩm định")[1]
    assert listed.index("Trần Thị Bình") < listed.index("Nguyễn Văn An")
    assert "• ⏰ Phòng Hợp tác quốc tế — Trần Thị Bình" in listed
    assert "Trần Thị Bình (Giấy khen của Giám đốc Sở) · quá hạn 1 ngày làm việc" in listed
    assert "Nguyễn Văn An (Giấy khen của Giám đốc Sở)\n" in listed
    labels = [t for t in queue.last.button_texts() if "·" in t]
    assert labels[0].startswith("⏰ NV_HTQT · Trần Thị Bình") and not labels[1].startswith("⏰")
    # Per award against the whole quota; a per-unit quota is named, nobody is over it.
    assert (
        "Giấy khen của Giám đốc Sở (cá nhân): 2 đề nghị / chỉ tiêu 5; mỗi đơn vị không quá 02"
        in queue.text
    )
    assert "Vượt chỉ tiêu của đơn vị" not in queue.text


async def test_the_office_is_told_of_reviews_past_the_limit(rules: Sandbox, clock: Clock) -> None:
    """review_within_working_days: 3 and a dossier complete on Monday 03/11 and undecided: the
    office's digest goes out on Friday 07/11 at 08:00, naming the unit and the nominee."""
    hoa = await join(rules, 4171, "Hoa", "NV_HTQT", Role.FOCAL)
    await join(rules, 4172, "Lan", "NV_VP", Role.OFFICE)
    await send_the_to_trinh(hoa)
    added = await propose(hoa, GK_CN, "Trần Thị Bình")
    await hoa.press(added.last, pick(added.last, "Báo cáo"))
    await hoa.send_document(PDF + b"%binh", "bao-cao-binh.pdf")
    await hoa.say("/huy")
    friday = datetime(2025, 11, 7, 8, 5, tzinfo=TZ)
    await Scheduler(rules.db, TZ, lambda: friday).tick()
    async with rules.db.read() as session:
        digests = list(
            await session.scalars(
                select(OutboxMessage.text).where(
                    OutboxMessage.push_key.startswith("overdue_digest:review:")
                )
            )
        )
    assert digests and "Hồ sơ quá hạn thẩm định" in digests[0]
    assert "Trần Thị Bình" in digests[0] and "06/11/2025" in digests[0]


async def test_duyet_names_the_units_over_their_quota(rules: Sandbox) -> None:
    """A quota lowered by a reloaded file leaves a unit over it: the office sees which."""
    hoa = await join(rules, 4171, "Hoa", "NV_HTQT", Role.FOCAL)
    for name in ("Nguyễn Văn An", "Trần Thị Bình"):
        await propose(hoa, GK_CN, name)
        await hoa.say("/huy")
    async with rules.db.write() as session:
        campaign = await campaign_by_code(session, CAMPAIGN)
        assert campaign is not None
        award = next(a for a in await active_awards(session, campaign.id) if a.code == "GK-CN")
        award.quota_per_unit = 1
    lan = await join(rules, 4172, "Lan", "NV_VP", Role.OFFICE)
    queue = await lan.say("/duyet")
    assert "⚠️ Vượt chỉ tiêu của đơn vị: NV_HTQT (2/1)" in queue.text


async def test_reminders_count_the_awards_documents_and_skip_optional_ones(
    rules: Sandbox,
) -> None:
    """`units_with_complete_dossier` (the scheduler's set-based rule) agrees with /hoso."""
    hoa = await join(rules, 4181, "Hoa", "NV_HTQT", Role.FOCAL)
    await send_the_to_trinh(hoa)
    added = await propose(hoa, GK_CN, "Nguyễn Văn An")  # BC only: XN not asked, BS optional
    await hoa.press(added.last, pick(added.last, "Báo cáo"))
    await hoa.send_document(PDF + b"%an", "bao-cao-an.pdf")
    await hoa.say("/huy")
    khanh = await join(rules, 4182, "Khánh", "NV_QLBG", Role.FOCAL)
    await propose(khanh, BK_HGD, "Hộ ông Hoàng Văn Dũng")  # needs BC and XN, has neither
    await khanh.say("/huy")

    async with rules.db.read() as session:
        campaign = await campaign_by_code(session, CAMPAIGN)
        assert campaign is not None
        units = await participating_units(session, campaign)
        complete = await units_with_complete_dossier(session, campaign, units)
        missing = {u.code for u in await missing_units(session, campaign)}
        by_status = {
            u.id
            for u in units
            if (d := await dossier_status(session, campaign, u.id)).nominees and d.missing == 0
        }
    codes = {u.id: u.code for u in units}
    assert {codes[i] for i in complete} == {"NV_HTQT"} and complete == by_status
    assert missing == {"NV_VP", "NV_QLBG", "NV_TTDVDN"}
    assert "Đã đủ hồ sơ" in (await hoa.say("/hoso")).text


async def test_the_launch_lists_quotas_who_decides_and_optional_documents(
    sandbox: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    clock.set_local("2025-11-03 07:30")
    path = tmp_path / "campaign-rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    await load_files(sandbox.db, EXAMPLES / "units-ngoai-vu-lang-son.yaml", path)
    hoa = await join(sandbox, 4191, "Hoa", "NV_HTQT", Role.FOCAL)
    clock.set_local("2025-11-03 08:05")
    await sandbox.tick()
    await sandbox.deliver()
    launch = next(m.text for m in hoa.messages if "Phát động: Phong trào thi đua quý IV" in m.text)
    assert (
        "• Giấy khen của Giám đốc Sở (cá nhân) — do Giám đốc Sở quyết định: chỉ tiêu 5; "
        "mỗi đơn vị không quá 02; 2 đơn vị có chỉ tiêu riêng"
    ) in launch
    assert (
        "hồ sơ của cá nhân, tập thể được đề nghị: Báo cáo thành tích; Bản sao quyết định" in launch
    )
    assert "• Giấy khen của Giám đốc Sở (tập thể hoặc cá nhân): chỉ tiêu 1" in launch
    assert "(hộ gia đình) — do Chủ tịch UBND tỉnh quyết định" in launch
    assert "• Bản sao quyết định khen thưởng trước đó (nếu có; mỗi cá nhân, tập thể" in launch
    assert f"• Tờ trình đề nghị khen thưởng (mỗi đơn vị) · chỉ nhận PDF · {NOTE}" in launch


# ---- screens within Telegram's limits whatever the data ----------------------------------------


def _award(i: int, **kw: object) -> Award:
    values: dict[str, object] = {
        "id": i,
        "campaign_id": 1,
        "code": f"A{i}",
        "name": "Bằng khen " + "rất dài " * 60,
        "target": Target.ANY,
        "quota": 100_000,
        "quota_per_unit": 10_000,
        "quota_overrides": {str(u): 9_999 for u in range(50)},
        "document_codes": [f"D{j}" for j in range(30)],
        "decided_by": "Chủ tịch " + "rất dài " * 40,
    }
    values.update(kw)
    return Award(**values)


def _document(i: int, per: DocumentScope = DocumentScope.NOMINEE, **kw: object) -> RequiredDocument:
    values: dict[str, object] = {
        "id": i,
        "campaign_id": 1,
        "code": f"D{i}",
        "name": "Tài liệu " + "rất dài " * 60,
        "per": per,
        "optional": False,
        "formats": ["pdf", "docx"],
        "note": "Ghi chú " + "dài " * 120,
        "position": i,
    }
    values.update(kw)
    return RequiredDocument(**values)


def test_screens_with_huge_data_stay_within_telegram_limits() -> None:
    campaign = Campaign(
        id=1,
        code="X",
        title="Phong trào " + "rất dài " * 60,
        theme="Chủ đề " + "dài " * 900,
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        dossier_deadline=date(2026, 12, 1),
        registration_deadline=date(2026, 3, 1),
        review_within_working_days=5,
    )
    awards = [_award(i) for i in range(40)]
    documents = [_document(i, optional=i % 2 == 0) for i in range(40)]
    used = {a.id: 99_999 for a in awards}
    screens = {
        "launch": render(
            "push/launch",
            campaign=campaign,
            awards=awards,
            documents=documents,
            titles={"tap_the": ["Tập thể lao động xuất sắc " * 20] * 30, "ca_nhan": []},
            steps=[],
        ),
        "awards": render(
            "dossier/choose_award", choices=choices_of(awards, used, used, 3), shown=8
        ),
    }
    statuses = tuple(DocumentStatus(d, None, 0) for d in documents)
    screens["documents"] = render(
        "dossier/choose_document", title="Tên " * 50, statuses=statuses, shown=9
    )
    unit = Unit(id=1, code="U" * 20, name="Đơn vị " + "dài " * 70)
    nominee = Nominee(id=1, name="Người " * 30, review_state=ReviewState.NONE)
    item = QueueItem(campaign, unit, NomineeStatus(nominee, awards[0], statuses, Shown.COMPLETE))
    screens["queue"] = render("review/queue", queue=[(item, 99)] * 500, late=500, shown=20)
    over = tuple(OverQuota(unit, 10_000, 9_999) for _ in range(300))
    report = CampaignQuotas(campaign, tuple(awards), used, {a.id: over for a in awards})
    screens["quotas"] = render("review/quotas", report=report, shown=8)
    for name, text in screens.items():
        assert len(text) <= 4096, (name, len(text))
    # The compact form of the launch: 6 awards.
    assert "… và 34 danh hiệu, hình thức khen thưởng khác." in screens["launch"]
    assert "… và 32 danh hiệu, hình thức khen thưởng khác (các nút bên dưới)." in screens["awards"]
    assert "… và 31 tài liệu khác" in screens["documents"]
    assert "hiện 20 hồ sơ đầu" in screens["queue"]
    assert (
        "và 297 đơn vị khác" in screens["quotas"]
        and "và 32 danh hiệu, hình thức khen thưởng khác" in screens["quotas"]
    )


# ---- pure rules -------------------------------------------------------------------------------


def test_an_awards_own_documents_in_its_order_unit_ones_left_to_the_unit() -> None:
    unit_doc = _document(1, DocumentScope.UNIT, code="TTR")
    bc, bs, xn = (_document(i, code=c) for i, c in ((2, "BC"), (3, "BS"), (4, "XN")))
    documents = [unit_doc, bc, bs, xn]
    assert nominee_documents(_award(1, document_codes=None), documents) == [bc, bs, xn]
    own = _award(1, document_codes=["XN", "TTR", "BC", "XN", "GONE"])
    assert nominee_documents(own, documents) == [xn, bc]
    assert nominee_documents(_award(1, document_codes=[]), documents) == []
    assert required_ids([bc, _document(5, optional=True)]) == {bc.id}


def test_every_kind_storage_tells_has_a_format_name() -> None:
    assert {format_of(k.value) for k in FileKind} == {k.value for k in FileKind}
    assert format_of("JPEG") == "jpg" and format_of("exe") is None
    pdf_only = _document(1, formats=["pdf"])
    assert accepts(pdf_only, "pdf") and not accepts(pdf_only, "docx")
    assert all(accepts(_document(2, formats=None), k.value) for k in FileKind)
    assert accepts(_document(3, formats=["JPG", "png"]), "jpg")


def test_a_units_quota_is_its_own_figure_else_the_per_unit_one() -> None:
    award = _award(1, quota_per_unit=2, quota_overrides={"7": 5, "8": 0})
    assert [unit_quota(award, u) for u in (6, 7, 8)] == [2, 5, 0]
    assert unit_quota(_award(2, quota_per_unit=None, quota_overrides={}), 7) is None
    free = _award(3, quota_per_unit=None, quota_overrides={"7": 1})
    assert unit_quota(free, 6) is None and unit_quota(free, 7) == 1
    choices = choices_of([award], {1: 10}, {1: 2}, 6)
    assert choices[0].unit_full and choices[0].used == 10 and not choices[0].own_quota
    assert not choices_of([award], {}, {1: 2}, 7)[0].unit_full
    assert choices_of([award], {}, {}, 8)[0].unit_full  # a quota of 0: nobody at all


def test_overdue_counts_working_days_past_the_limit() -> None:
    monday = date(2025, 11, 3)
    assert overdue_by(monday, date(2025, 11, 6), 3) == 0  # Tue, Wed, Thu
    assert overdue_by(monday, date(2025, 11, 7), 3) == 1
    assert overdue_by(monday, date(2025, 11, 10), 3) == 2  # the weekend does not count
    assert overdue_by(monday, date(2025, 12, 31), None) == 0
    # 30/4 to 4/5/2025 are days off (2/5 swapped for Saturday 26/4): complete on Tuesday 29/4,
    # the fifth working day after it is Friday 9/5.
    assert overdue_by(date(2025, 4, 29), date(2025, 5, 9), 5) == 0
    assert overdue_by(date(2025, 4, 29), date(2025, 5, 12), 5) == 1


def test_the_queue_puts_the_longest_overdue_first() -> None:
    campaign = Campaign(id=1, code="C", review_within_working_days=2)
    unit = Unit(id=1, code="U", name="Đơn vị")
    award = _award(1)

    def item(i: int, since: datetime | None) -> QueueItem:
        nominee = Nominee(id=i, name=f"N{i}", review_state=ReviewState.NONE)
        return QueueItem(campaign, unit, NomineeStatus(nominee, award, (), Shown.COMPLETE, since))

    friday = datetime(2025, 11, 7, 2, tzinfo=UTC)
    queue = [
        item(1, friday),
        item(2, friday - timedelta(days=7)),
        item(3, None),
        item(4, friday - timedelta(days=4)),
    ]
    ordered = by_urgency(queue, date(2025, 11, 7), TZ)
    assert [(i.status.nominee.id, late) for i, late in ordered] == [
        (2, 3),  # complete since Friday 31/10: 5 working days, 3 past the limit
        (4, 2),  # since Monday 3/11
        (1, 0),
        (3, 0),
    ]


@given(st.lists(st.text(alphabet="ab cdđ…,", min_size=0, max_size=80), max_size=8))
def test_short_labels_fit_and_keep_apart_what_differs_at_the_end(names: list[str]) -> None:
    labels = short_labels(names, 30)
    assert len(labels) == len(names)
    assert all(len(label) <= 30 for label in labels)
    assert all(label == name for label, name in zip(labels, names, strict=True) if len(name) <= 30)


def test_short_labels_of_two_long_names_alike_at_the_start() -> None:
    names = [
        "Báo cáo thành tích đề nghị khen thưởng công trạng cho tập thể",
        "Báo cáo thành tích đề nghị khen thưởng công trạng cho cá nhân",
    ]
    a, b = short_labels(names, 40)
    assert a != b and a.endswith("cho tập thể") and b.endswith("cho cá nhân")
    assert short_labels(["Tóm tắt thành tích của tập thể, cá nhân đề nghị"], 30) == [
        "Tóm tắt thành tích của tập…"
    ]


@given(st.lists(st.text(min_size=1, max_size=1000), max_size=30))
def test_pack_keeps_every_block_in_order_within_the_limit(blocks: list[str]) -> None:
    messages = pack(blocks, 1500)
    assert all(len(m) <= 1500 for m in messages)
    assert "\n\n".join(messages) == "\n\n".join(blocks)
