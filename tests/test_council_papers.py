"""The council's papers as DOCX drafts: they open, speak in the body's own words, list only
who passed, keep hostile names literal, scale to hundreds of nominees, and the shipped
templates are exactly what their script builds."""

from __future__ import annotations

import unicodedata
import zipfile
from dataclasses import replace
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messages.exports.council_papers import (
    TEMPLATE_DIR,
    AwardTally,
    CouncilSession,
    CouncilTally,
    NomineeTally,
    PaperKind,
    PaperTemplateError,
    bien_ban,
    council_papers,
    paper_file_name,
    quyet_dinh,
    render_paper,
    to_trinh,
)
from messages.exports.papers_templates import build_template, build_templates
from messages.organizations import org_words

SO = org_words("Sở Tư pháp tỉnh Lạng Sơn")
XA = org_words("UBND xã Lộc Bình")
TITLE = "Phong trào thi đua thường xuyên năm 2026"
PASSED = NomineeTally("Hoàng Văn Em", "Phòng Hành chính tư pháp", 6, 1, 7, True)
FAILED = NomineeTally("Phạm Thị Phượng", "Thanh tra Sở", 3, 4, 7, False)
COLLECTIVE = NomineeTally("Phòng Bổ trợ tư pháp", "Phòng Bổ trợ tư pháp", 7, 0, 7, True)
# A name as people type it: markup characters, quotes, emoji, far longer than a cell.
HOSTILE = ('Lê "Văn" & <Tèo> 🎖️👩‍💼 ' + "Nguyễn Thị Ánh " * 30)[:299] + "Z"


def tally(org=SO, awards=None, **changes) -> CouncilTally:
    session = CouncilSession(
        start=datetime(2026, 3, 5, 8, 30),
        end=datetime(2026, 3, 5, 10, 15),
        place="Phòng họp tầng 2",
        chair="Nguyễn Văn An",
        secretary="Trần Thị Bình",
        present=7,
        total=9,
        quorum="ít nhất 2/3 tổng số thành viên",
        attendees=("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"),
    )
    if awards is None:
        awards = (
            AwardTally("Giấy khen", "≥ 2/3 số thành viên có mặt", (PASSED, FAILED)),
            AwardTally("Chiến sĩ thi đua cơ sở", "≥ 80% số thành viên có mặt", (COLLECTIVE,)),
        )
    base = CouncilTally(
        org=org,
        campaign_code="TD-2026",
        campaign_title=TITLE,
        session=session,
        awards=awards,
        locality="Lạng Sơn",
    )
    return replace(base, **changes)


def paragraphs(data: bytes) -> list[str]:
    """Every paragraph's text, those in tables included, in document order."""
    body = Document(BytesIO(data)).element.body
    return ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in body.iter(qn("w:p"))]


def text(data: bytes) -> str:
    return "\n".join(paragraphs(data))


def rows(data: bytes) -> list[list[str]]:
    """The rows of every grid table (those with an "STT" header), header rows left out."""
    found = []
    for table in Document(BytesIO(data)).tables:
        if table.rows[0].cells[0].text != "STT":
            continue
        found += [[c.text for c in row.cells] for row in list(table.rows)[1:]]
    return found


PAPERS = (bien_ban, to_trinh, quyet_dinh)


@pytest.mark.parametrize(
    ("org", "head", "office", "foreign"),
    [
        (SO, "Giám đốc Sở", "Văn phòng Sở", "Chủ tịch UBND xã"),
        (XA, "Chủ tịch UBND xã", "Văn phòng HĐND và UBND xã", "Giám đốc Sở"),
    ],
)
def test_papers_speak_for_the_body(org, head, office, foreign) -> None:
    papers = {make.__name__: make(tally(org)) for make in PAPERS}
    for name, data in papers.items():
        said = text(data)
        assert org.name in said and org.name.upper() in said, name
        assert head in said and foreign not in said, name
        assert f'"{TITLE}"' in said, name
        assert "{{" not in said and "{%" not in said, name
        assert "Lạng Sơn, ngày" in said, name
    assert f"Kính gửi: {head}." in text(papers["to_trinh"])
    assert office.upper() in paragraphs(papers["to_trinh"])
    assert head.upper() in paragraphs(papers["quyet_dinh"])  # who decides, and signs


def test_the_minutes_name_the_people_and_their_votes() -> None:
    data = bien_ban(tally())
    said = text(data)
    for line in (
        "Thời gian bắt đầu: 08 giờ 30 phút, ngày 05 tháng 3 năm 2026.",
        "Địa điểm: Phòng họp tầng 2.",
        "Chủ trì: Nguyễn Văn An.",
        "Thư ký: Trần Thị Bình.",
        "Thành viên Hội đồng có mặt: 7/9, vắng mặt 2, gồm:",
        "3. Lê Văn Cường.",
        "Điều kiện họp: ít nhất 2/3 tổng số thành viên.",
        "Số thành viên có mặt bảo đảm điều kiện họp.",
        "I. Giấy khen (tỷ lệ phiếu đồng ý phải đạt: ≥ 2/3 số thành viên có mặt)",
        "II. Chiến sĩ thi đua cơ sở (tỷ lệ phiếu đồng ý phải đạt: ≥ 80% số thành viên có mặt)",
        "Kết quả: 2/3 trường hợp đạt tỷ lệ phiếu đồng ý theo quy định.",
        "Cuộc họp kết thúc lúc 10 giờ 15 phút, ngày 05 tháng 3 năm 2026.",
    ):
        assert line in said, line
    assert rows(data) == [
        ["1", PASSED.name, PASSED.unit, "6", "1", "7", "Đạt"],
        ["2", FAILED.name, FAILED.unit, "3", "4", "7", "Không đạt"],
        ["1", COLLECTIVE.name, COLLECTIVE.unit, "7", "0", "7", "Đạt"],
    ]
    # Signed by the secretary and the chair, by name.
    assert said.index("THƯ KÝ") < said.index("CHỦ TRÌ") < said.rindex("Nguyễn Văn An")


def test_a_missed_quorum_is_said() -> None:
    late = replace(tally().session, present=5, quorum_met=False, attendees=(), end=None)
    said = text(bien_ban(tally(session=late)))
    assert "có mặt: 5/9, vắng mặt 4." in said
    assert "không bảo đảm điều kiện họp" in said
    assert "Cuộc họp kết thúc lúc … giờ … phút cùng ngày." in said


def test_only_passed_nominees_are_proposed_and_decided() -> None:
    proposal, decision = to_trinh(tally()), quyet_dinh(tally())
    assert FAILED.name not in text(proposal) and FAILED.name not in text(decision)
    assert rows(decision) == [
        ["1", PASSED.name, PASSED.unit],
        ["1", COLLECTIVE.name, COLLECTIVE.unit],
    ]
    said = text(proposal)
    assert f"1. {PASSED.name} ({PASSED.unit}), đồng ý 6/7 phiếu." in said
    assert "quyết định khen thưởng 2 trường hợp" in said
    decided = text(decision)
    assert "- Giấy khen: 1 trường hợp;" in decided
    assert "- Chiến sĩ thi đua cơ sở: 1 trường hợp." in decided
    assert "II. Chiến sĩ thi đua cơ sở (1)" in decided


def test_an_award_nobody_passed_is_left_out_of_the_decision() -> None:
    awards = (
        AwardTally("Bằng khen", "≥ 90% tổng số thành viên", (FAILED,)),
        AwardTally("Giấy khen", "≥ 2/3 số thành viên có mặt", (PASSED,)),
    )
    decided = text(quyet_dinh(tally(awards=awards)))
    assert "Bằng khen" not in decided
    assert "I. Giấy khen (1)" in decided  # numbered among what is decided
    nobody = tally(awards=(AwardTally("Bằng khen", "≥ 90%", (FAILED,)),))
    assert "Không có trường hợp nào đạt" in text(to_trinh(nobody))
    assert rows(quyet_dinh(nobody)) == []


@pytest.mark.parametrize("make", PAPERS, ids=lambda f: f.__name__)
def test_a_hostile_name_comes_out_literally(make) -> None:
    assert len(HOSTILE) == 300
    hostile = NomineeTally(HOSTILE, HOSTILE, 7, 0, 7, True)
    org = org_words(f"Sở {HOSTILE}")
    data = make(
        tally(
            org,
            awards=(AwardTally(HOSTILE, HOSTILE, (hostile,)),),
            campaign_title=HOSTILE,
            session=replace(tally().session, chair=HOSTILE, place=HOSTILE),
        )
    )
    said = text(data)
    assert f'"{HOSTILE}"' in said
    assert org.name in said
    if make is to_trinh:
        assert f"1. {HOSTILE} ({HOSTILE}), đồng ý 7/7 phiếu." in paragraphs(data)
    else:
        assert rows(data)[0][1:3] == [HOSTILE, HOSTILE]
    assert "&amp;" not in said and "&lt;" not in said


def test_characters_a_document_cannot_hold_are_dropped() -> None:
    odd = NomineeTally("Ngô\x00 Văn\x0b\x07 Đức\ufffe\n\tThịnh  ", "Phòng\x1f A", 5, 1, 7, True)
    data = bien_ban(tally(awards=(AwardTally("Giấy khen", "≥ 2/3", (odd,)),)))
    assert rows(data)[0][1:3] == ["Ngô Văn Đức Thịnh", "Phòng A"]


def test_decomposed_vietnamese_is_composed() -> None:
    decomposed = unicodedata.normalize("NFD", PASSED.name)
    data = to_trinh(
        tally(awards=(AwardTally("Giấy khen", "≥ 2/3", (replace(PASSED, name=decomposed),)),))
    )
    assert PASSED.name in text(data)


# Characters people type: any letter, mark, symbol, emoji, the XML specials, spaces and
# line breaks, but not the four pairs docxtpl rewrites after rendering (see council_papers).
_TYPED = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Co", "Cn"),
        whitelist_characters="\n\t &<>\"'",
    ),
    min_size=1,
    max_size=80,
).filter(lambda s: not any(pair in s for pair in ("{_", "_}", "%_", "_%")))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_TYPED, unit=_TYPED)
def test_any_typed_name_comes_out_as_typed(name: str, unit: str) -> None:
    def expected(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s).split())

    nominee = NomineeTally(name, unit, 7, 0, 7, True)
    data = quyet_dinh(tally(awards=(AwardTally("Giấy khen", "≥ 2/3", (nominee,)),)))
    assert rows(data) == [["1", expected(name), expected(unit)]]


def test_two_hundred_nominees() -> None:
    nominees = tuple(
        NomineeTally(f"Nguyễn Văn Số {i}", f"Đơn vị {i % 9}", 7 - i % 3, i % 3, 7, i % 3 == 0)
        for i in range(200)
    )
    big = tally(
        awards=(
            AwardTally("Giấy khen", "≥ 2/3", nominees[:150]),
            AwardTally("Bằng khen", "≥ 90%", nominees[150:]),
        )
    )
    minutes, proposal, decision = (make(big) for make in PAPERS)
    assert len(rows(minutes)) == 200
    assert rows(minutes)[-1][:2] == ["50", "Nguyễn Văn Số 199"]
    passed = [n.name for n in nominees if n.passed]
    assert [row[1] for row in rows(decision)] == passed
    assert all(f". {name} (" in text(proposal) for name in passed)
    assert f"Kết quả: {len(passed)}/200 trường hợp" in text(minutes)


def test_dates_are_written_as_the_form_wants() -> None:
    early = replace(tally().session, start=datetime(2026, 1, 5, 7, 5), end=None)
    said = text(bien_ban(tally(session=early)))
    assert "ngày 05 tháng 01 năm 2026" in said and "07 giờ 05 phút" in said
    late = replace(tally().session, start=datetime(2026, 11, 20, 14, 0), end=None)
    assert "ngày 20 tháng 11 năm 2026" in text(to_trinh(tally(session=late)))
    assert "ngày 20/11/2026" in text(quyet_dinh(tally(session=late)))  # the meeting, in the grounds


def test_the_decision_names_the_parent_body_only_when_there_is_one() -> None:
    assert paragraphs(quyet_dinh(tally()))[0] == SO.name.upper()
    with_parent = quyet_dinh(tally(parent="UBND tỉnh Lạng Sơn"))
    assert paragraphs(with_parent)[:2] == ["UBND TỈNH LẠNG SƠN", SO.name.upper()]


def test_the_office_head_is_named_from_the_office_or_given() -> None:
    assert "Theo đề nghị của Chánh Văn phòng Sở." in text(quyet_dinh(tally()))
    given_title = text(quyet_dinh(tally(office_head="Chánh Văn phòng")))
    assert "Theo đề nghị của Chánh Văn phòng." in given_title
    assert "CHÁNH VĂN PHÒNG HĐND VÀ UBND XÃ" in paragraphs(to_trinh(tally(XA)))


def test_file_names_are_ascii() -> None:
    assert paper_file_name(PaperKind.BIEN_BAN, "TD-2026") == "bien-ban-hop-hoi-dong-TD-2026.docx"
    assert (
        paper_file_name(PaperKind.TO_TRINH, "TĐ 2026/Đợt 1")
        == "to-trinh-khen-thuong-TD-2026-Dot-1.docx"
    )
    assert paper_file_name(PaperKind.QUYET_DINH, "../..") == "quyet-dinh-khen-thuong.docx"
    papers = council_papers(tally(campaign_code="NV-ĐHXVIII-2025"))
    assert [p.kind for p in papers] == list(PaperKind)
    assert [p.file_name for p in papers] == [
        "bien-ban-hop-hoi-dong-NV-DHXVIII-2025.docx",
        "to-trinh-khen-thuong-NV-DHXVIII-2025.docx",
        "quyet-dinh-khen-thuong-NV-DHXVIII-2025.docx",
    ]
    assert all(p.file_name.isascii() and p.content.startswith(b"PK") for p in papers)


def _office_template(path: Path, *runs: str) -> None:
    """A template as an office might save it from Word: one paragraph in several runs."""
    doc = Document()
    paragraph = doc.add_paragraph()
    for run in runs:
        paragraph.add_run(run)
    doc.save(path)


def test_an_office_template_replaces_the_shipped_one(tmp_path: Path) -> None:
    # Word splits a tag over runs when it is edited; docxtpl joins them again.
    _office_template(
        tmp_path / "bien_ban.docx", "Biên bản của {{ org.", "name }} — ", "{{ org.head }}"
    )
    said = text(bien_ban(tally(), templates=tmp_path))
    assert said == f"Biên bản của {SO.name} — {SO.head}"


@pytest.mark.parametrize(
    "content",
    [b"not a document", None, "{{ org.nam }}", "{% for %}"],
    ids=["not-docx", "missing", "unknown-name", "bad-syntax"],
)
def test_a_broken_office_template_is_one_error(tmp_path: Path, content) -> None:
    path = tmp_path / "to_trinh.docx"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        _office_template(path, content)
    with pytest.raises(PaperTemplateError, match=r"to_trinh\.docx"):
        render_paper(PaperKind.TO_TRINH, tally(), templates=tmp_path)


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def test_the_shipped_templates_are_what_the_script_builds() -> None:
    built = build_templates()
    assert set(built) == {f"{kind.value}.docx" for kind in PaperKind}
    for name, data in built.items():
        assert data == build_template(PaperKind(name.removesuffix(".docx")))  # deterministic
        shipped = (TEMPLATE_DIR / name).read_bytes()
        # Member by member: the same parts with the same content (compression may differ by zlib).
        assert _members(shipped) == _members(data), (
            f"run python -m messages.exports.papers_templates ({name})"
        )
        Document(BytesIO(shipped))  # opens
