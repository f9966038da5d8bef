"""Launching a loaded campaign now rather than at its scheduled time (/phatdong)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign
from storage.office_scope import office_campaign
from storage.windows import launched


async def launch_now(
    session: AsyncSession, campaign_id: int, org_id: int, now: datetime
) -> Campaign | None:
    """Bring the organisation's campaign's launch forward to `now` (the scheduler sends it
    at its next tick); None when it is not the organisation's or is launched already."""
    campaign = await office_campaign(session, campaign_id, org_id)
    if campaign is None or launched(campaign, now):
        return None
    campaign.launch_at = now
    return campaign
