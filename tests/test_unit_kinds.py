"""The leadership (kind lanh_dao) and the councils (kind hoi_dong) are not units that report:
not in "every unit" nor the unit picker of /thongbao, not counted in task progress (/tonghop,
/nhiemvu, the scheduler's facts), no focal invite from `invite --all` (PRODUCT §6.1)."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from bot.emulator.sandbox import Sandbox
from scheduler.snapshot import audience_codes, load_snapshot
from storage.announcements import audience_units
from storage.db import Database
from storage.invites import Redeemed, redeem_invite
from storage.models import Announcement, Audience, Role
from storage.plans import plan_for_year, plan_progress, unit_tasks
from storage.units import all_units, unit_by_code, units_without_active_focal
from tests.support.clock import TZ, Clock
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import issue_invite, join

NOT_REPORTING = {"LDS", "HDTDKT", "HDSK"}
# units-lang-son.yaml: the twelve units less Lãnh đạo Sở and the two councils.
REPORTING = {"VP", "XDKTVB", "PBGDPL", "HCTP", "BTTP", "TTS", "TGPL", "CC1", "DGTS"}
NOW = datetime(2026, 2, 10, 2, 0, tzinfo=UTC)


def unit_buttons(texts: list[str]) -> set[str]:
    """The unit codes on the picker's unit buttons ("▫️ CODE" or "✅ CODE")."""
    return {t.split(" ", 1)[1] for t in texts if t[:2] in {"▫️", "✅ "} and " " in t}


async def test_thongbao_all_units_and_the_picker_leave_out_the_leadership_and_councils(
    season: Sandbox,
) -> None:
    office = await join(season, 6001, "Lan", "VP", Role.OFFICE)
    await join(season, 6002, "Sơn", "LDS", Role.LEADER)
    await join(season, 6003, "Minh", "HCTP", Role.FOCAL)
    await office.say("/thongbao")
    audience = await office.say("Kính gửi các đơn vị: họp giao ban thi đua.")
    preview = await office.press(audience.last, "🏢 Tất cả đơn vị")
    assert "Gửi đến 9 đơn vị (1 người)" in preview.text
    assert "Lãnh đạo Sở" not in preview.text and "Hội đồng" not in preview.text
    assert "8 đơn vị chưa có đầu mối nào tham gia" in preview.text
    await office.say("/huy")

    await office.say("/thongbao")
    audience = await office.say("Nhắc nộp báo cáo.")
    picker = await office.press(audience.last, "☑️ Chọn đơn vị")
    assert unit_buttons(picker.last.button_texts()) == REPORTING


async def test_tonghop_counts_task_progress_of_reporting_units_only(season: Sandbox) -> None:
    minh = await join(season, 6101, "Minh", "HCTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    await minh.press(screen.last, "✅ Xong NV 1")
    lan = await join(season, 6102, "Lan", "VP", Role.OFFICE)
    summary = await lan.say("/tonghop")
    # Quarter I of the 2026 plan: tasks 1, 4, 5, 6 for LDS, VP and every unit (nine that
    # report, LDS not counted) and tasks 2, 3 for LDS and VP (VP only): 4 × 9 + 2 × 1.
    assert "Quý I: 1/38" in summary.text
    document = summary.last.document
    assert document is not None
    workbook = load_workbook(BytesIO(document["content"]))
    codes = {sheet.cell(row, 1).value for sheet in workbook for row in range(1, sheet.max_row + 1)}
    assert codes >= REPORTING and not NOT_REPORTING & codes


async def test_invite_all_skips_the_leadership_and_councils(db: Database) -> None:
    await load_files(db, EXAMPLES / "units-lang-son.yaml", EXAMPLES / "units-khanh-hoa.yaml")
    async with db.read() as session:
        lang_son = await unit_by_code(session, "VP")
        assert lang_son is not None
        missing = {
            u.code for u in await units_without_active_focal(session, lang_son.organization_id)
        }
        everywhere = {u.code for u in await units_without_active_focal(session)}
    assert missing == REPORTING
    assert not {"KH_LDS", "KH_HDTDKT"} & everywhere and "KH_VP" in everywhere
    # A leader joined to the leadership changes nothing; a focal point takes its unit off.
    codes = [
        (await issue_invite(db, "LDS", Role.LEADER, NOW), 1),
        (await issue_invite(db, "HCTP", Role.FOCAL, NOW), 2),
    ]
    for code, user in codes:
        async with db.write() as session:
            joined = await redeem_invite(
                session,
                code,
                telegram_user_id=user,
                chat_id=user,
                full_name=f"U{user}",
                username=None,
                now=NOW,
            )
        assert joined.outcome is Redeemed.JOINED
    async with db.read() as session:
        after = {
            u.code for u in await units_without_active_focal(session, lang_son.organization_id)
        }
    assert after == REPORTING - {"HCTP"}


async def test_chosen_units_never_include_the_leadership_or_a_council(db: Database) -> None:
    """An announcement whose chosen units name the leadership (a forged button, a group that
    holds it) goes to the units that report only, in the preview and in the scheduler."""
    await load_files(db, EXAMPLES / "units-lang-son.yaml")
    async with db.read() as session:
        units = await all_units(session)
        by_code = {u.code: u for u in units}
        org = by_code["VP"].organization_id
        chosen = [by_code[c].id for c in ("LDS", "HDTDKT", "HCTP")]
        reached = await audience_units(session, org, Audience.UNITS, chosen, None)
        announcement = Announcement(
            organization_id=org, audience=Audience.UNITS, unit_ids=chosen, campaign_id=None
        )
        codes = await audience_codes(session, announcement, units)
        every = Announcement(organization_id=org, audience=Audience.ALL, unit_ids=[])
        all_codes = await audience_codes(session, every, units)
    assert [u.code for u in reached] == ["HCTP"] and codes == ["HCTP"]
    assert set(all_codes) == REPORTING


PLAN = """\
organization: STP-LS
plan:
  year: 2026
  title: Kế hoạch thử nghiệm
  tasks:
    - {no: 1, quarter: 1, content: Việc của Văn phòng và Hội đồng, units: [VP, HDTDKT]}
    - {no: 2, quarter: 1, content: Việc riêng của Hội đồng sáng kiến, units: [HDSK],
       due: 2026-02-20}
    - {no: 3, quarter: 1, content: Việc của mọi đơn vị, units: [LDS, ALL], due: 2026-02-20}
"""


async def test_a_task_of_a_council_is_nobody_s_progress_and_never_reminded(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN, encoding="utf-8")
    await load_files(db, EXAMPLES / "units-lang-son.yaml", path)
    async with db.read() as session:
        vp = await unit_by_code(session, "VP")
        hdsk = await unit_by_code(session, "HDSK")
        assert vp is not None and hdsk is not None
        plan = await plan_for_year(session, 2026, vp.organization_id)
        assert plan is not None
        statuses = {
            s.no: {u.code for u in s.responsible} for s in await plan_progress(session, plan.id)
        }
        council_tasks = await unit_tasks(session, plan.id, hdsk.id)
        snapshot = await load_snapshot(session, TZ)
    assert statuses == {1: {"VP"}, 2: set(), 3: REPORTING}
    assert council_tasks == []
    facts = {t.no: set(t.unit_codes) for t in snapshot.tasks}
    assert facts == statuses


async def test_the_office_sees_a_council_s_own_task_as_theirs_not_as_0_of_0(
    sandbox: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    clock.set_local("2026-02-10 09:00")
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN, encoding="utf-8")
    await load_files(sandbox.db, path)
    lan = await join(sandbox, 7801, "Lan", "VP", Role.OFFICE)
    screen = (await lan.say("/nhiemvu")).text
    own = screen[screen.index("NV 2") :].split("\n\n")[0]
    assert "việc của lãnh đạo, hội đồng" in own and " 0/0 đơn vị" not in screen
    assert "1/1 đơn vị" not in own
