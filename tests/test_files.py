"""Uploaded files: the content-addressed store, the names files go back under, the dossier ZIP
(what a file is: tests/test_file_checks.py)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from messages.exports.dossier_archive import (
    MANIFEST_HEADER,
    ArchiveEntry,
    build_dossier_zip,
    safe_name,
)
from storage.files import FileKind, blob_path, delivery_name, read_blob, store_blob
from tests.support.uploads import docx, jpeg, odt, pdf, png, xlsx

# --- samples (tests/support/uploads.py builds them whole, as the content checks want) ---

make_pdf, make_png, make_jpeg, make_xlsx, make_odt = pdf, png, jpeg, xlsx, odt


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buf.getvalue()


def make_docx(text: str = "") -> bytes:
    return docx(text)


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


# --- names of files the office receives ----------------------------------------------


@pytest.mark.parametrize(
    ("parts", "kind", "name"),
    [
        (
            ("HCTP", "Nguyễn Văn An", "Báo cáo thành tích"),
            FileKind.PDF,
            "HCTP-nguyen-van-an-bao-cao-thanh-tich.pdf",
        ),
        (
            ("NV_HTQT", None, "Biên bản họp xét khen thưởng"),
            FileKind.XLSX,
            "NV-HTQT-bien-ban-hop-xet-khen-thuong.xlsx",
        ),
        (("VP", "Đặng Thị Đào", None), FileKind.JPG, "VP-dang-thi-dao-0123abcd.jpg"),
        (
            ("BTTP", "Phòng Bổ trợ tư pháp", "Tóm tắt.bat"),
            FileKind.DOCX,
            "BTTP-phong-bo-tro-tu-phap-tom-tat-bat.docx",
        ),
        (("../..", "\u202eexe.gpj", "<script>"), FileKind.PNG, "exe-gpj-script.png"),
        (("", "", ""), FileKind.ODT, "0123abcd.odt"),
    ],
)
def test_a_file_goes_back_under_a_name_of_its_dossier_and_its_real_type(
    parts: tuple[str, str | None, str | None], kind: FileKind, name: str
) -> None:
    assert delivery_name(*parts, "0123abcd" + "f" * 56, kind) == name


def test_a_delivery_name_is_short_and_ascii() -> None:
    name = delivery_name("HCTP", "Nguyễn " * 60, "Báo cáo " * 60, "a" * 64, FileKind.PDF)
    assert name.isascii() and name.endswith(".pdf") and len(name) <= 104
    assert not name.removesuffix(".pdf").endswith("-")


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
        "hostile3": (make_odt(), FileKind.ODT),
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
