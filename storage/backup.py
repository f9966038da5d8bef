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
    """Put an archive's database and files in place, after checking every file's hash."""
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
    )
