"""/nhiemvu and /lich through the emulator (PRODUCT §5 Plan tasks, Calendar)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.sandbox import Sandbox
from storage.models import PlanTask, Role, TaskProgress
from tests.conftest import EXAMPLES, Clock, load_files
from tests.test_registration import join


@pytest.fixture
async def season(sandbox: Sandbox, clock: Clock) -> Sandbox:
    """10/02/2026 with the 2026 plan (19 tasks, Q1 = 1–6) and campaign loaded."""
    clock.set_local("2026-02-10 09:00")
    await load_files(
        sandbox.db, EXAMPLES / "plan-2026-lang-son.yaml", EXAMPLES / "campaign-lang-son-2026.yaml"
    )
    return sandbox


async def progress_rows(sandbox: Sandbox) -> list[tuple[int, int]]:
    async with sandbox.db.read() as session:
        rows = await session.execute(
            select(PlanTask.no, TaskProgress.unit_id).join(
                TaskProgress, TaskProgress.task_id == PlanTask.id
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_focal_marks_a_task_done_and_takes_it_back(season: Sandbox) -> None:
    minh = await join(season, 3001, "Minh", "HCTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    # HCTP is one of "các phòng, đơn vị": Q1 tasks 1, 4, 5 and 6 (2 and 3 are LDS and VP only).
    assert "Nhiệm vụ quý I/2026" in screen.text
    assert [b for b in screen.last.button_texts()] == [
        "✅ Xong NV 1",
        "✅ Xong NV 4",
        "✅ Xong NV 5",
        "✅ Xong NV 6",
    ]
    assert "NV 2 " not in screen.text

    pressed = await minh.press(screen.last, "✅ Xong NV 4")
    assert pressed.alert == "Đã đánh dấu hoàn thành NV 4."
    assert "✅ Đã hoàn thành 10/02/2026" in minh.messages[-1].text  # the same message, edited
    assert "↩️ Chưa xong NV 4" in minh.messages[-1].button_texts()
    assert [no for no, _ in await progress_rows(season)] == [4]

    undone = await minh.press(minh.messages[-1], "↩️ Chưa xong NV 4")
    assert undone.alert == "Đã bỏ đánh dấu NV 4."
    assert await progress_rows(season) == []


async def test_another_units_task_cannot_be_marked(season: Sandbox) -> None:
    minh = await join(season, 3002, "Minh", "HCTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    async with season.db.read() as session:
        vp_only = await session.scalar(select(PlanTask.id).where(PlanTask.no == 2))
    for data in (f"nv:d:{vp_only}", "nv:d:99999", "nv:x:1", "nv:d:abc"):
        forged = await minh.press_data(screen.last, data)
        assert (
            forged.alert == "Nhiệm vụ này không thuộc đơn vị của bạn hoặc không còn trong kế hoạch."
        )
    assert await progress_rows(season) == []
    # An office user pressing a unit's button is refused too.
    lan = await join(season, 3003, "Lan", "VP", Role.OFFICE)
    assert (await lan.press_data(screen.last, screen.last.button_data("✅ Xong NV 1") or "")).alert


async def test_office_sees_per_task_progress_and_other_quarters(season: Sandbox) -> None:
    minh = await join(season, 3004, "Minh", "HCTP", Role.FOCAL)
    screen = await minh.say("/nhiemvu")
    await minh.press(screen.last, "✅ Xong NV 1")
    lan = await join(season, 3005, "Lan", "VP", Role.OFFICE)

    progress = await lan.say("/nhiemvu")
    # The seed writes only "Quý I" for this task: no date of its own, so no overdue digest.
    assert "NV 1 · trong quý I · 1/12 đơn vị hoàn thành" in progress.text
    assert "NV 2 · trong quý I · 0/2 đơn vị hoàn thành" in progress.text
    assert "Chưa xong: LDS, VP" in progress.text
    assert progress.last.buttons == []
    q4 = await lan.say("/nhiemvu quý IV")
    assert "quý IV/2026" in q4.text and "NV 19" in q4.text
    assert "Cú pháp" in (await lan.say("/nhiemvu 5")).text


async def test_no_plan_for_the_year(season: Sandbox, clock: Clock) -> None:
    clock.set_local("2027-01-05 09:00")
    minh = await join(season, 3006, "Minh", "HCTP", Role.FOCAL)
    assert "Chưa có kế hoạch thi đua, khen thưởng năm 2027" in (await minh.say("/nhiemvu")).text


async def test_calendar_lists_coming_deadlines_nearest_first(season: Sandbox) -> None:
    minh = await join(season, 3007, "Minh", "HCTP", Role.FOCAL)
    lines = (await minh.say("/lich")).text.splitlines()
    dated = [line for line in lines if "/2026 (" in line]
    assert dated[0].startswith("🗓 15/03/2026 (Chủ nhật) · còn 33 ngày, 18 ngày làm việc")
    assert "Hạn đăng ký thi đua" in lines[lines.index(dated[0]) + 1]
    days = [line.split()[1] for line in dated]
    assert days == sorted(days, key=lambda d: tuple(reversed(d.split("/"))))

    lan = await join(season, 3008, "Lan", "VP", Role.OFFICE)
    office = (await lan.say("/lich")).text
    assert "toàn Sở" in office and "Hạn nộp hồ sơ khen thưởng" in office
