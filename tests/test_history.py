"""The history of titles and awards (PRODUCT §11): published results and earlier years by
person and collective, names matched however they are typed, two spellings merged."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.db import Database
from storage.history import PastAwardRow, history_of, merge_people, records, store_past_awards
from storage.models import Target
from storage.organizations import organization_by_code
from storage.units import unit_by_code
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES

LATER = datetime(2025, 12, 1, tzinfo=UTC)  # after the Ngoại vụ decision's publication


async def _ngoai_vu(db: Database) -> tuple[int, int, int]:
    await load_files(
        db,
        EXAMPLES / "units-ngoai-vu-lang-son.yaml",
        EXAMPLES / "campaign-ngoai-vu-2025.yaml",
        EXAMPLES / "results-ngoai-vu-2025.yaml",
    )
    async with db.read() as session:
        org = await organization_by_code(session, "SNGV-LS")
        htqt = await unit_by_code(session, "NV_HTQT")
        qlbg = await unit_by_code(session, "NV_QLBG")
        assert org is not None and htqt is not None and qlbg is not None
        return org.id, htqt.id, qlbg.id


def _row(
    unit: int, name: str, year: int, award: str, target: Target = Target.CA_NHAN
) -> PastAwardRow:
    return PastAwardRow(unit, target, name, year, award, "12/QĐ-SNgV", "Giám đốc Sở", "cu.xlsx:2")


async def test_published_results_and_earlier_years_make_one_history(lite_db: Database) -> None:
    org, htqt, qlbg = await _ngoai_vu(lite_db)
    async with lite_db.write() as session:
        added = await store_past_awards(
            session,
            org,
            [
                _row(htqt, "NGUYỄN VĂN AN", 2023, "Lao động tiên tiến"),
                _row(htqt, "nguyễn  văn an", 2024, "Chiến sĩ thi đua cơ sở"),
                _row(qlbg, "Nguyễn Văn An", 2024, "Lao động tiên tiến"),  # another unit's
            ],
        )
        again = await store_past_awards(
            session, org, [_row(htqt, "Nguyễn Văn An", 2023, "Lao động tiên tiến")]
        )
    assert (added, again) == (3, 0)  # a workbook loaded twice adds nothing
    async with lite_db.read() as session:
        an = await history_of(
            session, org, htqt, "nguyen van an".replace("nguyen van an", "Nguyễn Văn An"), LATER
        )
        before = await history_of(
            session, org, htqt, "Nguyễn Văn An", datetime(2025, 1, 1, tzinfo=UTC)
        )
        found = await records(session, org, LATER, name="nguyen van")
    assert an is not None
    years = [year for year, _ in an.by_year()]
    assert years == [2025, 2024, 2023]
    assert any(e.published and e.year == 2025 for e in an.entries)
    assert before is not None and all(not e.published for e in before.entries)  # not yet published
    assert {(r.unit_id, r.key) for r in found} >= {(htqt, "nguyễn văn an"), (qlbg, "nguyễn văn an")}


async def test_two_spellings_merged_read_as_one_person(lite_db: Database) -> None:
    org, htqt, _ = await _ngoai_vu(lite_db)
    async with lite_db.write() as session:
        await store_past_awards(
            session,
            org,
            [
                _row(htqt, "Nguyễn Thị Hương", 2022, "Lao động tiên tiến"),
                _row(htqt, "Nguyễn Thị Huơng", 2023, "Lao động tiên tiến"),  # a typo
                _row(htqt, "N. T. Hương", 2024, "Chiến sĩ thi đua cơ sở"),
            ],
        )
        assert await merge_people(session, htqt, "Nguyễn Thị Huơng", "N. T. Hương")
        assert await merge_people(session, htqt, "N. T. Hương", "Nguyễn Thị Hương")
        assert not await merge_people(session, htqt, "nguyễn thị hương", "Nguyễn Thị Hương")
    async with lite_db.read() as session:
        huong = await history_of(session, org, htqt, "Nguyễn Thị Huơng", LATER)
        every = [r for r in await records(session, org, LATER, unit_id=htqt) if "H" in r.name]
    assert huong is not None and [y for y, _ in huong.by_year()] == [2024, 2023, 2022]
    assert len([r for r in every if "Hương" in r.name or "Huơng" in r.name]) == 1
