"""What a dossier must hold (PRODUCT §6.1): an award's own documents, the optional ones
("if any"), and the file types a document takes. Pure: no session, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from storage.models import Award, DocumentScope, RequiredDocument

# storage.files names a file's kind by its content; data files name the same types in
# `formats:`. One table, so that a new kind or a spelling ("jpeg") is mapped in one place.
FORMAT_OF_KIND: dict[str, str] = {
    "pdf": "pdf",
    "doc": "doc",
    "docx": "docx",
    "xls": "xls",
    "xlsx": "xlsx",
    "odt": "odt",
    "ods": "ods",
    "jpg": "jpg",
    "jpeg": "jpg",
    "png": "png",
}


def unit_documents(documents: Iterable[RequiredDocument]) -> list[RequiredDocument]:
    """The documents a unit sends once for all its nominees, in file order."""
    return [d for d in documents if d.per is DocumentScope.UNIT]


def nominee_documents(
    award: Award, documents: Iterable[RequiredDocument]
) -> list[RequiredDocument]:
    """The per-nominee documents a nominee of `award` sends: the award's own list, in its order,
    when it has one, else every per-nominee document of the campaign in file order."""
    per_nominee = [d for d in documents if d.per is DocumentScope.NOMINEE]
    if award.document_codes is None:
        return per_nominee
    by_code = {d.code: d for d in per_nominee}
    # A unit-level code in the award's list is the unit's document: asked once, not here.
    return [by_code[code] for code in dict.fromkeys(award.document_codes) if code in by_code]


def counts(document: RequiredDocument) -> bool:
    """Whether a missing copy of the document keeps a dossier incomplete (not an "if any" one)."""
    return not document.optional


def required_ids(documents: Iterable[RequiredDocument]) -> frozenset[int]:
    """The ids of the documents that must be sent (the optional ones left out)."""
    return frozenset(d.id for d in documents if counts(d))


def format_of(kind: str) -> str | None:
    """The format name (as data files write it) of a kind storage.files identified."""
    return FORMAT_OF_KIND.get(kind.lower())


def accepts(document: RequiredDocument, kind: str) -> bool:
    """Whether a file of this kind may be filed as this document (its `formats`, if any)."""
    formats: Sequence[str] | None = document.formats
    if not formats:
        return True
    return format_of(kind) in {f.lower() for f in formats}
