"""The office's review of one dossier: opening it, and deciding on it, with the unit's focal
points told through the outbox in the same transaction, once per decision."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import DossierEvent, ReadHow, actor_name, record_nominee_event, record_reads
from storage.members import members_of_unit
from storage.models import (
    Award,
    Campaign,
    Member,
    Nominee,
    RequiredDocument,
    ReviewState,
    Role,
    Unit,
    Upload,
)
from storage.outbox import Outgoing, enqueue
from storage.recipients import organization_code, recipients
from storage.reviews import current_files, nominee_by_id, set_review

KIND = "review"  # the outbox kind of the notice to the unit

# The rows telling these members a text rendered on demand (for each of their channels):
# (key, kind, members, render, now) -> rows. The caller gives the one that knows the channels
# (scheduler.outgoing.to_members); without it, Telegram alone.
FanOut = Callable[[str, str, Sequence[Member], Callable[[], str], datetime], list[Outgoing]]


def telegram_only(
    key: str, kind: str, members: Sequence[Member], render: Callable[[], str], now: datetime
) -> list[Outgoing]:
    """Each member with a Telegram chat, the text once (a tool without channels)."""
    text = render()
    return [
        Outgoing(f"{key}:{m.chat_id}", key, kind, m.chat_id, text, now, m.id)
        for m in members
        if m.chat_id is not None
    ]


@dataclass(frozen=True, slots=True)
class OpenedDossier:
    """A dossier opened by the office: who, of which unit, for what, and its current files."""

    nominee: Nominee
    unit: Unit
    award: Award
    campaign: Campaign
    files: list[tuple[RequiredDocument | None, Upload]]


async def open_dossier(
    session: AsyncSession, nominee_id: int, org_id: int, *, by: int, now: datetime
) -> OpenedDossier | None:
    """The dossier of a nominee of the organisation's campaigns, now "in review" if nobody
    had opened it; None when it is not the organisation's. Its files, which the caller sends
    next, are logged as read by `by` (the access log), the opening in its history."""
    nominee = await nominee_by_id(session, nominee_id, org_id)
    if nominee is None:
        return None
    if nominee.review_state is ReviewState.NONE:
        await set_review(session, nominee, ReviewState.IN_REVIEW, by=by, now=now)
        await record_nominee_event(session, nominee, DossierEvent.REVIEW_OPENED, by=by, at=now)
    files = await current_files(session, nominee)
    name = await actor_name(session, by)
    uploads = [upload for _, upload in files]
    await record_reads(session, uploads, reader_id=by, reader_name=name, at=now, how=ReadHow.VIEWED)
    return OpenedDossier(
        nominee,
        await session.get_one(Unit, nominee.unit_id),
        await session.get_one(Award, nominee.award_id),
        await session.get_one(Campaign, nominee.campaign_id),
        files,
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision recorded (or found already recorded) and how many focal points it goes to.

    `again`: the same decision was taken before (a double tap): nothing recorded, nobody told.
    `changed`: the dossier has files the office was not shown: nothing recorded."""

    nominee: Nominee
    campaign: Campaign
    told: int
    again: bool = False
    changed: bool = False


async def seen_version(session: AsyncSession, nominee: Nominee) -> int:
    """What the office is shown of a dossier, as a number: the newest of its current files
    (any new version or file changes it). Carried by the approve button, checked on press."""
    return max((upload.id for _, upload in await current_files(session, nominee)), default=0)


def decision_key(nominee_id: int, state: ReviewState, decided_at: datetime) -> str:
    """The outbox push key of the notice of one decision: the same for the same decision,
    so that a second tap of the button finds its notice enqueued already."""
    # In UTC: the instant as stored and read back, whatever zone the clock gave it in.
    return f"review:{nominee_id}:{state.value}:{decided_at.astimezone(UTC):%Y%m%dT%H%M%S%f}"


async def decide(
    session: AsyncSession,
    nominee_id: int,
    state: ReviewState,
    *,
    by: int,
    now: datetime,
    note: str | None,
    notice: Callable[[Nominee, Campaign], str],
    seen: int | None = None,
    fan_out: FanOut = telegram_only,
) -> Decision | None:
    """Approve or return a dossier and enqueue `notice(nominee, campaign)` for every active
    focal point of its unit; None when the nominee is gone.

    The same decision again (the same state and note: a double tap, two screens of the
    dossier) is not recorded anew and tells nobody. With `seen` (the approve button's version),
    a dossier whose files changed since the office opened it is not decided."""
    # FOR UPDATE (PostgreSQL): two offices deciding at once take turns, so the second sees
    # the first's decision. SQLite's write transaction runs them one by one already.
    nominee = await session.scalar(
        select(Nominee).where(Nominee.id == nominee_id).with_for_update()
    )
    if nominee is None:
        return None
    campaign = await session.get_one(Campaign, nominee.campaign_id)
    if seen is not None and await seen_version(session, nominee) != seen:
        return Decision(nominee, campaign, 0, changed=True)  # approve only what was seen
    if (
        nominee.review_state is state
        and nominee.review_note == note
        and nominee.reviewed_at is not None
    ):
        return Decision(nominee, campaign, 0, again=True)  # taken once: nobody told twice
    await set_review(session, nominee, state, by=by, now=now, note=note)
    assert nominee.reviewed_at is not None
    approved = state is ReviewState.APPROVED
    await record_nominee_event(
        session,
        nominee,
        DossierEvent.REVIEW_APPROVED if approved else DossierEvent.REVIEW_RETURNED,
        by=by,
        at=nominee.reviewed_at,
        detail={"note": note} if note else None,
    )
    focal = [m for m in await members_of_unit(session, nominee.unit_id) if m.role is Role.FOCAL]
    push_key = decision_key(nominee.id, state, nominee.reviewed_at)
    rows = fan_out(push_key, KIND, focal, lambda: notice(nominee, campaign), now)
    await enqueue(session, rows, now)
    return Decision(nominee, campaign, len(focal))


async def tell_office(
    session: AsyncSession,
    organization_id: int,
    key: str,
    render: Callable[[], str],
    now: datetime,
    fan_out: FanOut = telegram_only,
) -> int:
    """Enqueue the text `render` gives once (under `key`) for every office member of the
    organisation, in the caller's transaction; how many it goes to."""
    code = await organization_code(session, organization_id)
    office = [m for m in await recipients(session, None, code) if m.role is Role.OFFICE]
    await enqueue(session, fan_out(key, "review_reopened", office, render, now), now)
    return len(office)
