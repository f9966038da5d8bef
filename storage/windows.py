"""The campaign windows, pure: launched, open for registration, taking dossier files, shown.

Every place that asks whether a campaign is open for something asks here, so the rules are
written once. Dates are local dates (deadlines are local days); `now` is an aware instant.
Campaigns are read through the fields only, so the scheduler's facts answer too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol


class _Launched(Protocol):
    @property
    def launch_at(self) -> datetime: ...


class _Registering(Protocol):
    @property
    def registration_deadline(self) -> date | None: ...


class _Collecting(Protocol):
    @property
    def dossier_deadline(self) -> date | None: ...


class _Ending(Protocol):
    @property
    def end(self) -> date: ...


class _CollectingAndEnding(_Collecting, _Ending, Protocol):
    pass


def launched(campaign: _Launched, now: datetime) -> bool:
    """Whether the campaign has been launched by this instant (units see it from then)."""
    return campaign.launch_at <= now


def has_registration(campaign: _Registering) -> bool:
    """Whether the campaign asks units to register at all."""
    return campaign.registration_deadline is not None


def registration_open(campaign: _Registering, today: date) -> bool:
    """Whether the campaign still takes registrations on this (local) day."""
    return campaign.registration_deadline is not None and today <= campaign.registration_deadline


def has_dossier(campaign: _Collecting) -> bool:
    """Whether the campaign asks units for a dossier at all."""
    return campaign.dossier_deadline is not None


def dossier_open(campaign: _Collecting, today: date) -> bool:
    """Whether the campaign takes dossier files on this (local) day."""
    return campaign.dossier_deadline is not None and today <= campaign.dossier_deadline


def recent_since(today: date) -> date:
    """The first day of last year: what ended before it is no longer listed."""
    return date(today.year - 1, 1, 1)


def recent(campaign: _Ending, today: date) -> bool:
    """Whether the campaign ended this year or last (still listed to the office)."""
    return campaign.end >= recent_since(today)


def under_review(campaign: _CollectingAndEnding, today: date) -> bool:
    """Whether the office still reviews the campaign's dossiers (/duyet): it has one, and
    the campaign ended this year or last."""
    return has_dossier(campaign) and recent(campaign, today)


def dossier_recent(campaign: _Collecting, today: date) -> bool:
    """Whether the campaign's dossiers were due this year or last (the office's summary)."""
    deadline = campaign.dossier_deadline
    return deadline is not None and deadline >= recent_since(today)
