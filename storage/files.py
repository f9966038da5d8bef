"""Accepted dossier file types, told by content, and the content-addressed store on disk.

`sniff` never trusts a file name: a signature library (puremagic) names the family by its
magic number, and the containers it cannot tell apart (ZIP: DOCX / XLSX / ODT / ODS;
OLE2: DOC / XLS) are opened and inspected here.
"""

from __future__ import annotations

import enum
import hashlib
import io
import os
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import puremagic


class FileKind(enum.StrEnum):
    """A file type units may upload; the value is also the stored file's extension."""

    PDF = "pdf"
    DOC = "doc"
    DOCX = "docx"
    XLS = "xls"
    XLSX = "xlsx"
    ODT = "odt"
    ODS = "ods"
    JPG = "jpg"
    PNG = "png"


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

_PDF = b"%PDF-"
# Acrobat and pdf.js find the header anywhere in the first 1024 bytes.
_PDF_LEAD = 1024
_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# ZIP guards: real office files have tens to a few hundred members; a crafted central
# directory with millions would make zipfile spend seconds building its member list.
_ZIP_MAX_MEMBERS = 10_000
_EOCD = b"PK\x05\x06"
_EOCD_MIN = 22
_EOCD_SEARCH = _EOCD_MIN + 0xFFFF  # the record plus the longest possible comment
_ODF_MIMETYPE_MAX = 100
_ODF: dict[bytes, FileKind] = {
    b"application/vnd.oasis.opendocument.text": FileKind.ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": FileKind.ODS,
}

# CFB (OLE2) constants, [MS-CFB] 2.1-2.6.
_MAXREGSECT = 0xFFFFFFFA
_NOSTREAM = 0xFFFFFFFF
_DIR_ENTRY = 128
_HEADER_DIFAT = 109
_ROOT_STORAGE = 5
_STREAM = 2
# More directory entries than any real document; stops loops in crafted sibling trees.
_OLE_MAX_DIR_SECTORS = 4096
_WORD_STREAMS = frozenset({"WORDDOCUMENT"})
_EXCEL_STREAMS = frozenset({"WORKBOOK", "BOOK"})  # "Book": BIFF5 (Excel 5/95)


def sniff(data: bytes) -> FileKind | None:
    """The accepted kind of `data` judged by its content, or None when not accepted."""
    family = _family(data)
    if family is FileKind.PDF or family is FileKind.JPG or family is FileKind.PNG:
        return family
    if family == "zip":
        return _zip_kind(data)
    if family == "ole":
        return _ole_kind(data)
    return None


def _family(data: bytes) -> FileKind | Literal["zip", "ole"] | None:
    """What the signature library says the data is, confirmed against the exact magic."""
    if not data:
        return None
    try:
        # The library only reads a fixed-size head and tail, so 20 MB costs the same as 20 KB.
        matches = puremagic.magic_string(data)
    except (puremagic.PureError, ValueError):
        matches = []
    mimes = {m.mime_type for m in matches}
    heads = {bytes(m.byte_match) for m in matches if m.offset == 0}
    # The library may rank a lookalike first (its ZIP matches all read "docx"); only a match
    # whose exact magic we also see at offset 0 counts.
    if "image/png" in mimes and data.startswith(_PNG):
        return FileKind.PNG
    if "image/jpeg" in mimes and data.startswith(_JPEG):
        return FileKind.JPG
    if "application/pdf" in mimes and data.startswith(_PDF):
        return FileKind.PDF
    if data.startswith(_ZIP) and any(h.startswith(_ZIP) for h in heads):
        return "zip"
    if data.startswith(_OLE) and any(h.startswith(_OLE[:4]) for h in heads):
        return "ole"
    # A PDF after some junk: readers accept it, the library (offset 0 only) cannot see it.
    # Only when the library recognises nothing but PDF, so an EXE or HTML page that merely
    # mentions "%PDF-" early on is not taken for a PDF.
    if mimes <= {"application/pdf"} and _PDF in data[: _PDF_LEAD + len(_PDF)]:
        return FileKind.PDF
    return None


def _zip_kind(data: bytes) -> FileKind | None:
    """DOCX, XLSX, ODT or ODS by the members of the ZIP; None for any other ZIP."""
    if _zip_member_count(data) is None:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
            if not members:
                return None
            first = members[0]
            if first.filename == "mimetype":
                # ODF requires the first member stored, so readers can find it at byte 38.
                if first.compress_type != zipfile.ZIP_STORED:
                    return None
                if first.file_size > _ODF_MIMETYPE_MAX:
                    return None
                return _ODF.get(zf.read(first).strip())
            names = {m.filename for m in members}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        return None
    except (KeyError, NotImplementedError, RuntimeError):
        # A missing, oddly compressed or encrypted member: not a document we accept.
        return None
    if "[Content_Types].xml" not in names:
        return None
    word = "word/document.xml" in names
    excel = "xl/workbook.xml" in names
    if word and not excel:
        return FileKind.DOCX
    if excel and not word:
        return FileKind.XLSX
    return None


def _zip_member_count(data: bytes) -> int | None:
    """Members declared by the end-of-central-directory record; None if absent or too many."""
    tail_start = max(0, len(data) - _EOCD_SEARCH)
    at = data.rfind(_EOCD, tail_start)
    if at < 0 or at + _EOCD_MIN > len(data):
        return None
    (total,) = struct.unpack_from("<H", data, at + 10)
    # 0xFFFF means "see the ZIP64 record": no document needs that many members.
    if total > _ZIP_MAX_MEMBERS:
        return None
    return int(total)


def _ole_kind(data: bytes) -> FileKind | None:
    """DOC or XLS by the streams at the root of an OLE2 compound file; None otherwise."""
    try:
        names = _ole_root_streams(data)
    except (struct.error, ValueError, IndexError):
        return None
    if names & _WORD_STREAMS:
        return FileKind.DOC
    if names & _EXCEL_STREAMS:
        return FileKind.XLS
    return None


def _ole_root_streams(data: bytes) -> set[str]:
    """Upper-cased names of the streams directly under the root storage.

    Only the root counts: an Excel file with an embedded Word object holds a
    "WordDocument" stream too, but inside a sub-storage.
    """
    if len(data) < 512:
        return set()
    (major, byte_order, shift) = struct.unpack_from("<HHH", data, 0x1A)
    if byte_order != 0xFFFE or (major, shift) not in ((3, 9), (4, 12)):
        return set()
    size = 1 << shift
    n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
    first_difat, n_difat = struct.unpack_from("<II", data, 0x44)
    n_sectors = (len(data) - size) // size if len(data) > size else 0
    # No file can need more FAT sectors than it has sectors; caps the loops below.
    n_fat = min(n_fat, n_sectors)
    per_sector = size // 4

    def sector(sid: int) -> bytes:
        if sid > _MAXREGSECT or sid >= n_sectors:
            raise ValueError("sector out of range")
        start = (sid + 1) * size
        return data[start : start + size]

    fat_sids = list(struct.unpack_from(f"<{_HEADER_DIFAT}I", data, 0x4C))
    difat_sid, seen_difat = first_difat, 0
    while len(fat_sids) < n_fat and difat_sid <= _MAXREGSECT and seen_difat < min(n_difat, 1 << 16):
        block = struct.unpack(f"<{per_sector}I", sector(difat_sid))
        fat_sids.extend(block[:-1])
        difat_sid, seen_difat = block[-1], seen_difat + 1
    fat_sids = fat_sids[:n_fat]

    def next_sid(sid: int) -> int:
        fat_index, slot = divmod(sid, per_sector)
        if fat_index >= len(fat_sids):
            raise ValueError("sector beyond the FAT")
        (value,) = struct.unpack_from("<I", sector(fat_sids[fat_index]), slot * 4)
        return int(value)

    directory = bytearray()
    sid, visited = first_dir, set[int]()
    while sid <= _MAXREGSECT and len(visited) < _OLE_MAX_DIR_SECTORS:
        if sid in visited:  # a cycle in the FAT
            break
        visited.add(sid)
        directory += sector(sid)
        sid = next_sid(sid)
    n_entries = len(directory) // _DIR_ENTRY

    def entry(i: int) -> tuple[str, int, int, int, int]:
        base = i * _DIR_ENTRY
        name_len, kind = struct.unpack_from("<HB", directory, base + 64)
        left, right, child = struct.unpack_from("<III", directory, base + 68)
        name_len = min(name_len, 64)
        name = bytes(directory[base : base + max(0, name_len - 2)]).decode("utf-16-le", "replace")
        return name, kind, left, right, child

    if n_entries == 0:
        return set()
    _, root_kind, _, _, root_child = entry(0)
    if root_kind != _ROOT_STORAGE:
        return set()
    # The root's children form a red-black tree linked by left/right sibling ids.
    found: set[str] = set()
    stack, seen = [root_child], set[int]()
    while stack:
        i = stack.pop()
        if i == _NOSTREAM or i >= n_entries or i in seen:
            continue
        seen.add(i)
        name, kind, left, right, _ = entry(i)
        if kind == _STREAM:
            found.add(name.upper())
        stack += (left, right)
    return found


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
