"""Rules documents (PRODUCT §11): the conditions of titles and awards as data, each with its
legal basis, stored per organisation for the eligibility hints. The format is
storage.eligibility's; an organisation's rules document replaces the one it had."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.datafiles.reading import Loaded
from bot.datafiles.scope import Resolver
from storage.eligibility import RulesDocument
from storage.rules import store_rules

ENTRY = "rules"


async def apply_rules(
    applier: Resolver, documents: Sequence[Loaded[RulesDocument]], now: datetime
) -> None:
    """Store each document for its organisation, resolved as a plan's or a campaign's is (the
    one it names, else the one of the units loaded with it, else the only one stored); two
    documents of one load for one organisation are an error, not a silent replacement."""
    first: dict[int, str] = {}
    for loaded in documents:
        code = loaded.body.organization
        org = await applier.organization(loaded.file, ENTRY, code)
        if org is None:
            continue
        if org.id in first:
            applier.error(
                loaded.file,
                ENTRY,
                "organization",
                "rules_twice",
                code=org.code,
                other=first[org.id],
            )
            continue
        first[org.id] = loaded.file
        outcome = await store_rules(applier.session, org.id, loaded.body, loaded.file, now)
        applier.report.rules.record(outcome, org.code)
