"""A campaign's dossiers as one ZIP: a folder per unit and nominee, a manifest, checksums.

Everything is streamed into the caller's file object one blob at a time, so an export of
hundreds of 20 MB files never sits in memory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from messages.exports.words import export_words

log = logging.getLogger(__name__)

_WORDS = export_words("dossier_archive")

MANIFEST_NAME = "manifest.csv"
SUMS_NAME = "SHA256SUMS"
MANIFEST_HEADER: tuple[str, ...] = tuple(_WORDS["manifest_header"])
# Formats that are compressed already: deflating them again costs CPU and saves nothing.
_STORED_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".odt", ".ods"})

MAX_NAME_CHARS = 120
# 255 bytes is the file name limit of ext4 and most Linux file systems; a Vietnamese
# letter is up to 3 bytes in UTF-8, so 120 characters alone could overflow it.
MAX_NAME_BYTES = 240
_FOLDER_CHARS = 80  # folders are shorter so unit/nominee/file stays under Windows' MAX_PATH
_FALLBACK_NAME: str = _WORDS["fallback_name"]
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
    | {"COM¹", "COM²", "COM³", "LPT¹", "LPT²", "LPT³"}
)
# Control, format (e.g. the right-to-left override that makes "gpj.exe" read as "exe.jpg"),
# surrogate, private-use and line/paragraph separator characters.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_EXT = re.compile(r"^\.[0-9A-Za-z]{1,10}$")
_DOTS = re.compile(r"\.{2,}")
_SPACES = re.compile(r"\s+")
_SAME_EXT = frozenset({(".jpeg", ".jpg"), (".jpe", ".jpg"), (".jfif", ".jpg")})
_CHUNK = 1 << 20
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # ZIP timestamps cannot be earlier
# Excel runs a cell starting with these as a formula; names come from users.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """One uploaded file to put in the dossier ZIP."""

    unit_code: str
    unit_name: str
    nominee: str | None  # None for a unit-level document (e.g. the meeting minutes)
    document: str  # the required document's name, or the words for any other document
    original_name: str  # the name the user's file had (untrusted)
    path: Path  # absolute path of the stored blob
    sha256: str
    size: int
    uploaded_at: datetime  # local, naive
    uploaded_by: str
    # The name to give the file in the ZIP (a safe one made by the caller); None: the
    # original name, made safe. The manifest keeps the original name either way.
    file_name: str | None = None


def safe_name(original: str, *, max_chars: int = MAX_NAME_CHARS) -> str:
    """A file name safe on Windows, macOS and Linux; Vietnamese letters and extension kept."""
    name = unicodedata.normalize("NFC", original)
    # Tabs, newlines, no-break and other odd spaces first become one space, so words stay apart.
    name = _SPACES.sub(" ", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = _WINDOWS_FORBIDDEN.sub("_", name)
    # With no separators left ".." cannot climb, but it still reads like it and some tools balk.
    name = _DOTS.sub(".", name)
    # Leading dots hide files; Windows silently drops trailing dots and spaces.
    name = name.lstrip(". ").rstrip(". ")
    stem, ext = _split_ext(name)
    return _fit(stem or _FALLBACK_NAME, ext, max_chars)


def _split_ext(name: str) -> tuple[str, str]:
    """The name and its extension, when the part after the last dot looks like one."""
    dot = name.rfind(".")
    if dot > 0 and _EXT.match(name[dot:]):
        return name[:dot].rstrip(" "), name[dot:]
    return name, ""


def _fit(stem: str, ext: str, max_chars: int, suffix: str = "") -> str:
    """stem + suffix + ext, the stem cut so the whole fits in characters and UTF-8 bytes."""
    room = max_chars - len(suffix) - len(ext)
    stem = stem[: max(room, 1)]
    while len(f"{stem}{suffix}{ext}".encode()) > MAX_NAME_BYTES and len(stem) > 1:
        stem = stem[:-1]
    stem = stem.rstrip(". ") or _FALLBACK_NAME
    # Windows reserves these whatever the extension ("CON.pdf", "nul.tar.gz"); checked after
    # cutting, since "CON.x y z" cut short could become one.
    if not suffix and stem.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        longer = f"_{stem}{ext}"
        too_long = len(longer) > max_chars or len(longer.encode()) > MAX_NAME_BYTES
        stem = "_" + (stem[:-1] if too_long else stem)
    return f"{stem}{suffix}{ext}"


class _Folder:
    """The names taken in one folder of the ZIP, compared as Windows and macOS do."""

    def __init__(self) -> None:
        self._taken: dict[str, str | None] = {}  # casefolded name -> sha256 (None: a folder)

    def claim(self, name: str, sha256: str | None, max_chars: int) -> tuple[str, bool]:
        """A free name like `name` (with " (2)"...), and whether it is new.

        The same content under the same name in one folder is written once and shared.
        """
        stem, ext = _split_ext(name)
        candidate, n = name, 1
        while True:
            key = candidate.casefold()
            if key not in self._taken:
                self._taken[key] = sha256
                return candidate, True
            if sha256 is not None and self._taken[key] == sha256:
                return candidate, False
            n += 1
            candidate = _fit(stem, ext, max_chars, f" ({n})")


_Place = tuple[str, _Folder]  # a folder's path inside the ZIP ("" or ending in "/"), its names


def build_dossier_zip(
    campaign_code: str, campaign_title: str, entries: Sequence[ArchiveEntry], out: BinaryIO
) -> None:
    """Write the campaign's dossier files, manifest.csv and SHA256SUMS as a ZIP into `out`."""
    root = _Folder()
    root.claim(MANIFEST_NAME, None, MAX_NAME_CHARS)
    root.claim(SUMS_NAME, None, MAX_NAME_CHARS)
    folders: dict[tuple[str, ...], _Place] = {}

    def folder(key: tuple[str, ...], label: str, parent: _Place) -> _Place:
        if key not in folders:
            wanted = safe_name(label, max_chars=_FOLDER_CHARS)
            name, _ = parent[1].claim(wanted, None, _FOLDER_CHARS)
            folders[key] = (f"{parent[0]}{name}/", _Folder())
        return folders[key]

    rows: list[list[str]] = []
    sums: list[tuple[str, str]] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for e in entries:
            unit_key = (e.unit_code, e.unit_name)
            where = folder(unit_key, f"{e.unit_code} - {e.unit_name}", ("", root))
            if e.nominee is not None:
                where = folder((*unit_key, e.nominee), e.nominee, where)
            wanted = _with_real_ext(safe_name(e.file_name or e.original_name), e.path.suffix)
            name, new = where[1].claim(wanted, e.sha256, MAX_NAME_CHARS)
            arcname = where[0] + name
            if new:
                _add_file(zf, arcname, e)
                sums.append((e.sha256, arcname))
            rows.append(
                [
                    e.unit_name,
                    e.unit_code,
                    e.nominee or "",
                    e.document,
                    e.original_name,
                    arcname,
                    str(e.size),
                    e.sha256,
                    e.uploaded_at.strftime("%Y-%m-%d %H:%M:%S"),
                    e.uploaded_by,
                ]
            )
        manifest = _manifest(rows)
        zf.writestr(_info(MANIFEST_NAME, datetime.now()), manifest)
        sums.append((hashlib.sha256(manifest).hexdigest(), MANIFEST_NAME))
        lines = "".join(f"{digest}  {path}\n" for digest, path in sums)
        zf.writestr(_info(SUMS_NAME, datetime.now()), lines.encode())
        # Say which campaign this is in the archive itself (zip -z / 7-Zip show it).
        zf.comment = f"{campaign_code} - {campaign_title}".encode()[:0xFFFF]


def _with_real_ext(name: str, real: str) -> str:
    """`name` ending in the stored kind's extension, so a double click opens the right program.

    Names without an extension get it; so do names whose extension lies about the content
    (the kind was judged by content on upload), e.g. "hoso.pdf" holding a DOCX.
    """
    stem, ext = _split_ext(name)
    real = real.lower()
    if not real or ext.lower() == real or (ext.lower(), real) in _SAME_EXT:
        return name
    return _fit(f"{stem}{ext}", real, MAX_NAME_CHARS)


def _info(arcname: str, when: datetime) -> zipfile.ZipInfo:
    """A ZIP member header dated `when` (never before 1980, which ZIP cannot hold)."""
    stamp = max(when.timetuple()[:6], _ZIP_EPOCH)
    info = zipfile.ZipInfo(arcname, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16  # readable files when unpacked on Linux and macOS
    return info


def _add_file(zf: zipfile.ZipFile, arcname: str, entry: ArchiveEntry) -> None:
    """Copy one stored blob into the ZIP in chunks, checking its bytes against its hash."""
    info = _info(arcname, entry.uploaded_at)
    if entry.path.suffix.lower() in _STORED_SUFFIXES:
        info.compress_type = zipfile.ZIP_STORED
    info.file_size = entry.path.stat().st_size  # lets zipfile pick ZIP64 for huge members
    digest = hashlib.sha256()
    with entry.path.open("rb") as src, zf.open(info, "w") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
    if digest.hexdigest() != entry.sha256:
        # Keep the recorded hash in SHA256SUMS so `sha256sum -c` exposes the damaged file,
        # rather than failing the whole export over one blob.
        log.warning("blob %s does not match its recorded SHA-256 %s", entry.path, entry.sha256)


def _manifest(rows: list[list[str]]) -> bytes:
    """manifest.csv as UTF-8 with a BOM, which Excel needs to read Vietnamese correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(MANIFEST_HEADER)
    writer.writerows([[_cell(value) for value in row] for row in rows])
    return buf.getvalue().encode("utf-8-sig")


def _cell(value: str) -> str:
    """The value, quoted with an apostrophe when Excel would run it as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value
