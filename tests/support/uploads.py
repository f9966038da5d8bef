"""Small files a person uploads to a dossier: a PDF, a DOCX, an XLSX, built here so that no
binary fixture is committed."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def docx(text: str) -> bytes:
    """A minimal Word document whose body is `text`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        z.writestr("word/document.xml", f"<w:document><w:body>{text}</w:body></w:document>")
    return out.getvalue()


def xlsx() -> bytes:
    """A workbook with one cell: the minutes of the unit's meeting."""
    workbook = Workbook()
    workbook.active["A1"] = "Biên bản"  # type: ignore[index]
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
