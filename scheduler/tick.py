"""A scheduler tick: compute what is due (one instance at a time) and hand it to the outbox."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from messages import render, render_text
from messages.organizations import org_words, speaking_for
from scheduler.calendar_sync import install_calendar
from scheduler.due import Push, due_pushes, next_due_at
from scheduler.outgoing import member_outgoing, outgoing, to_members
from scheduler.push_text import push_words, render_push
from scheduler.snapshot import HORIZON, load_snapshot
from storage.announcements import reach
from storage.blocked import mark_told, untold_blocked
from storage.db import Database
from storage.models import Channel, Member, OutboxStatus, Role
from storage.outbox import Outgoing, delivery_report, enqueue, take_due_lock
from storage.recipients import chat_names, member_names, organization_code, recipients
from storage.scheduled_announcements import existing_announcements, unreported_announcements
from storage.updates import forget_old_updates
from storage.zalo_links import routes

log = logging.getLogger(__name__)

# A recipient found blocked longer ago than this is not news (a database upgraded from a
# version that told the office at once).
_BLOCKED_NEWS = timedelta(days=7)


class Scheduler:
    """Ticks: at start and every minute (APScheduler only triggers; the database decides)."""

    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        clock: Callable[[], datetime],
        on_enqueued: Callable[[], None] | None = None,
        *,
        zalo: bool = False,
    ) -> None:
        self.db = db
        self.zalo = zalo  # the Zalo channel is configured: members linked there get pushes
        self.tz = tz
        self.clock = clock
        self.on_enqueued = on_enqueued
        # When the next push becomes due, as seen by the last tick that computed (None: none
        # planned, or another instance holds the lock and computes).
        self.next_at: datetime | None = None

    async def tick(self) -> int:
        """Enqueue every due push for its recipients; returns how many messages were added."""
        now = self.clock()
        if self.db.is_sqlite:
            # One writer at a time: compute in a read transaction, so that the worker's
            # records are not held up by the computation; the outbox keys make a race
            # between two ticks harmless.
            async with self.db.read() as session:
                await install_calendar(session)  # follow a newly loaded calendar document
                messages = await self._due_messages(session, now)
            async with self.db.write() as session:
                added = await self._enqueue(session, messages, now)
        else:
            async with self.db.write() as session:
                await install_calendar(session)  # every instance, lock or not: its handlers too
                # Several instances: the one holding the lock computes; the others skip.
                if not await take_due_lock(session):
                    self.next_at = None
                    return 0
                messages = await self._due_messages(session, now)
                added = await self._enqueue(session, messages, now)
        if added:
            log.info("tick enqueued %s messages", added)
            if self.on_enqueued is not None:
                self.on_enqueued()
        return added

    async def _due_messages(self, session: AsyncSession, now: datetime) -> list[Outgoing]:
        """One message per due push and recipient; remembers when the next push falls due."""
        snapshot = await load_snapshot(session, self.tz, since=now - HORIZON)
        self.next_at = next_due_at(snapshot, now)
        rows: list[Outgoing] = []
        for push in due_pushes(snapshot, now):
            try:
                async with session.begin_nested():  # a failed statement spoils only this push
                    rows += await self._push_rows(session, push, now)
            except Exception:
                # One bad row never stops the scheduler: this push is recorded as failed and
                # the office told; the others go on (PRODUCT §8).
                log.exception("push %s could not be prepared; recorded as failed", push.key)
                rows += await self._failed_push(session, push, now)
        return rows

    async def _push_rows(self, session: AsyncSession, push: Push, now: datetime) -> list[Outgoing]:
        """The outbox rows of one due push: its parts for each recipient (none yet: it stays
        due until someone joins)."""
        members = await recipients(session, push.unit, push.org)
        routed = [(m, routes(m, self.zalo)) for m in members]
        texts: dict[Channel, tuple[str, str | None]] = {}
        for channel in {c for _, channels in routed for c in channels}:
            # Telegram's as before; Zalo's plain text says the next step in its own words.
            texts[channel] = (
                await render_push(session, push, now, self.tz, channel=channel)
                if channel is Channel.ZALO
                else await render_push(session, push, now, self.tz)
            )
        rows: list[Outgoing] = []
        # The body's words for a Zalo text's last line (scheduler.outgoing.zalo_parts): read
        # only when the push goes to Zalo at all, not for every Telegram push.
        words = await push_words(session, push) if Channel.ZALO in texts else org_words("")
        with speaking_for(words):
            for m, channels in routed:
                for channel in channels:
                    text, document = texts[channel]
                    rows += member_outgoing(
                        push.key, push.key, push.kind, m, channel, text, now, document
                    )
        return rows

    def _notice(
        self,
        members: list[Member],
        key: str,
        row_kind: str,
        screen: str,
        now: datetime,
        **values: Any,
    ) -> list[Outgoing]:
        """One of the office's notices to each of these members, on their channels."""
        return to_members(
            key, row_kind, members, lambda: render(screen, **values), now, zalo=self.zalo
        )

    async def _failed_push(
        self, session: AsyncSession, push: Push, now: datetime
    ) -> list[Outgoing]:
        """A push that could not be prepared: one failed row under its key (so it is not tried
        every minute again and counts in its report), and a message to the office."""
        key = f"failed:{push.key}"
        office = [m for m in await recipients(session, None, push.org) if m.role is Role.OFFICE]
        at = now.astimezone(self.tz)
        told = self._notice(
            office,
            key,
            "push_failed",
            "push/failed",
            now,
            kind=push.kind,
            subject=push.subject,
            at=at,
        )
        return [Outgoing(f"{push.key}:failed", push.key, push.kind, 0, "", now, failed=True), *told]

    async def _enqueue(self, session: AsyncSession, messages: list[Outgoing], now: datetime) -> int:
        # An announcement cancelled between the computation and this write is not sent.
        ids = {int(m.push_key.split(":")[1]) for m in messages if m.kind == "announcement"}
        kept = await existing_announcements(session, ids)
        messages = [
            m for m in messages if m.kind != "announcement" or int(m.push_key.split(":")[1]) in kept
        ]
        added = await enqueue(session, messages, now)
        added += await self._finished_reports(session, now)
        added += await self._blocked_reports(session, now)
        await forget_old_updates(session, now, timedelta(days=2))
        return added

    async def _finished_reports(self, session: AsyncSession, now: datetime) -> int:
        """Once every message of an announcement has an outcome, the office gets the report."""
        reports: list[Outgoing] = []
        for announcement in await unreported_announcements(session, now):
            report = await delivery_report(session, f"announcement:{announcement.id}", prefix=True)
            if not report.done:
                continue
            names = {
                Channel.TELEGRAM: await chat_names(session),
                Channel.ZALO: await member_names(session),
            }
            audience = await reach(
                session,
                announcement.organization_id,
                announcement.audience,
                announcement.unit_ids or [],
                announcement.campaign_id,
            )
            text = render(
                "announce/report",
                unreached=[u.name for u in audience.unreached],
                created=announcement.created_at.astimezone(self.tz),
                sent=report.counts.get(OutboxStatus.SENT, 0),
                blocked=report.counts.get(OutboxStatus.BLOCKED, 0),
                uncertain=report.counts.get(OutboxStatus.UNCERTAIN, 0),
                failed=report.counts.get(OutboxStatus.FAILED, 0),
                pending=0,
                # Per channel only when more than Telegram carried it.
                channels=report.by_channel if set(report.by_channel) - {Channel.TELEGRAM} else {},
                blocked_names=[_named(names, c, chat) for c, chat in report.blocked],
                uncertain_names=[_named(names, c, chat) for c, chat in report.uncertain],
            )
            assert announcement.report_chat_id is not None
            key = f"report:announcement:{announcement.id}"
            reports += outgoing(key, key, "report", announcement.report_chat_id, text, now)
            announcement.reported_at = now
        return await enqueue(session, reports, now)

    async def _blocked_reports(self, session: AsyncSession, now: datetime) -> int:
        """Recipients found blocked since the last tick: one message to each body's office
        naming them all (PRODUCT §8: once per event, not once per recipient). A broadcast's
        are named in its own delivery report instead."""
        found = await untold_blocked(session, since=now - _BLOCKED_NEWS)
        by_org: dict[int | None, dict[tuple[Channel, int], _BlockedPerson]] = {}
        for b in found:
            person = by_org.setdefault(b.organization_id, {}).setdefault(
                (b.channel, b.chat_id),
                _BlockedPerson(b.name or str(b.chat_id), b.unit, b.unit_code, [], b.channel),
            )
            if b.kind not in person.kinds:
                person.kinds.append(b.kind)
        rows: list[Outgoing] = []
        for org_id, people in by_org.items():
            org = await organization_code(session, org_id) if org_id is not None else None
            office = [m for m in await recipients(session, None, org) if m.role is Role.OFFICE]
            key = f"blocked:{org_id}:{max(b.row_id for b in found if b.organization_id == org_id)}"
            # An office member who blocked is not told there; the others are, where they read.
            rows += [
                row
                for row in self._notice(
                    office, key, "blocked", "push/blocked", now, people=list(people.values())
                )
                if (row.channel, row.chat_id) not in people
            ]
        await mark_told(session, found)
        return await enqueue(session, rows, now)


@dataclass(slots=True)
class _BlockedPerson:
    name: str
    unit: str | None
    unit_code: str | None
    kinds: list[str]
    channel: Channel


def _named(names: dict[Channel, dict[int, str]], channel: Channel, chat: int) -> str:
    """A recipient as a report names them (on Zalo, said so)."""
    name = names[channel].get(chat, str(chat))
    return name if channel is Channel.TELEGRAM else render_text("push/on_zalo", name=name)
