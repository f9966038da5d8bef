"""An organisation's eligibility rules (PRODUCT §11): the `rules` document a load stores,
one per organisation, read back as storage.eligibility's RulesDocument."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.eligibility import RulesDocument, read_rules
from storage.models import EligibilityRules


async def store_rules(
    session: AsyncSession, organization_id: int, rules: RulesDocument, source: str, now: datetime
) -> str:
    """Store the organisation's rules in place of any it had: "added", "updated" or
    "unchanged" (the same document loaded again)."""
    document = rules.model_dump(mode="json", exclude_none=True)
    row = await session.get(EligibilityRules, organization_id)
    if row is None:
        session.add(
            EligibilityRules(
                organization_id=organization_id,
                title=rules.rules.title,
                document=document,
                source=source[-300:],
                loaded_at=now,
            )
        )
        outcome = "added"
    elif row.document == document:
        outcome = "unchanged"
    else:
        row.title, row.document, row.source, row.loaded_at = (
            rules.rules.title,
            document,
            source[-300:],
            now,
        )
        outcome = "updated"
    await session.flush()
    return outcome


async def rules_of(session: AsyncSession, organization_id: int) -> RulesDocument | None:
    """The organisation's rules, or None: none loaded, or stored by a version whose schema
    this one no longer reads (then there is no hint until they are loaded again)."""
    row = await session.get(EligibilityRules, organization_id)
    if row is None:
        return None
    try:
        return read_rules(row.document)
    except ValidationError:
        return None
