"""The history of titles and awards (PRODUCT §11): every published result kept per person
and per collective across campaigns and years, with the earlier years loaded from the
office's own records, people matched by unit and normalised name.

Two spellings of one person are merged with an alias (`merge_people`): every read maps a
name's key through the unit's aliases first, so a merge needs no rewrite of any record and
can be undone by deleting the alias.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert_insert
from storage.models import (
    Award,
    Campaign,
    CouncilResult,
    PastAward,
    PersonAlias,
    ResultItem,
    Target,
    Unit,
)
from storage.text import fold, name_key


@dataclass(frozen=True, slots=True)
class Entry:
    """One title or award a person or collective received."""

    year: int
    award: str
    decision: str | None
    decided_by: str | None
    campaign: str | None  # the campaign's title, for a published result
    published: bool  # a published result of the bot (else loaded from earlier records)


@dataclass(slots=True)
class Record:
    """A person's or a collective's history: who, of which unit, and what, by year."""

    unit_id: int
    unit_code: str
    unit_name: str
    name: str  # as first written
    key: str  # the name's key after the unit's aliases
    target: Target
    entries: list[Entry] = field(default_factory=list)

    def by_year(self) -> list[tuple[int, list[Entry]]]:
        """The entries grouped by year, the latest year first."""
        years: dict[int, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            years[entry.year].append(entry)
        return sorted(years.items(), reverse=True)


@dataclass(frozen=True, slots=True)
class PastAwardRow:
    """One row of an office's workbook of earlier years, resolved: ready to store."""

    unit_id: int
    target: Target
    name: str
    year: int
    award: str
    decision: str | None
    decided_by: str | None
    source: str


async def _aliases(session: AsyncSession, unit_ids: Iterable[int]) -> dict[tuple[int, str], str]:
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(PersonAlias.unit_id, PersonAlias.name_key, PersonAlias.canonical_key).where(
            PersonAlias.unit_id.in_(ids)
        )
    )
    return {(unit, key): canonical for unit, key, canonical in rows}


async def records(
    session: AsyncSession,
    organization_id: int,
    now: datetime,
    *,
    unit_id: int | None = None,
    name: str | None = None,
) -> list[Record]:
    """Every person and collective of the organisation (of one unit, if given) with what
    they received: results published by `now` and the loaded earlier years. With `name`,
    only those whose name contains it, compared without case or diacritics."""
    published = (
        select(
            ResultItem.unit_id,
            ResultItem.nominee,
            Award.target,
            Award.name,
            Campaign.end,
            Campaign.title,
            CouncilResult.decision,
            CouncilResult.decided_by,
        )
        .join(CouncilResult, CouncilResult.id == ResultItem.result_id)
        .join(Campaign, Campaign.id == CouncilResult.campaign_id)
        .join(Award, Award.id == ResultItem.award_id)
        .where(Campaign.organization_id == organization_id, CouncilResult.publish_at <= now)
        .order_by(CouncilResult.publish_at, ResultItem.position)
    )
    past = (
        select(
            PastAward.unit_id,
            PastAward.name,
            PastAward.target,
            PastAward.award,
            PastAward.year,
            PastAward.decision,
            PastAward.decided_by,
        )
        .where(PastAward.organization_id == organization_id)
        .order_by(PastAward.year, PastAward.id)
    )
    if unit_id is not None:
        published = published.where(ResultItem.unit_id == unit_id)
        past = past.where(PastAward.unit_id == unit_id)
    found: list[tuple[int, str, Target, Entry]] = [
        (u, n, t, Entry(end.year, a, d, by, title, True))
        for u, n, t, a, end, title, d, by in await session.execute(published)
    ]
    found += [
        (u, n, t, Entry(year, a, d, by, None, False))
        for u, n, t, a, year, d, by in await session.execute(past)
    ]
    wanted = fold(name) if name else None
    if wanted is not None:
        found = [f for f in found if wanted in fold(f[1])]
    units = {
        u.id: u
        for u in await session.scalars(select(Unit).where(Unit.id.in_({f[0] for f in found})))
    }
    aliases = await _aliases(session, units)
    by_person: dict[tuple[int, str, Target], Record] = {}
    for unit, person, target, entry in found:
        key = name_key(person)
        key = aliases.get((unit, key), key)
        kind = Target.TAP_THE if target is Target.TAP_THE else Target.CA_NHAN
        record = by_person.get((unit, key, kind))
        if record is None:
            u = units[unit]
            record = by_person[(unit, key, kind)] = Record(unit, u.code, u.name, person, key, kind)
        record.entries.append(entry)
    return sorted(by_person.values(), key=lambda r: (fold(r.name), r.unit_name))


async def history_of(
    session: AsyncSession, organization_id: int, unit_id: int, name: str, now: datetime
) -> Record | None:
    """One person's (or collective's) history in a unit, matched by the normalised name."""
    key = name_key(name)
    aliases = await _aliases(session, [unit_id])
    key = aliases.get((unit_id, key), key)
    for record in await records(session, organization_id, now, unit_id=unit_id):
        if record.key == key:
            return record
    return None


async def histories_of(
    session: AsyncSession,
    organization_id: int,
    unit_id: int,
    wanted: Iterable[tuple[str, Target]],
    now: datetime,
) -> dict[tuple[str, Target], Record]:
    """The histories of several names of one unit at once, each matched as history_of
    matches it (and by whether it is a person or a collective), by the pair asked; a name with
    no history is left out."""
    wanted = list(wanted)
    if not wanted:
        return {}
    aliases = await _aliases(session, [unit_id])
    found = {
        (r.key, r.target): r for r in await records(session, organization_id, now, unit_id=unit_id)
    }
    result = {}
    for name, target in wanted:
        key = name_key(name)
        record = found.get((aliases.get((unit_id, key), key), target))
        if record is not None:
            result[(name, target)] = record
    return result


async def store_past_awards(
    session: AsyncSession, organization_id: int, rows: Sequence[PastAwardRow]
) -> int:
    """Store rows of earlier years; a row already stored (the same unit, name, year and
    title or award) is left as it was, so a workbook loaded twice adds nothing. How many
    were added."""
    values = [
        {
            "organization_id": organization_id,
            "unit_id": r.unit_id,
            "target": r.target,
            "name": r.name,
            "name_key": name_key(r.name),
            "year": r.year,
            "award": r.award,
            "decision": r.decision,
            "decided_by": r.decided_by,
            "source": r.source[:300],
        }
        for r in rows
    ]
    added = 0
    for start in range(0, len(values), 200):  # SQLite caps the variables of one statement
        statement = upsert_insert(session, PastAward).values(values[start : start + 200])
        result = await session.execute(
            statement.on_conflict_do_nothing(
                index_elements=["unit_id", "name_key", "year", "award"]
            ).returning(PastAward.id)
        )
        added += len(result.all())
    return added


async def merge_people(session: AsyncSession, unit_id: int, spelling: str, into: str) -> bool:
    """From now on `spelling` of this unit is read as `into` (False if they are one name
    already). Whatever was merged into `spelling` follows it."""
    key, target = name_key(spelling), name_key(into)
    aliases = await _aliases(session, [unit_id])
    target = aliases.get((unit_id, target), target)
    if key == target:
        return False
    await session.execute(
        delete(PersonAlias).where(PersonAlias.unit_id == unit_id, PersonAlias.name_key == key)
    )
    followers = await session.scalars(
        select(PersonAlias).where(PersonAlias.unit_id == unit_id, PersonAlias.canonical_key == key)
    )
    for alias in followers:
        alias.canonical_key = target
    session.add(PersonAlias(unit_id=unit_id, name_key=key, canonical_key=target))
    await session.flush()
    return True
