"""Eligibility hints (PRODUCT §11, issue 20): the `rules` document loaded per organisation,
and per person "đủ điều kiện", what is missing or what cannot be told, from the history, in
/dangky, /nophoso and /duyet, through the emulator. The hints warn and never refuse; with no
rules loaded there is none."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.datafiles import read_files
from bot.emulator.sandbox import Person, Sandbox
from storage.db import Database
from storage.eligibility import Verdict, read_rules
from storage.eligibility_hints import (
    NO_YEAR_COMPLETE,
    Sought,
    complete_until,
    eligibility_hints,
)
from storage.history import PastAwardRow, store_past_awards
from storage.models import EligibilityRules, Role, Target
from storage.organizations import organization_by_code
from storage.rules import rules_of
from storage.units import unit_by_code
from tests.support.cli import thiduabot
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import join, pick
from tests.support.registrations import saved
from tests.support.uploads import PDF

LDTT, CSTDCS = "Lao động tiên tiến", "Chiến sĩ thi đua cơ sở"
AN, BINH = "Nguyễn Văn An", "Trần Thị Bình"  # An holds LĐTT 2024 and 2025; Bình only 2024
# Conditions the history of titles can tell: two years of LĐTT before the year sought.
RULES = f"""\
organization: STP-LS
rules:
  title: Điều kiện thử
  items:
    - names: [{CSTDCS}]
      target: ca_nhan
      basis: Điều 23 Luật Thi đua, khen thưởng 2022
      conditions:
        - {{kind: consecutive, titles: [{LDTT}], count: 2, ending: year_before}}
    - names: [Giấy khen của Giám đốc Sở]
      target: ca_nhan
      basis: Quy chế thi đua, khen thưởng của Sở
      conditions:
        - {{kind: consecutive, titles: [{LDTT}], count: 2, ending: year_before}}
"""
MISSING_2025 = "⚠️ Chưa đủ điều kiện: chưa có danh hiệu Lao động tiên tiến năm 2025"
ELIGIBLE = "✅ Đủ điều kiện (Điều 23 Luật Thi đua, khen thưởng 2022)"
NOTE = "Gợi ý điều kiện theo lịch sử khen thưởng đã có"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def _history(box: Sandbox) -> None:
    """HCTP's earlier years: An has LĐTT 2024 and 2025, Bình 2024 only."""
    async with box.db.write() as session:
        org = await organization_by_code(session, "STP-LS")
        unit = await unit_by_code(session, "HCTP")
        assert org is not None and unit is not None
        rows = [
            PastAwardRow(unit.id, Target.CA_NHAN, name, year, LDTT, None, None, "x:2")
            for name, year in ((AN, 2024), (AN, 2025), (BINH, 2024))
        ]
        await store_past_awards(session, org.id, rows)


@pytest.fixture
async def ruled(season: Sandbox, tmp_path: Path) -> Sandbox:
    """The 2026 season of Lạng Sơn with HCTP's history and the test's rules loaded."""
    await _history(season)
    await load_files(season.db, _write(tmp_path, "rules.yaml", RULES))
    return season


# ---- loading the rules ------------------------------------------------------------------------


async def test_the_shipped_rules_load_for_their_body_and_a_second_load_replaces_them(
    db: Database, tmp_path: Path
) -> None:
    await load_files(db, EXAMPLES / "units-lang-son.yaml", EXAMPLES / "rules-tdkt-2022.yaml")
    async with db.read() as session:
        org = await organization_by_code(session, "STP-LS")
        assert org is not None
        shipped = await rules_of(session, org.id)
    assert shipped is not None and shipped.rule_for(LDTT, "ca_nhan") is not None
    await load_files(db, _write(tmp_path, "rules.yaml", RULES))
    async with db.read() as session:
        replaced = await rules_of(session, org.id)
        rows = await session.scalar(select(func.count()).select_from(EligibilityRules))
    assert replaced is not None and replaced.rules.title == "Điều kiện thử"
    assert replaced.rule_for(LDTT, "ca_nhan") is None and rows == 1


def test_a_bad_rules_file_names_each_field_in_vietnamese(tmp_path: Path) -> None:
    bad = _write(
        tmp_path,
        "sai.yaml",
        RULES.replace(
            "target: ca_nhan\n      basis: Quy", "target: canhan\n      basis: Quy"
        ).replace("count: 2, ending: year_before}\n    - names", "count: 1}\n    - names", 1)
        + "        - {kind: share, title: X, rated: tot, at_least: 50}\n"
        + "        - {kind: sometimes}\n",
    )
    load, errors = read_files([bad])
    where = f"{bad}: rules"
    assert [str(e) for e in errors] == [
        f"{where}, items[1] ({CSTDCS}), conditions[1], trường count: quá nhỏ: tối thiểu 2",
        f"{where}, items[2] (Giấy khen của Giám đốc Sở), trường target: "
        "phải là một trong: ca_nhan, tap_the",
        f"{where}, items[2] (Giấy khen của Giám đốc Sở), trường conditions[2]: "
        "cần ghi đúng một trong hai trường title và rated",
        f"{where}, items[2] (Giấy khen của Giám đốc Sở), trường conditions[3]: kind phải là "
        "một trong: holds, consecutive, rated, initiatives, share, judged, any, all",
    ]
    assert load.rules == []
    twice = _write(tmp_path, "hai.yaml", RULES.replace("Giấy khen của Giám đốc Sở", CSTDCS.upper()))
    (error,) = read_files([twice])[1]
    assert "trường rules: có hai quy tắc cho cùng một danh hiệu" in str(error)


async def test_a_bad_rules_file_stores_nothing_and_names_its_organisation_as_others_do(
    tmp_path: Path,
) -> None:
    code, _, err = await thiduabot(
        tmp_path,
        "load",
        str(EXAMPLES / "units-lang-son.yaml"),
        str(
            _write(
                tmp_path, "sai.yaml", RULES.replace("at_least", "x").replace("count: 2", "count: 0")
            )
        ),
    )
    assert code == 1 and "trường count: quá nhỏ: tối thiểu 2" in err
    # The database holds two bodies: a rules file must say whose it is, as a plan must.
    code, out, _ = await thiduabot(
        tmp_path,
        "load",
        str(EXAMPLES / "units-lang-son.yaml"),
        str(EXAMPLES / "units-bac-kan.yaml"),
    )
    assert code == 0
    anonymous = _write(tmp_path, "chung.yaml", RULES.replace("organization: STP-LS\n", ""))
    code, _, err = await thiduabot(tmp_path, "load", str(anonymous))
    assert code == 1 and "rules, trường organization: cơ sở dữ liệu có nhiều tổ chức" in err
    code, out, _ = await thiduabot(tmp_path, "load", str(EXAMPLES / "rules-tdkt-2022.yaml"))
    assert code == 0 and "Điều kiện xét danh hiệu, khen thưởng: thêm 1 (STP-LS)" in out
    code, out, _ = await thiduabot(tmp_path, "load", str(EXAMPLES / "rules-tdkt-2022.yaml"))
    assert (
        code == 0 and "Điều kiện xét danh hiệu, khen thưởng: thêm 0, cập nhật 0, không đổi 1" in out
    )


# ---- which years the history can tell --------------------------------------------------------

SHIPPED = read_rules(yaml.safe_load((EXAMPLES / "rules-tdkt-2022.yaml").read_text("utf-8")))
PROVINCIAL = SHIPPED.rule_for("Chiến sĩ thi đua cấp tỉnh", "ca_nhan")
BASIC = SHIPPED.rule_for(CSTDCS, "ca_nhan")


def test_the_year_sought_is_never_complete_nor_a_year_nobody_holds_the_title_in() -> None:
    assert PROVINCIAL is not None and BASIC is not None
    cstdcs, ldtt = "chien si thi dua co so", "lao dong tien tien"
    # The year sought's titles are decided with it: the latest complete year is the one before.
    assert complete_until(PROVINCIAL, 2026, {cstdcs: {2023, 2024, 2025, 2026}}) == 2025
    # 2025's titles not published (nor loaded) yet for anyone: 2025 cannot tell.
    assert complete_until(PROVINCIAL, 2026, {cstdcs: {2023, 2024}, ldtt: {2025}}) == 2024
    # A title never recorded: no year is complete for it.
    assert complete_until(PROVINCIAL, 2026, {ldtt: {2025}}) == NO_YEAR_COMPLETE
    # Alternatives (Lao động tiên tiến or Chiến sĩ tiên tiến): either one recorded will do.
    assert complete_until(BASIC, 2026, {ldtt: {2024}}) == 2024


async def test_hints_tell_missing_only_for_complete_years(season: Sandbox, tmp_path: Path) -> None:
    await _history(season)
    async with season.db.read() as session:
        org = await organization_by_code(session, "STP-LS")
        unit = await unit_by_code(session, "HCTP")
        assert org is not None and unit is not None
        people = [Sought(n, Target.CA_NHAN, CSTDCS) for n in (AN, BINH)]
        assert await eligibility_hints(
            session, org.id, unit.id, 2026, people, datetime.now(UTC)
        ) == [
            None,
            None,
        ]  # no rules loaded: nothing said
    await load_files(season.db, _write(tmp_path, "rules.yaml", RULES))
    now = datetime.now(UTC)
    async with season.db.read() as session:
        sought = [
            *people,
            Sought(AN, Target.CA_NHAN, "Chiến sĩ thi đua cấp tỉnh"),  # no rule for it
            Sought(AN, Target.HO_GIA_DINH, CSTDCS),  # a household: no rule either
        ]
        an, binh, provincial, household = await eligibility_hints(
            session, org.id, unit.id, 2026, sought, now
        )
        # For 2027, 2026 is not complete (nobody's 2026 LĐTT is recorded): Bình's 2025 is
        # still missing, An's 2026 cannot be told.
        later = await eligibility_hints(session, org.id, unit.id, 2027, people, now)
    assert an is not None and an.verdict is Verdict.ELIGIBLE
    assert binh is not None and binh.verdict is Verdict.MISSING
    assert binh.missing[0].found["lacking"] == [2025]
    assert provincial is None and household is None
    assert [h.verdict if h else None for h in later] == [Verdict.CANNOT_TELL, Verdict.MISSING]


# ---- the hints through the emulator -------------------------------------------------------


async def _summary(person: Person, lines: str) -> str:
    step = await person.say("/dangky")
    await person.press(step.last, "Không đăng ký")
    return (await person.say(lines)).text


async def test_dangky_warns_per_person_and_still_registers(ruled: Sandbox) -> None:
    minh = await join(ruled, 2101, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    await minh.press(step.last, "Không đăng ký")
    summary = await minh.say(f"{AN}; Trưởng phòng; CSTĐCS\n{BINH}; Chuyên viên; CSTĐCS")
    text = summary.text
    an, binh = text.split(f"2. {BINH}")
    assert ELIGIBLE in an
    assert MISSING_2025 in binh and "(cần 2 năm liên tục đến năm 2025)" in binh
    assert "(Điều 23 Luật Thi đua, khen thưởng 2022)" in binh and NOTE in text
    done = await minh.press(summary.last, "✅ Xác nhận")  # a warning never refuses
    assert "Đã ghi nhận đăng ký thi đua" in done.text
    registration = await saved(ruled, "HCTP")
    assert registration is not None and len(registration.individuals) == 2


async def test_dangky_says_nothing_of_conditions_without_rules(season: Sandbox) -> None:
    await _history(season)
    minh = await join(season, 2102, "Minh", "HCTP", Role.FOCAL)
    text = await _summary(minh, f"{BINH}; Chuyên viên; CSTĐCS")
    assert "điều kiện" not in text.lower() and NOTE not in text


async def _propose(person: Person, name: str) -> str:
    """/nophoso: a Giấy khen for a person; the nominee's documents screen that follows."""
    step = await person.say("/nophoso")
    awards = await person.press(step.last, pick(step.last, "➕"))
    await person.press(awards.last, "Giấy khen của Giám đốc Sở — cá nhân")
    return (await person.say(name)).last.text


async def test_nophoso_and_duyet_show_the_nominee_s_hint(ruled: Sandbox) -> None:
    hoa = await join(ruled, 2103, "Hoa", "HCTP", Role.FOCAL)
    assert "✅ Đủ điều kiện (Quy chế thi đua, khen thưởng của Sở)" in await _propose(hoa, AN)
    await hoa.say("/huy")
    screen = await _propose(hoa, BINH)
    assert MISSING_2025 in screen and NOTE in screen
    # The dossier is completed and goes to the office, whatever the hint said.
    step = await hoa.say("/nophoso")
    docs = await hoa.press(step.last, pick(step.last, BINH))
    await hoa.press(docs.last, pick(docs.last, "Báo cáo"))
    await hoa.send_document(PDF, "bao-cao.pdf")
    await hoa.say("/huy")
    step = await hoa.say("/nophoso")
    own = await hoa.press(step.last, pick(step.last, "📁"))
    await hoa.press(own.last, pick(own.last, "Biên bản"))
    await hoa.send_document(PDF + b"%bb", "bien-ban.pdf")
    await hoa.say("/huy")

    lan = await join(ruled, 2104, "Lan", "VP", Role.OFFICE)
    queue = await lan.say("/duyet")
    opened = await lan.press(queue.last, pick(queue.last, f"HCTP · {BINH}"))
    decide = opened.last.text
    assert MISSING_2025 in decide and "(Quy chế thi đua, khen thưởng của Sở)" in decide
    assert NOTE in decide and "Kết quả thẩm định" in decide


async def test_nophoso_says_nothing_of_conditions_without_rules(season: Sandbox) -> None:
    await _history(season)
    hoa = await join(season, 2105, "Hoa", "HCTP", Role.FOCAL)
    screen = await _propose(hoa, BINH)
    assert "Hồ sơ của" in screen and NOTE not in screen and "điều kiện" not in screen.lower()
