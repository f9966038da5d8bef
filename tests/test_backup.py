"""thiduabot backup and restore: a consistent snapshot while the bot writes, restored whole."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import tarfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from storage.backup import BackupError, backup_sqlite, restore_sqlite
from storage.db import Database
from storage.files import FileKind, store_blob
from storage.models import OutboxMessage, StoredFile, Unit
from storage.outbox import Outgoing, enqueue
from storage.uploads import stored_file_for
from tests.support.cli import thiduabot
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES

NOW = datetime(2026, 2, 10, 2, 0, tzinfo=UTC)


async def seeded(tmp_path: Path) -> tuple[Database, Path, Path, dict[str, bytes]]:
    database, files = tmp_path / "live" / "thidua.db", tmp_path / "live" / "files"
    db = Database(f"sqlite+aiosqlite:///{database}")
    await db.migrate()
    await load_files(db, EXAMPLES / "units-lang-son.yaml", EXAMPLES / "plan-2026-lang-son.yaml")
    contents = {}
    async with db.write() as session:
        for i in range(20):
            data = b"%PDF-1.4\n" + f"ho so {i}".encode() + b"\n%%EOF\n"
            blob = store_blob(files, data, FileKind.PDF)
            await stored_file_for(
                session,
                sha256=blob.sha256,
                size=blob.size,
                kind="pdf",
                path=blob.relative_path,
                now=NOW,
            )
            contents[blob.relative_path] = data
    return db, database, files, contents


async def test_backup_while_writing_then_restore(tmp_path: Path) -> None:
    db, database, files, contents = await seeded(tmp_path)
    stop, writing = asyncio.Event(), asyncio.Event()

    async def keep_writing() -> int:
        n = 0
        while not stop.is_set():
            async with db.write() as session:
                await enqueue(session, [Outgoing(f"k{n}", "p", "x", 1, "t", NOW)], NOW)
            n += 1
            writing.set()
            await asyncio.sleep(0)  # a turn for the test's own task between two writes
        return n

    writer = asyncio.create_task(keep_writing())
    await asyncio.wait_for(writing.wait(), 10)  # a row committed: the backup starts mid-way
    summary = await asyncio.to_thread(backup_sqlite, database, files, tmp_path / "b.tar.gz")
    stop.set()
    written = await writer
    assert summary.files == 20 and summary.tables["units"] == 12
    assert 0 < summary.tables["outbox"] <= written  # a consistent moment mid-way

    target_db, target_files = tmp_path / "restored" / "thidua.db", tmp_path / "restored" / "files"
    restored = restore_sqlite(tmp_path / "b.tar.gz", target_db, target_files, force=False)
    assert restored.tables == summary.tables
    for relative, data in contents.items():
        assert (target_files / relative).read_bytes() == data
    conn = sqlite3.connect(target_db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == summary.tables["outbox"]
    conn.close()

    again = Database(f"sqlite+aiosqlite:///{target_db}")
    await again.migrate()
    async with again.read() as session:
        assert await session.scalar(select(func.count()).select_from(Unit)) == 12
        assert await session.scalar(select(func.count()).select_from(StoredFile)) == 20
        assert (
            await session.scalar(select(func.count()).select_from(OutboxMessage))
            == (summary.tables["outbox"])
        )
    await again.dispose()
    await db.dispose()


async def test_restore_refuses_to_clobber_and_checks_hashes(tmp_path: Path) -> None:
    db, database, files, _ = await seeded(tmp_path)
    await db.dispose()
    archive = tmp_path / "b.tar.gz"
    backup_sqlite(database, files, archive)
    try:
        restore_sqlite(archive, database, files, force=False)
        raise AssertionError("restored over a live database")
    except BackupError as error:
        assert error.reason == "database_exists"

    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(damaged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member)
            payload = data.read() if data else b""
            if member.name.startswith("files/"):
                payload = payload.replace(b"ho so", b"HO SO")
            member.size = len(payload)
            target.addfile(member, io.BytesIO(payload))
    try:
        restore_sqlite(damaged, tmp_path / "x" / "t.db", tmp_path / "x" / "f", force=False)
        raise AssertionError("a damaged archive was restored")
    except BackupError as error:
        assert error.reason == "damaged"


async def test_backup_and_restore_from_the_command_line(tmp_path: Path) -> None:
    db, database, files, _ = await seeded(tmp_path)
    await db.dispose()
    live = {"DATABASE_URL": f"sqlite+aiosqlite:///{database}", "FILES_DIR": str(files)}
    code, out, err = await thiduabot(
        tmp_path, "backup", "--out", str(tmp_path / "b.tar.gz"), **live
    )
    assert code == 0, err
    assert "20 tệp" in out and "12 đơn vị" in out
    code, _, err = await thiduabot(tmp_path, "restore", str(tmp_path / "b.tar.gz"), **live)
    assert code == 2 and "--force" in err and "Traceback" not in err
    code, out, err = await thiduabot(
        tmp_path, "restore", str(tmp_path / "b.tar.gz"), "--force", **live
    )
    assert code == 0 and "Đã khôi phục" in out, err
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    code, _, err = await thiduabot(
        tmp_path, "restore", str(tmp_path / "junk.tar.gz"), "--force", **live
    )
    assert code == 2 and "không phải bản sao lưu" in err
    code, _, err = await thiduabot(
        tmp_path,
        "backup",
        "--out",
        "x.tar.gz",
        DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    )
    assert code == 2 and "pg_dump" in err
