"""The end of `/dangky`: the summary, the confirmation that saves, and leaving."""

from __future__ import annotations

import dataclasses

from telegram import Update

from handlers.common import draft_of, end_conversation, guard, local_today
from handlers.eligibility import fitted
from handlers.registration.draft import DRAFT_KEY, FLOW, PREFIX, SUMMARY_LIMIT, Act, Draft, State
from handlers.replies import say_anew
from handlers.runtime import BotContext
from messages import render
from messages.keyboards import button, grid
from storage.campaigns import (
    campaign_for_unit,
)
from storage.eligibility_hints import Sought, eligibility_hints, sought_year
from storage.models import Role, Target
from storage.people_lines import PersonLine, name_suggestion
from storage.registrations import (
    Refused,
    RegisteredPerson,
    confirm_registration,
)


@guard(Role.FOCAL)
async def show_summary(update: Update, context: BotContext) -> int:
    """Show the summary: go on with the lines kept so far."""
    return await summary(update, context)


NAMES_SHOWN = 10  # names listed in the confirmation; the rest are counted


def names_to_confirm(draft: Draft) -> list[tuple[PersonLine, str]]:
    """The people whose names read as typed in one case or without diacritics, with the
    suggested writing, unless the unit already confirmed them as typed."""
    found = []
    for person in draft.people:
        suggestion = name_suggestion(person.full_name)
        if suggestion is not None and person.full_name not in draft.names_confirmed:
            found.append((person, suggestion))
    return found


async def summary(update: Update, context: BotContext) -> int:
    """The summary with its confirm, edit and cancel buttons; first, once, how names are written."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    if draft is None or context.member is None:
        return await FLOW.lost(update, context)
    unsure = names_to_confirm(draft)
    if unsure:
        await say_anew(
            update,
            render(
                "registration/names",
                names=[(p.line, p.full_name, s) for p, s in unsure[:NAMES_SHOWN]],
                more=max(len(unsure) - NAMES_SHOWN, 0),
            ),
            grid(
                [
                    [button("names_fix", PREFIX, Act.NAMES_FIX)],
                    [button("names_keep", PREFIX, Act.NAMES_KEEP)],
                ]
            ),
        )
        return State.NAMES
    member, shown = context.member, draft.people[:SUMMARY_LIMIT]
    # The hints: the unit itself for the collective title, then each person shown.
    sought = (
        [Sought(member.unit_name, Target.TAP_THE, draft.collective.name)]
        if draft.collective
        else []
    )
    sought += [Sought(p.full_name, Target.CA_NHAN, p.title.name) for p in shown]
    async with context.rt.db.read() as session:
        campaign = await campaign_for_unit(
            session, draft.campaign_id, draft.unit_id, context.rt.now()
        )
        hints = (
            await eligibility_hints(
                session,
                member.organization_id,
                draft.unit_id,
                sought_year(campaign),
                sought,
                context.rt.now(),
            )
            if campaign is not None
            else []
        )
    if campaign is None:
        return await FLOW.lost(update, context)
    collective_hint = hints.pop(0) if draft.collective else None
    await say_anew(
        update,
        fitted(
            lambda detail: render(
                "registration/summary",
                campaign=campaign,
                unit=member.unit_name,
                collective=draft.collective.name if draft.collective else None,
                people=[(p.full_name, p.job_title, p.title.name) for p in shown],
                more=max(len(draft.people) - SUMMARY_LIMIT, 0),
                collective_hint=collective_hint,
                hints=hints,
                detail=detail,
            )
        ),
        grid(
            [
                [button("confirm", PREFIX, Act.CONFIRM)],
                [button("edit", PREFIX, Act.EDIT), button("cancel", PREFIX, Act.CANCEL)],
            ]
        ),
    )
    return State.CONFIRM


@guard(Role.FOCAL)
@FLOW.with_draft
async def confirm(update: Update, context: BotContext, draft: Draft) -> int:
    """Confirm: save, after checking again that the window is open and the titles valid."""
    member, now = context.member, context.rt.now()
    async with context.rt.db.write() as session:
        outcome = await confirm_registration(
            session,
            campaign_id=draft.campaign_id,
            unit_id=member.unit_id,
            collective_title_id=draft.collective.id if draft.collective else None,
            people=[RegisteredPerson(p.full_name, p.job_title, p.title.id) for p in draft.people],
            by=member.telegram_user_id,
            today=local_today(context),
            now=now,
            based_on=draft.based_on,
        )
    # Answered after the transaction: a Telegram round trip must not hold the write lock.
    if isinstance(outcome, Refused):
        await say_anew(update, render(f"registration/{outcome}"))
        return end_conversation(context, DRAFT_KEY)
    await say_anew(
        update,
        render(
            "registration/saved",
            campaign_title=outcome.campaign_title,
            unit=member.unit_name,
            people=len(draft.people),
            at=now.astimezone(context.rt.tz),
            revision=outcome.revision,
            replaced_by=outcome.replaced_by,
            replaced_at=outcome.replaced_at.astimezone(context.rt.tz)
            if outcome.replaced_at
            else None,
        ),
    )
    return end_conversation(context, DRAFT_KEY)


@guard(Role.FOCAL)
async def cancel(update: Update, context: BotContext) -> int:
    """Cancel (button or /huy): nothing is saved."""
    await say_anew(update, render("registration/cancelled"))
    return end_conversation(context, DRAFT_KEY)


@guard(Role.FOCAL)
async def not_expected(update: Update, context: BotContext) -> int | None:
    """Something that is not what this step asks for."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("registration/not_expected"))
    return None


@guard(Role.FOCAL)
@FLOW.with_draft
async def names_as_suggested(update: Update, context: BotContext, draft: Draft) -> int:
    """The as-suggested button (buttons/names_fix): each such name written with capitals, then
    the summary."""
    suggested = dict((p.full_name, s) for p, s in names_to_confirm(draft))
    draft.people = [
        dataclasses.replace(p, full_name=suggested.get(p.full_name, p.full_name))
        for p in draft.people
    ]
    draft.names_confirmed += list(suggested.values())  # a plain name stays plain: asked once
    return await summary(update, context)


@guard(Role.FOCAL)
@FLOW.with_draft
async def names_as_typed(update: Update, context: BotContext, draft: Draft) -> int:
    """The as-typed button (buttons/names_keep): the names stay as typed, then the summary."""
    draft.names_confirmed += [p.full_name for p, _ in names_to_confirm(draft)]
    return await summary(update, context)
