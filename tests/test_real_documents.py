"""Real documents of other bodies load as written, side by side in one database (PRODUCT §6.1),
and the 2026 calendar follows the government's late swap (PRODUCT §7)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.datafiles import LoadRejected, apply, read_files
from scheduler.calendar_sync import install_calendar
from scheduler.due import Push, planned_pushes
from scheduler.push_text import render_push
from scheduler.recurrence import Step, add_working_days, occurrences, resolve_steps
from scheduler.snapshot import load_snapshot
from storage.db import Database
from storage.models import (
    Award,
    Campaign,
    CampaignDeadline,
    CouncilResult,
    Organization,
    Plan,
    PlanTask,
    RequiredDocument,
    Unit,
)
from tests.support.clock import TZ
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES

REAL = Path(__file__).parent / "data" / "real"
NOW = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", sorted(REAL.glob("*.yaml")), ids=lambda p: p.stem)
def test_each_real_document_reads_without_a_problem(path: Path) -> None:
    load, errors = read_files([path])
    assert errors == [], [str(e) for e in errors]
    assert load.units and (load.plans or load.campaigns)
    assert path.read_text(encoding="utf-8").startswith("#"), "the source is named on top"


async def test_every_real_document_loads_together_each_in_its_own_body(db: Database) -> None:
    await load_files(db, *sorted(REAL.glob("*.yaml")))
    async with db.read() as session:
        orgs = list(await session.scalars(select(Organization)))
        assert len(orgs) == len(list(REAL.glob("*.yaml")))
        for campaign in await session.scalars(select(Campaign)):
            units = await session.scalars(
                select(Unit.organization_id).where(Unit.organization_id != campaign.organization_id)
            )
            assert campaign.organization_id in {o.id for o in orgs}
            assert units is not None


async def test_the_examples_load_together_with_their_calendar(db: Database) -> None:
    files = [p for p in sorted(EXAMPLES.glob("*.yaml")) if p.name != "demo-registration.yaml"]
    await load_files(db, *files)
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Organization)) >= 4


async def test_due_in_january_2026_plans_the_tasks_on_monday_5_january(db: Database) -> None:
    await load_files(
        db,
        EXAMPLES / "units-lang-son.yaml",
        EXAMPLES / "plan-2026-lang-son.yaml",
        EXAMPLES / "calendar-2026.yaml",
    )
    async with db.read() as session:
        await install_calendar(session)
        snapshot = await load_snapshot(session, TZ)
    pushes = planned_pushes(snapshot, date(2026, 1, 1), date(2026, 1, 31))
    tasks = [p for p in pushes if p.kind == "quarterly_tasks"]
    assert tasks and {p.at for p in tasks} == {datetime(2026, 1, 5, 8, 0)}
    assert not [p for p in pushes if p.at.date() == date(2026, 1, 2)]


async def test_a_plan_of_another_body_for_the_same_year_sits_beside_the_first(
    db: Database, tmp_path: Path
) -> None:
    await load_files(db, EXAMPLES / "units-lang-son.yaml", EXAMPLES / "plan-2026-lang-son.yaml")
    other = _write(
        tmp_path,
        "xa.yaml",
        "organization: {code: XA-TT, name: UBND xã Tân Thanh, office: Văn phòng HĐND và UBND xã,"
        " head: Chủ tịch UBND xã, short: xã}\n"
        "units:\n  - {code: VP, name: Văn phòng HĐND và UBND xã, kind: phong}\n"
        "  - {code: THON1, name: Thôn Bản Vàng, kind: khac}\n---\n"
        "plan:\n  year: 2026\n  title: Kế hoạch thi đua năm 2026 của xã\n  tasks:\n"
        "    - {no: 1, content: Phát động thi đua, units: [ALL], due: 2026-02}\n",
    )
    await load_files(db, other)
    async with db.read() as session:
        plans = {(p.organization_id, p.title) for p in await session.scalars(select(Plan))}
        assert len(plans) == 2
        vp_units = list(await session.scalars(select(Unit).where(Unit.code == "VP")))
        assert len(vp_units) == 2  # one Văn phòng per body, neither overwritten
        snapshot = await load_snapshot(session, TZ)
    pushes = planned_pushes(snapshot, date(2026, 1, 1), date(2026, 3, 31))
    xa_pushes = [p for p in pushes if p.org == "XA-TT" and p.kind == "quarterly_tasks"]
    assert {p.unit for p in xa_pushes} == {"VP", "THON1"}  # ALL: the xã's own units only


async def test_a_plan_with_the_same_code_and_another_title_needs_replace(
    db: Database, tmp_path: Path
) -> None:
    await load_files(db, EXAMPLES / "units-lang-son.yaml", EXAMPLES / "plan-2026-lang-son.yaml")
    text = (EXAMPLES / "plan-2026-lang-son.yaml").read_text(encoding="utf-8")
    changed = _write(
        tmp_path, "plan.yaml", text.replace("title: Kế hoạch", "title: Dự thảo kế hoạch")
    )
    load, errors = read_files([changed])
    assert errors == []
    with pytest.raises(LoadRejected) as rejected:
        async with db.write() as session:
            await apply(session, load, TZ, NOW)
    assert "--replace" in str(rejected.value.errors[0])
    async with db.write() as session:
        report = await apply(session, load, TZ, NOW, replace=True)
    assert report.plans.updated == ["2026"]


async def test_a_campaign_whose_units_change_needs_replace(db: Database, tmp_path: Path) -> None:
    await load_files(db, EXAMPLES / "units-lang-son.yaml", EXAMPLES / "campaign-lang-son-2026.yaml")
    text = (EXAMPLES / "campaign-lang-son-2026.yaml").read_text(encoding="utf-8")
    changed = _write(tmp_path, "c.yaml", text.replace("units: [VP, XDKTVB,", "units: [XDKTVB,"))
    load, _ = read_files([changed])
    with pytest.raises(LoadRejected) as rejected:
        async with db.write() as session:
            await apply(session, load, TZ, NOW)
    assert "danh sách đơn vị tham gia đổi" in str(rejected.value.errors[0])


CAMPAIGN = """\
campaign:
  code: TD-2026
  title: Phong trào thi đua năm 2026
  kind: thuong_xuyen
  start: 2026-01-01
  end: 2026-12-31
  launch_at: 2025-12-20 08:00       # signed in December for January
  dossier_deadline: 2027-01-15      # after the period: awards are decided after it
  review_within_working_days: 5
  registration_forms: {tap_the: "Phụ lục 2", ca_nhan: "Phụ lục 1"}
  deadlines:
    - {code: BC, title: Báo cáo tổng kết, due: 2026-12}
    - {code: TH, title: Văn phòng tổng hợp, after: dossier, days: 5, working_days: true,
       who: office}
  awards:
    - {code: GK, name: Giấy khen của Giám đốc Sở, target: any, quota_per_unit: 2,
       quota_overrides: {VP: 3}, decided_by: Giám đốc Sở}
    - {code: BK, name: Bằng khen của Chủ tịch UBND tỉnh, target: ca_nhan, quota: 2,
       documents: [BC08, TT, XN], decided_by: Chủ tịch UBND tỉnh}
  documents:
    - {code: BC08, name: Báo cáo thành tích, per: nominee, formats: [pdf], note: bản chính}
    - {code: TT, name: Tóm tắt thành tích, per: nominee}
    - {code: XN, name: Xác nhận của cơ quan thuế (nếu có), per: nominee, optional: true}
"""


async def test_a_campaign_written_as_documents_are_written_loads(
    db: Database, tmp_path: Path
) -> None:
    await load_files(db, EXAMPLES / "units-lang-son.yaml", _write(tmp_path, "c.yaml", CAMPAIGN))
    async with db.read() as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.code == "TD-2026"))
        assert campaign is not None and campaign.review_within_working_days == 5
        assert campaign.registration_forms == {"tap_the": "Phụ lục 2", "ca_nhan": "Phụ lục 1"}
        awards = {a.code: a for a in await session.scalars(select(Award))}
        vp = await session.scalar(select(Unit.id).where(Unit.code == "VP"))
        assert awards["GK"].quota_per_unit == 2 and awards["GK"].quota_overrides == {str(vp): 3}
        assert awards["BK"].document_codes == ["BC08", "TT", "XN"]
        documents = {d.code: d for d in await session.scalars(select(RequiredDocument))}
        assert documents["XN"].optional and documents["BC08"].formats == ["pdf"]
        steps = {d.code: d for d in await session.scalars(select(CampaignDeadline))}
        assert steps["BC"].due == date(2026, 12, 31) and steps["TH"].after == "dossier"
        snapshot = await load_snapshot(session, TZ)
    (facts,) = snapshot.campaigns
    dates = {d.code: d.due for d in facts.deadlines}
    # 15/1/2027 is a Friday: five working days later is Friday 22/1/2027.
    assert dates == {"BC": date(2026, 12, 31), "TH": date(2027, 1, 22)}


async def test_two_decisions_of_one_campaign_are_both_kept(db: Database, tmp_path: Path) -> None:
    await load_files(
        db, EXAMPLES / "units-ngoai-vu-lang-son.yaml", EXAMPLES / "campaign-ngoai-vu-2025.yaml"
    )
    first = (EXAMPLES / "results-ngoai-vu-2025.yaml").read_text(encoding="utf-8")
    await load_files(db, EXAMPLES / "results-ngoai-vu-2025.yaml")
    second = first.replace("decision: ", "decided_by: Chủ tịch UBND tỉnh\n  decision: 9", 1)
    await load_files(db, _write(tmp_path, "r2.yaml", second))
    async with db.read() as session:
        decisions = list(await session.scalars(select(CouncilResult)))
    assert len(decisions) == 2 and {d.decided_by for d in decisions} == {None, "Chủ tịch UBND tỉnh"}


def test_a_recurring_task_comes_back_every_period() -> None:
    assert occurrences(2026, "quarterly", 15) == [
        date(2026, 3, 15),
        date(2026, 6, 15),
        date(2026, 9, 15),
        date(2026, 12, 15),
    ]
    assert occurrences(2026, "monthly", 0)[1] == date(2026, 2, 28)
    assert occurrences(2026, "half_yearly", 31, month=2) == [date(2026, 2, 28), date(2026, 8, 31)]


def test_a_chain_of_deadlines_resolves_and_a_loop_does_not_hang() -> None:
    steps = [Step("A", None, "dossier", 3), Step("B", None, "A", 2, True), Step("C", None, "C", 1)]
    dates = resolve_steps(steps, {"dossier": date(2026, 11, 27)})
    assert dates["A"] == date(2026, 11, 30) and dates["B"] == date(2026, 12, 2)
    assert dates["C"] is None


async def test_a_task_with_no_date_gets_no_reminder_and_no_overdue_digest(
    db: Database, tmp_path: Path
) -> None:
    plan = _write(
        tmp_path,
        "p.yaml",
        "plan:\n  code: KH-2026\n  year: 2026\n  title: Kế hoạch\n  tasks:\n"
        "    - {no: 1, quarter: 1, content: Không ghi hạn, units: [ALL]}\n"
        "    - {no: 2, content: Báo cáo tháng, units: [VP], repeat: monthly, day: 25}\n",
    )
    await load_files(db, EXAMPLES / "units-lang-son.yaml", plan)
    async with db.read() as session:
        tasks = {t.no: t for t in await session.scalars(select(PlanTask))}
        snapshot = await load_snapshot(session, TZ)
    assert tasks[1].due is None and tasks[2].repeat == "monthly"
    pushes = planned_pushes(snapshot, date(2026, 1, 1), date(2026, 12, 31))
    about_1 = [p for p in pushes if p.kind in {"reminder", "overdue_digest"} and "1" in p.items]
    assert about_1 == []
    digests = [p for p in pushes if p.kind == "overdue_digest"]
    assert len(digests) == 12  # the monthly report, once a month


async def test_the_illustrative_2026_examples_use_what_real_documents_need(db: Database) -> None:
    """The xã units, their plan and their campaign (examples/*-xa*): a per-unit quota with an
    exception, an award with its own papers, an optional document, a month deadline, a chained
    office step and recurring tasks."""
    await load_files(
        db,
        EXAMPLES / "units-lang-son.yaml",
        EXAMPLES / "units-lang-son-xa.yaml",
        EXAMPLES / "plan-2026-lang-son-xa.yaml",
        EXAMPLES / "campaign-lang-son-tuphap-xa-2026.yaml",
        EXAMPLES / "calendar-2026.yaml",
    )
    async with db.read() as session:
        await install_calendar(session)
        snapshot = await load_snapshot(session, TZ)
        awards = {a.code: a for a in await session.scalars(select(Award))}
        optional = {d.code for d in await session.scalars(select(RequiredDocument)) if d.optional}
    (campaign,) = snapshot.campaigns
    assert {d.code: d.due for d in campaign.deadlines} == {
        "BCSK": date(2026, 6, 30),
        # Ten working days after Friday 20/11/2026, by the calendar in force (the holidays
        # package counts 24/11, Ngày Văn hóa Việt Nam, as a day off).
        "HDXET": add_working_days(date(2026, 11, 20), 10),
    }
    assert campaign.deadlines[1].due >= date(2026, 12, 4)
    assert awards["GK-CN"].quota_per_unit == 2 and len(awards["GK-CN"].quota_overrides) == 1
    assert awards["BK-UBND"].document_codes == ["BCTT", "TTR", "SK"] and optional == {"SK"}
    monthly = [t for t in snapshot.tasks if t.no == 1]
    assert len(monthly) == 12 and monthly[0].due == date(2026, 1, 25)
    assert [t.due for t in snapshot.tasks if t.no == 5] == [date(2026, 6, 30), date(2026, 12, 31)]
    assert [t.due for t in snapshot.tasks if t.no == 3] == [date(2026, 12, 9)]


async def test_the_launch_names_titles_awards_and_steps_as_the_document_does(
    db: Database,
) -> None:
    await load_files(
        db,
        EXAMPLES / "units-lang-son.yaml",
        EXAMPLES / "units-lang-son-xa.yaml",
        EXAMPLES / "campaign-lang-son-tuphap-xa-2026.yaml",
    )
    launch = Push(
        datetime(2025, 12, 22, 8, 0), "launch", "XA_MAU_SON", "STP-LS-TPXA-2026", "k", org="STP-LS"
    )
    async with db.read() as session:
        text, _ = await render_push(session, launch, NOW, TZ)
    assert "Danh hiệu thi đua đăng ký:" in text and "Danh hiệu, hình thức khen thưởng:" in text
    assert "• Cá nhân: Lao động tiên tiến, Chiến sĩ thi đua cơ sở" in text
    assert "Báo cáo sơ kết 06 tháng: trong tháng 06/2026" in text
    assert "Hội đồng Thi đua - Khen thưởng Sở họp xét: hạn" in text and "(Văn phòng Sở)" in text
    assert "do Chủ tịch UBND tỉnh quyết định" in text and "mỗi đơn vị không quá 02" in text


async def test_retired_and_merged_units_keep_their_history_and_get_nothing_more(
    db: Database, tmp_path: Path
) -> None:
    units = _write(
        tmp_path,
        "units.yaml",
        "organization: {code: STP-X, name: Sở Tư pháp tỉnh X}\nunits:\n"
        "  - {code: VP, name: Văn phòng Sở, kind: phong}\n"
        "  - {code: PTP_A, name: Phòng Tư pháp huyện A, kind: phong_tu_phap_huyen,"
        " retired: 2025-07-01}\n"
        "  - {code: PTP_B, name: Phòng Tư pháp huyện B, kind: phong_tu_phap_huyen,"
        " merged_into: XA_B}\n"
        "  - {code: XA_B, name: UBND xã B, kind: ubnd_xa}\n",
    )
    plan = _write(
        tmp_path,
        "plan.yaml",
        "plan:\n  year: 2026\n  title: Kế hoạch 2026\n  tasks:\n"
        "    - {no: 1, content: Báo cáo, units: [ALL], due: 2026-03-20}\n"
        "    - {no: 2, content: Báo cáo huyện, units: [PTP_B], due: 2026-03-20}\n",
    )
    load, errors = read_files([units, plan])
    assert errors == []
    async with db.write() as session:
        report = await apply(session, load, TZ, NOW)
        snapshot = await load_snapshot(session, TZ)
    # Naming a district office for 2026 loads, with a warning that says what to do.
    assert any("PTP_B" in str(w) and "01/7/2025" in str(w) for w in report.warnings)
    units_pushed = {p.unit for p in planned_pushes(snapshot, date(2026, 1, 1), date(2026, 3, 31))}
    assert {"VP", "XA_B"} <= units_pushed and not units_pushed & {"PTP_A", "PTP_B"}
