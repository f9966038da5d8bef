"""/dangky through the emulator: a whole registration, replacing it, the deadline, other units,
the Excel template round trip and the office's summary (PRODUCT §5 Registration, /tonghop)."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from storage.models import Registration, Role
from storage.registrations import describe_registration
from tests.support.clock import Clock
from tests.support.people import join
from tests.support.registrations import register_quickly, saved

FIVE_LINES_TWO_BAD = (
    "Nguyễn Văn An; Trưởng phòng; CSTĐCS\n"
    "Trần Thị Bình - Chuyên viên LĐTT\n"
    "Lê Văn Cường; Phó Trưởng phòng; Lao động tiên tiến\n"
    "Phạm Thị Dung; Chuyên viên; Anh hùng lao động\n"
    "hoàng văn em;kế toán;ldtt"
)


async def test_a_whole_registration_with_two_malformed_lines_fixed(season: Sandbox) -> None:
    minh = await join(season, 2001, "Minh", "HCTP", Role.FOCAL)

    title_step = await minh.say("/dangky")  # one campaign open: no campaign choice
    assert "danh hiệu thi đua tập thể" in title_step.text
    assert title_step.last.button_texts()[:3] == [
        "Tập thể lao động xuất sắc",
        "Tập thể lao động tiên tiến",
        "Không đăng ký",
    ]
    ask = await minh.press(title_step.last, "Tập thể lao động xuất sắc")
    assert "Họ và tên; Chức vụ; Danh hiệu" in ask.text and "CSTĐCS" in ask.text

    report = await minh.say(FIVE_LINES_TWO_BAD)
    assert "Đã nhận 3 người" in report.text
    assert "Dòng 2: cần đủ 3 phần" in report.text
    assert "Dòng 4: danh hiệu không có trong phong trào này" in report.text
    assert "Xem tóm tắt" in report.last.button_texts()[0]
    assert await saved(season, "HCTP") is None  # nothing saved before Xác nhận

    names = await minh.say(
        "Trần Thị Bình; Chuyên viên; LĐTT\nPhạm Thị Dung; Chuyên viên; Lao động tiên tiến"
    )
    # A name typed all in lower case goes into official lists: confirmed once (PRODUCT §5).
    assert 'Dòng 5: hoàng văn em → Ghi là "Hoàng Văn Em"?' in names.text
    summary = await minh.press(names.last, "✍️ Ghi như gợi ý")
    assert "Cá nhân (5)" in summary.text and "Tập thể lao động xuất sắc" in summary.text
    assert summary.last.button_texts() == ["✅ Xác nhận", "✏️ Sửa", "✖️ Hủy"]
    done = await minh.press(summary.last, "✅ Xác nhận")
    assert "Đã ghi nhận đăng ký thi đua của Phòng Hành chính tư pháp" in done.text

    registration = await saved(season, "HCTP")
    assert registration is not None and registration.revision == 1
    async with season.db.read() as session:
        view = await describe_registration(session, registration)
    assert view.collective == "Tập thể lao động xuất sắc"
    assert view.people == (
        ("Nguyễn Văn An", "Trưởng phòng", "Chiến sĩ thi đua cơ sở"),
        ("Lê Văn Cường", "Phó Trưởng phòng", "Lao động tiên tiến"),
        ("Hoàng Văn Em", "kế toán", "Lao động tiên tiến"),
        ("Trần Thị Bình", "Chuyên viên", "Lao động tiên tiến"),
        ("Phạm Thị Dung", "Chuyên viên", "Lao động tiên tiến"),
    )


async def test_a_second_registration_replaces_the_first(season: Sandbox) -> None:
    minh = await join(season, 2002, "Minh", "HCTP", Role.FOCAL)
    await register_quickly(minh, "Tập thể lao động tiên tiến", "Nguyễn Văn An; Trưởng phòng; LĐTT")

    current = await minh.say("/dangky")
    assert "lần 1" in current.text and "Nguyễn Văn An" in current.text
    assert current.last.button_texts() == ["📝 Đăng ký lại", "Giữ nguyên"]
    kept = await minh.press(current.last, "Giữ nguyên")
    assert "giữ nguyên" in kept.text.lower()

    await register_quickly(
        minh, "Không đăng ký", "Trần Thị Bình; Chuyên viên; CSTĐCS\nLê Văn Cường; Kế toán; LĐTT"
    )
    registration = await saved(season, "HCTP")
    assert registration is not None and registration.revision == 2
    assert registration.collective_title_id is None
    assert [p.full_name for p in registration.individuals] == ["Trần Thị Bình", "Lê Văn Cường"]
    async with season.db.read() as session:
        count = len(list(await session.scalars(select(Registration))))
    assert count == 1


async def test_after_the_deadline_it_is_read_only(season: Sandbox, clock: Clock) -> None:
    minh = await join(season, 2003, "Minh", "HCTP", Role.FOCAL)
    await register_quickly(minh, "Tập thể lao động tiên tiến", "Nguyễn Văn An; Trưởng phòng; LĐTT")

    clock.set_local("2026-03-15 23:59")  # still the deadline day
    assert "Đăng ký lại" in (await minh.say("/dangky")).last.button_texts()[0]
    await minh.say("/huy")

    clock.set_local("2026-03-16 08:00")
    closed = await minh.say("/dangky")
    assert "Đã hết hạn đăng ký (15/03/2026)" in closed.text
    assert "Nguyễn Văn An" in closed.text and closed.last.buttons == []

    late = await join(season, 2004, "Hà", "TGPL", Role.FOCAL)
    assert "không có phong trào nào đang mở" in (await late.say("/dangky")).text


async def test_deadline_passing_mid_flow_saves_nothing(season: Sandbox, clock: Clock) -> None:
    minh = await join(season, 2005, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    await minh.press(step.last, "Không đăng ký")
    summary = await minh.say("Nguyễn Văn An; Trưởng phòng; LĐTT")
    clock.set_local("2026-03-16 00:01")
    refused = await minh.press(summary.last, "✅ Xác nhận")
    assert "vừa hết hạn" in refused.text
    assert await saved(season, "HCTP") is None


async def test_another_unit_cannot_see_or_change_it(season: Sandbox) -> None:
    minh = await join(season, 2006, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    title_data = step.last.button_data("Tập thể lao động xuất sắc")
    ask = await minh.press(step.last, "Tập thể lao động xuất sắc")
    summary = await minh.say("Nguyễn Văn An; Trưởng phòng; CSTĐCS")
    confirm_data = summary.last.button_data("✅ Xác nhận")
    await minh.press(summary.last, "✅ Xác nhận")

    hoa = await join(season, 2007, "Hoa", "BTTP", Role.FOCAL)
    own = await hoa.say("/dangky")
    assert "Nguyễn Văn An" not in own.text and "Phòng Hành chính tư pháp" not in own.text
    await hoa.say("/huy")
    # Replaying the first unit's buttons: a stale pop-up, nothing changes.
    for data in (confirm_data, title_data, "dk:c:1", "dk:c:999", "dk:ok"):
        assert data is not None
        replay = await hoa.press_data(ask.last, data)
        assert replay.alert is not None and replay.messages == []
    registration = await saved(season, "HCTP")
    assert registration is not None and registration.revision == 1
    assert await saved(season, "BTTP") is None

    # An office user cannot register, and a focal point cannot open the summary.
    lan = await join(season, 2008, "Lan", "VP", Role.OFFICE)
    assert "chỉ dành cho" in (await lan.say("/dangky")).text
    assert "chỉ dành cho" in (await hoa.say("/tonghop")).text


async def test_excel_template_round_trip_with_row_errors(season: Sandbox) -> None:
    minh = await join(season, 2009, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    sent = await minh.press(step.last, "📥 Tải mẫu Excel")
    document = sent.last.document
    assert document is not None and document["file_name"].endswith(".xlsx")

    workbook = load_workbook(BytesIO(document["content"]))
    sheet = workbook["Đăng ký"]
    header = next(r for r in range(1, 40) if sheet.cell(r, 2).value == "Họ và tên")
    collective = next(
        (r, c)
        for r in range(1, header)
        for c in range(1, 6)
        if str(sheet.cell(r, c).value or "").startswith("Danh hiệu tập thể")
    )
    sheet.cell(collective[0], 3).value = "Tập thể lao động tiên tiến"  # the input cell, C
    rows = [
        ("Nguyễn Văn An", "Trưởng phòng", "Chiến sĩ thi đua cơ sở"),
        ("Trần Thị Bình", "Chuyên viên", "LĐTT"),
        ("Lê Văn Cường", "", "LĐTT"),
        ("Phạm Thị Dung", "Chuyên viên", "Huân chương"),
    ]
    for offset, (name, job, title) in enumerate(rows, start=1):
        sheet.cell(header + offset, 2).value = name
        sheet.cell(header + offset, 3).value = job or None
        sheet.cell(header + offset, 4).value = title
    filled = BytesIO()
    workbook.save(filled)

    report = await minh.send_document(filled.getvalue(), "dang-ky.xlsx")
    assert f"Dòng {header + 3}: thiếu chức vụ" in report.text
    assert f"Dòng {header + 4}: danh hiệu không có" in report.text
    assert "Đã nhận 2 người" in report.text

    summary = await minh.say("Lê Văn Cường; Kế toán; LĐTT\nPhạm Thị Dung; Chuyên viên; LĐTT")
    assert "Tập thể lao động tiên tiến" in summary.text and "Cá nhân (4)" in summary.text
    await minh.press(summary.last, "✅ Xác nhận")
    registration = await saved(season, "HCTP")
    assert registration is not None and len(registration.individuals) == 4

    # A PDF or a foreign workbook is refused with what to do.
    again = await minh.say("/dangky")
    step = await minh.press(again.last, "📝 Đăng ký lại")
    await minh.press(step.last, "Không đăng ký")
    pdf = await minh.send_document(b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "dang-ky.xlsx")
    assert "không phải tệp Excel" in pdf.text


async def test_bad_input_mid_flow(season: Sandbox) -> None:
    minh = await join(season, 2010, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    # A read-only command answers mid-flow and leaves the flow where it was (PRODUCT §5).
    assert "Nhiệm vụ quý" in (await minh.say("/nhiemvu")).text
    assert "cần bạn bấm một nút" in (await minh.say("gì vậy")).text
    await minh.press(step.last, "Không đăng ký")
    photo = await minh.send_photo(b"\xff\xd8\xff\xe0" + b"0" * 64)
    assert "cần bạn bấm một nút" in photo.text or "Họ và tên; Chức vụ; Danh hiệu" in photo.text
    long = await minh.say("x" * 4000)
    assert "Dòng 1: cần đủ 3 phần" in long.text and len(long.text) < 1500
    cancelled = await minh.say("/huy")
    assert "Đã hủy" in cancelled.text
    assert await saved(season, "HCTP") is None
    assert "Không có thao tác" in (await minh.say("/huy")).text


async def test_office_summary_shows_the_registration_and_attaches_excel(season: Sandbox) -> None:
    minh = await join(season, 2011, "Minh", "HCTP", Role.FOCAL)
    await register_quickly(
        minh,
        "Tập thể lao động xuất sắc",
        "Nguyễn Văn An; Trưởng phòng; CSTĐCS\nTrần Thị Bình; Chuyên viên; LĐTT",
    )
    lan = await join(season, 2012, "Lan", "VP", Role.OFFICE)
    summary = await lan.say("/tonghop")
    assert "Đã đăng ký: 1/9 đơn vị; 2 cá nhân" in summary.text
    assert "Chưa đăng ký:" in summary.text and "Phòng Bổ trợ tư pháp" in summary.text
    document = summary.last.document
    assert document is not None
    workbook = load_workbook(BytesIO(document["content"]))
    sheet = workbook[next(n for n in workbook.sheetnames if n.startswith("ĐK"))]
    cells = {(r, c): sheet.cell(r, c).value for r in range(1, 15) for c in range(1, 10)}
    hctp_row = next(r for (r, c), v in cells.items() if v == "HCTP")
    row = [sheet.cell(hctp_row, c).value for c in range(1, 9)]
    assert "Có" in row and "Tập thể lao động xuất sắc" in row
    people = workbook[next(n for n in workbook.sheetnames if n.startswith("DS"))]
    names = {people.cell(r, 3).value for r in range(1, 10)}
    assert {"Nguyễn Văn An", "Trần Thị Bình"} <= names


async def test_thirty_lines_written_with_dashes_get_one_short_report(season: Sandbox) -> None:
    """An everyday mistake: every line with dashes instead of semicolons. The report fits one
    message, lists the first lines, counts the rest and says the likely fix once."""
    minh = await join(season, 2020, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    await minh.press(step.last, "Không đăng ký")
    names = [
        f"{family} Văn {given}"
        for family in ("Nguyễn", "Trần", "Lê")
        for given in ("An", "Bình", "Cường", "Dũng", "Giang", "Hải", "Khánh", "Long", "Minh", "Nam")
    ]
    lines = "\n".join(
        f"{name} - Phó Trưởng phòng - Kế toán trưởng - Lao động tiên tiến" for name in names
    )
    report = await minh.say(lines)
    text = report.text
    assert len(text) <= 4096 and "30 dòng chưa đọc được" in text
    assert text.count("dấu gạch ngang") == 1 and "dòng khác" in text
    assert "Dòng 1: cần đủ 3 phần" in text and "Dòng 30:" not in text

    fixed = await minh.say(lines.replace(" - Kế toán trưởng", ""))  # three parts: accepted
    assert "Đã nhận 30 người" in fixed.text or "✅ Xác nhận" in fixed.last.button_texts()


async def test_a_name_kept_as_typed_is_not_asked_about_again(season: Sandbox) -> None:
    minh = await join(season, 2021, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    await minh.press(step.last, "Không đăng ký")
    names = await minh.say("nguyen van hung; Chuyên viên; LĐTT")
    assert 'Ghi là "Nguyen Van Hung"?' in names.text
    summary = await minh.press(names.last, "Giữ như đã gõ")
    assert summary.last.button_texts()[0] == "✅ Xác nhận"
    edit = await minh.press(summary.last, "✏️ Sửa")  # back through the steps: not asked again
    people = await minh.press(edit.last, "Không đăng ký")
    again = await minh.press(people.last, next(t for t in people.last.button_texts() if "Giữ" in t))
    assert again.last.button_texts()[0] == "✅ Xác nhận"
    await minh.press(again.last, "✅ Xác nhận")
    registration = await saved(season, "HCTP")
    assert registration is not None
    assert [p.full_name for p in registration.individuals] == ["nguyen van hung"]
