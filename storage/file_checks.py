"""What a file is, decided by its whole content: the dossier file types units may send.

A signature only says what a file claims to be. Each accepted type is then opened by a
parser of its own: a PDF by pypdf (a trailer and a catalog), an image by Pillow (verified,
then decoded), an Office Open XML or OpenDocument file as the ZIP of its type (its parts,
every member's checksum, its XML well formed), an old Word or Excel file by olefile (its main
stream read through). On the way, anything that can run is refused: programs and scripts
behind a PDF or image signature, and Office files that carry macros or ActiveX controls.
"""

from __future__ import annotations

import enum
import io
import logging
import struct
import warnings
import xml.parsers.expat
import zipfile
from dataclasses import dataclass

import olefile
import pypdf
from PIL import Image

# pypdf warns about every oddity of a damaged file, quoting bits of it: not for the logs.
logging.getLogger("pypdf").setLevel(logging.ERROR)
# Pillow only warns about an image of over 89 megapixels (a decompression bomb): here that
# is an error, so that such an image is refused rather than decoded and logged.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


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


class Refused(enum.StrEnum):
    """Why a file's content is not accepted."""

    TYPE = "type"  # not a type units may send, or not whole as the type it claims
    MACRO = "macro"  # an Office file with macros or ActiveX controls


@dataclass(frozen=True, slots=True)
class Checked:
    """The verdict on a file: its kind when accepted, else why not."""

    kind: FileKind | None
    refused: Refused | None = None


_NOT_ACCEPTED = Checked(None, Refused.TYPE)
_MACRO = Checked(None, Refused.MACRO)

_PDF = b"%PDF-"
# Acrobat and pdf.js find the header anywhere in the first 1024 bytes; only blank bytes
# may stand before it here (a script hides its code there: "rem %PDF-" in a batch file).
_PDF_LEAD = 1024
_BLANK = b" \t\r\n\x00\x0c"
_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Programs by their first bytes: Windows (MZ), Linux (ELF), macOS (Mach-O, fat), scripts.
_PROGRAM_HEADS = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)
# What a script or program polyglot shows near either end of a PDF or an image; compared
# in lower case. No real scan, photo or PDF carries them in its first or last 4 KB.
_RUNNABLE_MARKERS = (
    b"@echo off",
    b"<script",
    b"<hta:",
    b"wscript",
    b"cscript",
    b"powershell",
    b"cmd.exe",
    b"cmd /c",
    b"vbscript",
    b"activexobject",
    b"<?php",
    b"this program cannot be run in dos mode",
    b"\x7felf",
)
_MARKER_WINDOW = 4096

# Images: decoding a 20 MB file may take far more memory than 20 MB; 64 megapixels (8000 ×
# 8000) is over any scan or photo of a document and bounds what one upload can cost.
_MAX_PIXELS = 64_000_000

# ZIP guards: real office files have tens to a few hundred members; a crafted central
# directory with millions would make zipfile spend seconds building its member list, and a
# ZIP bomb would make the checksum pass inflate gigabytes.
_ZIP_MAX_MEMBERS = 10_000
_ZIP_MAX_INFLATED = 512 * 1024 * 1024
_EOCD = b"PK\x05\x06"
_EOCD_MIN = 22
_EOCD_SEARCH = _EOCD_MIN + 0xFFFF  # the record plus the longest possible comment
_ODF_MIMETYPE_MAX = 100
_ODF: dict[bytes, FileKind] = {
    b"application/vnd.oasis.opendocument.text": FileKind.ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": FileKind.ODS,
}
# The main part of each OOXML type and the content types it may have (document or template).
_OOXML_MAIN: dict[FileKind, tuple[str, tuple[str, ...]]] = {
    FileKind.DOCX: (
        "word/document.xml",
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
        ),
    ),
    FileKind.XLSX: (
        "xl/workbook.xml",
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
        ),
    ),
}
# Member names (lower case) and content types that mean code: VBA projects, Excel 4 macro
# sheets, ActiveX controls; in OpenDocument, Basic and script libraries.
_OOXML_MACRO_NAMES = ("vbaproject.bin", "vbadata.xml")
_OOXML_MACRO_PARTS = ("/activex/", "/macrosheets/")
_OOXML_MACRO_TYPES = (b"macroenabled", b"vbaproject", b"activex", b"macrosheet", b"vbadata")
_ODF_MACRO_FOLDERS = ("basic/", "scripts/")

# OLE2 (DOC, XLS): the main stream of each type at the root, and the storages of a VBA
# project (Word keeps it in "Macros", Excel in "_VBA_PROJECT_CUR").
_OLE_MAIN: dict[str, FileKind] = {
    "WORDDOCUMENT": FileKind.DOC,
    "WORKBOOK": FileKind.XLS,
    "BOOK": FileKind.XLS,  # BIFF5 (Excel 5/95)
}
_OLE_MACRO_NAMES = frozenset({"MACROS", "_VBA_PROJECT_CUR", "VBA", "_VBA_PROJECT"})


def check(data: bytes) -> Checked:
    """The verdict on `data` judged by its whole content; never raises."""
    if not data or data.startswith(_PROGRAM_HEADS):
        return _NOT_ACCEPTED
    try:
        return _check(data)
    except Exception:  # hostile bytes may break a parser in any way: not accepted
        return _NOT_ACCEPTED


def sniff(data: bytes) -> FileKind | None:
    """The accepted kind of `data`, or None when it is not accepted (for whatever reason)."""
    return check(data).kind


def _check(data: bytes) -> Checked:
    if data.startswith(_PNG):
        return _image(data, "PNG", FileKind.PNG)
    if data.startswith(_JPEG):
        return _image(data, "JPEG", FileKind.JPG)
    if data.startswith(_ZIP):
        return _zip(data)
    if data.startswith(_OLE):
        return _ole(data)
    at = data.find(_PDF, 0, _PDF_LEAD + len(_PDF))
    if at >= 0 and not data[:at].strip(_BLANK):
        return _pdf(data, at)
    return _NOT_ACCEPTED


def _runnable(data: bytes) -> bool:
    """Whether a script or program shows in the first or last bytes of the data."""
    ends = (data[:_MARKER_WINDOW] + b"\n" + data[-_MARKER_WINDOW:]).lower()
    return any(marker in ends for marker in _RUNNABLE_MARKERS)


def _pdf(data: bytes, at: int) -> Checked:
    """A PDF whose cross-reference leads to a catalog, its page tree readable when present."""
    if _runnable(data):
        return _NOT_ACCEPTED
    reader = pypdf.PdfReader(io.BytesIO(data[at:]), strict=False)
    root = reader.trailer.get("/Root")
    catalog = root.get_object() if root is not None else None
    if not isinstance(catalog, pypdf.generic.DictionaryObject):
        return _NOT_ACCEPTED
    if catalog.get("/Type") != "/Catalog":
        return _NOT_ACCEPTED
    if "/Pages" in catalog:
        _ = len(reader.pages)  # walks the page tree; a broken one raises
    return Checked(FileKind.PDF)


def _image(data: bytes, pillow_format: str, kind: FileKind) -> Checked:
    """An image Pillow verifies and then decodes whole, of a sane size."""
    if _runnable(data):
        return _NOT_ACCEPTED
    with warnings.catch_warnings():
        # Again here, for a caller whose own warning filters dropped the module's one.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
            image.verify()
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
            width, height = image.size
            if width * height > _MAX_PIXELS:
                return _NOT_ACCEPTED
            image.load()  # every pixel decoded; a truncated or damaged body raises
    return Checked(kind)


def _zip(data: bytes) -> Checked:
    """DOCX, XLSX, ODT or ODS by the members of the ZIP, with no macros, whole."""
    count = _zip_member_count(data)
    if count is None or count == 0:
        return _NOT_ACCEPTED
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = zf.infolist()
        if len(members) > _ZIP_MAX_MEMBERS:
            return _NOT_ACCEPTED
        if sum(m.file_size for m in members) > _ZIP_MAX_INFLATED:
            return _NOT_ACCEPTED
        names = [m.filename for m in members]
        lower = [name.lower() for name in names]
        if members[0].filename == "mimetype":
            verdict = _odf(zf, members[0], lower)
        else:
            verdict = _ooxml(zf, set(names), lower)
        if verdict.kind is None:
            return verdict
        if zf.testzip() is not None:  # every member inflated and its CRC compared
            return _NOT_ACCEPTED
        return verdict


def _odf(zf: zipfile.ZipFile, first: zipfile.ZipInfo, lower: list[str]) -> Checked:
    """ODT or ODS: the mimetype first and stored, a well-formed content.xml, no macros."""
    # ODF requires the first member stored, so readers can find it at byte 38.
    if first.compress_type != zipfile.ZIP_STORED or first.file_size > _ODF_MIMETYPE_MAX:
        return _NOT_ACCEPTED
    kind = _ODF.get(zf.read(first).strip())
    if kind is None:
        return _NOT_ACCEPTED
    if any(name.startswith(_ODF_MACRO_FOLDERS) for name in lower):
        return _MACRO
    if "content.xml" not in lower or not _well_formed(zf, "content.xml"):
        return _NOT_ACCEPTED
    return Checked(kind)


def _ooxml(zf: zipfile.ZipFile, names: set[str], lower: list[str]) -> Checked:
    """DOCX or XLSX: its content types and main part, and no VBA, XLM or ActiveX part."""
    if "[Content_Types].xml" not in names:
        return _NOT_ACCEPTED
    found = [kind for kind, (main, _) in _OOXML_MAIN.items() if main in names]
    if len(found) != 1:
        return _NOT_ACCEPTED
    kind = found[0]
    if any(name.rsplit("/", 1)[-1] in _OOXML_MACRO_NAMES for name in lower) or any(
        part in f"/{name}" for name in lower for part in _OOXML_MACRO_PARTS
    ):
        return _MACRO
    types = zf.read("[Content_Types].xml")
    if any(marker in types.lower() for marker in _OOXML_MACRO_TYPES):
        return _MACRO
    main, main_types = _OOXML_MAIN[kind]
    if not any(t.encode() in types for t in main_types):
        return _NOT_ACCEPTED
    if not _well_formed(zf, "[Content_Types].xml") or not _well_formed(zf, main):
        return _NOT_ACCEPTED
    return Checked(kind)


def _well_formed(zf: zipfile.ZipFile, name: str) -> bool:
    """Whether a member is well-formed, namespace-correct XML with no DTD, read in chunks."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")

    def no_dtd(*_: object) -> None:
        # Office XML never declares a DTD; one only serves entity tricks.
        raise ValueError("a DTD in office XML")

    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    try:
        with zf.open(name) as member:
            while chunk := member.read(1 << 20):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (xml.parsers.expat.ExpatError, ValueError):
        return False
    return True


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


def _ole(data: bytes) -> Checked:
    """DOC or XLS by the main stream at the root of the compound file, read through; no VBA.

    Only the root counts: an Excel file with an embedded Word object holds a "WordDocument"
    stream too, but inside a sub-storage.
    """
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        paths = ole.listdir(streams=True, storages=True)
        if any(part.upper() in _OLE_MACRO_NAMES for path in paths for part in path):
            return _MACRO
        roots = {path[0].upper(): path[0] for path in paths if len(path) == 1}
        # Word first: a Word file's root holds no workbook, but who knows what a tool wrote.
        main = next((name for name in _OLE_MAIN if name in roots), None)
        if main is None:
            return _NOT_ACCEPTED
        with ole.openstream(roots[main]) as stream:
            while stream.read(1 << 20):  # the whole stream through its sector chain
                pass
        return Checked(_OLE_MAIN[main])
