"""Storage and loading on SQLite and PostgreSQL: migrations, idempotent loads, one-time invites."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, select

from bot.datafiles import apply, read_files
from storage.db import Database
from storage.invites import Redeemed, redeem_invite
from storage.models import Member, Organization, Role, Unit
from storage.state import BOT_USERNAME, get_state, set_state
from storage.units import unit_by_code, units_without_active_focal
from tests.support.clock import TZ
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import issue_invite

NOW = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


async def unit_count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Unit)) or 0)


async def redeem(db: Database, code: str, user_id: int, now: datetime) -> Redeemed:
    """What `/start CODE` from this account would get at that instant."""
    async with db.write() as session:
        result = await redeem_invite(
            session,
            code,
            telegram_user_id=user_id,
            chat_id=user_id,
            full_name=f"U{user_id}",
            username=None,
            now=now,
        )
        return result.outcome


async def test_migrating_twice_is_harmless(db: Database) -> None:
    await db.migrate()
    await db.migrate()
    assert await unit_count(db) == 0


async def test_two_instances_starting_together_both_store_the_username(db: Database) -> None:
    """Each instance writes the bot's username at start-up. The second writer must wait for
    the first and replace its value, not fail on the key the first has not committed yet."""

    asked = asyncio.Event()

    def on_statement(*_: object) -> None:
        asked.set()

    async def second() -> None:
        async with db.write() as session:
            await set_state(session, BOT_USERNAME, "second_bot")

    async with db.write() as session:
        await set_state(session, BOT_USERNAME, "first_bot")
        # From here on every statement is the second writer's; its first (BEGIN IMMEDIATE on
        # SQLite, the upsert on PostgreSQL) has to wait for this transaction to end.
        event.listen(db.engine.sync_engine, "before_cursor_execute", on_statement)
        racing = asyncio.create_task(second())
        await asyncio.wait_for(asked.wait(), 10)  # the second writer is now waiting on the first
    await racing
    event.remove(db.engine.sync_engine, "before_cursor_execute", on_statement)
    async with db.read() as session:
        assert await get_state(session, BOT_USERNAME) == "second_bot"


async def test_loading_the_example_units_twice_changes_nothing(db: Database) -> None:
    load, errors = read_files([EXAMPLES / "units-lang-son.yaml"])
    assert errors == []
    async with db.write() as session:
        first = await apply(session, load, TZ, NOW)
    async with db.write() as session:
        second = await apply(session, load, TZ, NOW)
    assert len(first.units.added) == 12
    assert second.units.added == [] and second.units.updated == []
    assert len(second.units.unchanged) == 12
    async with db.read() as session:
        vp = await unit_by_code(session, "VP")
        assert vp is not None
        organization = await session.get_one(Organization, vp.organization_id)
    assert vp is not None and vp.name == "Văn phòng Sở"
    assert organization.name == "Sở Tư pháp tỉnh Lạng Sơn"


async def test_a_changed_file_updates_in_place(db: Database, tmp_path: Path) -> None:
    await load_files(db, EXAMPLES / "units-lang-son.yaml")
    changed = tmp_path / "units.yaml"
    changed.write_text(
        "organization: Sở Tư pháp tỉnh Lạng Sơn\nunits:\n"
        "  - {code: VP, name: Văn phòng Sở Tư pháp, kind: phong}\n",
        encoding="utf-8",
    )
    await load_files(db, changed)
    async with db.read() as session:
        vp = await unit_by_code(session, "VP")
    assert vp is not None and vp.name == "Văn phòng Sở Tư pháp"
    assert await unit_count(db) == 12  # units missing from the file are kept


async def test_a_failed_load_writes_nothing(db: Database, tmp_path: Path) -> None:
    good = EXAMPLES / "units-lang-son.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "organization: X\nunits:\n"
        "  - {code: A1, name: Một, kind: phong}\n"
        "  - {code: A1, name: Hai, kind: phong}\n"
        "  - {code: all, name: Ba, kind: phong}\n"
        "  - {code: B2, name: Bốn, kind: cuc}\n",
        encoding="utf-8",
    )
    _, errors = read_files([good, bad])
    messages = [str(e) for e in errors]
    assert any("bad.yaml" in m and "units[2] (A1)" in m and "code" in m for m in messages)
    assert any("units[3] (all)" in m and "code" in m for m in messages)
    assert any("units[4] (B2)" in m and "kind" in m and "khac" in m for m in messages)
    assert await unit_count(db) == 0


async def test_yaml_syntax_and_unknown_documents_are_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("units: [\n  - code: VP\n", encoding="utf-8")
    other = tmp_path / "other.yaml"
    other.write_text("something: else\n---\n- a list\n", encoding="utf-8")
    _, errors = read_files([broken, other, tmp_path / "missing.yaml"])
    text = "\n".join(str(e) for e in errors)
    assert "broken.yaml: dòng" in text
    assert text.count("other.yaml: tài liệu") == 2
    assert "missing.yaml" in text and "không tìm thấy" in text


async def test_an_invite_binds_once_even_when_two_people_race(db: Database) -> None:
    await load_files(db, EXAMPLES / "units-lang-son.yaml")
    code = await issue_invite(db, "TGPL", Role.FOCAL, NOW)
    later = NOW + timedelta(minutes=1)
    outcomes = await asyncio.gather(redeem(db, code, 11, later), redeem(db, code, 12, later))
    assert sorted(outcomes) == sorted([Redeemed.JOINED, Redeemed.USED])
    async with db.read() as session:
        members = list(await session.scalars(select(Member)))
    assert len(members) == 1


async def test_invite_expires_after_fourteen_days(db: Database) -> None:
    await load_files(db, EXAMPLES / "units-lang-son.yaml")
    code = await issue_invite(db, "VP", Role.OFFICE, NOW)
    assert await redeem(db, code, 1, NOW + timedelta(days=14)) is Redeemed.EXPIRED


async def test_rebinding_moves_the_member_and_units_without_focal_are_listed(db: Database) -> None:
    await load_files(db, EXAMPLES / "units-lang-son.yaml")
    first = await issue_invite(db, "VP", Role.FOCAL, NOW)
    second = await issue_invite(db, "HCTP", Role.FOCAL, NOW)
    for code in (first, second):
        assert await redeem(db, code, 7, NOW) is Redeemed.JOINED
    async with db.read() as session:
        hctp = await unit_by_code(session, "HCTP")
        assert hctp is not None
        member = await session.scalar(select(Member).where(Member.telegram_user_id == 7))
        missing = {u.code for u in await units_without_active_focal(session)}
    assert member is not None and member.unit_id == hctp.id
    # Nine units report (not LDS, HDTDKT, HDSK); HCTP now has its focal point.
    assert "HCTP" not in missing and "VP" in missing and len(missing) == 8
