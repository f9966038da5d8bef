"""The summary workbook and the registration template: built, read back, and attacked."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from messages.exports.cells import CREATOR, safe_sheet_name
from messages.exports.registration_template import (
    NO_COLLECTIVE_TITLE,
    TEMPLATE_MARKER,
    TemplateContext,
    TemplateError,
    TemplateRow,
    build_registration_template,
    read_registration_template,
)
from messages.exports.summary_workbook import build_summary_workbook
from storage.summary import CampaignRegistrations, QuarterTasks, UnitRegistration

LDTT = "Lao động tiên tiến"
CSTD = "Chiến sĩ thi đua cơ sở"
TTLDXS = "Tập thể lao động xuất sắc"
ODD_UNIT = "Phòng Kế hoạch & Tài chính <Dự án>"
GENERATED = datetime(2025, 4, 20, 9, 5)


def _campaign(code: str = "TD2025") -> CampaignRegistrations:
    return CampaignRegistrations(
        code=code,
        title="Phong trào thi đua năm 2025: “Đoàn kết, sáng tạo”",
        registration_deadline=date(2025, 3, 15),
        individual_titles=(LDTT, CSTD),
        units=(
            UnitRegistration(
                "VP",
                "Văn phòng Sở",
                True,
                datetime(2025, 3, 1, 14, 30),
                TTLDXS,
                (
                    ("Nguyễn Thị Hằng", "Chánh Văn phòng", CSTD),
                    ("Trần Văn Đức", "Chuyên viên", LDTT),
                    ("Lê Thị Ngọc Ánh", "Kế toán", LDTT),
                ),
            ),
            UnitRegistration(
                "HCTP",
                "Phòng Hành chính tư pháp",
                True,
                datetime(2025, 3, 10, 8, 0),
                None,
                (("Phạm Quốc Việt", "Trưởng phòng", LDTT),),
            ),
            UnitRegistration("KHTC", ODD_UNIT, False, None, None),
        ),
    )


def _quarter() -> QuarterTasks:
    return QuarterTasks(
        year=2025,
        quarter=2,
        tasks=(
            (1, "Xây dựng kế hoạch thi đua quý II và gửi về Văn phòng Sở", date(2025, 4, 10)),
            (2, "Báo cáo sơ kết phong trào thi đua 6 tháng đầu năm", date(2025, 6, 20)),
        ),
        units=(("VP", "Văn phòng Sở"), ("HCTP", "Phòng Hành chính tư pháp"), ("KHTC", ODD_UNIT)),
        responsible=frozenset({("VP", 1), ("VP", 2), ("HCTP", 1), ("KHTC", 2)}),
        done={("VP", 1): date(2025, 4, 8), ("HCTP", 1): date(2025, 4, 12)},
    )


@pytest.fixture(scope="module")
def summary_bytes() -> bytes:
    return build_summary_workbook(
        "Sở Tư pháp tỉnh Hà Giang", GENERATED, [_campaign()], [_quarter()]
    )


@pytest.fixture(scope="module")
def summary(summary_bytes: bytes) -> Workbook:
    return load_workbook(BytesIO(summary_bytes))


def _row(ws: Worksheet, row: int) -> list[object]:
    return [c.value for c in ws[row]]


# ---------------------------------------------------------------------------
# Summary


def test_summary_sheets_and_properties(summary: Workbook) -> None:
    assert summary.sheetnames == ["Tổng quan", "ĐK TD2025", "DS TD2025", "NV 2025 Q2"]
    assert summary.properties.creator == CREATOR
    assert "Sở Tư pháp tỉnh Hà Giang" in (summary.properties.title or "")


def test_overview(summary: Workbook) -> None:
    ws = summary["Tổng quan"]
    assert ws["B2"].value == "Sở Tư pháp tỉnh Hà Giang"
    assert ws["B3"].value == GENERATED
    assert ws["B3"].number_format == "dd/mm/yyyy hh:mm"
    campaign_row = next(r for r in range(1, 30) if ws.cell(r, 1).value == "TD2025")
    values = _row(ws, campaign_row)
    assert values[3:6] == [2, 3, 4]  # registered units, total units, individuals
    assert ws.cell(campaign_row, 3).value == datetime(2025, 3, 15)
    assert ws.cell(campaign_row, 3).number_format == "dd/mm/yyyy"
    quarter_row = next(r for r in range(1, 30) if ws.cell(r, 1).value == "Quý 2/2025")
    # 4 tasks, 2 done; VP's task 1 is done, KHTC's and VP's task 2 are not yet due.
    assert _row(ws, quarter_row)[1:6] == [2, 2, 4, 0.5, 0]
    assert ws.cell(quarter_row, 1).hyperlink.location == "'NV 2025 Q2'!A1"


def test_registration_sheet(summary: Workbook) -> None:
    ws = summary["ĐK TD2025"]
    assert _row(ws, 2) == [
        "Mã đơn vị",
        "Tên đơn vị",
        "Đã đăng ký",
        "Thời điểm đăng ký",
        "Danh hiệu tập thể",
        LDTT,
        CSTD,
        "Tổng số cá nhân",
    ]
    assert ws.freeze_panes == "C3"
    assert ws.auto_filter.ref == "A2:H5"
    assert _row(ws, 3) == [
        "VP",
        "Văn phòng Sở",
        "Có",
        datetime(2025, 3, 1, 14, 30),
        TTLDXS,
        2,
        1,
        3,
    ]
    assert ws["D3"].number_format == "dd/mm/yyyy hh:mm"
    assert ws["E4"].value == NO_COLLECTIVE_TITLE
    assert _row(ws, 5)[:3] == ["KHTC", ODD_UNIT, "Chưa"]
    assert ws["E5"].value is None
    # The total row: units registered, collective titles, sums per title, all individuals.
    assert _row(ws, 6) == ["Tổng cộng", "3 đơn vị", 2, None, 1, 3, 1, 4]
    assert ws["A2"].font.bold
    assert ws["A2"].fill.fgColor.rgb.endswith("DDEBF7")
    assert ws["B3"].border.left.style == "thin"
    assert 8 <= ws.column_dimensions["B"].width <= 60


def test_individual_sheet(summary: Workbook) -> None:
    ws = summary["DS TD2025"]
    assert _row(ws, 2) == ["Mã đơn vị", "Tên đơn vị", "Họ và tên", "Chức vụ", "Danh hiệu đăng ký"]
    assert ws.freeze_panes == "A3"
    assert _row(ws, 3) == ["VP", "Văn phòng Sở", "Nguyễn Thị Hằng", "Chánh Văn phòng", CSTD]
    assert _row(ws, 6) == [
        "HCTP",
        "Phòng Hành chính tư pháp",
        "Phạm Quốc Việt",
        "Trưởng phòng",
        LDTT,
    ]
    assert ws.max_row == 6


def test_task_sheet(summary: Workbook) -> None:
    ws = summary["NV 2025 Q2"]
    assert ws.freeze_panes == "C4"
    assert _row(ws, 2) == ["Mã đơn vị", "Tên đơn vị", "NV 1", "NV 2", "Hoàn thành"]
    assert _row(ws, 3)[1:4] == ["Hạn", "Hạn 10/04/2025", "Hạn 20/06/2025"]
    assert ws["C2"].comment.text == "Xây dựng kế hoạch thi đua quý II và gửi về Văn phòng Sở"
    assert _row(ws, 4) == ["VP", "Văn phòng Sở", "✓ 08/04", "—", "1/2"]
    assert _row(ws, 5) == ["HCTP", "Phòng Hành chính tư pháp", "✓ 12/04", None, "1/1"]
    assert _row(ws, 6) == ["KHTC", ODD_UNIT, None, "—", "0/1"]
    assert _row(ws, 7)[2:] == ["2/2", "0/2", "2/4"]
    assert ws.auto_filter.ref == "A3:E6"


def test_vietnamese_text_is_byte_identical(summary_bytes: bytes) -> None:
    with zipfile.ZipFile(BytesIO(summary_bytes)) as archive:
        xml = b"".join(archive.read(n) for n in archive.namelist() if n.endswith(".xml"))
    for text in ("Phòng Hành chính tư pháp", CSTD, TTLDXS, "Đoàn kết, sáng tạo"):
        assert text.encode("utf-8") in xml
    # '&' and '<' in a unit name are escaped in the XML and come back intact.
    assert b"Ph\xc3\xb2ng K\xe1\xba\xbf ho\xe1\xba\xa1ch &amp; T\xc3\xa0i ch\xc3\xadnh &lt;" in xml


def test_user_text_never_becomes_a_formula() -> None:
    campaign = CampaignRegistrations(
        "X",
        "T",
        None,
        (LDTT,),
        (UnitRegistration("U", '=HYPERLINK("http://x")', True, None, "\x07Tập thể"),),
    )
    wb = load_workbook(BytesIO(build_summary_workbook("Sở", GENERATED, [campaign], [])))
    ws = wb["ĐK X"]
    assert ws["B3"].value == '=HYPERLINK("http://x")'
    assert ws["B3"].data_type == "s"
    assert ws["E3"].value == "Tập thể"  # the control character XML forbids is dropped


def test_sheet_names_sanitized_and_unique() -> None:
    weird = "a/b:c*d?e[f]g\\h-" + "x" * 40
    campaigns = [_campaign(weird), _campaign(weird), _campaign("td2025"), _campaign("TD2025")]
    wb = load_workbook(BytesIO(build_summary_workbook("Sở", GENERATED, campaigns, [])))
    names = wb.sheetnames
    assert len(names) == 9
    assert len({n.casefold() for n in names}) == 9
    for name in names:
        assert len(name) <= 31
        assert not set(name) & set("[]:*?/\\")
    assert names[1].startswith("ĐK a-b-c-d-e-f-g-h-")
    assert names[3].endswith(" (2)")


def test_safe_sheet_name_edges() -> None:
    used: set[str] = set()
    assert safe_sheet_name("''", used) == "Trang"
    assert safe_sheet_name("Trang", used) == "Trang (2)"
    assert safe_sheet_name("History", used) == "History (2)"


def test_empty_summary_is_valid() -> None:
    wb = load_workbook(BytesIO(build_summary_workbook("Sở", GENERATED, [], [])))
    assert wb.sheetnames == ["Tổng quan"]


def _libreoffice_convert(data: bytes, target: str, tmp_path: Path) -> Path:
    """Convert book.xlsx with LibreOffice headless; the output folder."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice not installed: soffice/libreoffice not on PATH")
    source = tmp_path / "in" / "book.xlsx"
    source.parent.mkdir()
    source.write_bytes(data)
    out = tmp_path / "out"
    # A private profile: a second LibreOffice running on the machine must not interfere.
    profile = f"-env:UserInstallation=file://{tmp_path / 'profile'}"
    result = subprocess.run(
        [office, profile, "--headless", "--convert-to", target, "--outdir", str(out), str(source)],
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert any(out.iterdir()), result.stdout + result.stderr
    return out


# CSV in UTF-8 (76), values as shown (so number formats apply), every sheet (-1).
_CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"


def test_summary_opens_in_libreoffice(summary_bytes: bytes, tmp_path: Path) -> None:
    out = _libreoffice_convert(summary_bytes, _CSV_ALL_SHEETS, tmp_path)
    sheets = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.csv")}
    assert set(sheets) == {
        "book-Tổng quan.csv",
        "book-ĐK TD2025.csv",
        "book-DS TD2025.csv",
        "book-NV 2025 Q2.csv",
    }
    assert "Thời điểm lập,20/04/2025 09:05" in sheets["book-Tổng quan.csv"]
    assert (
        "VP,Văn phòng Sở,Có,01/03/2025 14:30,Tập thể lao động xuất sắc,2,1,3"
        in (sheets["book-ĐK TD2025.csv"])
    )
    assert f"KHTC,{ODD_UNIT},,—,0/1" in sheets["book-NV 2025 Q2.csv"]


def test_template_survives_libreoffice_save(tmp_path: Path) -> None:
    people = (("Nguyễn Thị Hằng", "Chánh Văn phòng", CSTD),)
    data = build_registration_template(
        _context(current_collective=TTLDXS, current_individuals=people)
    )
    saved = (_libreoffice_convert(data, "xlsx", tmp_path) / "book.xlsx").read_bytes()
    reading = read_registration_template(saved)
    assert (reading.campaign_code, reading.unit_code) == ("TD2025", "HCTP")
    assert reading.collective_title == TTLDXS
    assert reading.rows == (TemplateRow(10, *people[0]),)
    ws = load_workbook(BytesIO(saved))["Đăng ký"]
    assert any(str(dv.sqref).startswith("D10") for dv in ws.data_validations.dataValidation)


# ---------------------------------------------------------------------------
# Registration template


def _context(**changes: object) -> TemplateContext:
    values: dict[str, object] = {
        "campaign_code": "TD2025",
        "campaign_title": "Phong trào thi đua năm 2025",
        "unit_code": "HCTP",
        "unit_name": "Phòng Hành chính tư pháp",
        "collective_titles": (TTLDXS, "Tập thể lao động tiên tiến"),
        "individual_titles": (LDTT, CSTD),
        "deadline": date(2025, 3, 15),
    }
    values.update(changes)
    return TemplateContext(**values)  # type: ignore[arg-type]


def test_template_layout() -> None:
    wb = load_workbook(BytesIO(build_registration_template(_context())))
    assert wb.sheetnames == ["Đăng ký", "DanhMuc"]
    assert wb["DanhMuc"].sheet_state == "hidden"
    assert wb["DanhMuc"]["A1"].value == TEMPLATE_MARKER
    ws = wb["Đăng ký"]
    assert _row(ws, 9)[:4] == ["STT", "Họ và tên", "Chức vụ", "Danh hiệu đăng ký"]
    assert ws.freeze_panes == "A10"
    assert ws["A2"].value == "Phong trào: Phong trào thi đua năm 2025"
    assert ws["A4"].value == "Hạn đăng ký: 15/03/2025"
    assert "giữ nguyên các dòng tiêu đề" in ws["A5"].value
    assert ws["A59"].value == 50  # at least 50 numbered empty rows
    assert ws.column_dimensions["H"].hidden
    by_range = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    title_dv = next(dv for ref, dv in by_range.items() if ref.startswith("D10:"))
    assert title_dv.type == "list"
    assert title_dv.allow_blank
    assert not title_dv.showErrorMessage
    assert title_dv.formula1 == "DanhMuc!$D$2:$D$3"
    collective_dv = by_range["C7"]
    assert collective_dv.formula1 == "DanhMuc!$C$2:$C$4"
    assert wb["DanhMuc"]["C4"].value == NO_COLLECTIVE_TITLE
    assert wb.properties.creator == CREATOR


def test_template_round_trip_prefilled() -> None:
    people = (
        ("Nguyễn Thị Hằng", "Chánh Văn phòng", CSTD),
        ("Trần Văn Đức", "Chuyên viên", LDTT),
    )
    data = build_registration_template(
        _context(current_collective=TTLDXS, current_individuals=people)
    )
    reading = read_registration_template(data)
    assert reading.campaign_code == "TD2025"
    assert reading.unit_code == "HCTP"
    assert reading.collective_title == TTLDXS
    assert [(r.full_name, r.position, r.title) for r in reading.rows] == list(people)
    assert [r.row for r in reading.rows] == [10, 11]


def test_empty_template_reads_empty() -> None:
    reading = read_registration_template(build_registration_template(_context(deadline=None)))
    assert reading.collective_title is None
    assert reading.rows == ()


def test_template_filled_by_hand() -> None:
    wb = load_workbook(BytesIO(build_registration_template(_context())))
    ws = wb["Đăng ký"]
    ws["C7"] = "  Tập thể lao động\u00a0xuất sắc "
    ws["B10"], ws["C10"], ws["D10"] = "  Nguyễn   Văn\u00a0An ", "Phó phòng", f" {LDTT}"
    # Row 11 is left blank on purpose.
    ws["B12"], ws["C12"], ws["D12"] = "Lê Thị Bình", 12, CSTD
    ws["B13"] = "Hoàng Minh Châu"  # no title: the bot reports "dòng 13: thiếu danh hiệu"
    ws["C14"] = 3.0
    ws["D15"] = date(2025, 1, 2)
    buffer = BytesIO()
    wb.save(buffer)

    reading = read_registration_template(buffer.getvalue())
    assert reading.collective_title == TTLDXS
    assert reading.campaign_code == "TD2025"
    assert reading.unit_code == "HCTP"
    assert reading.rows == (
        TemplateRow(10, "Nguyễn Văn An", "Phó phòng", LDTT),
        TemplateRow(12, "Lê Thị Bình", "12", CSTD),
        TemplateRow(13, "Hoàng Minh Châu", "", ""),
        TemplateRow(14, "", "3", ""),
        TemplateRow(15, "", "", "02/01/2025"),
    )


def test_inserted_rows_above_the_table_still_read() -> None:
    wb = load_workbook(BytesIO(build_registration_template(_context())))
    ws = wb["Đăng ký"]
    ws.insert_rows(6, 2)  # someone adds a note under the instructions
    ws["B12"], ws["D12"] = "Vũ Thị Dung", LDTT
    buffer = BytesIO()
    wb.save(buffer)
    reading = read_registration_template(buffer.getvalue())
    assert reading.rows == (TemplateRow(12, "Vũ Thị Dung", "", LDTT),)


def test_decomposed_vietnamese_is_normalised() -> None:
    wb = load_workbook(BytesIO(build_registration_template(_context())))
    wb["Đăng ký"]["B10"] = "Nguye\u0302\u0303n Thi\u0323 Ha\u0306\u0300ng\u200b"
    buffer = BytesIO()
    wb.save(buffer)
    (row,) = read_registration_template(buffer.getvalue()).rows
    assert row.full_name == "Nguyễn Thị Hằng"


def test_too_many_rows() -> None:
    wb = load_workbook(BytesIO(build_registration_template(_context())))
    ws = wb["Đăng ký"]
    for i in range(6):
        ws.cell(10 + i, 2, f"Người {i}")
    buffer = BytesIO()
    wb.save(buffer)
    assert len(read_registration_template(buffer.getvalue(), max_rows=6).rows) == 6
    with pytest.raises(TemplateError) as info:
        read_registration_template(buffer.getvalue(), max_rows=5)
    assert info.value.reason == "too_many_rows"


def test_pdf_is_not_xlsx() -> None:
    with pytest.raises(TemplateError) as info:
        read_registration_template(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    assert info.value.reason == "not_xlsx"


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04", b"PK\x03\x04" + b"\0" * 100])
def test_empty_or_truncated_is_not_xlsx(data: bytes) -> None:
    with pytest.raises(TemplateError) as info:
        read_registration_template(data)
    assert info.value.reason == "not_xlsx"


def test_plain_workbook_is_not_template() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["STT", "Họ và tên", "Chức vụ", "Danh hiệu đăng ký"])
    ws.append([1, "Nguyễn Văn An", "Chuyên viên", LDTT])
    buffer = BytesIO()
    wb.save(buffer)
    with pytest.raises(TemplateError) as info:
        read_registration_template(buffer.getvalue())
    assert info.value.reason == "not_template"


def test_missing_marker_is_not_template() -> None:
    wb = load_workbook(BytesIO(build_registration_template(_context())))
    wb["Đăng ký"]["H1"] = None
    wb["DanhMuc"]["A1"] = "something else"
    buffer = BytesIO()
    wb.save(buffer)
    with pytest.raises(TemplateError) as info:
        read_registration_template(buffer.getvalue())
    assert info.value.reason == "not_template"


def test_sheet_copied_without_list_sheet_still_recognised() -> None:
    wb = load_workbook(BytesIO(build_registration_template(_context())))
    del wb["DanhMuc"]
    buffer = BytesIO()
    wb.save(buffer)
    reading = read_registration_template(buffer.getvalue())
    assert (reading.campaign_code, reading.unit_code) == ("TD2025", "HCTP")


def test_declared_zip_bomb_is_refused() -> None:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (65 * 1024 * 1024))
    with pytest.raises(TemplateError) as info:
        read_registration_template(buffer.getvalue())
    assert info.value.reason == "not_xlsx"


_TEMPLATE = build_registration_template(_context(current_individuals=(("A", "B", LDTT),)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_template_error(data: bytes) -> None:
    try:
        read_registration_template(data)
    except TemplateError as exc:
        assert exc.reason in {"not_xlsx", "not_template", "too_many_rows"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, len(_TEMPLATE) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    ),
    st.integers(100, len(_TEMPLATE)),
)
def test_damaged_template_raises_only_template_error(
    flips: list[tuple[int, int]], keep: int
) -> None:
    data = bytearray(_TEMPLATE[:keep])
    for position, value in flips:
        if position < len(data):
            data[position] = value
    try:
        read_registration_template(bytes(data))
    except TemplateError as exc:
        assert exc.reason in {"not_xlsx", "not_template", "too_many_rows"}
