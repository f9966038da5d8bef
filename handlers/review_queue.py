"""The order of the office's review queue: dossiers past the review limit first, by how many
working days they are late (the campaign's `review_within_working_days`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from scheduler.calendar import working_days_between
from storage.reviews import QueueItem


def overdue_by(complete_on: date, today: date, limit: int | None) -> int:
    """Working days a complete dossier is past the office's review limit (0: not overdue)."""
    if limit is None:
        return 0
    return max(working_days_between(complete_on, today) - limit, 0)


def by_urgency(
    queue: Sequence[QueueItem], today: date, tz: ZoneInfo
) -> list[tuple[QueueItem, int]]:
    """The queue with how overdue each dossier is: overdue ones first, the longest waiting
    first among them; the rest in the queue's order."""
    marked = [
        (
            item,
            overdue_by(
                item.status.complete_since.astimezone(tz).date(),
                today,
                item.campaign.review_within_working_days,
            )
            if item.status.complete_since is not None
            else 0,
        )
        for item in queue
    ]
    late = sorted((m for m in marked if m[1]), key=lambda m: -m[1])
    return late + [m for m in marked if not m[1]]
