"""/hoso's dossiers kept in memory between updates, reused while the database says nothing
they were read from has changed.

Migration 0015 keeps counters the database bumps itself on every write, in the writing
transaction: one per unit (its uploads and nominees) and one for every unit, unit 0 (the
required documents and the award forms). A unit's dossiers read at counters (u, g) are
reused as long as one small query reads (u, g) again, so a write made by any instance, by
any code, shows in the next /hoso. The counters are read before the dossier itself: on
PostgreSQL each statement sees its own snapshot, and a write landing in between makes the
kept copy newer than its counters, never older (it is only read again once more).

The campaigns are not kept (which are launched depends on the hour); the caller reads them
on every update and the dossier is kept for that list of campaigns.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Column,
    Engine,
    Integer,
    MetaData,
    ScalarSelect,
    Table,
    bindparam,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns import takes_part
from storage.dossier_status import DocumentStatus, DossierStatus, NomineeStatus, dossier_statuses
from storage.models import Campaign

EVERY_UNIT = 0
KEPT_UNITS = 2_000  # dossiers kept per database, the least recently asked dropped first

dossier_versions = Table(
    "dossier_versions",
    MetaData(),
    Column("unit_id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)
_VERSIONS = select(dossier_versions.c.unit_id, dossier_versions.c.version).where(
    dossier_versions.c.unit_id.in_([EVERY_UNIT, bindparam("unit_id")])
)


def _version(unit: int | BindParameter[int]) -> ScalarSelect[int]:
    found = select(dossier_versions.c.version).where(dossier_versions.c.unit_id == unit)
    return select(func.coalesce(found.scalar_subquery(), 0)).scalar_subquery()


# The unit's launched campaigns (storage.campaigns.launched_campaigns_of_unit) and, in the same
# statement, the counters: one trip to the database instead of two.
_LAUNCHED_WITH_VERSIONS = (
    select(Campaign, _version(bindparam("unit_id")), _version(EVERY_UNIT))
    .where(takes_part(bindparam("unit_id")), Campaign.launch_at <= bindparam("now"))
    .order_by(Campaign.start, Campaign.code)
)


async def launched_campaigns_with_versions(
    session: AsyncSession, unit_id: int, now: datetime
) -> tuple[list[Campaign], tuple[int, int]]:
    """The campaigns this unit takes part in that have been launched, and the unit's counters
    ((0, 0) when there is no campaign: nothing to keep)."""
    rows = (await session.execute(_LAUNCHED_WITH_VERSIONS, {"unit_id": unit_id, "now": now})).all()
    versions = (rows[0][1], rows[0][2]) if rows else (0, 0)
    return [row[0] for row in rows], versions


@dataclass(frozen=True, slots=True)
class _Kept:
    campaign_ids: tuple[int, ...]
    versions: tuple[int, int]  # (the unit's, every unit's)
    parts: tuple[tuple[tuple[DocumentStatus, ...], tuple[NomineeStatus, ...]], ...]


class DossierCache:
    """The newest dossiers read, per unit, of one database."""

    def __init__(self, size: int = KEPT_UNITS) -> None:
        self.size = size
        self._kept: OrderedDict[int, _Kept] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._kept)

    async def statuses(
        self,
        session: AsyncSession,
        campaigns: Sequence[Campaign],
        unit_id: int,
        versions: tuple[int, int] | None = None,
    ) -> list[DossierStatus]:
        """`dossier_statuses(session, campaigns, unit_id)`, from memory when nothing changed
        (`versions`: the counters, if the caller read them before the campaigns' rows)."""
        if not campaigns:
            return []
        if versions is None:
            versions = await dossier_versions_of(session, unit_id)
        ids = tuple(c.id for c in campaigns)
        kept = self._kept.get(unit_id)
        if kept is not None and kept.campaign_ids == ids and kept.versions == versions:
            self.hits += 1
            self._kept.move_to_end(unit_id)
            return [
                DossierStatus(campaign, own, nominees)
                for campaign, (own, nominees) in zip(campaigns, kept.parts, strict=True)
            ]
        self.misses += 1
        result = await dossier_statuses(session, campaigns, unit_id)
        parts = tuple((d.unit_documents, d.nominees) for d in result)
        self._kept[unit_id] = _Kept(ids, versions, parts)
        self._kept.move_to_end(unit_id)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return result


async def dossier_versions_of(session: AsyncSession, unit_id: int) -> tuple[int, int]:
    """The unit's counter and every unit's (0 while nothing was ever written)."""
    found = {
        unit: version for unit, version in await session.execute(_VERSIONS, {"unit_id": unit_id})
    }
    return found.get(unit_id, 0), found.get(EVERY_UNIT, 0)


# One cache per engine: two databases (tests, a restored copy) never share one.
_CACHES: weakref.WeakKeyDictionary[Engine, DossierCache] = weakref.WeakKeyDictionary()


def cache_of(session: AsyncSession) -> DossierCache:
    """The cache of the database this session reads."""
    engine = session.sync_session.get_bind()
    assert isinstance(engine, Engine)
    cache = _CACHES.get(engine)
    if cache is None:
        cache = _CACHES[engine] = DossierCache()
    return cache


async def cached_dossier_statuses(
    session: AsyncSession,
    campaigns: Sequence[Campaign],
    unit_id: int,
    versions: tuple[int, int] | None = None,
) -> list[DossierStatus]:
    """`dossier_statuses`, kept in memory per unit until a write changes the unit's counters."""
    return await cache_of(session).statuses(session, campaigns, unit_id, versions)
