"""Zalo as a second channel, through both emulators and the real Application (PRODUCT §12):
a focal point on Zalo only receives every push once; a member on both channels gets each
push once on each chosen channel; linking by invite or link code; `kenh`; a Zalo user who
left; the delivery report per channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.emulator.sandbox import Person, Sandbox
from bot.emulator.zalo import ZaloEmulator, ZaloUser
from messages import render
from messages.plain import ZALO_MAX_TEXT, plain_parts, units
from scheduler.outgoing import MAX_ZALO_PARTS, zalo_parts
from storage.campaigns import campaign_by_code
from storage.models import Channel, Member, OutboxMessage, OutboxStatus, PushTo, ReviewState, Role
from storage.nominees import active_awards, add_nominee
from storage.review_decisions import decide
from storage.units import unit_by_code
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import issue_invite, join


@pytest.fixture
async def box(database_url: str, tmp_path: Path, clock: Clock) -> AsyncIterator[Sandbox]:
    """Lạng Sơn before the 2026 launch (15/01 08:00), the bot with its Zalo channel."""
    sandbox = Sandbox(
        database_url=database_url, files_dir=tmp_path / "files", clock=clock, zalo=ZaloEmulator()
    )
    await sandbox.db.migrate()
    clock.set_local("2026-01-10 09:00")
    await load_files(
        sandbox.db,
        EXAMPLES / "units-lang-son.yaml",
        EXAMPLES / "plan-2026-lang-son.yaml",
        EXAMPLES / "campaign-lang-son-2026.yaml",
    )
    async with sandbox:
        yield sandbox


def zalo(box: Sandbox) -> ZaloEmulator:
    assert box.zalo is not None
    return box.zalo


async def on_zalo(box: Sandbox, name: str, unit: str, role: Role = Role.FOCAL) -> ZaloUser:
    """A person who joined `unit` on Zalo with a fresh invite code."""
    user = zalo(box).user(name=name)
    code = await issue_invite(box.db, unit, role, box.clock())
    answer = await box.zalo_say(user, f"  {code.lower()} ")
    assert "Bạn đã tham gia" in answer[0], answer
    return user


async def push_round(box: Sandbox, clock: Clock, local: str) -> None:
    clock.set_local(local)
    await box.tick()
    await box.deliver()


def count(messages: list[str], needle: str) -> int:
    return sum(needle in m for m in messages)


def plain_within_limit(messages: list[str]) -> None:
    for text in messages:
        assert 1 <= units(text) <= ZALO_MAX_TEXT
        assert "<b>" not in text and "&amp;" not in text and "&lt;" not in text


async def test_a_focal_point_on_zalo_only_gets_every_push_once(box: Sandbox, clock: Clock) -> None:
    minh = await on_zalo(box, "Minh", "HCTP")
    lan = await on_zalo(box, "Lan", "VP", Role.OFFICE)  # the office on Zalo only too
    office = await join(box, 5004, "Hoa", "VP", Role.OFFICE)

    await push_round(box, clock, "2026-01-10 09:05")  # the quarter's tasks
    assert count(minh.messages, "Nhiệm vụ thi đua quý I/2026") == 1
    await push_round(box, clock, "2026-01-15 08:05")  # the launch
    assert count(minh.messages, "📣 Phát động") == 1
    assert count(minh.messages, "Hạn đăng ký thi đua: 15/03/2026") == 1
    await push_round(box, clock, "2026-03-12 08:00")  # a reminder: not registered yet
    assert count(minh.messages, "chưa đăng ký thi đua") == 1
    await push_round(box, clock, "2026-03-16 08:00")  # the office's digest, on Telegram
    assert any("Quá hạn 15/03/2026" in m.text for m in office.messages)
    assert count(lan.messages, "Quá hạn 15/03/2026") == 1
    assert count(lan.messages, "📣 Phát động") == 1  # the launch reaches the office too
    plain_within_limit(lan.messages)

    before = list(minh.messages)
    clock.set_local("2026-03-16 08:01")  # another tick: nothing twice
    assert await box.tick() == 0
    await box.deliver()
    assert minh.messages == before
    plain_within_limit(minh.messages)
    # The next step said in Zalo's words, no Telegram command to type there.
    launch = next(m for m in minh.messages if "📣 Phát động" in m)
    assert "Telegram" in launch

    answer = await box.zalo_say(minh, "Hồ sơ")
    plain_within_limit(answer)
    assert "/start" not in answer[0]


async def test_results_reach_a_unit_on_zalo(
    database_url: str, tmp_path: Path, clock: Clock
) -> None:
    async with Sandbox(
        database_url=database_url, files_dir=tmp_path / "f", clock=clock, zalo=ZaloEmulator()
    ) as sandbox:
        clock.set_local("2025-11-01 09:00")
        await load_files(
            sandbox.db,
            EXAMPLES / "units-ngoai-vu-lang-son.yaml",
            EXAMPLES / "campaign-ngoai-vu-2025.yaml",
            EXAMPLES / "results-ngoai-vu-2025.yaml",
        )
        hoa = await on_zalo(sandbox, "Hoa", "NV_HTQT")
        await push_round(sandbox, clock, "2025-11-10 08:00")
        pushed = [m for m in hoa.messages if "Kết quả thi đua, khen thưởng" in m]
        assert len(pushed) == 1 and "Nguyễn Văn An" in pushed[0]
        assert "Trần Thị Bình" not in pushed[0]  # another unit's
        assert "Nguyễn Văn An" in "\n".join(await sandbox.zalo_say(hoa, "ketqua"))
        plain_within_limit(hoa.messages)


async def link_by_kenh(box: Sandbox, person: Person, user: ZaloUser) -> None:
    """`/kenh` on Telegram gives a link code; sent on Zalo, it links the account."""
    screen = await person.say("/kenh")
    assert "chưa liên kết Zalo" in screen.text
    given = await person.press(screen.last, "🔗 Lấy mã liên kết Zalo")
    code = given.text.split("Mã liên kết Zalo của bạn: ")[1].split()[0]
    answer = await box.zalo_say(user, code)
    assert "Đã liên kết Zalo" in answer[0], answer
    await box.deliver()  # the Telegram notice of the link
    assert "vừa được liên kết với bạn" in person.messages[-1].text


async def test_a_member_on_both_channels_gets_each_push_once_on_each(
    box: Sandbox, clock: Clock
) -> None:
    ha = await join(box, 5002, "Hà", "TGPL", Role.FOCAL)
    ha_zalo = zalo(box).user(name="Hà")
    await link_by_kenh(box, ha, ha_zalo)
    screen = await ha.say("/kenh")
    assert "Nơi nhận thông báo: cả Telegram và Zalo" in screen.text  # linked to receive there
    chosen = await ha.press(screen.last, "Telegram")
    assert "Đã lưu" in chosen.text and "Nơi nhận thông báo: Telegram" in chosen.text
    chosen = await ha.press(chosen.last, "Cả hai")
    assert "Đã lưu" in chosen.text and "cả Telegram và Zalo" in chosen.text

    await push_round(box, clock, "2026-01-15 08:05")
    assert sum("📣 Phát động" in m.text for m in ha.messages) == 1
    assert count(ha_zalo.messages, "📣 Phát động") == 1

    # On Zalo: only Zalo from now on; the next push reaches Telegram no more.
    assert "Đã lưu" in (await box.zalo_say(ha_zalo, "kênh zalo"))[0]
    await push_round(box, clock, "2026-03-12 08:00")
    assert count(ha_zalo.messages, "chưa đăng ký thi đua") == 1
    assert sum("chưa đăng ký thi đua" in m.text for m in ha.messages) == 0
    async with box.db.read() as session:
        rows = (await session.execute(select(OutboxMessage.channel, OutboxMessage.key))).all()
    keys = [key for _, key in rows]
    assert len(keys) == len(set(keys))  # one row per key: never twice on one channel


async def test_the_invite_code_already_used_on_telegram_links_zalo(box: Sandbox) -> None:
    code = await issue_invite(box.db, "BTTP", Role.FOCAL, box.clock())
    tu = box.person(5003, "Tú")
    assert "Xin chào" in (await tu.say(f"/start {code}")).text
    first = zalo(box).user(name="Tú")
    assert "Đã liên kết Zalo" in (await box.zalo_say(first, code))[0]
    assert "đã được liên kết" in (await box.zalo_say(first, code))[0]  # again: already
    other = zalo(box).user(name="Người lạ")
    assert "đã được liên kết với một tài khoản Zalo khác" in (await box.zalo_say(other, code))[0]
    # The link can be taken away from Telegram, and the stranger is still nobody.
    screen = await tu.say("/kenh")
    gone = await tu.press(screen.last, "Bỏ liên kết Zalo")
    assert "Đã bỏ liên kết Zalo" in gone.text
    assert "mã mời" in (await box.zalo_say(first, "hoso"))[0]  # not linked any more


async def test_strangers_and_bad_input_on_zalo(box: Sandbox) -> None:
    stranger = zalo(box).user(name="Ai đó")
    for text in ("hoso", "x" * 10_000, "😀" * 3_000, "/start", "kenh zalo"):
        answer = await box.zalo_say(stranger, text)
        assert len(answer) == 1 and "mã mời" in answer[0]
        plain_within_limit(answer)
    for _ in range(4):
        assert "không đúng" in (await box.zalo_say(stranger, "ABCDEFGHJK"))[0]
    assert "thử lại sau" in (await box.zalo_say(stranger, "ABCDEFGHJK"))[0]
    assert "chỉ đọc tin nhắn chữ" in (await box.zalo_say(stranger, None))[0]  # a picture
    minh = await on_zalo(box, "Minh", "HCTP")
    assert "/nophoso" in (await box.zalo_say(minh, None))[0]
    for text in ("dangky", "/nophoso", "xin chào", "x" * 10_000, "kenh telegram"):
        answer = await box.zalo_say(minh, text)
        assert answer and all(units(a) <= ZALO_MAX_TEXT for a in answer)
    async with box.db.read() as session:
        member = await session.scalar(select(Member).where(Member.zalo_name == "Minh"))
    assert member is not None and member.push_to is PushTo.ZALO  # no Telegram to choose


async def test_a_zalo_user_who_left_is_handled_like_a_blocked_one(
    box: Sandbox, clock: Clock
) -> None:
    office = await join(box, 5004, "Lan", "VP", Role.OFFICE)
    minh = await on_zalo(box, "Minh", "HCTP")
    ha = await join(box, 5002, "Hà", "TGPL", Role.FOCAL)
    ha_zalo = zalo(box).user(name="Hà")
    await link_by_kenh(box, ha, ha_zalo)
    await ha.press((await ha.say("/kenh")).last, "Zalo")
    minh.left = ha_zalo.left = True

    await push_round(box, clock, "2026-01-10 09:05")  # the quarter's tasks: both refused
    await push_round(box, clock, "2026-01-10 09:06")  # the office told, once
    told = [m.text for m in office.messages if "đã chặn" in m.text or "(Zalo)" in m.text]
    assert len(told) == 1 and "Minh (Zalo)" in told[0] and "Hà (Zalo)" in told[0]
    async with box.db.read() as session:
        members = {m.full_name: m for m in await session.scalars(select(Member))}
        blocked = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.BLOCKED,
                OutboxMessage.channel == Channel.ZALO,
            )
        )
    assert blocked is not None
    assert members["Minh"].active is False  # on Zalo only: no channel left
    assert members["Hà"].active and members["Hà"].push_to is PushTo.TELEGRAM
    await push_round(box, clock, "2026-01-15 08:05")  # the launch goes to Hà on Telegram
    assert sum("📣 Phát động" in m.text for m in ha.messages) == 1
    assert count(minh.messages, "📣 Phát động") == 0


async def test_the_broadcast_report_gives_figures_per_channel(box: Sandbox, clock: Clock) -> None:
    office = await join(box, 5004, "Lan", "VP", Role.OFFICE)
    await join(box, 5001, "Minh", "HCTP", Role.FOCAL)
    on_zalo_only = await on_zalo(box, "Hà", "TGPL")
    left = await on_zalo(box, "Tú", "BTTP")
    left.left = True
    await office.say("/thongbao")
    audience = await office.say("Họp giao ban thi đua lúc 14:00 & <đúng giờ>.")
    preview = await office.press(audience.last, "🏢 Tất cả đơn vị")
    await office.press(preview.last, "📤 Gửi ngay")
    await box.tick()
    await box.deliver()
    assert count(on_zalo_only.messages, "Họp giao ban thi đua lúc 14:00 & <đúng giờ>.") == 1
    await box.tick()
    await box.deliver()
    report = next(m.text for m in office.messages if "Báo cáo gửi thông báo" in m.text)
    assert "Đã gửi: 2 · Bị chặn: 1" in report
    assert "Telegram: đã gửi 1" in report and "Zalo: đã gửi 1, bị chặn 1" in report
    assert "Tú (Phòng Bổ trợ tư pháp) (Zalo)" in report or "Tú (" in report


@pytest.mark.parametrize("lines", [1, 40, 2_000])
def test_a_push_of_hostile_size_is_at_most_six_zalo_messages(lines: int) -> None:
    rendered = "\n".join(
        f"• Đơn vị {n}: {'Tên rất dài 😀 ' * 20}&amp; &lt;x&gt;" for n in range(lines)
    )
    parts = zalo_parts(rendered)
    assert 1 <= len(parts) <= MAX_ZALO_PARTS
    plain_within_limit(parts)
    if len(plain_parts(rendered)) > MAX_ZALO_PARTS:
        assert "phần nữa" in parts[-1] and "Telegram" in parts[-1]
    else:
        assert parts == plain_parts(rendered)


async def test_a_returned_dossier_is_told_on_each_member_s_channel(box: Sandbox) -> None:
    minh = await join(box, 5001, "Minh", "HCTP", Role.FOCAL)
    thao = await on_zalo(box, "Thảo", "HCTP")  # the same unit, on Zalo only
    assert box.app is not None and box.app.bot_data.runtime is not None
    runtime = box.app.bot_data.runtime
    async with box.db.write() as session:
        campaign = await campaign_by_code(session, "STP-LS-2026")
        unit = await unit_by_code(session, "HCTP")
        assert campaign is not None and unit is not None
        award = next(a for a in await active_awards(session, campaign.id) if a.code == "GK-CN")
        nominee = await add_nominee(
            session,
            campaign_id=campaign.id,
            unit_id=unit.id,
            name="Nguyễn Văn An",
            award=award,
            by=1,
            now=box.clock(),
        )
        assert nominee is not None
        decision = await decide(
            session,
            nominee.id,
            ReviewState.RETURNED,
            by=1,
            now=box.clock(),
            note="Thiếu chữ ký & dấu",
            notice=lambda n, c: render("review/told_returned", nominee=n, campaign=c, note="x"),
            fan_out=runtime.fan_out(),
        )
    assert decision is not None and decision.told == 2
    await box.deliver()
    assert sum("cần bổ sung" in m.text and "/nophoso;" in m.text for m in minh.messages) == 1
    told = [m for m in thao.messages if "cần bổ sung" in m]
    assert len(told) == 1 and "lệnh /nophoso trên Telegram" in told[0]
    plain_within_limit(told)


async def test_a_telegram_block_leaves_a_member_on_zalo(box: Sandbox, clock: Clock) -> None:
    ha = await join(box, 5002, "Hà", "TGPL", Role.FOCAL)
    ha_zalo = zalo(box).user(name="Hà")
    await link_by_kenh(box, ha, ha_zalo)  # pushes to both from now on
    ha.user.block()
    await push_round(box, clock, "2026-01-10 09:05")  # the quarter's tasks: Telegram refuses
    assert count(ha_zalo.messages, "Nhiệm vụ thi đua quý I/2026") == 1
    async with box.db.read() as session:
        member = await session.scalar(select(Member).where(Member.telegram_user_id == 5002))
    assert member is not None and member.active and member.push_to is PushTo.ZALO
    await push_round(box, clock, "2026-01-15 08:05")  # the launch: Zalo only, no retry there
    assert count(ha_zalo.messages, "📣 Phát động") == 1
    async with box.db.read() as session:
        launch_rows = (
            await session.scalars(
                select(OutboxMessage.channel).where(OutboxMessage.kind == "launch")
            )
        ).all()
    assert list(launch_rows) == [Channel.ZALO]


async def test_forged_kenh_buttons_change_nothing(box: Sandbox, sandbox: Sandbox) -> None:
    ha = await join(box, 5002, "Hà", "TGPL", Role.FOCAL)
    screen = (await ha.say("/kenh")).last
    for data in ("kn:z", "kn:b", "kn:nonsense", "kn:", "kn:code:999"):
        forged = await ha.press_data(screen, data)
        assert forged.alert is not None or "Mã liên kết" in forged.text, data
    async with box.db.read() as session:
        member = await session.scalar(select(Member).where(Member.telegram_user_id == 5002))
    assert member is not None and member.push_to is PushTo.TELEGRAM  # no Zalo: no choice
    # Without a Zalo channel on the server, /kenh says so and takes no press at all.
    lan = await join(sandbox, 5003, "Lan", "HCTP", Role.FOCAL)
    plain = await lan.say("/kenh")
    assert "chưa bật kênh Zalo" in plain.text and not plain.last.button_texts()
    assert (await lan.press_data(plain.last, "kn:code")).alert is not None
