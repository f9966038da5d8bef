"""Small files a person uploads to a dossier, whole as their type (the bot parses every file):
a PDF, a PNG, a JPEG, a DOCX, an XLSX, an ODT, and hostile look-alikes (a script behind a PNG
signature, Office files with macros); built here so that no binary fixture is committed."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from openpyxl import Workbook
from PIL import Image


def pdf(text: str = "", *, body: bytes = b"") -> bytes:
    """A one-page PDF with its cross-reference table; `text` in its metadata makes it unique,
    `body` is its page's content stream (as long as wanted)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R >>",
        b"<< /Title (" + text.encode("ascii", "replace") + b") >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(body), body),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


PDF = pdf()


def png(color: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    """A 1×1 PNG of one colour, written chunk by chunk."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixels = zlib.compress(b"\x00" + bytes(color))  # filter byte + one pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """An 8×8 JPEG, as a camera or scanner writes one."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 128, 255)).save(out, "JPEG")
    return out.getvalue()


WORD_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="{main}"/>'
    "{more}</Types>"
)
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _fixed(name: str) -> zipfile.ZipInfo:
    """A member dated once for all: the same document made twice is the same bytes (a zip
    stores each member's time to 2 s, so a test comparing two makings could straddle one)."""
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def docx(text: str, *, main: str = DOCX_MAIN, more: dict[str, bytes] | None = None) -> bytes:
    """A minimal Word document whose body is `text`; `more` adds members (e.g. a VBA part)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(_fixed("[Content_Types].xml"), WORD_TYPES.format(main=main, more=""))
        z.writestr(
            _fixed("word/document.xml"),
            f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p>'
            "</w:body></w:document>",
        )
        for name, body in (more or {}).items():
            z.writestr(_fixed(name), body)
    return out.getvalue()


def xlsx() -> bytes:
    """A workbook with one cell: the minutes of the unit's meeting."""
    workbook = Workbook()
    workbook.active["A1"] = "Biên bản"  # type: ignore[index]
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsm_as_xlsx() -> bytes:
    """What Excel writes for a macro workbook (.xlsm): its main part's macro-enabled content
    type and a VBA project, here to be sent under an .xlsx name."""
    with zipfile.ZipFile(io.BytesIO(xlsx())) as source:
        members = {name: source.read(name) for name in source.namelist()}
    members["[Content_Types].xml"] = (
        members["[Content_Types].xml"]
        .replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        )
        .replace(
            b"</Types>",
            b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
            b"</Types>",
        )
    )
    members["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, body in members.items():
            target.writestr(name, body)
    return out.getvalue()


def docx_with_vba() -> bytes:
    """A DOCX whose content types look plain but which carries a VBA project."""
    return docx("macro", more={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 100})


def odf(
    kind: str = "text", text: str = "", *, stored: bool = True, more: dict[str, bytes] | None = None
) -> bytes:
    """A minimal OpenDocument file: its mimetype first (stored, as ODF requires), a
    content.xml; `more` adds members (e.g. a Basic macro library)."""
    mode = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", f"application/vnd.oasis.opendocument.{kind}", compress_type=mode)
        z.writestr(
            "content.xml",
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
            f'office:1.0"><office:body>{text}</office:body></office:document-content>',
        )
        z.writestr("META-INF/manifest.xml", "<manifest/>")
        for name, body in (more or {}).items():
            z.writestr(name, body)
    return out.getvalue()


def odt(text: str = "") -> bytes:
    """An OpenDocument text."""
    return odf("text", text)


PNG_HEADER = b"\x89PNG\r\n\x1a\n"
# Scripts dressed as images or PDFs: what a hostile sender tries.
PNG_HEADED_JS = PNG_HEADER + b'\nvar s = new ActiveXObject("WScript.Shell"); s.Run("calc");\n'
PNG_HEADED_HTA = PNG_HEADER + b'<hta:application id="x"><script>new ActiveXObject("x")</script>'
PNG_HEADED_BAT = PNG_HEADER + b"\r\n@echo off\r\nstart calc.exe\r\n"
BAT_WITH_PDF = b"@echo off\r\nrem %PDF-1.4\r\nstart calc.exe\r\nexit\r\n"
