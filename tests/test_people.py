"""Pure logic of registration lines: folding, title matching, per-line problems."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.people_lines import (
    BadLine,
    PersonLine,
    Problem,
    Title,
    TitleMatcher,
    fold,
    initials,
    likely_fix,
    name_suggestion,
    parse_people,
    split_line,
)

CA_NHAN = TitleMatcher(
    [
        Title(1, "Chiến sĩ thi đua cơ sở"),
        Title(2, "Lao động tiên tiến"),
        Title(3, "Chiến sĩ thi đua cấp tỉnh", short="CSTĐ tỉnh"),
    ]
)


def test_fold_and_initials() -> None:
    assert fold("  Lao ĐỘNG   tiên Tiến ") == "lao dong tien tien"
    assert initials("Chiến sĩ thi đua cơ sở") == "cstdcs"
    assert initials("Tập thể lao động xuất sắc") == "ttldxs"


def test_titles_match_by_name_or_abbreviation_without_case_or_diacritics() -> None:
    for text in ("Lao động tiên tiến", "lao dong tien tien", "LĐTT", "ldtt", "L.Đ.T.T", "LDTT"):
        title = CA_NHAN.match(text)
        assert title is not None and title.id == 2, text
    for text in ("CSTĐCS", "chiến sĩ thi đua cơ sở", "cstdcs"):
        title = CA_NHAN.match(text)
        assert title is not None and title.id == 1, text
    match = CA_NHAN.match("cstđ tỉnh")
    assert match is not None and match.id == 3
    assert CA_NHAN.match("Anh hùng lao động") is None
    assert CA_NHAN.match("") is None


def test_ambiguous_abbreviation_matches_nothing() -> None:
    matcher = TitleMatcher([Title(1, "Lao động tiên tiến"), Title(2, "Lái đò tiên tiến")])
    assert matcher.match("LĐTT") is None
    match = matcher.match("lao động tiên tiến")
    assert match is not None and match.id == 1


def test_five_lines_two_malformed() -> None:
    text = "\n".join(
        [
            "1. Nguyễn Văn An; Trưởng phòng; CSTĐCS",
            "Trần Thị Bình - Chuyên viên LĐTT",  # one dash: not a separator
            "Lê Văn Cường; Phó Trưởng phòng; Lao động tiên tiến",
            "Phạm Thị Dung; Chuyên viên; Anh hùng",
            "  hoàng  văn   em ;  kế toán ;ldtt ",
        ]
    )
    people, bad = parse_people(text, CA_NHAN)
    assert [p.full_name for p in people] == ["Nguyễn Văn An", "Lê Văn Cường", "hoàng văn em"]
    assert [p.title.id for p in people] == [1, 2, 2]
    assert [(b.line, b.problem) for b in bad] == [(2, Problem.FIELDS), (4, Problem.TITLE_UNKNOWN)]


def test_per_line_problems() -> None:
    _, bad = parse_people(
        "An; Chuyên viên; LĐTT\n"
        "Nguyễn Văn 3; Chuyên viên; LĐTT\n"
        "Nguyễn Văn Bốn; ; LĐTT\n"
        "Nguyễn Văn Năm; Chuyên viên;\n"
        "Nguyễn Văn Sáu; Chuyên viên; LĐTT\n"
        "nguyen van sau; Kế toán; LĐTT\n"
        "Nguyễn Văn Bảy, Chuyên viên, LĐTT\n",
        CA_NHAN,
    )
    assert [(b.line, b.problem, b.other_line) for b in bad] == [
        (1, Problem.NAME, None),
        (2, Problem.NAME, None),
        (3, Problem.JOB, None),
        (4, Problem.TITLE_MISSING, None),
        (6, Problem.DUPLICATE, 5),
    ]


def test_duplicates_count_people_already_kept() -> None:
    first, _ = parse_people("Nguyễn Văn An; Chuyên viên; LĐTT", CA_NHAN)
    _, bad = parse_people("Nguyễn Văn An; Chuyên viên; LĐTT", CA_NHAN, already=first)
    assert bad[0].problem is Problem.DUPLICATE


@given(st.text(max_size=2000))
def test_any_text_gives_people_or_reasons_never_an_exception(text: str) -> None:
    people, bad = parse_people(text, CA_NHAN)
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(people) + len(bad) == len(lines)
    assert all(isinstance(p, PersonLine) for p in people)
    assert all(isinstance(b, BadLine) and len(b.text) <= 120 for b in bad)


names = st.lists(
    st.sampled_from(["Nguyễn", "Trần", "Lê", "Phạm", "Thị", "Văn", "Hoàng", "Ánh", "Đức", "Yến"]),
    min_size=2,
    max_size=4,
).map(" ".join)
jobs = st.sampled_from(["Chuyên viên", "Trưởng phòng", "Phó Giám đốc", "Kế toán"])
titles = st.sampled_from(["LĐTT", "ldtt", "Lao động tiên tiến", "CSTĐCS", "chien si thi dua co so"])
separators = st.sampled_from([";", " ; ", "|", "\t"])


@given(names, jobs, titles, separators)
def test_a_well_formed_line_is_always_read(name: str, job: str, title: str, sep: str) -> None:
    people, bad = parse_people(f"{name}{sep}{job}{sep}{title}", CA_NHAN)
    assert bad == []
    assert people[0].full_name == name and people[0].job_title == job
    assert split_line(f"3) {name}; {job}; {title}") == [name, job, title]


@pytest.mark.parametrize(
    "typed",
    [
        "Chiến sỹ thi đua cơ sở",
        "CSTĐ cơ sở",
        "CSTĐ cấp cơ sở",
        "Chiến sĩ thi đua cấp cơ sở",
        "chien sy thi dua co so",
        "C.S.T.Đ.C.S",
    ],
)
def test_official_variants_of_a_title_match(typed: str) -> None:
    matcher = TitleMatcher([Title(1, "Chiến sĩ thi đua cơ sở"), Title(2, "Lao động tiên tiến")])
    found = matcher.match(typed)
    assert found is not None and found.id == 1


def test_a_fragment_of_a_title_matches_nothing() -> None:
    matcher = TitleMatcher([Title(1, "Chiến sĩ thi đua cơ sở"), Title(2, "Lao động tiên tiến")])
    assert matcher.match("Lao động") is None and matcher.match("CSTĐ") is None


def test_spaced_dashes_separate_fields_only_when_they_give_three() -> None:
    assert split_line("Trần Thị Bình - Chuyên viên - LĐTT") == [
        "Trần Thị Bình",
        "Chuyên viên",
        "LĐTT",
    ]
    assert split_line("Trần Thị Bình – Chuyên viên – LĐTT") == [
        "Trần Thị Bình",
        "Chuyên viên",
        "LĐTT",
    ]
    # A hyphen inside a word is no separator, and four dashes cannot say which part is which.
    assert len(split_line("Lê Thị Thu-Hà; Phó Trưởng phòng; LĐTT")) == 3
    assert len(split_line("Trần Thị Bình - Phó phòng - Kế toán - LĐTT")) == 1
    people, bad = parse_people(
        "\n".join(f"Người Số {n} - Phó phòng - Kế toán - LĐTT" for n in range(30)), CA_NHAN
    )
    assert not people and len(bad) == 30
    assert likely_fix(bad) == "dashes"
    assert likely_fix(bad[:1]) is None  # one bad line: its own reason says enough


def test_names_in_one_case_or_without_diacritics_get_a_suggestion() -> None:
    assert name_suggestion("Trần Thị Mai") is None
    assert name_suggestion("Đỗ Văn Trùng") is None
    assert name_suggestion("trần thị mai") == "Trần Thị Mai"
    assert name_suggestion("TRẦN THỊ MAI") == "Trần Thị Mai"
    assert name_suggestion("Tran thi mai") == "Tran Thi Mai"
    assert name_suggestion("Tran Thi Mai") == "Tran Thi Mai"  # asked once: it has no diacritics


@given(st.text(min_size=1, max_size=60))
def test_a_suggestion_only_changes_capitals(name: str) -> None:
    suggestion = name_suggestion(name)
    if suggestion is not None:
        assert fold(suggestion) == fold(name)
