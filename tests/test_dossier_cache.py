"""/hoso keeps a unit's dossier in memory and reads it again only after a write: the counters
of migration 0015 move with every write, whichever instance or code made it, and the next
/hoso shows it (storage/dossier_cache)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update

from bot.emulator.sandbox import Sandbox
from storage.db import Database
from storage.dossier_cache import EVERY_UNIT, cache_of, dossier_versions_of
from storage.models import (
    Award,
    Nominee,
    RequiredDocument,
    Role,
    StoredFile,
    Target,
    Unit,
    Upload,
)
from tests.support.clock import Clock
from tests.support.people import join
from tests.support.seasons import ngoai_vu_season

MINUTES = "Biên bản họp xét khen thưởng"
AT = datetime(2025, 10, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
async def season(sandbox: Sandbox, clock: Clock) -> Sandbox:
    """20/10/2025, Sở Ngoại vụ: dossiers due 30/10/2025."""
    return await ngoai_vu_season(sandbox, clock)


async def _unit_id(db: Database, code: str) -> int:
    async with db.read() as session:
        unit = await session.scalar(select(Unit.id).where(Unit.code == code))
    assert unit is not None
    return unit


async def _minutes_upload(db: Database, unit_id: int) -> None:
    """The unit's minutes (BB) as another instance stores it: rows written, no bot involved."""
    async with db.write() as session:
        document = await session.scalar(
            select(RequiredDocument).where(RequiredDocument.code == "BB")
        )
        assert document is not None
        stored = StoredFile(sha256="ab" * 32, size=3, kind="pdf", path="x.pdf", created_at=AT)
        session.add(stored)
        await session.flush()
        session.add(
            Upload(
                unit_id=unit_id,
                campaign_id=document.campaign_id,
                document_id=document.id,
                stored_file_id=stored.id,
                original_name="bb.pdf",
                telegram_file_id="f",
                uploaded_by=1,
                uploaded_at=AT,
            )
        )


async def test_hoso_shows_every_write_of_another_instance_and_rereads_only_then(
    season: Sandbox,
) -> None:
    hoa = await join(season, 4001, "Hoa", "NV_HTQT", Role.FOCAL)
    unit = await _unit_id(season.db, "NV_HTQT")
    assert f"❌ {MINUTES}" in (await hoa.say("/hoso")).text
    async with season.db.read() as session:
        cache = cache_of(session)
    misses = cache.misses
    assert f"❌ {MINUTES}" in (await hoa.say("/hoso")).text
    assert (cache.hits, cache.misses) >= (1, misses)  # nothing written: read from memory
    assert cache.misses == misses

    other = Database(season.database_url)  # a second instance on the same database
    try:
        await _minutes_upload(other, unit)
        assert f"✅ {MINUTES}" in (await hoa.say("/hoso")).text
        async with other.write() as session:  # the office renames the document
            await session.execute(
                update(RequiredDocument)
                .where(RequiredDocument.code == "BB")
                .values(name="Biên bản họp của đơn vị (mẫu mới)")
            )
        assert "✅ Biên bản họp của đơn vị (mẫu mới)" in (await hoa.say("/hoso")).text
        async with other.write() as session:
            await session.execute(delete(Upload).where(Upload.unit_id == unit))
        assert "❌ Biên bản họp của đơn vị (mẫu mới)" in (await hoa.say("/hoso")).text
        assert cache.misses == misses + 3
    finally:
        await other.dispose()


async def test_the_counters_move_with_each_write_and_only_for_their_unit(
    season: Sandbox,
) -> None:
    db = season.db
    mine, theirs = await _unit_id(db, "NV_HTQT"), await _unit_id(db, "NV_VP")

    async def versions() -> tuple[tuple[int, int], tuple[int, int]]:
        async with db.read() as session:
            return await dossier_versions_of(session, mine), await dossier_versions_of(
                session, theirs
            )

    start = await versions()
    await _minutes_upload(db, mine)
    after_upload = await versions()
    assert after_upload[0][0] > start[0][0] and after_upload[1] == start[1]

    async with db.write() as session:
        award = await session.scalar(select(Award).where(Award.code == "GK-TT"))
        assert award is not None
        session.add(
            Nominee(
                campaign_id=award.campaign_id,
                unit_id=mine,
                name="Phòng Hợp tác quốc tế",
                name_key="phong hop tac quoc te",
                target=Target.TAP_THE,
                award_id=award.id,
                created_by=1,
                created_at=AT,
            )
        )
    added = await versions()
    assert added[0][0] > after_upload[0][0] and added[1] == start[1]

    async with db.write() as session:  # an award form changes: every unit's counter moves
        await session.execute(update(Award).where(Award.code == "GK-TT").values(quota=2))
    changed = await versions()
    assert changed[0][1] > added[0][1] and changed[1][1] == changed[0][1]
    assert changed[0][0] == added[0][0] and changed[1][0] == start[1][0]

    async with db.write() as session:
        await session.execute(delete(Nominee).where(Nominee.unit_id == mine))
    assert (await versions())[0][0] > changed[0][0]
    async with db.read() as session:
        assert (await dossier_versions_of(session, EVERY_UNIT))[1] == changed[0][1]
