"""thiduabot backup and restore: a consistent snapshot while the bot writes, restored whole."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from messages import render_text
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


def rewritten(archive: Path, out: Path, change: Callable[[Path], None]) -> Path:
    """A copy of a real backup whose database was changed by `change` (the manifest and the
    files as they were, so that only the database itself can tell)."""
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "thidua.db"
        with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as target:
            for member in source.getmembers():
                data = source.extractfile(member)
                payload = data.read() if data else b""
                if member.name == "thidua.db":
                    database.write_bytes(payload)
                    change(database)
                    payload = database.read_bytes()
                member.size = len(payload)
                target.addfile(member, io.BytesIO(payload))
    return out


def flip_bytes(database: Path) -> None:
    """Bytes flipped in the header of every page after the first (the b-tree pages)."""
    data = bytearray(database.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for start in range(page, len(data), page):
        for i in range(start, start + 12):
            data[i] ^= 0xFF
    database.write_bytes(bytes(data))


def set_revision(revision: str) -> Callable[[Path], None]:
    def change(database: Path) -> None:
        conn = sqlite3.connect(database)
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        conn.commit()
        conn.close()

    return change


async def test_a_damaged_database_is_refused_and_the_live_one_keeps_working(
    tmp_path: Path,
) -> None:
    """A real backup whose database had bytes flipped (every file's hash still right): restore
    says so in one Vietnamese line, exits non-zero, and the database in place still works."""
    db, database, files, _ = await seeded(tmp_path)
    await db.dispose()
    live = {"DATABASE_URL": f"sqlite+aiosqlite:///{database}", "FILES_DIR": str(files)}
    code, _, err = await thiduabot(tmp_path, "backup", "--out", str(tmp_path / "b.tar.gz"), **live)
    assert code == 0, err
    before = database.read_bytes()
    damaged = rewritten(tmp_path / "b.tar.gz", tmp_path / "damaged.tar.gz", flip_bytes)
    code, out, err = await thiduabot(tmp_path, "restore", str(damaged), "--force", **live)
    assert code == 2 and out == "", out
    assert err.strip() == (
        "Không thực hiện được: cơ sở dữ liệu trong bản sao lưu bị hỏng, không qua được kiểm tra "
        "toàn vẹn; cơ sở dữ liệu hiện tại được giữ nguyên."
    )
    assert database.read_bytes() == before  # untouched
    code, out, err = await thiduabot(
        tmp_path, "due", "--from", "2026-03-01", "--to", "2026-03-31", **live
    )
    assert code == 0 and "Traceback" not in err, err  # the live database still answers
    again = Database(f"sqlite+aiosqlite:///{database}")
    async with again.read() as session:
        assert await session.scalar(select(func.count()).select_from(Unit)) == 12
    await again.dispose()


async def test_the_schema_revision_of_an_archive_is_checked(tmp_path: Path) -> None:
    """Newer than this code (unknown revision): refused, nothing replaced. Older: restored,
    and the operator is told the next start migrates it. None at all: refused."""
    db, database, files, _ = await seeded(tmp_path)
    await db.dispose()
    archive = tmp_path / "b.tar.gz"
    backup_sqlite(database, files, archive)
    target, target_files = tmp_path / "x" / "t.db", tmp_path / "x" / "f"

    newer = rewritten(archive, tmp_path / "newer.tar.gz", set_revision("9999_from_the_future"))
    with pytest.raises(BackupError) as refused:
        restore_sqlite(newer, target, target_files, force=False)
    assert refused.value.reason == "schema_newer" and not target.exists()
    line = render_text("cli/backup_error", reason="schema_newer", detail="9999_from_the_future")
    assert "phiên bản bot mới hơn" in line and len(line.splitlines()) == 1

    def no_revision(database: Path) -> None:
        conn = sqlite3.connect(database)
        conn.execute("DELETE FROM alembic_version")
        conn.commit()
        conn.close()

    bare = rewritten(archive, tmp_path / "bare.tar.gz", no_revision)
    with pytest.raises(BackupError) as refused:
        restore_sqlite(bare, target, target_files, force=False)
    assert refused.value.reason in {"schema_missing", "database_damaged"} and not target.exists()

    first = "0001"
    older = rewritten(archive, tmp_path / "older.tar.gz", set_revision(first))
    conn = sqlite3.connect(database)
    (head,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    conn.close()
    assert head != first
    summary = restore_sqlite(older, target, target_files, force=False)
    assert (
        summary.older_schema
        and not restore_sqlite(archive, target, target_files, force=True).older_schema
    )
    text = render_text("cli/restore_done", path=target, summary=summary, created="09:00 10/02/2026")
    assert "sẽ được nâng cấp tự động khi bot khởi động" in text
