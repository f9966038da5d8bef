"""What an office may look up by a button's id: only what belongs to its own organisation
(another body's campaign or unit is as unknown as a made-up id)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign, Unit


async def office_campaign(session: AsyncSession, campaign_id: int, org_id: int) -> Campaign | None:
    """The campaign if it is one of the organisation's, else None (never trust a button)."""
    campaign = await session.get(Campaign, campaign_id)
    return campaign if campaign is not None and campaign.organization_id == org_id else None


async def office_unit(session: AsyncSession, unit_id: int, org_id: int) -> Unit | None:
    """The unit if it is one of the organisation's, else None (never trust a button)."""
    unit = await session.get(Unit, unit_id)
    return unit if unit is not None and unit.organization_id == org_id else None
