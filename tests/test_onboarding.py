"""Onboarding and roles, through the Bot API emulator against the real Application (§5, §10)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from telegram import Update

from bot.emulator.sandbox import Sandbox
from storage.models import Invite, Member, Role
from tests.support.databases import load_files
from tests.support.people import issue_invite


async def invite_count(sandbox: Sandbox) -> int:
    async with sandbox.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Invite)) or 0)


async def test_office_user_joins_and_sees_office_commands(sandbox: Sandbox) -> None:
    code = await issue_invite(sandbox.db, "VP", Role.OFFICE)
    lan = sandbox.person(1001, "Lan")

    reply = await lan.say(f"/start {code}")

    assert "Xin chào Lan" in reply.text
    assert "Văn phòng Sở" in reply.text
    assert "/moi" in reply.text and "/donvi" in reply.text and "/trogiup" in reply.text
    # Telegram's menu for this chat now shows the office commands.
    menu = next(v for k, v in sandbox.emulator.commands.items() if str(lan.id) in k)
    assert {c["command"] for c in menu} >= {"moi", "donvi", "trogiup"}
    async with sandbox.db.read() as session:
        member = await session.scalar(select(Member).where(Member.telegram_user_id == lan.id))
    assert member is not None and member.role is Role.OFFICE and member.active


async def test_focal_point_joins_by_plain_code_and_help_lists_only_focal_commands(
    sandbox: Sandbox,
) -> None:
    code = await issue_invite(sandbox.db, "HCTP", Role.FOCAL)
    minh = sandbox.person(2002, "Minh")

    # Typed by hand from paper: lower case, a space, no /start.
    reply = await minh.say(f"{code[:5].lower()} {code[5:].lower()}")
    assert "Phòng Hành chính tư pháp" in reply.text
    assert "đầu mối thi đua" in reply.text

    for command in ("/trogiup", "/help"):
        help_text = (await minh.say(command)).text
        assert "/trogiup" in help_text
        assert "/moi" not in help_text and "/donvi" not in help_text


async def test_wrong_used_expired_and_misshapen_codes(sandbox: Sandbox) -> None:
    used = await issue_invite(sandbox.db, "VP", Role.OFFICE)
    expired = await issue_invite(
        sandbox.db, "TGPL", Role.FOCAL, now=datetime.now(UTC) - timedelta(days=15)
    )
    first, second = sandbox.person(3001, "An"), sandbox.person(3002, "Bình")
    await first.say(f"/start {used}")

    assert "đã được sử dụng" in (await second.say(f"/start {used}")).text
    assert "hết hạn" in (await second.say(f"/start {expired}")).text
    wrong = (await second.say("/start ABCDEFGHJK")).text
    assert "không đúng" in wrong and "ABCDEFGHJK" in wrong
    shape = (await second.say("/start 12ab")).text
    assert "10 ký tự" in shape and "/start K7M2QX9PTA" in shape
    # None of those bound the second person.
    assert (
        "chưa tham gia" in (await second.say("/trogiup")).text
        or "mã mời" in (await second.say("/trogiup")).text
    )
    # The first person re-sending their own code is simply welcomed back.
    assert "Văn phòng Sở" in (await first.say(f"/start {used}")).text


async def test_repeated_wrong_codes_are_throttled_and_a_good_code_is_not_spent(
    sandbox: Sandbox,
) -> None:
    good = await issue_invite(sandbox.db, "BTTP", Role.FOCAL)
    guesser = sandbox.person(4001, "Đoán")
    replies = [(await guesser.say(f"/start ZZZZZZZZZ{c}")).text for c in "23456"]
    assert "không đúng" in replies[0]
    assert "thử lại sau" in replies[-1]

    blocked = (await guesser.say(f"/start {good}")).text
    assert "thử lại sau" in blocked and "phút" in blocked
    async with sandbox.db.read() as session:
        invite = await session.scalar(select(Invite).where(Invite.code == good))
    assert invite is not None and invite.used_at is None
    # Someone else can still use it.
    assert "Phòng Bổ trợ tư pháp" in (await sandbox.person(4002, "Hà").say(f"/start {good}")).text


async def test_unbound_user_learns_nothing(sandbox: Sandbox) -> None:
    stranger = sandbox.person(5001, "Lạ")
    for text in ("xin chào", "/donvi", "/moi VP office", "/dangky", "/hoso", "/start"):
        reply = await stranger.say(text)
        assert len(reply.messages) == 1, text
        assert "mã mời" in reply.text, text
        assert "Phòng" not in reply.text and "Đơn vị (" not in reply.text, text
    guest = (await stranger.say("/trogiup")).text
    assert "Sở Tư pháp tỉnh Lạng Sơn" in guest and "/start" in guest

    # A forged button press gets a pop-up, nothing else.
    office_code = await issue_invite(sandbox.db, "VP", Role.OFFICE)
    lan = sandbox.person(5002, "Lan")
    welcome = (await lan.say(f"/start {office_code}")).last
    forged = await stranger.press_data(welcome, "moi:VP:office")
    assert forged.alert is not None and "mã mời" in forged.alert
    assert forged.messages == []
    assert await invite_count(sandbox) == 1


async def test_focal_point_cannot_use_office_commands(sandbox: Sandbox) -> None:
    code = await issue_invite(sandbox.db, "PBGDPL", Role.FOCAL)
    focal = sandbox.person(6001, "Hoa")
    await focal.say(f"/start {code}")
    before = await invite_count(sandbox)

    refused = await focal.say("/moi VP office")
    assert "chỉ dành cho Văn phòng Sở" in refused.text
    assert await invite_count(sandbox) == before  # nothing happened
    listing = await focal.say("/donvi")
    assert "chỉ dành cho" in listing.text and "Văn phòng Sở" in listing.text
    assert "XDKTVB" not in listing.text


async def test_office_invites_from_the_chat_and_the_invitee_joins(sandbox: Sandbox) -> None:
    lan = sandbox.person(7001, "Lan")
    await lan.say(f"/start {await issue_invite(sandbox.db, 'VP', Role.OFFICE)}")

    assert "Cú pháp" in (await lan.say("/moi")).text
    assert "Cú pháp" in (await lan.say("/moi VP boss")).text
    assert "Không có đơn vị mã" in (await lan.say("/moi NOPE")).text
    created = await lan.say("/moi tgpl")
    assert "Trung tâm Trợ giúp pháp lý nhà nước" in created.text
    link = next(line for line in created.text.splitlines() if "t.me/" in line)
    code = link.rsplit("start=", 1)[1].strip()
    assert f"https://t.me/{sandbox.emulator.bot_username}?start={code}" in link

    joined = await sandbox.person(7002, "Tâm").say(f"/start {code}")
    assert "Trung tâm Trợ giúp pháp lý nhà nước" in joined.text
    units = (await lan.say("/donvi")).text
    assert "TGPL Trung tâm Trợ giúp pháp lý nhà nước: 1 đầu mối" in units
    assert "chưa có đầu mối" in units


async def test_unit_name_with_markup_characters_is_escaped(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    units = tmp_path / "units.yaml"
    units.write_text(
        "organization: Sở <Thử> & Co\n"
        "units:\n"
        "  - {code: AB, name: 'Phòng A&B <Thử nghiệm> \"1\"', kind: phong}\n",
        encoding="utf-8",
    )
    await load_files(sandbox.db, units)
    code = await issue_invite(sandbox.db, "AB", Role.FOCAL)

    reply = await sandbox.person(8001, "Tú").say(f"/start {code}")

    # The emulator parses HTML as strictly as Telegram: the message arrived, so it was valid.
    assert 'Phòng A&B <Thử nghiệm> "1"' in reply.text
    assert "Phòng A&amp;B &lt;Thử nghiệm&gt;" in (reply.last.html or "")


async def test_member_gets_short_answers_to_stray_input(sandbox: Sandbox) -> None:
    code = await issue_invite(sandbox.db, "DGTS", Role.FOCAL)
    hung = sandbox.person(9001, "Hùng")
    welcome = (await hung.say(f"/start {code}")).last

    assert "Không có lệnh" in (await hung.say("/khongco")).text
    assert "chưa hiểu" in (await hung.say("x" * 10_000)).text
    assert "Không có thao tác" in (await hung.say("/huy")).text
    stale = await hung.press_data(welcome, "dk:old:1")
    assert stale.alert is not None and "Nút này đã cũ" in stale.alert
    photo = await hung.send_photo(b"\xff\xd8\xff\xe0" + b"0" * 100)
    assert len(photo.messages) == 1


async def test_unexpected_error_answers_user_and_logs_update_id(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    code = await issue_invite(sandbox.db, "VP", Role.OFFICE)
    lan = sandbox.person(9101, "Lan")
    await lan.say(f"/start {code}")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("handlers.office_members.all_units", broken)
    with caplog.at_level(logging.ERROR):
        reply = await lan.say("/donvi")
    assert "Có lỗi xảy ra, vui lòng thử lại" in reply.text
    update_id = reply.text.rsplit("mã lỗi: ", 1)[1].rstrip(").")
    assert any(f"update {update_id} failed" in r.getMessage() for r in caplog.records)
    assert "disk on fire" not in reply.text
    assert sandbox.emulator.token not in caplog.text


async def test_an_update_delivered_twice_is_handled_once(database_url: str, tmp_path: Path) -> None:
    box = Sandbox(database_url=database_url, files_dir=tmp_path / "files", dedupe=True)
    await box.db.migrate()
    await load_files(box.db, Path(__file__).parent.parent / "examples" / "units-lang-son.yaml")
    async with box:
        code = await issue_invite(box.db, "VP", Role.OFFICE)
        lan = box.person(9201, "Lan")
        await lan.say(f"/start {code}")
        assert box.app is not None
        before = len(lan.messages)
        update = Update.de_json(
            {
                "update_id": 777_001,
                "message": {
                    "message_id": 50,
                    "date": 0,
                    "text": "/donvi",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                    "chat": {"id": 9201, "type": "private", "first_name": "Lan"},
                    "from": {"id": 9201, "is_bot": False, "first_name": "Lan"},
                },
            },
            box.app.bot,
        )
        await box.app.process_update(update)
        await box.app.process_update(update)  # the same update_id, delivered again
        assert len(lan.messages) == before + 1


async def test_start_with_a_capital_letter_joins_as_start_does(sandbox: Sandbox) -> None:
    """A phone's keyboard capitalises the first letter: /Start CODE is /start CODE."""
    code = await issue_invite(sandbox.db, "VP", Role.OFFICE)
    lan = sandbox.person(1031, "Lan")
    reply = await lan.say(f"/Start {code}")
    assert "Xin chào Lan" in reply.text
