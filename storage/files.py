"""Accepted dossier file types, the content-addressed store on disk, and the safe names
files are sent back under.

What a file is comes from its content alone (storage.file_checks); a stored file is named by
its hash, and a file the office receives carries a name made from the dossier it belongs to
with the extension of its real type, never the sender's.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from storage.file_checks import Checked, FileKind, Refused, check, sniff

__all__ = [
    "MIME",
    "Checked",
    "FileKind",
    "Refused",
    "StoredBlob",
    "blob_path",
    "check",
    "delivery_name",
    "read_blob",
    "sniff",
    "store_blob",
]

MIME: dict[FileKind, str] = {
    FileKind.PDF: "application/pdf",
    FileKind.DOC: "application/msword",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.XLS: "application/vnd.ms-excel",
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileKind.ODT: "application/vnd.oasis.opendocument.text",
    FileKind.ODS: "application/vnd.oasis.opendocument.spreadsheet",
    FileKind.JPG: "image/jpeg",
    FileKind.PNG: "image/png",
}


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A file kept in the store, named by its content."""

    sha256: str
    size: int
    kind: FileKind
    relative_path: str
    created: bool


def store_blob(files_dir: Path, data: bytes, kind: FileKind) -> StoredBlob:
    """Keep `data` under its SHA-256; writes nothing if the same content is already there."""
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{digest[:2]}/{digest}.{kind.value}"
    final = blob_path(files_dir, relative)
    try:
        # The name is the hash, so an existing file of the right size is this content; a
        # wrong size means it was damaged outside our control and is written afresh.
        created = final.stat().st_size != len(data)
    except FileNotFoundError:
        created = True
    if created:
        _write_atomically(final, data)
    return StoredBlob(digest, len(data), kind, relative, created)


def _write_atomically(final: Path, data: bytes) -> None:
    """Write through a temp file in the same folder so the final name never holds half a file."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, final)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(final.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open folders, and needs not."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def blob_path(files_dir: Path, relative_path: str) -> Path:
    """The absolute path of a stored file; ValueError for anything outside `files_dir`."""
    base = files_dir.resolve()
    if not relative_path or Path(relative_path).is_absolute():
        raise ValueError(f"not a relative blob path: {relative_path!r}")
    target = (base / relative_path).resolve()
    if target == base or not target.is_relative_to(base):
        raise ValueError(f"blob path escapes the files folder: {relative_path!r}")
    return target


def read_blob(files_dir: Path, relative_path: str) -> bytes:
    """The content of a stored file."""
    return blob_path(files_dir, relative_path).read_bytes()


# Names the office receives: ASCII letters, digits and hyphens only, so no system, mail
# gateway or unzip tool misreads them; short enough for any file system.
_NAME_PART = re.compile(r"[^0-9A-Za-z]+")
_NAME_CHARS = 100
_PART_CHARS = 40  # of each of unit code, nominee, document: long titles cut at a word
_SHA_PREFIX = 8


def _ascii(text: str) -> str:
    """Vietnamese folded to ASCII words joined by hyphens (diacritics and d-bar dropped)."""
    text = text.replace("\u0111", "d").replace("\u0110", "D")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NAME_PART.sub("-", folded).strip("-")


def delivery_name(
    unit_code: str, nominee: str | None, document: str | None, sha256: str, kind: FileKind
) -> str:
    """The name a stored file is sent back under: unit code, nominee and document folded to
    ASCII (e.g. "HCTP-nguyen-van-an-bao-cao-thanh-tich.pdf"), with the extension of the type
    its content was judged to be. A file of no required document (None) is told apart by the
    start of its hash; so is one whose parts fold to nothing."""
    parts = [_ascii(unit_code)[:_PART_CHARS]]
    parts += [_words(_ascii(p).lower(), _PART_CHARS) for p in (nominee, document) if p]
    if document is None or not any(parts):
        parts.append(sha256[:_SHA_PREFIX])
    stem = "-".join(p for p in parts if p)[:_NAME_CHARS].rstrip("-")
    return f"{stem}.{kind.value}"


def _words(slug: str, limit: int) -> str:
    """The slug cut to at most `limit` characters at a hyphen (a word kept whole)."""
    if len(slug) <= limit:
        return slug
    return slug[: limit + 1].rsplit("-", 1)[0] or slug[:limit]
