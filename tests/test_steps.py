"""A campaign's own steps (`deadlines:`): the unit's in /nhiemvu with a button each, their
marks, the office's progress, the reminders they stop, and one organisation's apart from
another's (PRODUCT §5 Plan tasks, §6.1 campaigns, §7)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from storage.models import CampaignDeadline, DeadlineProgress, Role, Unit
from storage.steps import (
    organization_campaign_steps,
    set_step_done,
    step_for_unit,
    unit_campaign_steps,
)
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import join

NOT_YOURS = "Việc này không thuộc đơn vị của bạn hoặc không còn hiệu lực."
STEP = "Báo cáo sơ kết phong trào"


async def step_ids(sandbox: Sandbox) -> dict[str, int]:
    async with sandbox.db.read() as session:
        rows = await session.execute(select(CampaignDeadline.code, CampaignDeadline.id))
        return {code: step_id for code, step_id in rows}


async def unit_ids(sandbox: Sandbox) -> dict[str, int]:
    async with sandbox.db.read() as session:
        return {
            code: unit_id for code, unit_id in await session.execute(select(Unit.code, Unit.id))
        }


async def marks(sandbox: Sandbox) -> list[tuple[str, str]]:
    async with sandbox.db.read() as session:
        rows = await session.execute(
            select(CampaignDeadline.code, Unit.code)
            .join(DeadlineProgress, DeadlineProgress.deadline_id == CampaignDeadline.id)
            .join(Unit, Unit.id == DeadlineProgress.unit_id)
            .order_by(CampaignDeadline.code, Unit.code)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_storage_knows_whose_step_it_is(documents: Sandbox) -> None:
    steps, units = await step_ids(documents), await unit_ids(documents)
    now = datetime(2026, 1, 10, 2, tzinfo=UTC)
    before_launch = datetime(2026, 1, 4, tzinfo=UTC)
    async with documents.db.write() as session:
        (campaign,) = await unit_campaign_steps(session, units["HCTP"], now)
        mine = {s.code: s.mine for s in campaign.steps}
        assert mine == {"BCSK": True, "BCQ1": True, "DS": False, "TH": False}
        assert await unit_campaign_steps(session, units["XDKTVB"], now) == []  # not in it
        assert await step_for_unit(session, steps["BCSK"], units["HCTP"], now) is not None
        assert await step_for_unit(session, steps["DS"], units["HCTP"], now) is None
        assert await step_for_unit(session, steps["DS"], units["BTTP"], now) is not None
        assert await step_for_unit(session, steps["TH"], units["VP"], now) is None  # office's
        assert await step_for_unit(session, steps["BCSK"], units["XDKTVB"], now) is None
        assert await step_for_unit(session, steps["BCSK"], units["HCTP"], before_launch) is None
        assert await step_for_unit(session, 99999, units["HCTP"], now) is None

        await set_step_done(session, steps["BCSK"], units["HCTP"], True, 1, now)
        await set_step_done(session, steps["BCSK"], units["HCTP"], True, 1, now)  # twice: one
        await set_step_done(session, steps["DS"], units["BTTP"], True, 1, now)
        (office,) = await organization_campaign_steps(session, 1)
        progress = {
            s.code: (len(s.done_unit_ids), len(s.responsible), s.office) for s in office.steps
        }
        assert progress == {
            "BCSK": (1, 3, False),
            "BCQ1": (0, 3, False),
            "DS": (1, 1, False),
            "TH": (0, 0, True),
        }
        assert await organization_campaign_steps(session, 1, before_launch) == []
    assert await marks(documents) == [("BCSK", "HCTP"), ("DS", "BTTP")]
    async with documents.db.write() as session:
        await set_step_done(session, steps["BCSK"], units["HCTP"], False, 1, now)
    assert await marks(documents) == [("DS", "BTTP")]


async def test_a_unit_marks_its_step_and_the_office_sees_it(documents: Sandbox) -> None:
    minh = await join(documents, 3201, "Minh", "HCTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    # The step counted from the registration deadline (20/01) in working days: 27/01.
    assert f"{STEP} · hạn 27/01/2026 · ⏳ Chưa hoàn thành" in screen.text
    assert "Báo cáo kết quả quý I · trong tháng 03/2026" in screen.text
    assert "Phòng Bổ trợ tư pháp" not in screen.text  # BTTP's step
    assert "Tổng hợp hồ sơ" not in screen.text  # the office's step
    label = f"✅ Đã hoàn thành: {STEP} (27/01)"
    steps = await step_ids(documents)
    assert screen.last.button_data(label) == f"nv:sd:{steps['BCSK']}"
    assert all(
        len((d or "").encode()) <= 64
        for d in map(screen.last.button_data, screen.last.button_texts())
    )

    pressed = await minh.press(screen.last, label)
    assert pressed.alert == f"Đã đánh dấu hoàn thành: {STEP}."
    edited = minh.messages[-1]
    assert f"{STEP} · hạn 27/01/2026 · ✅ Đã hoàn thành 10/01/2026" in edited.text
    assert f"↩️ Chưa hoàn thành: {STEP} (27/01)" in edited.button_texts()
    assert await marks(documents) == [("BCSK", "HCTP")]

    lan = await join(documents, 3202, "Lan", "VP", Role.OFFICE)
    office = (await lan.say("/nhiemvu")).text
    assert f"{STEP} · hạn 27/01/2026 · 1/3 đơn vị hoàn thành" in office
    assert "Chưa hoàn thành: BTTP, VP" in office
    assert "Danh sách đề nghị của Phòng Bổ trợ tư pháp · trước ngày 10/03/2026 · 0/1" in office
    assert "Tổng hợp hồ sơ" not in office  # in /lich, with no progress of units

    undone = await minh.press(edited, f"↩️ Chưa hoàn thành: {STEP} (27/01)")
    assert undone.alert == f"Đã bỏ đánh dấu: {STEP}."
    assert await marks(documents) == []


async def test_another_units_step_or_the_offices_cannot_be_marked(documents: Sandbox) -> None:
    minh = await join(documents, 3203, "Minh", "HCTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    steps = await step_ids(documents)
    for data in (
        f"nv:sd:{steps['DS']}",  # BTTP's
        f"nv:su:{steps['DS']}",
        f"nv:sd:{steps['TH']}",  # the office's
        "nv:sd:99999",
        "nv:sd:abc",
        f"nv:sd:{steps['BCSK']}:1",
    ):
        assert (await minh.press_data(screen.last, data)).alert == NOT_YOURS, data
    outsider = await join(documents, 3204, "Hà", "XDKTVB", Role.FOCAL)  # not in the campaign
    assert (await outsider.press_data(screen.last, f"nv:sd:{steps['BCSK']}")).alert == NOT_YOURS
    lan = await join(documents, 3205, "Lan", "VP", Role.OFFICE)
    assert (await lan.press_data(screen.last, f"nv:sd:{steps['BCSK']}")).alert
    assert await marks(documents) == []
    # The page buttons are checked too.
    for data in ("nv:p:5:0", "nv:p:1", "nv:p:x:0"):
        assert (await minh.press_data(screen.last, data)).alert


async def test_a_marked_step_is_not_reminded(documents: Sandbox, clock: Clock) -> None:
    minh = await join(documents, 3206, "Minh", "HCTP", Role.FOCAL)
    binh = await join(documents, 3207, "Bình", "BTTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    await minh.press(screen.last, f"✅ Đã hoàn thành: {STEP} (27/01)")
    seen = len(minh.messages), len(binh.messages)
    clock.set_local("2026-01-20 08:05")  # 7 days before the step
    await documents.tick()
    await documents.deliver()
    assert any(STEP in m.text for m in binh.messages[seen[1] :])
    assert minh.messages[seen[0] :]  # the registration deadline's reminder, say
    # The launch names the step among the campaign's dates; no reminder of it comes.
    reminders = [m for m in minh.messages[seen[0] :] if not m.text.startswith("📣")]
    assert not any(STEP in m.text for m in reminders)


OTHER_CAMPAIGN = """\
organization: SNGV-LS
campaign:
  code: SNGV-2026
  title: Phong trào thi đua của Sở Ngoại vụ năm 2026
  kind: thuong_xuyen
  start: 2026-01-01
  end: 2026-12-31
  launch_at: 2026-01-05 08:00
  deadlines:
    - {code: BCNV, title: Báo cáo đối ngoại quý I, due: 2026-02-15}
    - {code: THNV, title: Văn phòng Sở Ngoại vụ tổng hợp, after: BCNV, days: 3, who: office}
"""


@pytest.fixture
async def two_bodies(documents: Sandbox, tmp_path: Path) -> Sandbox:
    """The test documents of Sở Tư pháp, and Sở Ngoại vụ with a campaign of its own."""
    other = tmp_path / "other.yaml"
    other.write_text(OTHER_CAMPAIGN, encoding="utf-8")
    await load_files(documents.db, EXAMPLES / "units-ngoai-vu-lang-son.yaml", other)
    return documents


async def test_each_office_sees_its_own_organisations_steps(two_bodies: Sandbox) -> None:
    lan = await join(two_bodies, 3208, "Lan", "VP", Role.OFFICE)
    justice = (await lan.say("/lich")).text + (await lan.say("/nhiemvu")).text
    assert "Báo cáo đối ngoại" not in justice and "Ngoại vụ" not in justice
    assert STEP in justice

    an = await join(two_bodies, 3209, "An", "NV_VP", Role.OFFICE)
    foreign = (await an.say("/lich")).text
    assert "Báo cáo đối ngoại quý I" in foreign
    assert "Việc của Văn phòng Sở: Văn phòng Sở Ngoại vụ tổng hợp" in foreign  # 18/02
    assert STEP not in foreign and "TD-2026" not in foreign
    progress = (await an.say("/nhiemvu")).text
    assert "Báo cáo đối ngoại quý I · hạn 15/02/2026 · 0/" in progress
    assert STEP not in progress

    binh = await join(two_bodies, 3210, "Bình", "NV_QLBG", Role.FOCAL)
    screen = await binh.say("/nhiemvu")
    assert "Báo cáo đối ngoại quý I · hạn 15/02/2026" in screen.text
    assert STEP not in screen.text
    # A step of the other body's campaign is not this unit's.
    steps = await step_ids(two_bodies)
    assert (await binh.press_data(screen.last, f"nv:sd:{steps['BCSK']}")).alert == NOT_YOURS
