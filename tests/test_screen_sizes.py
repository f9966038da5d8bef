"""The screens and pushes rendered with generated data of hostile sizes (issue 16): long
names, up to 500 nominees, 200 awards, notes and titles at their longest. Each message is
checked as the emulator checks it (Telegram's HTML parsed, ≤ 4,096 characters), and each
page keeps what it must show."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.emulator.html import parse_html
from handlers.results import _lines, _screens
from handlers.status import screens
from messages import render
from scheduler.outgoing import outgoing
from storage.dossier_status import DocumentStatus, DossierStatus, NomineeStatus, Shown
from storage.models import Award, Campaign, Nominee, RequiredDocument
from storage.results import PublishedResult
from tests.support.clock import TZ

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 2, tzinfo=UTC)
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# What people and data files write: Vietnamese, emoji, and the characters HTML escapes.
names = st.text(
    alphabet=st.sampled_from([*"aăâbcdđeêghiklmnoôơuưxyÀÁẠĐỳ <>&\"'", "🏅"]),
    min_size=1,
    max_size=300,
).filter(str.strip)


def _fits(text: str) -> str:
    plain, _ = parse_html(text)  # raises as the emulator would: 400 "can't parse entities"
    assert plain.strip()
    assert len(plain.encode("utf-16-le")) // 2 <= 4096
    return plain


def _document(n: int, name: str, note: str | None) -> RequiredDocument:
    return RequiredDocument(
        id=n, code=f"D{n}", name=name, optional=n % 3 == 0, note=note, formats=[]
    )


@SLOW
@given(
    nominees=st.integers(0, 500),
    documents=st.integers(0, 12),
    unit_documents=st.integers(0, 8),
    name=names,
    note=st.none() | names,
    unit=names,
)
def test_hoso_of_any_size_comes_in_pages_that_fit(
    nominees: int, documents: int, unit_documents: int, name: str, note: str | None, unit: str
) -> None:
    docs = tuple(
        DocumentStatus(_document(n, f"{name} {n}", note), None, 0) for n in range(documents)
    )
    own = tuple(
        DocumentStatus(_document(100 + n, name, note), None, 0) for n in range(unit_documents)
    )
    campaign = Campaign(id=1, title=name * 3, dossier_deadline=date(2026, 11, 30))
    award = Award(id=1, code="GK", name=name)
    dossier = DossierStatus(
        campaign,
        own,
        tuple(
            NomineeStatus(
                Nominee(id=n, name=f"{name[:150]} {n}", review_note=note),
                award,
                docs,
                Shown.RETURNED if n % 2 else Shown.INCOMPLETE,
            )
            for n in range(nominees)
        ),
    )
    pages = screens(dossier, unit, TODAY)
    plains = [_fits(p) for p in pages]
    assert all("Hạn nộp hồ sơ" in p for p in plains)  # the heading on every page
    assert all(p.count("👤") <= nominees for p in plains)
    assert sum(p.count("👤") for p in plains) == nominees  # every nominee, once


@SLOW
@given(items=st.integers(0, 500), decisions=st.integers(1, 10), name=names)
def test_results_of_any_size_fit_on_their_pages(items: int, decisions: int, name: str) -> None:
    campaign = Campaign(id=1, title=name * 2)
    results = [
        PublishedResult(
            campaign=campaign,
            decision=f"{d}/QĐ-{name[:20]}",
            decided_by=name,
            publish_at=NOW,
            items=tuple((name[:100], f"{name[:100]} {i}", name[:100]) for i in range(items)),
        )
        for d in range(decisions)
    ]
    pages = _screens(_lines(results), unit=None, tz=TZ)
    plains = [_fits(p) for p in pages]
    assert sum(p.count("•") for p in plains) == items * decisions


@SLOW
@given(items=st.integers(0, 500), name=names, document=st.booleans())
def test_a_results_push_of_any_size_is_rows_that_each_fit(
    items: int, name: str, document: bool
) -> None:
    text = render(
        "push/results",
        campaign=Campaign(id=1, title=name),
        decision=f"1/QĐ-{name[:30]}",
        decided_by=name,
        items=[{"nominee": f"{name} {i}", "unit": name, "award": name} for i in range(items)],
    )
    rows = outgoing("k:1", "k", "results", 1, text, NOW, 1, "file-id" if document else None)
    for row in rows:
        if row.document_file_id is None:
            _fits(row.text)
        else:
            assert len(parse_html(row.text)[0]) <= 1024
    assert len({row.key for row in rows}) == len(rows)  # one key each: each sent once
    assert sum(row.text.count("•") for row in rows) == items
    assert [r.document_file_id for r in rows].count("file-id" if document else None) >= 1
