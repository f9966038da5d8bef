"""Plans and campaigns from YAML: validation that names file, entry and field; reloads in place."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.datafiles import LoadRejected, apply, read_files
from storage.db import Database
from storage.models import (
    Campaign,
    CampaignTitle,
    Plan,
    PlanTask,
    Registration,
    RequiredDocument,
    TaskProgress,
)
from storage.plans import set_task_done
from storage.registrations import RegisteredPerson, save_registration
from tests.support.clock import TZ
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES

NOW = datetime(2026, 2, 10, 2, 0, tzinfo=UTC)
DEPARTMENTS = {
    "lang-son": [
        "units-lang-son.yaml",
        "plan-2025-lang-son.yaml",
        "plan-2026-lang-son.yaml",
        "campaign-lang-son-2026.yaml",
    ],
    "bac-kan": ["units-bac-kan.yaml", "campaign-bac-kan-2022.yaml"],
    "ngoai-vu": ["units-ngoai-vu-lang-son.yaml", "campaign-ngoai-vu-2025.yaml"],
    "khanh-hoa": [
        "units-khanh-hoa.yaml",
        "campaign-khanh-hoa-2021-2025.yaml",
        "plan-2021-khanh-hoa.yaml",
    ],
}


def errors_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return [str(e) for e in read_files([path])[1]]


@pytest.mark.parametrize("department", sorted(DEPARTMENTS))
async def test_every_example_loads(db: Database, department: str) -> None:
    await load_files(db, *(EXAMPLES / name for name in DEPARTMENTS[department]))
    async with db.read() as session:
        campaigns = int(await session.scalar(select(func.count()).select_from(Campaign)) or 0)
    assert campaigns >= 1


async def test_plan_task_counts_match_the_seeds(db: Database) -> None:
    await load_files(db, *(EXAMPLES / name for name in DEPARTMENTS["lang-son"]))
    async with db.read() as session:
        counts = {
            y: n
            for y, n in await session.execute(
                select(Plan.year, func.count(PlanTask.id)).join(PlanTask).group_by(Plan.year)
            )
        }
        per_quarter = {
            q: n
            for q, n in await session.execute(
                select(PlanTask.quarter, func.count())
                .join(Plan)
                .where(Plan.year == 2026)
                .group_by(PlanTask.quarter)
            )
        }
    assert counts == {2025: 26, 2026: 19}
    assert per_quarter == {1: 6, 2: 3, 3: 3, 4: 7}


def test_ngoai_vu_campaign_has_the_seed_quotas_and_documents() -> None:
    load, errors = read_files([EXAMPLES / "campaign-ngoai-vu-2025.yaml"])
    assert errors == []
    campaign = load.campaigns[0][1]
    assert campaign.dossier_deadline.isoformat() == "2025-10-30"  # type: ignore[union-attr]
    quotas = {(a.code, a.target.value): a.quota for a in campaign.awards}
    assert quotas[("GK-TT", "tap_the")] == 1 and quotas[("GK-CN", "ca_nhan")] == 3
    assert [d.per.value for d in campaign.documents] == ["unit", "nominee", "nominee"]


CAMPAIGN = """\
campaign:
  code: T-2026
  title: Thử
  kind: theo_dot
  start: 2026-01-01
  end: 2026-06-30
  registration_deadline: {reg}
  dossier_deadline: 2026-06-30
  launch_at: {launch}
  titles:
    ca_nhan: [Lao động tiên tiến]
  awards:
    - {{code: GK, name: Giấy khen, target: ca_nhan, quota: 3}}
    - {{code: GK, name: Giấy khen, target: tap_the}}
"""


def test_campaign_errors_name_file_entry_and_field(tmp_path: Path) -> None:
    # A deadline after the period is how most campaigns are written (PRODUCT §6.1); one before
    # both the launch and the start can never be reminded of.
    errors = errors_of(tmp_path, CAMPAIGN.format(reg="2025-12-15", launch="2026-01-05 08:00"))
    assert any(
        "bad.yaml: campaign (T-2026), trường registration_deadline: hạn này trước cả ngày phát động"
        in e
        for e in errors
    )
    assert any("campaign (T-2026), awards[2] (GK), trường code: trùng mã" in e for e in errors)

    bad_date = errors_of(tmp_path, CAMPAIGN.format(reg="2026-02-30", launch="2026-01-05 08:00"))
    assert any("registration_deadline: không phải ngày hợp lệ" in e for e in bad_date)
    bad_time = errors_of(tmp_path, CAMPAIGN.format(reg="2026-02-20", launch="2026-01-05 25:00"))
    assert any("trường launch_at: không phải thời điểm hợp lệ" in e for e in bad_time)


def test_plan_errors(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        "plan:\n  year: 2026\n  title: KH\n  tasks:\n"
        "    - {no: 1, quarter: 1, content: A, units: [VP]}\n"
        "    - {no: 1, quarter: 5, content: B, units: [VP]}\n"
        "    - {no: 3, quarter: 2, content: C, units: [VP], due: 2027-01-01}\n",
    )
    assert any("plan (2026), tasks[2] (1), trường quarter" in e for e in errors)
    ok_but_dupe = errors_of(
        tmp_path,
        "plan:\n  year: 2026\n  title: KH\n  tasks:\n"
        "    - {no: 1, quarter: 1, content: A, units: [VP]}\n"
        "    - {no: 1, quarter: 2, content: B, units: [VP]}\n"
        "    - {no: 3, quarter: 2, content: C, units: [VP], due: 2027-01-01}\n",
    )
    assert any("tasks[2] (1), trường no: trùng mã với mục thứ 1" in e for e in ok_but_dupe)
    assert any("tasks[3] (3), trường due: hạn phải nằm trong năm 2026" in e for e in ok_but_dupe)


async def test_unknown_unit_rejects_the_whole_load(db: Database, tmp_path: Path) -> None:
    await load_files(db, EXAMPLES / "units-lang-son.yaml")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "plan:\n  year: 2026\n  title: KH\n  tasks:\n"
        "    - {no: 1, quarter: 1, content: A, units: [VP, KHONGCO]}\n",
        encoding="utf-8",
    )
    load, errors = read_files([plan, EXAMPLES / "campaign-lang-son-2026.yaml"])
    assert errors == []
    with pytest.raises(LoadRejected) as rejected:
        async with db.write() as session:
            await apply(session, load, TZ, NOW)
    assert "tasks[1] (1), trường units: không có đơn vị mã KHONGCO" in str(rejected.value.errors[0])
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Campaign)) == 0
        assert await session.scalar(select(func.count()).select_from(Plan)) == 0


async def test_reloading_a_changed_file_keeps_registrations_and_progress(
    db: Database, tmp_path: Path
) -> None:
    await load_files(db, *(EXAMPLES / name for name in DEPARTMENTS["lang-son"]))
    async with db.write() as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.code == "STP-LS-2026"))
        assert campaign is not None
        lao_dong = await session.scalar(
            select(CampaignTitle).where(CampaignTitle.name == "Lao động tiên tiến")
        )
        assert lao_dong is not None
        await save_registration(
            session,
            campaign_id=campaign.id,
            unit_id=1,
            collective_title_id=None,
            people=[RegisteredPerson("Nguyễn Văn An", "Chuyên viên", lao_dong.id)],
            by=1,
            now=NOW,
        )
        task = await session.scalar(select(PlanTask).where(PlanTask.no == 1))
        assert task is not None
        await set_task_done(session, task.id, 1, True, 1, NOW)

    changed_campaign = tmp_path / "campaign.yaml"
    text = (EXAMPLES / "campaign-lang-son-2026.yaml").read_text(encoding="utf-8")
    changed_campaign.write_text(
        text.replace(
            "registration_deadline: 2026-03-15", "registration_deadline: 2026-03-31"
        ).replace("    - {code: BB,", "    - {code: BB2,"),
        encoding="utf-8",
    )
    load, errors = read_files([changed_campaign, EXAMPLES / "plan-2026-lang-son.yaml"])
    assert errors == []
    async with db.write() as session:
        report = await apply(session, load, TZ, NOW)
    assert report.campaigns.updated == ["STP-LS-2026"] and report.plans.unchanged == ["2026"]
    async with db.read() as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.code == "STP-LS-2026"))
        assert campaign is not None and campaign.registration_deadline.isoformat() == "2026-03-31"
        assert await session.scalar(select(func.count()).select_from(Registration)) == 1
        assert await session.scalar(select(func.count()).select_from(TaskProgress)) == 1
        documents = {d.code: d.active for d in await session.scalars(select(RequiredDocument))}
    assert documents == {"BB": False, "BB2": True, "BCTT": True}

    async with db.write() as session:  # and the same files again change nothing
        again = await apply(session, load, TZ, NOW)
    assert again.campaigns.unchanged == ["STP-LS-2026"] and again.plans.unchanged == ["2026"]


FRAGMENTS = [
    "campaign:",
    "plan:",
    "units:",
    "  code: X",
    "  start: 2026-02-30",
    "  end: 2026-13-01",
    "  tasks:",
    "    - no: 1",
    "      quarter: 9",
    "  launch_at: 2026-01-01 99:99",
    "- [",
    "  titles: {tap_the: [a, a]}",
    "  awards: [{code: A, quota: -1}]",
    "  units: ALL",
    "---",
    "organization: ",
    "  - {code: VP, name: V, kind: phong}",
    "\t",
    ": :",
    "year: 1e9",
]


@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=30), max_size=25))
@settings(max_examples=150, deadline=None)
def test_any_file_gives_errors_never_an_exception(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "x.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    _, errors = read_files([path])
    assert all(str(e).startswith(str(path)) for e in errors)
    english = ("Input should", "Field required", "Extra inputs", "found character", "while ")
    assert not any(word in str(e) for e in errors for word in english)
    assert not any(", trường -:" in str(e) or ": -, " in str(e) for e in errors)


def test_the_same_campaign_twice_is_an_error_even_in_one_file(tmp_path: Path) -> None:
    one = CAMPAIGN.format(reg="2026-02-20", launch="2026-01-05 08:00").replace(
        "    - {code: GK, name: Giấy khen, target: tap_the}\n", ""
    )
    errors = errors_of(tmp_path, one + "---\n" + one)
    assert errors == [next(e for e in errors if "campaign (T-2026), trường code: đã có trong" in e)]


@pytest.mark.parametrize(
    ("task", "said"),
    [
        ("{no: 1, quarter: 5, content: A, units: [VP]}", "trường quarter: quá lớn: tối đa 4"),
        ("{no: 0, quarter: 1, content: A, units: [VP]}", "trường no: quá nhỏ: tối thiểu 1"),
        ("{no: x, quarter: 1, content: A, units: [VP]}", "trường no: phải là một số nguyên"),
        ("{no: 1, quarter: 1, units: [VP]}", "trường content: thiếu (bắt buộc)"),
        ("{no: 1, content: A, units: [VP], ghi_chu: x}", "trường ghi_chu: trường không có"),
        ("{no: 1, content: [A], units: [VP]}", "trường content: phải là một đoạn chữ"),
        ("{no: 1, content: A, units: [vp]}", "trường units[1]: không đúng dạng mã"),
        ("{no: 1, content: A, units: []}", "trường units: cần ít nhất 1 mục"),
        ("{no: 1, content: A, units: [VP], due: 2026-02-30}", "trường due: không phải ngày hợp lệ"),
        (
            "{no: 1, content: A, units: [VP], due_before: 2026-02-03 08:00}",
            "trường due_before: phải là một ngày, không kèm giờ",
        ),
        ("{no: 1, content: A, units: [VP], repeat: weekly, day: 1}", "trường repeat: phải là"),
    ],
)
def test_schema_errors_are_vietnamese_and_name_the_field(
    tmp_path: Path, task: str, said: str
) -> None:
    errors = errors_of(tmp_path, f"plan:\n  year: 2026\n  title: KH\n  tasks:\n    - {task}\n")
    assert len(errors) == 1 and "bad.yaml: plan (2026), tasks[1]" in errors[0], errors
    assert said in errors[0], errors


def test_a_union_reports_once_in_the_shape_given(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        "organization: {code: stp, name: Sở}\nunits:\n  - {code: VP, name: V, kind: phong}\n",
    )
    assert errors == [
        f"{tmp_path / 'bad.yaml'}: organization (stp), trường code: không đúng dạng mã: "
        "chữ in hoa không dấu, số, _ và -, bắt đầu bằng chữ hoặc số, tối đa 40 ký tự, "
        "ví dụ STP-LS-2026"
    ]
