"""Backup and restore of a SQLite deployment: the database and the stored files, one archive.

The database is copied with SQLite's online backup API, so the snapshot is consistent even
while the bot writes. Stored files are content-addressed and never change once written, so
the files the snapshot references can be copied after it without a lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

FORMAT = "thidua-backup-1"
DB_NAME = "thidua.db"
MANIFEST = "manifest.json"
MIGRATIONS = Path(__file__).parent / "migrations"


class BackupError(Exception):
    """A backup or restore that cannot be done; `reason` names why (for the operator's line)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class BackupSummary:
    """What an archive holds."""

    created_at: str
    files: int
    bytes: int
    tables: dict[str, int]
    # Restored: the archive's schema is older than this code's; the next start migrates it.
    older_schema: bool = False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _snapshot(database: Path, target: Path) -> None:
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()


def _counts(database: Path) -> tuple[dict[str, int], list[str]]:
    conn = sqlite3.connect(database)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        paths = (
            [row[0] for row in conn.execute("SELECT path FROM stored_files")]
            if "stored_files" in tables
            else []
        )
        return counts, paths
    finally:
        conn.close()


def _check_database(database: Path, tables: dict[str, int]) -> bool:
    """An archive's database, checked before it replaces anything: SQLite's integrity check
    passes, every table holds the rows the manifest counted, and its schema revision is one
    this code knows. Returns whether that revision is older than the newest (then the next
    start migrates it); a database that fails is a BackupError."""
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            verdict = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if verdict != ["ok"]:
                raise BackupError("database_damaged")
            counts, _ = _counts(database)
            version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:  # not a database at all, or unreadable pages
        message = str(exc)
        if "no such table: alembic_version" in message:
            raise BackupError("schema_missing") from None
        raise BackupError("database_damaged") from None
    if counts != tables:
        raise BackupError("database_damaged")
    if len(version) != 1:
        raise BackupError("schema_missing")
    revision = str(version[0][0])
    head, known = _revisions()
    if revision not in known:
        raise BackupError("schema_newer", revision)
    return revision != head


def _revisions() -> tuple[str | None, set[str]]:
    """This code's newest schema revision, and every revision it knows."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return script.get_current_head(), {r.revision for r in script.walk_revisions()}


def backup_sqlite(database: Path, files_dir: Path, out: Path) -> BackupSummary:
    """Write a .tar.gz holding a consistent copy of the database and every stored file."""
    if not database.exists():
        raise BackupError("no_database", str(database))
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = Path(tmp) / DB_NAME
        _snapshot(database, snapshot)
        counts, paths = _counts(snapshot)
        files: dict[str, dict[str, object]] = {}
        for relative in paths:
            source = (files_dir / relative).resolve()
            if not source.is_relative_to(files_dir.resolve()) or not source.exists():
                raise BackupError("missing_file", relative)
            files[relative] = {"sha256": _sha256(source), "size": source.stat().st_size}
        created = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = {"format": FORMAT, "created_at": created, "tables": counts, "files": files}
        (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".part")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(Path(tmp) / MANIFEST, arcname=MANIFEST)
            archive.add(snapshot, arcname=DB_NAME)
            for relative in paths:
                archive.add(files_dir / relative, arcname=f"files/{relative}")
        os.replace(partial, out)  # a crash mid-way never leaves a half archive under the name
    size = sum(int(f["size"]) for f in files.values())  # type: ignore[call-overload]
    return BackupSummary(created, len(files), size, counts)


def restore_sqlite(
    archive_path: Path, database: Path, files_dir: Path, *, force: bool
) -> BackupSummary:
    """Put an archive's database and files in place, after checking the database itself
    (integrity, row counts, schema revision) and every file's hash: nothing is replaced
    unless all of it is right."""
    if database.exists() and database.stat().st_size > 0 and not force:
        raise BackupError("database_exists", str(database))
    try:
        archive = tarfile.open(archive_path, "r:gz")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError("not_a_backup", str(exc)) from None
    with archive, tempfile.TemporaryDirectory() as tmp:
        try:
            manifest = json.loads(archive.extractfile(MANIFEST).read())  # type: ignore[union-attr]
        except (KeyError, AttributeError, ValueError) as exc:
            raise BackupError("not_a_backup", str(exc)) from None
        if manifest.get("format") != FORMAT:
            raise BackupError("not_a_backup", str(manifest.get("format")))
        archive.extractall(tmp, filter="data")  # refuses absolute paths and links outside
        staged = Path(tmp)
        if not (staged / DB_NAME).is_file():
            raise BackupError("not_a_backup", DB_NAME)
        older = _check_database(staged / DB_NAME, dict(manifest["tables"]))
        for relative, facts in manifest["files"].items():
            path = staged / "files" / relative
            if not path.exists() or _sha256(path) != facts["sha256"]:
                raise BackupError("damaged", relative)
        database.parent.mkdir(parents=True, exist_ok=True)
        for relative in manifest["files"]:
            target = files_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.replace(staged / "files" / relative, target)
        for suffix in ("-wal", "-shm"):  # a stale log must not be replayed over the new file
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        os.replace(staged / DB_NAME, database)
    files = manifest["files"]
    return BackupSummary(
        manifest["created_at"],
        len(files),
        sum(int(f["size"]) for f in files.values()),
        dict(manifest["tables"]),
        older_schema=older,
    )
