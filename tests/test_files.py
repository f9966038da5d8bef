"""Uploaded files: kinds told by content, the content-addressed store, the dossier ZIP."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import struct
import time
import unicodedata
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from messages.exports.dossier_archive import (
    MANIFEST_HEADER,
    ArchiveEntry,
    build_dossier_zip,
    safe_name,
)
from storage.files import MIME, FileKind, blob_path, read_blob, sniff, store_blob

# --- samples, built here so no binary fixture is committed -------------------------------


def make_pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
        b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
        b"trailer <</Root 1 0 R>>\n%%EOF\n"
    )


def make_png() -> bytes:
    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte + one red pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def make_jpeg() -> bytes:
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + app0 + b"\x00" * 64 + b"\xff\xd9"


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buf.getvalue()


def make_docx() -> bytes:
    return make_zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": b"<w:document/>",
        }
    )


def make_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Tập thể lao động xuất sắc"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def make_odf(kind: str, *, stored: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        mode = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        zf.writestr("mimetype", f"application/vnd.oasis.opendocument.{kind}", compress_type=mode)
        zf.writestr("content.xml", "<office:document-content/>")
        zf.writestr("META-INF/manifest.xml", "<manifest:manifest/>")
    return buf.getvalue()


FREE, END, FAT_SECTOR, NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(
    name: str, kind: int, left: int, right: int, child: int, start: int, size: int
) -> bytes:
    encoded = (name + "\0").encode("utf-16-le")
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", left, right, child)
        + b"\0" * 16  # CLSID
        + b"\0" * 4  # state bits
        + b"\0" * 16  # creation and modification times
        + struct.pack("<IQ", start, size)
    )


def make_ole(streams: list[str], *, nested: tuple[str, ...] = ()) -> bytes:
    """A minimal CFB v3 file: the given streams under the root, `nested` inside a storage.

    Sector 0 is the FAT, sectors 1-2 the directory, sectors 3-10 one 4096-byte stream that
    every stream entry points at (each entry's content is irrelevant to sniffing).
    """
    entries = [("Root Entry", 5)] + [(s, 2) for s in streams]
    storage_id = None
    if nested:
        storage_id = len(entries)
        entries.append(("ObjectPool", 1))
    nested_ids = list(range(len(entries), len(entries) + len(nested)))
    entries += [(s, 2) for s in nested]
    root_children = list(range(1, 1 + len(streams))) + ([storage_id] if storage_id else [])

    def chain(ids: list[int]) -> dict[int, int]:
        # A degenerate (all-right) tree: each sibling's right points to the next one.
        return dict(zip(ids, [*ids[1:], NONE], strict=False))

    right = chain(root_children) | chain(nested_ids)
    directory = b""
    for i, (name, kind) in enumerate(entries):
        if kind == 5:
            directory += _dir_entry(name, 5, NONE, NONE, root_children[0], END, 0)
        elif kind == 1:
            directory += _dir_entry(name, 1, NONE, right[i], nested_ids[0], END, 0)
        else:
            directory += _dir_entry(name, 2, NONE, right.get(i, NONE), NONE, 3, 4096)
    assert len(directory) <= 1024
    directory = directory.ljust(1024, b"\0")
    for unused in range(len(directory) // 128):
        start = unused * 128
        if directory[start : start + 128] == b"\0" * 128:
            blank = _dir_entry("", 0, NONE, NONE, NONE, 0, 0)
            directory = directory[:start] + blank + directory[start + 128 :]

    # FAT, then the directory chain 1 -> 2, then the stream chain 3 -> ... -> 10.
    fat = [FAT_SECTOR, 2, END, 4, 5, 6, 7, 8, 9, 10, END]
    fat_sector = struct.pack(f"<{len(fat)}I", *fat).ljust(512, b"\xff")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
        + struct.pack("<I", 0)  # DIFAT[0]: the FAT is sector 0
        + b"\xff" * (4 * 108)
    )
    assert len(header) == 512
    return header + fat_sector + directory + b"\x42" * 4096


def make_exe() -> bytes:
    dos = bytearray(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00")
    dos = dos.ljust(0x3C, b"\0") + struct.pack("<I", 0x80)
    dos = dos.ljust(0x80, b"\0")
    pe = b"PE\0\0" + struct.pack("<HHIIIHH", 0x14C, 1, 0, 0, 0, 0xE0, 0x102)
    return bytes(dos) + pe + b"\0" * 400


# --- sniff ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (make_pdf(), FileKind.PDF),
        (b"\r\n" * 20 + make_pdf(), FileKind.PDF),  # junk before the header, as readers allow
        (make_png(), FileKind.PNG),
        (make_jpeg(), FileKind.JPG),
        (make_docx(), FileKind.DOCX),
        (make_xlsx(), FileKind.XLSX),
        (make_odf("text"), FileKind.ODT),
        (make_odf("spreadsheet"), FileKind.ODS),
        (make_ole(["WordDocument", "1Table", "\x05SummaryInformation"]), FileKind.DOC),
        (make_ole(["\x05SummaryInformation", "Workbook"]), FileKind.XLS),
        (make_ole(["Book"]), FileKind.XLS),
        # An Excel file with an embedded Word object is still Excel.
        (make_ole(["Workbook"], nested=("WordDocument",)), FileKind.XLS),
    ],
)
def test_accepted_kinds_are_told_by_content(data: bytes, kind: FileKind) -> None:
    assert sniff(data) is kind
    assert MIME[kind]


@pytest.mark.parametrize(
    "data",
    [
        make_exe(),
        make_exe() + b"%PDF-1.4 hidden",  # mentions a PDF header but is an executable
        b"<!DOCTYPE html><html><body>%PDF-1.4</body></html>",
        make_zip({"a.txt": b"hello", "b/c.bin": b"\0" * 10}),
        make_zip({"word/document.xml": b"<w:document/>"}),  # no [Content_Types].xml
        make_odf("text", stored=False),  # ODF requires the mimetype stored
        make_odf("presentation"),
        make_ole(["PowerPoint Document"]),
        make_ole(["Contents"], nested=("WordDocument",)),  # Word only inside a sub-storage
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,  # OLE signature, nothing behind it
        b"PK\x03\x04" + b"\0" * 100,
        b"",
        b"\0" * 2048 + make_pdf(),  # header too far in
        os.urandom(4096),
    ],
    ids=[
        "exe",
        "exe-mentioning-pdf",
        "html",
        "random-zip",
        "docx-without-content-types",
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
def test_other_content_is_refused(data: bytes) -> None:
    assert sniff(data) is None


def test_an_executable_named_pdf_is_refused(tmp_path: Path) -> None:
    upload = tmp_path / "hoso.pdf"
    upload.write_bytes(make_exe())
    assert sniff(upload.read_bytes()) is None


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([b"", b"%PDF-", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"MZ"]),
    st.binary(max_size=4096),
)
def test_sniff_never_raises(prefix: bytes, tail: bytes) -> None:
    assert sniff(prefix + tail) in (None, *FileKind)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_sniff_survives_damaged_containers(data: st.DataObject) -> None:
    # Flip bytes inside real ZIP and OLE files to reach deep into the parsers.
    sample = bytearray(
        data.draw(st.sampled_from([make_docx(), make_odf("text"), make_ole(["WordDocument"])]))
    )
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(sample) - 1))
        sample[at] = data.draw(st.integers(0, 255))
    sniff(bytes(sample))


def test_sniff_is_fast_on_a_large_file() -> None:
    big = make_pdf() + os.urandom(20 * 1024 * 1024)
    zip_big = make_zip({"[Content_Types].xml": b"", "word/document.xml": os.urandom(1 << 20)})
    started = time.perf_counter()
    assert sniff(big) is FileKind.PDF
    assert sniff(b"\0" + big) is FileKind.PDF
    assert sniff(os.urandom(20 * 1024 * 1024)) is None
    assert sniff(zip_big) is FileKind.DOCX
    assert time.perf_counter() - started < 2


def test_a_zip_with_too_many_members_is_refused() -> None:
    members = {f"{i}.xml": b"" for i in range(10_001)}
    members |= {"[Content_Types].xml": b"", "word/document.xml": b""}
    assert sniff(make_zip(members)) is None


# --- the store -----------------------------------------------------------------------------


def test_storing_the_same_content_twice_writes_once(tmp_path: Path) -> None:
    files_dir = tmp_path / "files"
    data = make_pdf()
    first = store_blob(files_dir, data, FileKind.PDF)
    second = store_blob(files_dir, data, FileKind.PDF)
    assert first.created and not second.created
    assert first.sha256 == second.sha256 == hashlib.sha256(data).hexdigest()
    assert first.relative_path == f"{first.sha256[:2]}/{first.sha256}.pdf"
    assert first.size == len(data) and first.kind is FileKind.PDF
    stored = [p for p in files_dir.rglob("*") if p.is_file()]
    assert stored == [blob_path(files_dir, first.relative_path)]
    assert stored[0].is_relative_to(files_dir.resolve())
    assert read_blob(files_dir, first.relative_path) == data


def test_a_damaged_blob_is_written_again(tmp_path: Path) -> None:
    data = make_png()
    blob = store_blob(tmp_path, data, FileKind.PNG)
    blob_path(tmp_path, blob.relative_path).write_bytes(data[:10])
    assert store_blob(tmp_path, data, FileKind.PNG).created
    assert read_blob(tmp_path, blob.relative_path) == data


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        store_blob(tmp_path, make_pdf(), FileKind.PDF)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    "bad", ["../etc/passwd", "ab/../../x", "/etc/passwd", "", ".", "ab/..", "a\0b"]
)
def test_blob_paths_cannot_escape(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        blob_path(tmp_path, bad)


# --- safe names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "safe"),
    [
        ("Biên bản họp.pdf", "Biên bản họp.pdf"),
        ("../../etc/passwd", "_._etc_passwd"),
        ("CON.pdf", "_CON.pdf"),
        ("nul", "_nul"),
        ("a\\b\x00c\x07d\u202eexe.pdf", "a_bcdexe.pdf"),
        ('h<ồ>:s"ơ|?*.docx', "h_ồ__s_ơ___.docx"),
        ("...hidden", "hidden"),
        ("trailing. . ", "trailing"),
        ("", "tệp"),
        (".pdf", "pdf"),
        ("Tờ\ttrình\u00a0 2024.pdf", "Tờ trình 2024.pdf"),
    ],
)
def test_safe_name(original: str, safe: str) -> None:
    assert safe_name(original) == safe


def test_safe_name_is_nfc_and_trimmed_keeping_the_extension() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh.pdf")
    assert safe_name(decomposed) == unicodedata.normalize("NFC", "Nguyễn Thị Ánh.pdf")
    long = safe_name("Báo cáo thành tích " * 20 + ".docx")
    assert long.endswith(".docx") and len(long) <= 120
    assert len(long.encode()) <= 240
    wide = safe_name("ệ" * 200 + ".pdf")  # 3 bytes each in UTF-8
    assert wide.endswith(".pdf") and len(wide.encode()) <= 240
    # Cut short, "CON.abc x x x" would become the reserved "CON.abc".
    assert safe_name("CON.abc" + " x" * 100 + ".pdf", max_chars=12) == "_CON.abc.pdf"


# --- the dossier ZIP -----------------------------------------------------------------------


def _blob(tmp_path: Path, data: bytes, kind: FileKind) -> tuple[Path, str, int]:
    blob = store_blob(tmp_path / "files", data, kind)
    return blob_path(tmp_path / "files", blob.relative_path), blob.sha256, blob.size


def test_dossier_zip_round_trip(tmp_path: Path) -> None:
    unit_a = ("SGD", "Sở Giáo dục & Đào tạo")
    unit_b = ("UBH", "UBND huyện Lương Sơn")
    when = datetime(2026, 3, 2, 9, 30)
    samples = {
        "minutes": (make_pdf(), FileKind.PDF),
        "report1": (make_docx(), FileKind.DOCX),
        # Different content from report1, to go under the same original name in one folder.
        "report2": (
            make_zip({"[Content_Types].xml": b"", "word/document.xml": b"2"}),
            FileKind.DOCX,
        ),
        "photo": (make_png(), FileKind.PNG),
        "sheet": (make_xlsx(), FileKind.XLSX),
        "hostile1": (make_jpeg(), FileKind.JPG),
        "hostile2": (make_pdf() + b"% second\n", FileKind.PDF),
        "hostile3": (make_odf("text"), FileKind.ODT),
    }
    blobs = {key: _blob(tmp_path, data, kind) for key, (data, kind) in samples.items()}

    def entry(
        unit: tuple[str, str], nominee: str | None, doc: str, name: str, key: str
    ) -> ArchiveEntry:
        path, sha, size = blobs[key]
        return ArchiveEntry(*unit, nominee, doc, name, path, sha, size, when, "Trần Văn Bình")

    entries = [
        entry(unit_a, None, "Biên bản họp Hội đồng", "Biên bản họp.pdf", "minutes"),
        entry(unit_a, "Nguyễn Thị Ánh", "Báo cáo thành tích", "Báo cáo.docx", "report1"),
        entry(unit_a, "Nguyễn Thị Ánh", "Tài liệu khác", "báo cáo.DOCX", "report2"),
        entry(unit_a, "Lê Văn Cường", "Ảnh", "anh.png", "photo"),
        entry(unit_b, None, "Danh sách", "=danh sach.xlsx", "sheet"),
        entry(unit_b, "Phạm Đức", "Tài liệu khác", "../../etc/passwd", "hostile1"),
        entry(unit_b, "Phạm Đức", "Tài liệu khác", "CON.pdf", "hostile2"),
        entry(unit_b, "Phạm Đức", "Tài liệu khác", "a\\b\x07c\n.odt", "hostile3"),
    ]
    out_path = tmp_path / "dossier.zip"
    with out_path.open("wb") as out:
        build_dossier_zip("TD2026", "Thi đua năm 2026", entries, out)

    with zipfile.ZipFile(out_path) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        expected = [
            "SGD - Sở Giáo dục & Đào tạo/Biên bản họp.pdf",
            "SGD - Sở Giáo dục & Đào tạo/Nguyễn Thị Ánh/Báo cáo.docx",
            "SGD - Sở Giáo dục & Đào tạo/Nguyễn Thị Ánh/báo cáo (2).DOCX",
            "SGD - Sở Giáo dục & Đào tạo/Lê Văn Cường/anh.png",
            "UBH - UBND huyện Lương Sơn/=danh sach.xlsx",
            "UBH - UBND huyện Lương Sơn/Phạm Đức/_._etc_passwd.jpg",
            "UBH - UBND huyện Lương Sơn/Phạm Đức/_CON.pdf",
            "UBH - UBND huyện Lương Sơn/Phạm Đức/a_bc.odt",
            "manifest.csv",
            "SHA256SUMS",
        ]
        assert names == expected
        infos = {info.filename: info for info in zf.infolist()}
        # Non-ASCII names carry the UTF-8 flag, so every unzip reads them alike.
        assert infos[expected[0]].flag_bits & 0x800
        assert infos[expected[0]].compress_type == zipfile.ZIP_DEFLATED
        assert infos[expected[1]].compress_type == zipfile.ZIP_STORED
        assert infos[expected[3]].compress_type == zipfile.ZIP_STORED
        assert infos[expected[0]].date_time == (2026, 3, 2, 9, 30, 0)
        assert zf.comment.decode() == "TD2026 - Thi đua năm 2026"

        for e, name in zip(entries, expected, strict=False):
            assert zf.read(name) == e.path.read_bytes()

        manifest_bytes = zf.read("manifest.csv")
        assert manifest_bytes.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(manifest_bytes.decode("utf-8-sig"))))
        assert tuple(rows[0]) == MANIFEST_HEADER
        assert rows[0][0] == "Đơn vị"
        assert len(rows) == 1 + len(entries)
        for row, e in zip(rows[1:], entries, strict=True):
            path_in_zip, sha = row[5], row[7]
            assert hashlib.sha256(zf.read(path_in_zip)).hexdigest() == sha == e.sha256
            assert row[2] == (e.nominee or "") and row[6] == str(e.size)
        assert rows[1][4] == "Biên bản họp.pdf" and rows[1][8] == "2026-03-02 09:30:00"
        assert rows[5][4] == "'=danh sach.xlsx"  # Excel would run it as a formula

        sums = zf.read("SHA256SUMS").decode().splitlines()
        assert len(sums) == len(entries) + 1
        for line in sums:
            digest, path_in_zip = line.split("  ", 1)
            assert hashlib.sha256(zf.read(path_in_zip)).hexdigest() == digest


def test_names_get_the_extension_of_their_content(tmp_path: Path) -> None:
    pdf = _blob(tmp_path, make_pdf(), FileKind.PDF)
    jpg = _blob(tmp_path, make_jpeg(), FileKind.JPG)
    when = datetime(2026, 1, 5, 8, 0)
    entries = [
        ArchiveEntry("X", "Y", None, "D", original, *blob, when, "a")
        for original, blob in [("scan", pdf), ("hoso.docx", pdf), ("anh.JPEG", jpg), ("b.PDF", pdf)]
    ]
    buf = io.BytesIO()
    build_dossier_zip("C", "C", entries, buf)
    with zipfile.ZipFile(buf) as zf:
        files = [n.removeprefix("X - Y/") for n in zf.namelist()[:-2]]
    assert files == ["scan.pdf", "hoso.docx.pdf", "anh.JPEG", "b.PDF"]


def test_same_file_twice_in_one_folder_is_written_once(tmp_path: Path) -> None:
    path, sha, size = _blob(tmp_path, make_pdf(), FileKind.PDF)
    when = datetime(2026, 1, 5, 8, 0)
    entries = [
        ArchiveEntry("X", "Đơn vị X", "Ngô Lan", doc, "hs.pdf", path, sha, size, when, "a")
        for doc in ("Bản khai", "Tài liệu khác")
    ]
    buf = io.BytesIO()
    build_dossier_zip("C", "C", entries, buf)
    with zipfile.ZipFile(buf) as zf:
        assert zf.namelist() == ["X - Đơn vị X/Ngô Lan/hs.pdf", "manifest.csv", "SHA256SUMS"]
        rows = list(csv.reader(io.StringIO(zf.read("manifest.csv").decode("utf-8-sig"))))
        assert [r[5] for r in rows[1:]] == ["X - Đơn vị X/Ngô Lan/hs.pdf"] * 2
