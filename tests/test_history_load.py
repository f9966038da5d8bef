"""Earlier years' results from the office's own workbook (PRODUCT §11): the header found
wherever it is, units by code or by name, every bad row reported by its number while the
good ones are stored, a second load adding nothing; `thiduabot history` and
`thiduabot people merge` as an operator runs them."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bot.history_load import load_history, resolve
from messages.exports.cells import clean
from messages.exports.history_workbook import (
    HistoryWorkbookError,
    build_history_template,
    read_history_workbook,
)
from storage.db import Database
from storage.history import history_of
from storage.models import PastAward, Target
from storage.organizations import organization_by_code
from storage.units import all_units, unit_by_code
from tests.support.cli import thiduabot
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES

THIS_YEAR = 2026
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def workbook(rows: list[list[Any]], *, sheets_before: int = 0) -> bytes:
    """An .xlsx of these rows (row 1 first), after as many unrelated sheets."""
    wb = Workbook()
    first = wb.active
    assert first is not None
    for n in range(sheets_before):
        sheet = first if n == 0 else wb.create_sheet()
        sheet.title = f"Ghi chú {n}"
        sheet.append(["Bảng này không phải danh sách"])
    ws = wb.create_sheet("Khen thưởng") if sheets_before else first
    for row in rows:
        ws.append(row)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# Another order than the template's, a title row and an empty row above the header, titles
# in capitals or without diacritics.
HEADER = ["STT", "HỌ VÀ TÊN", "Danh hieu thi dua", "Năm", "Mã đơn vị", "Đơn vị", "Số QĐ"]
OFFICE_ROWS: list[list[Any]] = [
    ["DANH SÁCH CÁ NHÂN, TẬP THỂ ĐƯỢC KHEN THƯỞNG CÁC NĂM 2022-2025"],
    [],
    HEADER,
    [1, "Nguyễn Văn An", "Lao động tiên tiến", 2023, "VP", None, "12/QĐ-STP"],  # row 4
    [2, "Trần Thị Bình", "Chiến sĩ thi đua cơ sở", 2024.0, None, "phong ho tro tu phap", None],
    [3, "Văn phòng Sở", "Tập thể lao động tiên tiến", "2024", "vp", None, None],  # collective
    [4, "Lê Văn Cường", "Lao động tiên tiến", 2024, "XYZ", None, None],  # row 7: unknown unit
    [],
    [5, "Hoàng Thị Dung", "Lao động tiên tiến", 20255, "VP", None, None],  # row 9: bad year
    [6, None, "Lao động tiên tiến", 2024, None, "Thanh tra Sở", None],  # row 10: no name
    [7, "Phạm Văn Em", "Giấy khen của Giám đốc Sở", 2022, None, "THANH TRA SO", "5/QĐ-STP"],
]


async def _lang_son(db: Database) -> int:
    await load_files(db, EXAMPLES / "units-lang-son.yaml")
    async with db.read() as session:
        org = await organization_by_code(session, "STP-LS")
        assert org is not None
        return org.id


async def test_bad_rows_are_reported_by_number_while_the_good_ones_are_stored(
    lite_db: Database,
) -> None:
    org = await _lang_son(lite_db)
    reading = read_history_workbook(workbook(OFFICE_ROWS, sheets_before=1), THIS_YEAR)
    assert reading.sheet == "Khen thưởng"
    async with lite_db.write() as session:
        first = await load_history(session, org, reading, "ket-qua.xlsx")
    assert [e.text() for e in first.errors] == [
        'Dòng 5: không có đơn vị tên "phong ho tro tu phap"',
        "Dòng 7: không có đơn vị mã XYZ",
        "Dòng 9: năm 20255 không hợp lệ, ví dụ 2025",
        "Dòng 10: thiếu họ và tên hoặc tên tập thể",
    ]
    assert (first.good, first.added, first.already) == (3, 3, 0)
    async with lite_db.write() as session:
        again = await load_history(session, org, reading, "ket-qua.xlsx")
    assert (again.good, again.added, again.already) == (3, 0, 3)  # a second load adds nothing
    async with lite_db.read() as session:
        stored = {
            (p.name, p.year, p.award, p.target, p.decision, p.source)
            for p in await session.scalars(select(PastAward))
        }
        vp = await unit_by_code(session, "VP", org)
        assert vp is not None
        office = await history_of(session, org, vp.id, "VĂN PHÒNG SỞ", NOW)
    assert stored == {
        (
            "Nguyễn Văn An",
            2023,
            "Lao động tiên tiến",
            Target.CA_NHAN,
            "12/QĐ-STP",
            "ket-qua.xlsx:4",
        ),
        (
            "Văn phòng Sở",
            2024,
            "Tập thể lao động tiên tiến",
            Target.TAP_THE,
            None,
            "ket-qua.xlsx:6",
        ),
        (
            "Phạm Văn Em",
            2022,
            "Giấy khen của Giám đốc Sở",
            Target.CA_NHAN,
            "5/QĐ-STP",
            "ket-qua.xlsx:11",
        ),
    }
    assert office is not None and office.target is Target.TAP_THE  # the unit's own name


def test_every_problem_of_a_row_is_said_and_a_unit_by_name_is_found() -> None:
    rows: list[list[Any]] = [
        ["Năm", "Đơn vị", "Họ tên", "Đối tượng", "Hình thức khen thưởng", "Người ký"],
        ["", "", "", "", "", ""],
        [1989, None, "A" * 301, "Nhóm", None, "x" * 301],
        [2025, "Văn phòng Sở", "Nguyễn Văn An", "cá nhân", "Lao động tiên tiến", "Giám đốc Sở"],
        [2025, "Văn phòng Sở", "Tổ Hành chính", "TẬP THỂ", "Giấy khen", None],
    ]
    reading = read_history_workbook(workbook(rows), THIS_YEAR)
    assert [e.text() for e in reading.errors] == [
        "Dòng 3: năm 1989 không hợp lệ, ví dụ 2025",
        "Dòng 3: thiếu mã đơn vị hoặc tên đơn vị",
        "Dòng 3: thiếu danh hiệu hoặc hình thức khen thưởng",
        "Dòng 3: họ và tên (tên tập thể) dài quá 300 ký tự",
        "Dòng 3: cấp quyết định, người ký dài quá 300 ký tự",
        'Dòng 3: đối tượng "Nhóm" không rõ, hãy ghi Cá nhân hoặc Tập thể',
    ]
    assert [(r.row, r.unit_name, r.target, r.decided_by) for r in reading.rows] == [
        (4, "Văn phòng Sở", "ca_nhan", "Giám đốc Sở"),
        (5, "Văn phòng Sở", "tap_the", None),
    ]


async def test_a_unit_named_twice_needs_its_code(lite_db: Database) -> None:
    org = await _lang_son(lite_db)
    async with lite_db.read() as session:
        units = await all_units(session, org)
    twins = [*units, units[1]]  # two units of one name, as after a reorganisation
    reading = read_history_workbook(
        workbook([["Năm", "Đơn vị", "Họ và tên", "Danh hiệu"], [2024, units[1].name, "A", "B"]]),
        THIS_YEAR,
    )
    rows, errors = resolve(reading, twins, "x.xlsx")
    assert rows == [] and [e.reason for e in errors] == ["ambiguous_name"]


def test_the_template_reads_back_as_an_empty_workbook() -> None:
    data = build_history_template()
    reading = read_history_workbook(data, THIS_YEAR)
    assert reading.rows == () and reading.errors == ()  # the example row is not data
    wb = load_workbook(BytesIO(data))
    assert wb.sheetnames == ["Kết quả các năm", "Hướng dẫn"]
    header = [c.value for c in wb["Kết quả các năm"][3]]
    assert header[:4] == ["Năm", "Mã đơn vị", "Đơn vị", "Họ và tên / Tên tập thể"]
    assert wb["Kết quả các năm"]["D4"].value == "Nguyễn Văn An"


async def test_five_thousand_rows(lite_db: Database) -> None:
    org = await _lang_son(lite_db)
    codes = ["VP", "TTS", "HCTP", "BTTP", "TGPL"]
    rows: list[list[Any]] = [["Năm", "Mã đơn vị", "Họ và tên", "Danh hiệu"]]
    rows += [
        [2015 + n % 10, codes[n % 5], f"Người thứ {n}", "Lao động tiên tiến"] for n in range(5000)
    ]
    reading = read_history_workbook(workbook(rows), THIS_YEAR)
    assert len(reading.rows) == 5000 and reading.errors == ()
    async with lite_db.write() as session:
        done = await load_history(session, org, reading, "lon.xlsx")
    assert (done.added, done.errors) == (5000, ())
    async with lite_db.read() as session:
        assert await session.scalar(select(func.count()).select_from(PastAward)) == 5000


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not_xlsx"),
        ("Năm;Đơn vị;Họ và tên\n2024;VP;An\n".encode(), "not_xlsx"),  # a CSV named .xlsx
        (b"PK\x03\x04" + b"\x00" * 100, "not_xlsx"),  # a broken zip
        (workbook([["Họ và tên", "Năm"], ["An", 2024]]), "no_header"),  # no unit, no award
        (workbook([[]] * 20 + [["Năm", "Đơn vị", "Họ và tên", "Danh hiệu"]]), "no_header"),
    ],
)
def test_a_file_that_is_not_the_workbook(data: bytes, reason: str) -> None:
    with pytest.raises(HistoryWorkbookError) as raised:
        read_history_workbook(data, THIS_YEAR)
    assert raised.value.reason == reason


CELL = st.one_of(
    st.none(),
    st.text(max_size=40).map(clean),  # what openpyxl can store
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=date(1900, 1, 1)),
    st.sampled_from(["Năm", "Đơn vị", "Mã đơn vị", "Họ và tên", "Danh hiệu", "Tập thể", "2024"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(CELL, max_size=8), max_size=12))
def test_any_cells_are_read_or_refused_never_raised(cells: list[list[Any]]) -> None:
    header: list[Any] = ["Năm", "Đơn vị", "Họ và tên", "Danh hiệu", "Đối tượng", "Số quyết định"]
    data = workbook([header, *cells])
    reading = read_history_workbook(data, THIS_YEAR)
    for row in reading.rows:
        assert 1990 <= row.year <= THIS_YEAR and row.name and row.award
    assert {e.row for e in reading.errors}.isdisjoint({r.row for r in reading.rows})
    for error in reading.errors:
        assert error.text().startswith(f"Dòng {error.row}: ")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_refused_never_raised(data: bytes) -> None:
    with pytest.raises(HistoryWorkbookError):
        read_history_workbook(b"PK\x03\x04" + data, THIS_YEAR)


# ---------------------------------------------------------------------------
# The command line, as processes


async def test_history_and_people_merge_on_the_command_line(tmp_path: Path) -> None:
    office = tmp_path / "ket-qua.xlsx"
    office.write_bytes(workbook(OFFICE_ROWS))
    code, out, err = await thiduabot(tmp_path, "history", str(office))
    assert code == 2 and out == "", out  # no database yet: nothing created
    assert err.strip().startswith("Chưa có cơ sở dữ liệu") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "cli.db").exists()

    code, _, err = await thiduabot(tmp_path, "load", str(EXAMPLES / "units-lang-son.yaml"))
    assert code == 0, err
    code, out, err = await thiduabot(tmp_path, "history", str(office))
    assert code == 1
    assert err.strip().splitlines() == [
        'Dòng 5: không có đơn vị tên "phong ho tro tu phap"',
        "Dòng 7: không có đơn vị mã XYZ",
        "Dòng 9: năm 20255 không hợp lệ, ví dụ 2025",
        "Dòng 10: thiếu họ và tên hoặc tên tập thể",
    ]
    assert out.startswith(f'Đã nạp {office} (trang "Sheet"): thêm 3, đã có 0, 4 dòng có lỗi')

    good = tmp_path / "dung.xlsx"
    good.write_bytes(workbook([OFFICE_ROWS[2], OFFICE_ROWS[3], OFFICE_ROWS[5]]))
    code, out, err = await thiduabot(tmp_path, "history", str(good))
    assert (code, err) == (0, "")
    assert out.strip() == f'Đã nạp {good} (trang "Sheet"): thêm 0, đã có 2.'

    template = tmp_path / "mau" / "mau.xlsx"
    code, out, err = await thiduabot(tmp_path, "history", "--template", str(template))
    assert code == 0 and out.startswith(f"Đã ghi mẫu {template}"), err
    code, out, err = await thiduabot(tmp_path, "history", str(template))
    assert code == 0 and "thêm 0, đã có 0." in out, err

    mistakes = {
        ("history", str(tmp_path / "khong-co.xlsx")): "thư mục hoặc tệp không tồn tại",
        ("history", str(EXAMPLES / "units-lang-son.yaml")): "không phải tệp Excel .xlsx",
        ("history", str(tmp_path)): "đây là một thư mục",
        ("history",): "Hãy ghi tệp cần nạp",
        ("people", "merge", "XYZ", "A", "B"): "Không có đơn vị mã XYZ",
        ("people", "merge", "VP", " ", "B"): "Tên cũ và tên đúng không được để trống",
    }
    runs = await asyncio.gather(*(thiduabot(tmp_path, *args) for args in mistakes))
    for (args, said), (code, out, err) in zip(mistakes.items(), runs, strict=True):
        assert code == 2 and out == "" and said in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err

    code, out, err = await thiduabot(
        tmp_path, "people", "merge", "vp", "nguyen van an", "Nguyễn Văn Ân", "--org", "STP-LS"
    )
    assert code == 0, err
    assert out.strip() == (
        'Đã gộp ở đơn vị VP (Văn phòng Sở): "nguyen van an" từ nay là "Nguyễn Văn Ân"; chưa có '
        "danh hiệu, hình thức khen thưởng nào ghi tên cũ, những gì nạp sau sẽ được tính cho tên "
        "đúng."
    )
    code, out, err = await thiduabot(
        tmp_path, "people", "merge", "VP", "NGUYỄN VĂN AN", "Nguyễn Văn Ân"
    )
    assert code == 0 and "1 danh hiệu, hình thức khen thưởng ghi tên cũ" in out, err
    code, out, err = await thiduabot(
        tmp_path, "people", "merge", "VP", "NGUYỄN VĂN ÂN", "Nguyễn Văn Ân"
    )
    assert code == 0 and out.strip().endswith("không có gì thay đổi."), err


async def test_people_merge_reads_both_spellings_as_one(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["Năm", "Mã đơn vị", "Họ và tên", "Danh hiệu"],
        [2022, "VP", "Nguyễn Thị Hương", "Lao động tiên tiến"],
        [2023, "VP", "Nguyễn Thị Huơng", "Lao động tiên tiến"],  # a typo, as offices make
    ]
    sheet = tmp_path / "cu.xlsx"
    sheet.write_bytes(workbook(rows))
    code, _, err = await thiduabot(tmp_path, "load", str(EXAMPLES / "units-lang-son.yaml"))
    assert code == 0, err
    code, out, err = await thiduabot(tmp_path, "history", str(sheet))
    assert code == 0 and "thêm 2, đã có 0." in out, err
    code, out, err = await thiduabot(
        tmp_path, "people", "merge", "VP", "Nguyễn Thị Huơng", "Nguyễn Thị Hương"
    )
    assert code == 0 and "1 danh hiệu" in out, err

    db = Database(f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    try:
        async with db.read() as session:
            org = await organization_by_code(session, "STP-LS")
            vp = await unit_by_code(session, "VP")
            assert org is not None and vp is not None
            right = await history_of(session, org.id, vp.id, "Nguyễn Thị Hương", NOW)
            typo = await history_of(session, org.id, vp.id, "nguyễn thị huơng", NOW)
    finally:
        await db.dispose()
    assert right is not None and typo is not None and right.key == typo.key
    assert sorted(e.year for e in right.entries) == [2022, 2023]
