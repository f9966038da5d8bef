"""Organisations: the bodies whose units, plans and campaigns the database holds."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Organization
from storage.text import fold


def code_from_name(name: str) -> str:
    """A code for an organisation given by name only: the initials of its words, in capitals
    without diacritics (the Justice Department of Lang Son province gives STPTLS); ORG for
    an empty name."""
    initials = "".join(word[0] for word in re.findall(r"[a-z0-9]+", fold(name)))
    return (initials.upper() or "ORG")[:40]


@dataclass(frozen=True, slots=True)
class OrganizationSpec:
    """An organisation as a units file gives it; code None: given by name only."""

    code: str | None
    name: str
    office: str | None = None
    head: str | None = None
    short: str | None = None


async def organization_by_code(session: AsyncSession, code: str) -> Organization | None:
    """The organisation with this code, or None."""
    return await session.scalar(select(Organization).where(Organization.code == code))


async def all_organizations(session: AsyncSession) -> list[Organization]:
    """Every organisation, in the order they were first loaded."""
    return list(await session.scalars(select(Organization).order_by(Organization.id)))


async def find_organization(session: AsyncSession, spec: OrganizationSpec) -> Organization | None:
    """The stored organisation a file means: by code, else (a name-only file, or an object
    naming a body first loaded by name) by its name."""
    if spec.code is not None:
        found = await organization_by_code(session, spec.code)
        if found is not None:
            return found
    by_name = list(
        await session.scalars(select(Organization).where(Organization.name == spec.name))
    )
    return by_name[0] if len(by_name) == 1 else None


async def free_code(session: AsyncSession, wanted: str) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`… whichever no organisation has yet."""
    taken = set(await session.scalars(select(Organization.code)))
    code, n = wanted, 1
    while code in taken:
        n += 1
        code = f"{wanted[:36]}-{n}"
    return code


async def upsert_organization(
    session: AsyncSession, spec: OrganizationSpec
) -> tuple[Organization, str]:
    """Create or update an organisation; returns it with "added", "updated" or "unchanged"."""
    org = await find_organization(session, spec)
    values = {"name": spec.name, "office": spec.office, "head": spec.head, "short": spec.short}
    if spec.code is not None:
        values["code"] = spec.code
    if org is None:
        code = spec.code or await free_code(session, code_from_name(spec.name))
        org = Organization(**{**values, "code": code})
        session.add(org)
        await session.flush()
        return org, "added"
    if spec.code is None:  # a name-only file says nothing of the words: keep what is stored
        values = {"name": spec.name}
    if all(getattr(org, k) == v for k, v in values.items()):
        return org, "unchanged"
    for key, value in values.items():
        setattr(org, key, value)
    await session.flush()
    return org, "updated"
