"""What a file is, by its whole content (storage.file_checks, PRODUCT §8 "Content checks"):
every accepted type parses whole as itself; scripts and programs behind a PDF or image
signature are refused; Office files with macros are refused with their own reason; random and
damaged bytes never crash the checks and are never accepted unless they parse."""

from __future__ import annotations

import io
import os
import zipfile

import olefile
import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from storage.files import MIME, Checked, FileKind, Refused, check, sniff
from tests.support.compound import exe, ole
from tests.support.uploads import (
    BAT_WITH_PDF,
    DOCM_MAIN,
    PNG_HEADED_BAT,
    PNG_HEADED_HTA,
    PNG_HEADED_JS,
    docx,
    docx_with_vba,
    jpeg,
    odf,
    odt,
    pdf,
    png,
    xlsm_as_xlsx,
    xlsx,
)


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buf.getvalue()


# --- accepted ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (pdf(), FileKind.PDF),
        (pdf("ban 2") + b"% sua\n", FileKind.PDF),  # a comment after %%EOF, as editors leave
        (b"\r\n" * 20 + pdf(), FileKind.PDF),  # blank bytes before the header, as readers allow
        (png(), FileKind.PNG),
        (jpeg(), FileKind.JPG),
        (docx("bao cao"), FileKind.DOCX),
        (xlsx(), FileKind.XLSX),
        (odt("bao cao"), FileKind.ODT),
        (odf("spreadsheet"), FileKind.ODS),
        (ole(["WordDocument", "1Table", "\x05SummaryInformation"]), FileKind.DOC),
        (ole(["\x05SummaryInformation", "Workbook"]), FileKind.XLS),
        (ole(["Book"]), FileKind.XLS),
        # An Excel file with an embedded Word object is still Excel.
        (ole(["Workbook"], nested=("WordDocument",)), FileKind.XLS),
    ],
    ids=lambda v: v.value if isinstance(v, FileKind) else None,
)
def test_each_accepted_type_parses_whole_as_itself(data: bytes, kind: FileKind) -> None:
    assert check(data) == Checked(kind)
    assert sniff(data) is kind and MIME[kind]


def test_a_large_pdf_and_a_large_docx_are_accepted() -> None:
    assert sniff(pdf(body=os.urandom(20 * 1024 * 1024))) is FileKind.PDF
    large = docx("x" * (8 * 1024 * 1024))
    assert sniff(large) is FileKind.DOCX


# --- scripts and programs ------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        PNG_HEADED_JS,
        PNG_HEADED_HTA,
        PNG_HEADED_BAT,
        BAT_WITH_PDF,
        b"%PDF-1.4\r\n@echo off\r\nstart calc.exe\r\n",  # a PDF header, then a batch file
        b"\xff\xd8\xff\xe0" + b'<script>new ActiveXObject("WScript.Shell")</script>',
        png() + b'<hta:application><script language="VBScript">x</script>',  # after IEND
        pdf() + b"\npowershell -enc SQBFAFgA\n",  # a valid PDF with a script behind it
        b"rem " + pdf(),  # something before the PDF header that is not blank
        exe(),
        exe() + b"%PDF-1.4 hidden",
        b"\x7fELF\x02\x01\x01" + pdf(),
        b"#!/bin/sh\n" + pdf(),
        b"\xcf\xfa\xed\xfe" + png(),
        b"<!DOCTYPE html><html><body>%PDF-1.4</body></html>",
    ],
    ids=[
        "png-js",
        "png-hta",
        "png-bat",
        "bat-with-pdf-comment",
        "pdf-headed-bat",
        "jpeg-headed-script",
        "png-then-hta",
        "pdf-then-powershell",
        "rem-pdf",
        "exe",
        "exe-mentioning-pdf",
        "elf-then-pdf",
        "shell-then-pdf",
        "macho-then-png",
        "html",
    ],
)
def test_a_script_or_program_behind_an_accepted_signature_is_refused(data: bytes) -> None:
    assert check(data) == Checked(None, Refused.TYPE)


# --- bodies that do not parse --------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",  # no xref, no trailer
        b"%PDF-1.4\n%%EOF\n",
        pdf().replace(b"/Type /Catalog", b"/Type /Xatalog"),  # a trailer but no catalog
        png()[:-20],  # cut short
        b"\x89PNG\r\n\x1a\n" + b"\0" * 200,
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 64,
        jpeg()[: len(jpeg()) // 2],
        zip_of({"a.txt": b"hello", "b/c.bin": b"\0" * 10}),
        zip_of({"word/document.xml": b"<w:document/>"}),  # no [Content_Types].xml
        zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
        docx("<unclosed>"),  # document.xml not well formed
        odf("text", stored=False),  # ODF requires the mimetype stored
        odf("presentation"),
        ole(["PowerPoint Document"]),
        ole(["Contents"], nested=("WordDocument",)),  # Word only inside a sub-storage
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,  # OLE signature, nothing behind it
        b"PK\x03\x04" + b"\0" * 100,
        b"",
        b"\0" * 2048 + pdf(),  # header too far in
        os.urandom(4096),
    ],
    ids=[
        "pdf-without-xref",
        "pdf-empty",
        "pdf-without-catalog",
        "png-cut",
        "png-no-chunks",
        "jpeg-no-image",
        "jpeg-cut",
        "random-zip",
        "docx-without-content-types",
        "docx-without-its-content-type",
        "docx-broken-xml",
        "odt-deflated-mimetype",
        "odp",
        "ppt",
        "word-nested-only",
        "bare-ole",
        "broken-zip",
        "empty",
        "late-pdf",
        "random",
    ],
)
def test_a_body_that_does_not_parse_as_its_type_is_refused(data: bytes) -> None:
    assert check(data) == Checked(None, Refused.TYPE)


def test_a_damaged_member_of_a_docx_is_refused() -> None:
    sound = docx("x" * 4000)
    at = sound.index(b"word/document.xml") + 60  # inside that member's compressed body
    damaged = sound[:at] + bytes([sound[at] ^ 0xFF]) + sound[at + 1 :]
    assert sniff(damaged) is None


def test_a_zip_with_too_many_members_is_refused() -> None:
    members = {f"{i}.xml": b"" for i in range(10_001)}
    assert sniff(zip_of(members | {"[Content_Types].xml": b"", "word/document.xml": b""})) is None


def test_an_image_of_too_many_pixels_is_refused() -> None:
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 megapixels in a few kilobytes
    assert sniff(out.getvalue()) is None


# --- macros --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        xlsm_as_xlsx(),
        docx_with_vba(),
        docx("m", main=DOCM_MAIN),
        docx("ax", more={"word/activeX/activeX1.xml": b"<ax/>"}),
        docx("d", more={"word/vbaData.xml": b"<wne:vbaSuppData/>"}),
        zip_of(
            {
                "[Content_Types].xml": b'<Types><Override PartName="/xl/macrosheets/sheet1.xml"'
                b' ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>',
                "xl/workbook.xml": b"<workbook/>",
                "xl/macrosheets/sheet1.xml": b"<xm:macrosheet/>",
            }
        ),
        odf("text", more={"Basic/Standard/Module1.xml": b"<script:module/>"}),
        odf("spreadsheet", more={"Scripts/python/run.py": b"import os"}),
        ole(["WordDocument", "1Table"], nested=("PROJECT", "PROJECTwm"), storage="Macros"),
        ole(["Workbook"], nested=("PROJECT", "dir"), storage="_VBA_PROJECT_CUR"),
    ],
    ids=[
        "xlsm-as-xlsx",
        "docx-with-vbaproject",
        "docm-type",
        "docx-activex",
        "docx-vbadata",
        "xlsx-excel4-macrosheet",
        "odt-basic",
        "ods-python-script",
        "doc-macros",
        "xls-vba",
    ],
)
def test_an_office_file_with_macros_is_refused_as_such(data: bytes) -> None:
    assert check(data) == Checked(None, Refused.MACRO)


# --- free-form input -----------------------------------------------------------------------

SIGNATURES = [
    b"",
    b"%PDF-1.4\n",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"MZ",
]


# Built once: an XLSX carries the time it was written, and hypothesis wants the same draws.
SAMPLES = [pdf(), png(), jpeg(), docx("x"), xlsx(), odt(), ole(["WordDocument"])]


def _parses_as(data: bytes, kind: FileKind) -> bool:
    """An independent opinion: the type's own library opens the whole file."""
    if kind is FileKind.PDF:
        reader = pypdf.PdfReader(io.BytesIO(data[data.index(b"%PDF-") :]), strict=False)
        return reader.trailer["/Root"].get_object()["/Type"] == "/Catalog"
    if kind in (FileKind.PNG, FileKind.JPG):
        with Image.open(io.BytesIO(data)) as image:
            image.load()
        return True
    if kind in (FileKind.DOC, FileKind.XLS):
        return bool(olefile.isOleFile(data=data))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.testzip() is None


def _judged(data: bytes) -> None:
    verdict = check(data)  # never raises
    assert (verdict.kind is None) == (verdict.refused is not None)
    if verdict.kind is not None:
        assert _parses_as(data, verdict.kind)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SIGNATURES), st.binary(max_size=4096))
def test_random_bytes_never_crash_and_are_never_accepted(prefix: bytes, tail: bytes) -> None:
    _judged(prefix + tail)
    assert check(prefix + tail).kind is None  # no random tail forms a whole file


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_files_never_crash_and_are_accepted_only_when_they_parse(
    data: st.DataObject,
) -> None:
    # Flip bytes inside real files of every type to reach deep into each parser.
    sample = bytearray(data.draw(st.sampled_from(SAMPLES)))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(sample) - 1))
        sample[at] = data.draw(st.integers(0, 255))
    _judged(bytes(sample))


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"%PDF-1.7\n"]),
    st.binary(max_size=512),
    st.sampled_from(
        [b"@echo off", b"<script>", b"<HTA:APPLICATION>", b"WScript.Shell", b"PowerShell -c"]
    ),
    st.binary(max_size=512),
)
def test_a_script_behind_a_signature_is_never_accepted(
    head: bytes, before: bytes, script: bytes, after: bytes
) -> None:
    assert check(head + before + script + after).kind is None
