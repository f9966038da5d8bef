"""/nhiemvu, /lich and /ketqua through the emulator (PRODUCT §5 Plan tasks, Calendar, Results)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from scheduler.calendar import working_days_between
from storage.models import PlanTask, Role, TaskProgress, Unit
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.documents import write_documents
from tests.support.pages import every_page
from tests.support.paths import EXAMPLES
from tests.support.people import join


async def progress_rows(sandbox: Sandbox) -> list[tuple[int, int]]:
    async with sandbox.db.read() as session:
        rows = await session.execute(
            select(PlanTask.no, TaskProgress.unit_id).join(
                TaskProgress, TaskProgress.task_id == PlanTask.id
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_focal_marks_a_task_done_and_takes_it_back(season: Sandbox) -> None:
    minh = await join(season, 3001, "Minh", "HCTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    # HCTP is one of "các phòng, đơn vị": Q1 tasks 1, 4, 5 and 6 (2 and 3 are LDS and VP only).
    assert "Nhiệm vụ quý I/2026" in screen.text
    assert [b for b in screen.last.button_texts()] == [
        "✅ Xong NV 1",
        "✅ Xong NV 4",
        "✅ Xong NV 5",
        "✅ Xong NV 6",
    ]
    assert "NV 2 " not in screen.text

    pressed = await minh.press(screen.last, "✅ Xong NV 4")
    assert pressed.alert == "Đã đánh dấu hoàn thành NV 4."
    assert "✅ Đã hoàn thành 10/02/2026" in minh.messages[-1].text  # the same message, edited
    assert "↩️ Chưa xong NV 4" in minh.messages[-1].button_texts()
    assert [no for no, _ in await progress_rows(season)] == [4]

    undone = await minh.press(minh.messages[-1], "↩️ Chưa xong NV 4")
    assert undone.alert == "Đã bỏ đánh dấu NV 4."
    assert await progress_rows(season) == []


async def test_another_units_task_cannot_be_marked(season: Sandbox) -> None:
    minh = await join(season, 3002, "Minh", "HCTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    async with season.db.read() as session:
        vp_only = await session.scalar(select(PlanTask.id).where(PlanTask.no == 2))
    for data in (f"nv:d:{vp_only}", "nv:d:99999", "nv:x:1", "nv:d:abc"):
        forged = await minh.press_data(screen.last, data)
        assert (
            forged.alert == "Nhiệm vụ này không thuộc đơn vị của bạn hoặc không còn trong kế hoạch."
        )
    assert await progress_rows(season) == []
    # An office user pressing a unit's button is refused too.
    lan = await join(season, 3003, "Lan", "VP", Role.OFFICE)
    assert (await lan.press_data(screen.last, screen.last.button_data("✅ Xong NV 1") or "")).alert


async def test_office_sees_per_task_progress_and_other_quarters(season: Sandbox) -> None:
    minh = await join(season, 3004, "Minh", "HCTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    await minh.press(screen.last, "✅ Xong NV 1")
    lan = await join(season, 3005, "Lan", "VP", Role.OFFICE)

    progress = await lan.say("/nhiemvu")
    # The seed writes only "Quý I" for this task: no date of its own, so no overdue digest.
    # Lãnh đạo Sở and the councils do not report: nine units, and task 2 (LDS, VP) is VP's.
    assert "NV 1 · trong quý I · 1/9 đơn vị hoàn thành" in progress.text
    assert "NV 2 · trong quý I · 0/1 đơn vị hoàn thành" in progress.text
    assert "Chưa hoàn thành: VP\n" in progress.text
    assert "LDS" not in progress.text and "HDTDKT" not in progress.text
    assert progress.last.buttons == []
    q4 = await lan.say("/nhiemvu quý IV")
    assert "quý IV/2026" in q4.text and "NV 19" in q4.text
    assert "Cú pháp" in (await lan.say("/nhiemvu 5")).text


async def test_no_plan_for_the_year(season: Sandbox, clock: Clock) -> None:
    clock.set_local("2027-01-05 09:00")
    minh = await join(season, 3006, "Minh", "HCTP", Role.FOCAL)
    assert "Chưa có kế hoạch thi đua, khen thưởng năm 2027" in (await minh.say("/nhiemvu")).text


async def test_calendar_lists_coming_deadlines_nearest_first(season: Sandbox) -> None:
    minh = await join(season, 3007, "Minh", "HCTP", Role.FOCAL)
    lines = (await minh.say("/lich")).text.splitlines()
    dated = [line for line in lines if "/2026 (" in line]
    assert dated[0].startswith("🗓 15/03/2026 (Chủ nhật) · còn 33 ngày (18 ngày làm việc)")
    assert "Hạn đăng ký thi đua" in lines[lines.index(dated[0]) + 1]
    days = [line.split()[1] for line in dated]
    assert days == sorted(days, key=lambda d: tuple(reversed(d.split("/"))))

    lan = await join(season, 3008, "Lan", "VP", Role.OFFICE)
    office = (await lan.say("/lich")).text
    assert "toàn Sở" in office and "Hạn nộp hồ sơ đề nghị khen thưởng" in office


# ---- dates as documents write them: a monthly report, a month, "before" a day, no date ------
# (the documents and their `documents` fixture: tests/support/documents.py)


async def task_id(sandbox: Sandbox, no: int) -> int:
    async with sandbox.db.read() as session:
        found = await session.scalar(select(PlanTask.id).where(PlanTask.no == no))
        assert found is not None
        return found


async def periods(sandbox: Sandbox) -> list[tuple[int, int, str]]:
    async with sandbox.db.read() as session:
        rows = await session.execute(
            select(PlanTask.no, TaskProgress.unit_id, TaskProgress.period)
            .join(TaskProgress, TaskProgress.task_id == PlanTask.id)
            .order_by(PlanTask.no, TaskProgress.period)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_a_monthly_report_has_a_button_per_due_date_of_the_quarter(
    documents: Sandbox,
) -> None:
    minh = await join(documents, 3101, "Minh", "HCTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    text = screen.text
    assert "NV 2 · định kỳ hằng tháng, ngày 25" in text
    for day in ("25/01/2026", "25/02/2026", "25/03/2026"):
        assert f"• Kỳ hạn {day}: ⏳ Chưa hoàn thành" in text
    assert "25/04/2026" not in text  # the second quarter's is not this quarter's
    assert "NV 3" not in text and "NV 4" not in text  # December's
    labels = screen.last.button_texts()
    assert labels[:4] == [
        "✅ Xong NV 1",
        "✅ Xong NV 2 (25/01)",
        "✅ Xong NV 2 (25/02)",
        "✅ Xong NV 2 (25/03)",
    ]
    nv2 = await task_id(documents, 2)
    assert screen.last.button_data("✅ Xong NV 2 (25/02)") == f"nv:d:{nv2}:20260225"

    pressed = await minh.press(screen.last, "✅ Xong NV 2 (25/02)")
    assert pressed.alert == "Đã đánh dấu hoàn thành NV 2 kỳ hạn 25/02/2026."
    edited = minh.messages[-1]
    assert "• Kỳ hạn 25/02/2026: ✅ Đã hoàn thành 10/01/2026" in edited.text
    assert "• Kỳ hạn 25/01/2026: ⏳ Chưa hoàn thành" in edited.text
    assert "↩️ Chưa xong NV 2 (25/02)" in edited.button_texts()
    hctp = (await periods(documents))[0][1]
    assert await periods(documents) == [(2, hctp, "2026-02-25")]

    await minh.press(edited, "✅ Xong NV 1")  # a one-off task keeps the period ""
    assert await periods(documents) == [(1, hctp, ""), (2, hctp, "2026-02-25")]
    undone = await minh.press(minh.messages[-1], "↩️ Chưa xong NV 2 (25/02)")
    assert undone.alert == "Đã bỏ đánh dấu NV 2 kỳ hạn 25/02/2026."
    assert await periods(documents) == [(1, hctp, "")]


async def test_a_forged_due_date_or_another_units_task_is_refused(documents: Sandbox) -> None:
    minh = await join(documents, 3102, "Minh", "HCTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    nv1, nv2, nv3 = [await task_id(documents, n) for n in (1, 2, 3)]
    not_yours = "Nhiệm vụ này không thuộc đơn vị của bạn hoặc không còn trong kế hoạch."
    for data in (
        f"nv:d:{nv2}:20260226",  # not a due date of the task
        f"nv:d:{nv2}:20261325",  # not a date at all
        f"nv:d:{nv2}:2026022",  # not yyyymmdd
        f"nv:d:{nv2}",  # a recurring task is marked per due date
        f"nv:d:{nv1}:20260125",  # a one-off task has no due dates
        f"nv:d:{nv2}:20260225:1",
    ):
        forged = await minh.press_data(screen.last, data)
        assert forged.alert == not_yours, data
    other = await join(documents, 3103, "Hà", "XDKTVB", Role.FOCAL)
    # NV 3 is HCTP's and VP's: another unit cannot mark it.
    for data in (f"nv:d:{nv3}", f"nv:u:{nv3}"):
        assert (await other.press_data(screen.last, data)).alert == not_yours
    assert await periods(documents) == []
    # NV 2 is every unit's: XDKTVB marks its own due date (its own row, not HCTP's).
    marked = await other.press_data(screen.last, f"nv:d:{nv2}:20260125")
    assert marked.alert == "Đã đánh dấu hoàn thành NV 2 kỳ hạn 25/01/2026."
    async with documents.db.read() as session:
        xdktvb = await session.scalar(select(Unit.id).where(Unit.code == "XDKTVB"))
    assert await periods(documents) == [(2, xdktvb, "2026-01-25")]


async def test_dates_read_as_the_document_writes_them(documents: Sandbox) -> None:
    minh = await join(documents, 3104, "Minh", "HCTP", Role.FOCAL)
    q4 = (await minh.say("/nhiemvu 4")).text
    assert "NV 3 · trong tháng 12/2026 · ⏳ Chưa hoàn thành" in q4
    assert "NV 4 · trước ngày 10/12/2026 · ⏳ Chưa hoàn thành" in q4
    assert "NV 5 · trong quý IV" in q4
    assert "Kỳ hạn 25/12/2026" in q4 and "Kỳ hạn 25/09/2026" not in q4


async def test_the_office_sees_each_due_date_of_a_recurring_task(documents: Sandbox) -> None:
    minh = await join(documents, 3105, "Minh", "HCTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    await minh.press(screen.last, "✅ Xong NV 2 (25/01)")
    lan = await join(documents, 3106, "Lan", "VP", Role.OFFICE)
    text = (await lan.say("/nhiemvu")).text
    assert "NV 2 · định kỳ hằng tháng" in text
    assert (
        "• Kỳ hạn 25/01/2026: 1/9 đơn vị hoàn thành. Chưa hoàn thành: BTTP, CC1, DGTS, PBGDPL,"
        in text
    )
    assert "• Kỳ hạn 25/02/2026: 0/9 đơn vị hoàn thành" in text
    assert "NV 1 · trong quý I · 0/9 đơn vị hoàn thành" in text


async def test_calendar_reads_months_before_days_and_skips_undated_tasks(
    documents: Sandbox, clock: Clock
) -> None:
    clock.set_local("2026-11-01 09:00")
    minh = await join(documents, 3107, "Minh", "HCTP", Role.FOCAL)
    text = (await minh.say("/lich")).text
    lines = text.splitlines()
    today = date(2026, 11, 1)

    def left(day: date) -> str:
        return f"còn {(day - today).days} ngày ({working_days_between(today, day)} ngày làm việc)"

    assert f"🗓 25/11/2026 (Thứ Tư) · {left(date(2026, 11, 25))}" in lines
    assert f"🗓 trước ngày 10/12/2026 · {left(date(2026, 12, 9))}" in lines
    assert f"🗓 trong tháng 12/2026 · {left(date(2026, 12, 31))}" in lines
    assert "Hạn nhiệm vụ: NV 4: Gửi hồ sơ đề nghị khen thưởng cấp trên" in text
    assert "NV 5" not in text and "NV 1" not in text  # no date of their own
    assert "Tổng hợp hồ sơ trình Hội đồng" not in text  # the office's step, not the unit's
    # Nearest first, by the day each entry ends on.
    heads = [line for line in lines if line.startswith(("🗓", "🟠", "🔴", "✅"))]
    assert heads == [
        f"🗓 25/11/2026 (Thứ Tư) · {left(date(2026, 11, 25))}",
        f"🗓 30/11/2026 (Thứ Hai) · {left(date(2026, 11, 30))}",
        f"🗓 trước ngày 10/12/2026 · {left(date(2026, 12, 9))}",
        f"🗓 trong tháng 12/2026 · {left(date(2026, 12, 31))}",
    ]
    # A monthly report shows its next due date only; once marked, the one after.
    assert text.count("NV 2: Báo cáo kết quả") == 1
    screen = await minh.say("/nhiemvu")
    await minh.press(screen.last, "✅ Xong NV 2 (25/11)")
    after = (await minh.say("/lich")).text
    assert "25/11/2026" not in after
    assert f"🗓 25/12/2026 (Thứ Sáu) · {left(date(2026, 12, 25))}" in after.splitlines()

    lan = await join(documents, 3116, "Lan", "VP", Role.OFFICE)
    office = (await lan.say("/lich")).text
    # The office's own step: the dossier deadline 30/11 (Monday) + 5 working days.
    assert f"🗓 07/12/2026 (Thứ Hai) · {left(date(2026, 12, 7))}" in office.splitlines()
    assert "Việc của Văn phòng Sở: Tổng hợp hồ sơ trình Hội đồng" in office


async def test_results_show_each_decision_with_who_decided(
    documents: Sandbox, clock: Clock
) -> None:
    clock.set_local("2026-02-10 09:00")
    minh = await join(documents, 3108, "Minh", "HCTP", Role.FOCAL)
    text = (await minh.say("/ketqua")).text
    first = "Quyết định số 12/QĐ-STP của Giám đốc Sở Tư pháp, công bố ngày 01/02/2026"
    second = "Quyết định số 345/QĐ-UBND của Chủ tịch UBND tỉnh Lạng Sơn, công bố ngày 05/02/2026"
    assert first in text and second in text
    assert text.index(first) < text.index(second)  # newest last
    assert "• Phòng Hành chính tư pháp: Giấy khen của Giám đốc Sở" in text
    assert "• Nguyễn Thị Mai: Bằng khen của Chủ tịch UBND tỉnh" in text
    assert "Trần Văn Bình" not in text  # another unit's
    assert "99/QĐ-STP" not in text  # not published yet

    lan = await join(documents, 3109, "Lan", "VP", Role.OFFICE)
    office = (await lan.say("/ketqua")).text
    assert "• Trần Văn Bình (Phòng Bổ trợ tư pháp): Giấy khen của Giám đốc Sở" in office
    assert first in office and second in office
    # A unit outside the campaign and named in no decision: nothing of it.
    other = await join(documents, 3110, "Hà", "XDKTVB", Role.FOCAL)
    assert "12/QĐ-STP" not in (await other.say("/ketqua")).text

    clock.set_local("2026-12-21 09:00")
    later = (await minh.say("/ketqua")).text
    assert "Quyết định số 99/QĐ-STP, công bố ngày 20/12/2026" in later  # no decided_by given


async def test_the_results_push_names_who_decided(documents: Sandbox, clock: Clock) -> None:
    minh = await join(documents, 3111, "Minh", "HCTP", Role.FOCAL)
    clock.set_local("2026-02-05 08:30")
    await documents.tick()
    await documents.deliver()
    pushes = [m.text for m in minh.messages if "Kết quả thi đua, khen thưởng" in m.text]
    assert any(
        "Quyết định số 345/QĐ-UBND của Chủ tịch UBND tỉnh Lạng Sơn" in p and "Nguyễn Thị Mai" in p
        for p in pushes
    ), pushes


# ---- within Telegram's limits whatever the data -------------------------------------------


def _big_plan(tasks: int) -> str:
    lines = [
        "organization: STP-LS",
        "plan:",
        "  year: 2026",
        "  title: Kế hoạch rất dài năm 2026",
        "  tasks:",
    ]
    for no in range(1, tasks + 1):
        content = f"Nhiệm vụ số {no} " + "triển khai thực hiện phong trào thi đua " * 8
        lines += [f"    - no: {no}", "      quarter: 1", f"      content: {content.strip()}"]
        lines += ["      units: [ALL]"]
    return "\n".join(lines) + "\n"


async def test_a_long_quarter_is_split_into_pages_within_the_limits(
    sandbox: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    clock.set_local("2026-02-10 09:00")
    path = tmp_path / "big.yaml"
    path.write_text(_big_plan(130), encoding="utf-8")
    await load_files(sandbox.db, path)
    minh = await join(sandbox, 3112, "Minh", "HCTP", Role.FOCAL)
    first = (await minh.say("/nhiemvu")).last
    assert len(first.text) <= 4096 and len(first.html or "") <= 4096
    labels = first.button_texts()
    assert len(labels) <= 100 and "Sau ›" in labels and "‹ Trước" not in labels
    pages = int(next(b for b in labels if "/" in b and b[0].isdigit()).split("/")[1])
    assert pages > 1
    seen = {no for no in range(1, 131) if f"NV {no} ·" in first.text}

    message = first
    for page in range(2, pages + 1):
        await minh.press(message, "Sau ›")
        message = minh.messages[-1]
        assert message is first  # the same message, edited in place
        assert f"{page}/{pages}" in message.button_texts() and len(message.text) <= 4096
        seen |= {no for no in range(1, 131) if f"NV {no} ·" in message.text}
    assert seen == set(range(1, 131))
    assert "Sau ›" not in message.button_texts()

    # A press on a later page leaves the screen on that page.
    last_label = next(b for b in message.button_texts() if b.startswith("✅ Xong NV"))
    await minh.press(message, last_label)
    assert f"{pages}/{pages}" in minh.messages[-1].button_texts()

    lan = await join(sandbox, 3113, "Lan", "VP", Role.OFFICE)
    office = await lan.say("/nhiemvu")
    assert len(office.messages) > 1
    assert all(len(m.text) <= 4096 for m in office.messages)
    assert {no for no in range(1, 131) if f"NV {no} ·" in office.text} == set(range(1, 131))
    assert "Bảng đầy đủ" in office.messages[-1].text
    assert "Bảng đầy đủ" not in office.messages[0].text


async def test_the_last_ten_decisions_within_the_limits(
    sandbox: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    clock.set_local("2026-12-31 09:00")
    docs = []
    for n in range(1, 13):
        items = "\n".join(
            f"    - {{unit: {'HCTP' if i == 0 else 'BTTP'}, nominee: Nguyễn Văn Người Thứ {i}"
            f" Của Quyết Định {n}, award: GK}}"
            for i in range(40)
        )
        docs.append(
            "organization: STP-LS\nresults:\n  campaign: TD-2026\n"
            f"  decision: {n}/QĐ-STP\n  decided_by: Giám đốc Sở\n"
            f"  publish_at: 2026-02-{n:02d} 08:00\n  items:\n{items}\n"
        )
    await load_files(sandbox.db, *write_documents(tmp_path, results="---\n".join(docs)))
    minh = await join(sandbox, 3114, "Minh", "HCTP", Role.FOCAL)
    unit = (await minh.say("/ketqua")).text
    assert "Quyết định số 1/QĐ-STP " not in unit and "Quyết định số 2/QĐ-STP " not in unit
    assert all(f"Quyết định số {n}/QĐ-STP " in unit for n in range(3, 13))
    assert "Người Thứ 1 " not in unit  # BTTP's

    lan = await join(sandbox, 3115, "Lan", "VP", Role.OFFICE)
    office = await lan.say("/ketqua")
    assert len(office.messages) == 1  # one message, its pages turned by ‹ Trước · n/N · Sau ›
    texts = await every_page(lan, office.last)
    assert len(texts) > 1 and all(len(t) <= 4096 for t in texts)
    assert "(tiếp theo)" in "".join(texts)
    assert "".join(texts).count("Người Thứ 39 Của") == 10


async def test_a_second_plan_of_the_year_is_listed_and_marked_beside_the_first(
    season: Sandbox,
) -> None:
    """Two plans of one body in 2026 (the year's plan and the xã plan, examples/): both in
    /nhiemvu, told apart by their code, each task marked on its own."""
    await load_files(
        season.db,
        EXAMPLES / "units-lang-son-xa.yaml",
        EXAMPLES / "plan-2026-lang-son-xa.yaml",
    )
    xa = await join(season, 3101, "Thảo", "XA_MAU_SON", Role.FOCAL)
    screen = await xa.say("/nhiemvu")
    assert "NV 1 (2026)" in screen.text and "NV 4 (KH-TPXA-2026)" in screen.text
    assert "và các kế hoạch khác cùng năm" in screen.text
    await xa.press(screen.last, "✅ Xong NV 4 KH-TPXA-2026")
    edited = xa.messages[-1].text
    assert "NV 4 (KH-TPXA-2026) · trong quý I · ✅ Đã hoàn thành" in edited
    assert "NV 1 (2026) · trong quý I · ⏳ Chưa hoàn thành" in edited
