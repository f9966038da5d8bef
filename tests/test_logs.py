"""No personal data in the logs (PRODUCT §8): a database error logs neither the names, the job
titles nor the Telegram ids of the data it was about, in its message, its arguments or its
traceback."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.emulator.sandbox import Sandbox
from handlers import status as handlers_status
from storage.db import Database
from storage.models import Member, Role, Unit
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import join

TELEGRAM_ID = 987_654_321
NAME = "Lò Thị Kín Đáo"
PERSON = "Hoàng Văn Riêng Tư"
JOB = "Phó Chánh Văn phòng"
TITLE = "Tập thể lao động tiên tiến"


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record's message, arguments and formatted traceback, as one text."""
    formatter = logging.Formatter()
    parts = []
    for record in caplog.records:
        if record.name.startswith("bot.emulator"):
            continue  # the emulator stands in for Telegram: its log is not the bot's
        parts += [record.getMessage(), repr(record.args)]
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
    return "\n".join(parts)


async def test_a_unique_violation_logs_no_personal_data(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """The same Telegram account bound twice: the error, logged with its traceback as the bot
    logs a failed update, names neither the account nor the person."""
    caplog.set_level(logging.INFO)  # the bot's level (bot/cli.py)
    log = logging.getLogger("handlers.common")
    await load_files(db, EXAMPLES / "units-lang-son.yaml")
    async with db.read() as session:
        unit = await session.scalar(select(Unit).where(Unit.code == "VP"))
        assert unit is not None

    def member() -> Member:
        return Member(
            telegram_user_id=TELEGRAM_ID,
            chat_id=TELEGRAM_ID,
            unit_id=unit.id,
            role=Role.FOCAL,
            full_name=NAME,
            joined_at=datetime.now(UTC),
        )

    async with db.write() as session:
        session.add(member())
    with pytest.raises(IntegrityError) as raised:
        async with db.write() as session:
            session.add(member())
    log.error("update %s failed: %s", 1, repr(raised.value)[:500], exc_info=raised.value)
    if not db.is_sqlite:  # asyncpg quotes an argument it cannot encode: not in the log either
        with pytest.raises(DBAPIError) as refused:
            async with db.read() as session:
                await session.execute(text("SELECT CAST(:v AS BIGINT)"), {"v": NAME})
        assert "query argument" in str(refused.value)
        log.error("update %s failed: %s", 2, repr(refused.value)[:500], exc_info=refused.value)
    logged = everything_logged(caplog)
    assert "update 1 failed" in logged and "IntegrityError" in logged
    assert "parameters hidden" in logged  # SQLAlchemy says so instead of listing them
    for secret in (str(TELEGRAM_ID), NAME):
        assert secret not in logged
        assert secret not in str(raised.value)


async def test_a_failed_registration_logs_no_names_titles_or_ids(
    season: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """/dangky confirmed while the database refuses the individuals' rows: the person is told
    of an error, the log says which update failed, and holds none of the names, job titles or
    Telegram ids the failed statement carried."""
    box = season
    person = await join(box, TELEGRAM_ID, NAME, "HCTP", Role.FOCAL)
    async with box.db.write() as session:
        if box.db.is_sqlite:
            await session.execute(
                text(
                    "CREATE TRIGGER forced BEFORE INSERT ON registered_individuals "
                    "BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
                )
            )
        else:
            await session.execute(
                text(
                    "CREATE OR REPLACE FUNCTION forced() RETURNS trigger AS "
                    "$$ BEGIN RAISE EXCEPTION 'forced failure'; END $$ LANGUAGE plpgsql"
                )
            )
            await session.execute(
                text(
                    "CREATE TRIGGER forced BEFORE INSERT ON registered_individuals "
                    "FOR EACH ROW EXECUTE FUNCTION forced()"
                )
            )
    caplog.set_level(logging.INFO)  # the bot's level (bot/cli.py)
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="httpx")  # as bot/cli.py sets it
    step = await person.say("/dangky")
    await person.press(step.last, TITLE)
    summary = (await person.say(f"{PERSON}; {JOB}; CSTĐCS")).last
    failed = await person.press(summary, "✅ Xác nhận")
    assert "Có lỗi xảy ra" in failed.text
    logged = everything_logged(caplog)
    assert "forced failure" in logged and " failed: " in logged  # the failure is there
    for secret in (str(TELEGRAM_ID), NAME, PERSON, JOB):
        assert secret not in logged, secret


async def test_a_failure_whose_message_quotes_a_name_logs_where_not_what(
    season: Sandbox, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any error, not only the database's: the log says which update failed, the error's type
    and where, never its message (which may quote what someone typed)."""
    person = await join(season, 4411, "Minh", "HCTP", Role.FOCAL)

    def broken(*_args: object, **_kwargs: object) -> list[str]:
        raise ValueError(f"không đọc được người {PERSON}, {JOB}")

    monkeypatch.setattr(handlers_status, "screens", broken)
    caplog.set_level(logging.INFO)
    caplog.clear()
    reply = await person.say("/hoso")
    assert "Có lỗi xảy ra" in reply.text
    logged = everything_logged(caplog)
    assert " failed: ValueError" in logged and "handlers/status.py" in logged
    assert PERSON not in logged and JOB not in logged
