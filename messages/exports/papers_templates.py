"""Build the council's DOCX templates from `templates/papers/papers.yaml` (run once, commit them).

`python -m messages.exports.papers_templates` writes bien_ban.docx, to_trinh.docx and
quyet_dinh.docx beside the YAML. Every word comes from the YAML; this module only lays them
out in the form of an administrative document (A4, Times New Roman, the header table with the
body's name and the national motto, title, subject, body, recipients and signer). The bytes
are the same on every run: fixed document dates, fixed ZIP timestamps, no thumbnail.
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from messages.exports.council_papers import TEMPLATE_DIR, PaperKind, paper_source
from messages.exports.words import export_words

FONT = "Times New Roman"
TEXT_MM = 165  # A4 (210 mm) less the 30 mm left and 15 mm right margins
HEADER_MM = (62, 103)  # the body's name | the national name and motto
# Fixed so that the files come out byte for byte the same on every run.
FIXED_DATE = datetime(2025, 1, 1)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

_CENTER = WD_ALIGN_PARAGRAPH.CENTER
_JUSTIFY = WD_ALIGN_PARAGRAPH.JUSTIFY
_LEFT = WD_ALIGN_PARAGRAPH.LEFT
_ALIGN = {"center": _CENTER, "left": _LEFT, "right": WD_ALIGN_PARAGRAPH.RIGHT}
# What follows w:pBdr in a paragraph's properties (ECMA-376 CT_PPrBase): Word wants the order.
_AFTER_PBDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip

Container = DocumentObject | _Cell


def _runs(text: str) -> Iterator[tuple[str, bool]]:
    """The pieces of `text` and whether each is bold (`**…**`)."""
    for i, piece in enumerate(text.split("**")):
        if piece:
            yield piece, i % 2 == 1


def _paragraph(
    where: Container,
    text: str = "",
    *,
    size: float = 14,
    bold: bool = False,
    italic: bool = False,
    align: Any = _JUSTIFY,
    indent: bool = True,
    after: float = 6,
    before: float = 0,
    keep_next: bool = False,
) -> Paragraph:
    """One paragraph, added at the end of `where`."""
    p = _next_paragraph(where)
    fmt = p.paragraph_format
    fmt.alignment = align
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.first_line_indent = Mm(10) if indent else None
    fmt.keep_with_next = keep_next or None
    for piece, strong in _runs(text):
        run = p.add_run(piece)
        run.bold = bold or strong or None
        run.italic = italic or None
        run.font.size = Pt(size)
    return p


def _next_paragraph(where: Container) -> Paragraph:
    """A new paragraph, or a new cell's own empty one (a cell always starts with one)."""
    if isinstance(where, _Cell):
        own: list[Paragraph] = where.paragraphs
        if len(own) == 1 and not own[0].runs and own[0]._p.pPr is None:
            return own[0]
    added: Paragraph = where.add_paragraph()
    return added


def _tag(where: Container, tag: str) -> None:
    """A paragraph holding only a docxtpl `{%p … %}` tag (docxtpl removes the paragraph)."""
    _paragraph(where, tag, indent=False, after=0, align=_LEFT)


def _rule(where: Container, width_mm: float, box_mm: float) -> None:
    """A short centred line under a heading, as the form draws under names and subjects."""
    p = _paragraph(where, indent=False, after=0, align=_CENTER)
    side = Mm(max(box_mm - width_mm, 0) / 2)
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = side
    p.paragraph_format.line_spacing = Pt(2)
    border = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "auto")):
        top.set(qn(f"w:{key}"), value)
    border.append(top)
    p._p.get_or_add_pPr().insert_element_before(border, *_AFTER_PBDR)


def _borderless(doc: DocumentObject, rows: int, widths: Sequence[float]) -> Table:
    """A layout table (no grid) with fixed column widths in millimetres."""
    table: Table = doc.add_table(rows=rows, cols=len(widths))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _widths(table, widths)
    return table


def _widths(table: Table, widths: Sequence[float]) -> None:
    """Column widths in millimetres, in the grid (which a fixed layout follows) and every cell."""
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Mm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Mm(width)


def _header(doc: DocumentObject, paper: dict[str, Any], source: dict[str, Any]) -> None:
    """The body's name and number at left, the national name, motto and date at right."""
    table = _borderless(doc, 2, HEADER_MM)
    left, right = table.cell(0, 0), table.cell(0, 1)
    condition = paper.get("parent_if")
    if condition:
        _tag(left, f"{{%p if {condition} %}}")
    _paragraph(left, paper["parent"], size=13, align=_CENTER, indent=False, after=0)
    if condition:
        _tag(left, "{%p endif %}")
    _paragraph(left, paper["issuer"], size=13, bold=True, align=_CENTER, indent=False, after=0)
    _rule(left, 22, HEADER_MM[0])
    _paragraph(right, source["nation"], size=12, bold=True, align=_CENTER, indent=False, after=0)
    _paragraph(right, source["motto"], size=13, bold=True, align=_CENTER, indent=False, after=0)
    _rule(right, 66, HEADER_MM[1])
    number, dated = table.cell(1, 0), table.cell(1, 1)
    _paragraph(number, paper["number"], size=13, align=_CENTER, indent=False, before=6)
    _paragraph(dated, paper["dated"], italic=True, align=_CENTER, indent=False, before=6)


def _heading(doc: DocumentObject, paper: dict[str, Any]) -> None:
    """Kind, subject and its rule; then the addressee, the authority and the grounds if any."""
    _paragraph(doc, paper["kind"], bold=True, align=_CENTER, indent=False, before=12, after=0)
    for line in paper["subject"]:
        _paragraph(doc, line, bold=True, align=_CENTER, indent=False, after=0)
    _rule(doc, 50, TEXT_MM)
    if "addressee" in paper:
        _paragraph(doc, paper["addressee"], align=_CENTER, indent=False, before=6, after=12)
    if "authority" in paper:
        _paragraph(doc, paper["authority"], bold=True, align=_CENTER, indent=False, before=12)
    for line in _flat(paper.get("basis", ())):
        _paragraph(doc, line, italic=True)
    if "decides" in paper:
        _paragraph(doc, paper["decides"], bold=True, align=_CENTER, indent=False, before=6)


def _flat(blocks: Iterable[Any]) -> Iterator[Any]:
    """Blocks with nested lists (YAML anchors of shared lines) spread out."""
    for block in blocks:
        if isinstance(block, list):
            yield from _flat(block)
        else:
            yield block


_STYLES: dict[str, dict[str, Any]] = {
    "body": {},
    "item": {"after": 3},
    "heading": {"bold": True, "keep_next": True, "before": 6},
    "title": {"bold": True, "align": _CENTER, "indent": False, "after": 0},
    "subject": {"bold": True, "align": _CENTER, "indent": False, "after": 0},
    "note": {"italic": True, "align": _CENTER, "indent": False, "after": 12},
}


def _blocks(doc: DocumentObject, blocks: Iterable[Any]) -> None:
    """The body: paragraphs, docxtpl tags, tables and page breaks, in order."""
    for block in _flat(blocks):
        if isinstance(block, str):
            _paragraph(doc, block)
        elif "tag" in block:
            _tag(doc, block["tag"])
        elif "table" in block:
            _data_table(doc, block["table"])
        elif "page_break" in block:
            doc.add_page_break()  # type: ignore[no-untyped-call]
        else:
            _paragraph(doc, block["text"], **_STYLES[block.get("style", "body")])


def _row_flag(row: Any, name: str) -> None:
    flag = OxmlElement(f"w:{name}")
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(flag)


def _data_table(doc: DocumentObject, spec: dict[str, Any]) -> None:
    """A grid with a header row repeated on every page and one row per item of `rows`."""
    columns = spec["columns"]
    table = doc.add_table(rows=4, cols=len(columns))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _widths(table, [column["width"] for column in columns])
    head, start, item, end = table.rows
    _row_flag(head, "tblHeader")
    _row_flag(item, "cantSplit")
    for i, column in enumerate(columns):
        _paragraph(
            head.cells[i], column["head"], size=13, bold=True, align=_CENTER, indent=False, after=0
        )
        align = _ALIGN[column.get("align", "left")]
        _paragraph(item.cells[i], column["cell"], size=13, align=align, indent=False, after=0)
    _tag(start.cells[0], f"{{%tr for {spec['rows']} %}}")
    _tag(end.cells[0], "{%tr endfor %}")
    _paragraph(doc, indent=False, after=0)  # Word needs a paragraph between two tables


def _signatures(doc: DocumentObject, signers: Sequence[dict[str, str]]) -> None:
    """Side by side: each signer's role in capitals, room to sign, the name."""
    table = _borderless(doc, 1, [TEXT_MM / len(signers)] * len(signers))
    for cell, signer in zip(table.rows[0].cells, signers, strict=True):
        _paragraph(cell, signer["title"], bold=True, align=_CENTER, indent=False, before=12)
        for _ in range(3):
            _paragraph(cell, indent=False, after=0)
        _paragraph(cell, signer["name"], bold=True, align=_CENTER, indent=False)


def _closing(doc: DocumentObject, paper: dict[str, Any], source: dict[str, Any]) -> None:
    """Recipients at left; the signer's title, room to sign and the name line at right."""
    table = _borderless(doc, 1, (75, TEXT_MM - 75))
    left, right = table.rows[0].cells
    label = source["recipients_label"]
    _paragraph(left, label, size=12, bold=True, italic=True, align=_LEFT, indent=False, before=12)
    for line in paper["recipients"]:
        _paragraph(left, line, size=11, align=_LEFT, indent=False, after=0)
    for line in paper["signer"]:
        _paragraph(right, line, bold=True, align=_CENTER, indent=False, before=12, after=0)
    for _ in range(4):
        _paragraph(right, indent=False, after=0)


def _base(doc: DocumentObject, title: str) -> None:
    """A4 with the form's margins, Times New Roman 14 pt, fixed document properties."""
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    fonts = run_defaults.find(qn("w:rFonts"))
    for key in list(fonts.attrib):
        del fonts.attrib[key]
    for key in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{key}"), FONT)
    for key in ("sz", "szCs"):
        run_defaults.find(qn(f"w:{key}")).set(qn("w:val"), "28")
    run_defaults.find(qn("w:lang")).set(qn("w:val"), "vi-VN")
    spacing = defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}/{qn('w:spacing')}")
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(14)
    props = doc.core_properties
    creator: str = export_words()["creator"]
    props.author = props.last_modified_by = creator
    props.title, props.subject, props.comments, props.keywords = title, "", "", ""
    props.created = props.modified = props.last_printed = FIXED_DATE
    props.revision = 1
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:  # a picture of python-docx's own sample page
            package.rels.pop(rid)


def build_template(kind: PaperKind) -> bytes:
    """One paper's template as .docx bytes, the same bytes on every run."""
    source = paper_source()
    paper = source[kind.value]
    doc = Document()
    _base(doc, paper["title"])
    _header(doc, paper, source)
    _heading(doc, paper)
    _blocks(doc, paper["body"])
    if "signatures" in paper:
        _signatures(doc, paper["signatures"])
    else:
        _closing(doc, paper, source)
    _paragraph(doc, indent=False, after=0)  # the body ends with a paragraph, not a table
    _blocks(doc, paper.get("annex", ()))
    for text in doc.element.body.iter(qn("w:t")):
        text.set(qn("xml:space"), "preserve")  # the form's runs of spaces ("Số:      /QĐ") stay
    raw = BytesIO()
    doc.save(raw)
    return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same ZIP with every member dated 1980-01-01, so the bytes do not depend on when."""
    out = BytesIO()
    with (
        zipfile.ZipFile(BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.create_system = 3
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def build_templates() -> dict[str, bytes]:
    """Every paper's template by file name."""
    return {f"{kind.value}.docx": build_template(kind) for kind in PaperKind}


def write_templates(directory: Path = TEMPLATE_DIR) -> list[Path]:
    """Write the templates into `directory`; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in build_templates().items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Write the templates (into the directory given, else beside papers.yaml)."""
    args = list(sys.argv[1:] if argv is None else argv)
    for path in write_templates(Path(args[0]) if args else TEMPLATE_DIR):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
