"""`/nophoso`: campaign → nominee (or add one) → document → the file; and files sent outside it."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers.common import (
    draft_of,
    end_conversation,
    flow_handler,
    guard,
    local_today,
    pressed_number,
    route,
    say_anew,
)
from handlers.intake import ACCEPTED, receive
from handlers.people import tidy
from handlers.runtime import BotContext
from messages import render, render_text
from messages.callbacks import int_arg, pattern, unpack
from messages.keyboards import button, rows
from storage.campaigns import campaign_for_unit, launched_campaigns_of_unit
from storage.dossiers import (
    DocumentStatus,
    DossierStatus,
    Placed,
    active_awards,
    dossier_status,
    nominee_for_unit,
    place,
    unplaced_upload,
)
from storage.models import Award, Campaign, RequiredDocument, Role, Target
from storage.quotas import AwardChoice, Outcome, award_choices, propose
from storage.requirements import accepts

PREFIX = "np"  # the /nophoso conversation
PLACE = "pl"  # placing a file that came outside it
DRAFT_KEY = "nophoso"
MAX_NAME = 200
AWARDS_LISTED = 8  # award lines in the text (each may be long); every award has a button
DOCUMENTS_LISTED = 9  # document lines of a slot in the text; every document has a button
MAX_BUTTONS = 90  # Telegram allows 100 per keyboard; a few are kept for the fixed ones
LABEL = 56  # characters of a document's name on its button
# An award open to either ("any") asks which one the nominee is.
EITHER = (Target.TAP_THE, Target.CA_NHAN)


class State(enum.IntEnum):
    """Where an upload conversation is."""

    CAMPAIGN = 1
    NOMINEE = 2
    AWARD = 3
    NAME = 4
    DOCUMENT = 5
    FILE = 6
    TARGET = 7


@dataclass(slots=True)
class Draft:
    """The slot being filled: campaign, nominee (0 = the unit's own documents), document;
    while adding a nominee, the award and what the nominee is (`target`)."""

    unit_id: int
    campaign_id: int
    nominee_id: int | None = None
    award_id: int | None = None
    document_id: int | None = None
    target: str | None = None


def _chosen_target(draft: Draft, award: Award) -> Target | None:
    """What the nominee is: the award's target, or the one chosen for an award open to either."""
    if award.target is not Target.ANY:
        return award.target
    # getattr: a draft pickled before `target` existed has no such slot.
    chosen = getattr(draft, "target", None)
    return Target(chosen) if chosen in EITHER else None


def short_labels(names: Sequence[str], limit: int) -> list[str]:
    """Names shortened to `limit` characters at a word boundary with "…"; where two would
    then read alike, each keeps its beginning and its end instead, which tell them apart."""
    heads = [_head(n, limit) for n in names]
    alike = {h for h in heads if heads.count(h) > 1}
    return [_ends(n, limit) if h in alike else h for n, h in zip(names, heads, strict=True)]


def _head(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    cut = name[: limit - 1]
    if " " in cut.strip():
        cut = cut[: cut.rstrip().rindex(" ")]
    return cut.rstrip(" ,;:-–(") + "…"


def _ends(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    first = _head(name, limit // 2)[:-1]
    room = limit - len(first) - 3  # " … "
    last = name[-room:] if room > 0 else ""
    if " " in last and not name[-room - 1 : -room].isspace():
        last = last[last.index(" ") + 1 :]  # start the end at a word
    return f"{first} … {last}".strip()


def accepting(campaign: Campaign, today: date) -> bool:
    """Whether the campaign takes dossier files on this (local) day."""
    return campaign.dossier_deadline is not None and today <= campaign.dossier_deadline


async def _open_campaigns(
    session: AsyncSession, context: BotContext, unit_id: int
) -> list[Campaign]:
    campaigns = await launched_campaigns_of_unit(session, unit_id, context.rt.now())
    return [c for c in campaigns if accepting(c, local_today(context))]


async def _lost(update: Update, context: BotContext) -> int:
    await say_anew(update, render("dossier/lost"))
    return end_conversation(context, DRAFT_KEY)


async def _refuse_press(update: Update) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(render_text("alerts/dossier_not_yours"), show_alert=True)


@guard(Role.FOCAL)
async def start(update: Update, context: BotContext) -> int:
    """`/nophoso`: choose the campaign (skipped when only one takes files)."""
    assert context.member is not None and context.user_data is not None
    context.user_data.pop(DRAFT_KEY, None)
    async with context.rt.db.read() as session:
        campaigns = await _open_campaigns(session, context, context.member.unit_id)
    if not campaigns:
        await say_anew(update, render("dossier/none_open"))
        return ConversationHandler.END
    if len(campaigns) == 1:
        return await _nominee_step(update, context, campaigns[0].id)
    buttons = [button(c.title[:60], PREFIX, "c", c.id) for c in campaigns]
    await say_anew(update, render("dossier/choose_campaign"), rows(buttons))
    return State.CAMPAIGN


@guard(Role.FOCAL)
async def choose_campaign(update: Update, context: BotContext) -> int:
    """A campaign button, re-checked against the unit."""
    campaign_id = pressed_number(update, PREFIX)
    if campaign_id is None:
        return await _lost(update, context)
    return await _nominee_step(update, context, campaign_id)


async def _nominee_step(update: Update, context: BotContext, campaign_id: int) -> int:
    assert context.member is not None and context.user_data is not None
    member = context.member
    async with context.rt.db.read() as session:
        campaign = await campaign_for_unit(session, campaign_id, member.unit_id, context.rt.now())
        if campaign is None or not accepting(campaign, local_today(context)):
            await _refuse_press(update)
            return end_conversation(context, DRAFT_KEY)
        dossier = await dossier_status(session, campaign, member.unit_id)
    context.user_data[DRAFT_KEY] = Draft(unit_id=member.unit_id, campaign_id=campaign.id)
    buttons = []
    if dossier.unit_documents:
        buttons.append(button(render_text("buttons/unit_documents"), PREFIX, "n", 0))
    buttons += [
        button(f"{n.nominee.name} ({n.award.code})"[:60], PREFIX, "n", n.nominee.id)
        for n in dossier.nominees
    ]
    buttons.append(button(render_text("buttons/add_nominee"), PREFIX, "add"))
    await say_anew(
        update, render("dossier/choose_nominee", campaign=campaign, dossier=dossier), rows(buttons)
    )
    return State.NOMINEE


@guard(Role.FOCAL)
async def choose_nominee(update: Update, context: BotContext) -> int:
    """A nominee button (0: the unit's own documents), re-checked against the unit."""
    draft, nominee_id = draft_of(context, DRAFT_KEY, Draft), pressed_number(update, PREFIX)
    if draft is None:
        return await _lost(update, context)
    if nominee_id is None:  # data no button of ours carries
        await _refuse_press(update)
        return State.NOMINEE
    if nominee_id:
        async with context.rt.db.read() as session:
            nominee = await nominee_for_unit(session, nominee_id, draft.unit_id)
        if nominee is None or nominee.campaign_id != draft.campaign_id:
            await _refuse_press(update)
            return State.NOMINEE
    draft.nominee_id = nominee_id or None
    return await _document_step(update, context)


@guard(Role.FOCAL)
async def ask_award(update: Update, context: BotContext) -> int:
    """ "Add a nominee": the campaign's award forms with the whole quota and the unit's own."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    if draft is None:
        return await _lost(update, context)
    return await _award_step(update, context, draft)


async def _award_step(
    update: Update, context: BotContext, draft: Draft, notice: str | None = None
) -> int:
    """The award choice, after `notice` (why the previous choice was refused) if any."""
    async with context.rt.db.read() as session:
        choices = await award_choices(session, draft.campaign_id, draft.unit_id)
    if not choices:
        await say_anew(update, render("dossier/no_awards"))
        return end_conversation(context, DRAFT_KEY)
    draft.award_id, draft.target = None, None
    buttons = [
        button(render_text("buttons/award", award=c.award), PREFIX, "a", c.award.id)
        for c in choices[:MAX_BUTTONS]
    ]
    text = render("dossier/choose_award", choices=choices, shown=AWARDS_LISTED)
    if notice is None:
        await say_anew(update, text, rows(buttons))
    else:
        await say_anew(update, notice)
        assert update.effective_chat is not None
        await update.effective_chat.send_message(text, reply_markup=rows(buttons))
    return State.AWARD


async def _award_choice(context: BotContext, draft: Draft, award_id: int) -> AwardChoice | None:
    """The award of the draft's campaign with this id, with the unit's counts, or None."""
    async with context.rt.db.read() as session:
        choices = await award_choices(session, draft.campaign_id, draft.unit_id)
    return next((c for c in choices if c.award.id == award_id), None)


@guard(Role.FOCAL)
async def choose_award(update: Update, context: BotContext) -> int:
    """An award-form button: it must belong to the campaign, and the unit's quota not be full."""
    draft, award_id = draft_of(context, DRAFT_KEY, Draft), pressed_number(update, PREFIX)
    if draft is None:
        return await _lost(update, context)
    if award_id is None:  # data no button of ours carries
        await _refuse_press(update)
        return State.AWARD
    choice = await _award_choice(context, draft, award_id)
    if choice is None:  # unknown, or an award of another campaign: the same answer
        await _refuse_press(update)
        return State.AWARD
    if choice.unit_full:
        notice = render("dossier/unit_full", choice=choice, name=None)
        return await _award_step(update, context, draft, notice)
    draft.award_id = award_id
    if choice.award.target is Target.ANY:
        buttons = [
            button(render_text("buttons/nominee_kind", target=t), PREFIX, "t", t.value)
            for t in EITHER
        ]
        await say_anew(update, render("dossier/ask_target", award=choice.award), rows(buttons, 2))
        return State.TARGET
    draft.target = choice.award.target.value
    await say_anew(update, render("dossier/ask_name", award=choice.award, target=draft.target))
    return State.NAME


@guard(Role.FOCAL)
async def choose_target(update: Update, context: BotContext) -> int:
    """Tập thể or cá nhân, for an award open to either."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    parsed = unpack(update.callback_query.data if update.callback_query else None, PREFIX)
    if draft is None or draft.award_id is None or parsed is None:
        return await _lost(update, context)
    choice = await _award_choice(context, draft, draft.award_id)
    value = parsed[1][0] if len(parsed[1]) == 1 else ""
    if choice is None or choice.award.target is not Target.ANY or value not in EITHER:
        await _refuse_press(update)
        return State.TARGET
    draft.target = value
    await say_anew(update, render("dossier/ask_name", award=choice.award, target=value))
    return State.NAME


@guard(Role.FOCAL)
async def press_a_button(update: Update, context: BotContext) -> int | None:
    """Text where a button is expected: say so, and show the step's buttons again."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    if draft is None:
        return await _lost(update, context)
    notice = render("dossier/press_button")
    if draft.award_id is not None:  # choosing tập thể or cá nhân
        choice = await _award_choice(context, draft, draft.award_id)
        if choice is not None:
            assert update.effective_message is not None
            buttons = [
                button(render_text("buttons/nominee_kind", target=t), PREFIX, "t", t.value)
                for t in EITHER
            ]
            await update.effective_message.reply_text(notice)
            await update.effective_message.reply_text(
                render("dossier/ask_target", award=choice.award), reply_markup=rows(buttons, 2)
            )
            return State.TARGET
    return await _award_step(update, context, draft, notice)


@guard(Role.FOCAL)
async def nominee_name(update: Update, context: BotContext) -> int:
    """The nominee's name: a person's full name, a collective's or a household's name."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    assert update.effective_message is not None and context.member is not None
    if draft is None or draft.award_id is None:
        return await _lost(update, context)
    name = tidy(update.effective_message.text or "")
    if not 2 <= len(name) <= MAX_NAME or name.startswith("/"):
        await update.effective_message.reply_text(render("dossier/bad_name", limit=MAX_NAME))
        return State.NAME
    proposal = None
    async with context.rt.db.write() as session:
        awards = {a.id: a for a in await active_awards(session, draft.campaign_id)}
        award = awards.get(draft.award_id)
        target = _chosen_target(draft, award) if award is not None else None
        if award is not None and target is not None:
            proposal = await propose(
                session,
                campaign_id=draft.campaign_id,
                unit_id=draft.unit_id,
                name=name,
                award=award,
                target=target,
                by=context.member.telegram_user_id,
                now=context.rt.now(),
            )
    if proposal is None:
        return await _lost(update, context)
    if proposal.outcome is Outcome.DUPLICATE:
        await update.effective_message.reply_text(render("dossier/duplicate_nominee", name=name))
        return State.NAME
    if proposal.outcome is Outcome.UNIT_FULL or proposal.nominee is None:
        notice = render("dossier/unit_full", choice=proposal.choice, name=name)
        return await _award_step(update, context, draft, notice)
    draft.nominee_id = proposal.nominee.id
    await update.effective_message.reply_text(
        render("dossier/nominee_added", name=name, choice=proposal.choice)
    )
    return await _document_step(update, context)


async def _document_step(update: Update, context: BotContext) -> int:
    """The documents of the chosen slot with ✅/❌, one button each, and "another document"."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    assert context.member is not None
    if draft is None:
        return await _lost(update, context)
    async with context.rt.db.read() as session:
        campaign = await campaign_for_unit(
            session, draft.campaign_id, draft.unit_id, context.rt.now()
        )
        if campaign is None:
            return await _lost(update, context)
        dossier = await dossier_status(session, campaign, draft.unit_id)
    statuses, title = _slot_documents(dossier, draft.nominee_id)
    buttons = _document_buttons(statuses, PREFIX, marked=True)
    buttons += [button(render_text("buttons/other_document"), PREFIX, "d", 0)]
    buttons += [button(render_text("buttons/done"), PREFIX, "done")]
    text = render("dossier/choose_document", title=title, statuses=statuses, shown=DOCUMENTS_LISTED)
    await say_anew(update, text, rows(buttons))
    return State.DOCUMENT


def _document_buttons(
    statuses: Sequence[DocumentStatus], prefix: str, *ids: int, marked: bool = False
) -> list[InlineKeyboardButton]:
    """One button per document of a slot, "(nếu có)" on the optional ones."""
    shown = statuses[:MAX_BUTTONS]
    labels = short_labels([s.document.name for s in shown], LABEL)
    return [
        button(
            render_text(
                "buttons/document",
                label=label,
                document=s.document,
                done=s.upload is not None,
                marked=marked,
            ),
            prefix,
            "d",
            *ids,
            s.document.id,
        )
        for s, label in zip(shown, labels, strict=True)
    ]


def _slot_documents(
    dossier: DossierStatus, nominee_id: int | None
) -> tuple[tuple[DocumentStatus, ...], str]:
    if nominee_id is None:
        return dossier.unit_documents, ""
    for n in dossier.nominees:
        if n.nominee.id == nominee_id:
            return n.documents, n.nominee.name
    return (), ""


@guard(Role.FOCAL)
async def choose_document(update: Update, context: BotContext) -> int:
    """A document button (0: another document), re-checked against the campaign and slot."""
    draft, document_id = draft_of(context, DRAFT_KEY, Draft), pressed_number(update, PREFIX)
    if draft is None:
        return await _lost(update, context)
    if document_id is None:  # data no button of ours carries
        await _refuse_press(update)
        return State.DOCUMENT
    document = None
    if document_id:
        document = await _document_for_slot(context, draft, document_id)
        if document is None:
            await _refuse_press(update)
            return State.DOCUMENT
    draft.document_id = document_id or None
    await say_anew(
        update,
        render(
            "dossier/ask_file",
            document=document,
            other=render_text("buttons/other_document"),
            accepted=ACCEPTED,
            limit_mb=context.rt.max_file_bytes // (1024 * 1024),
        ),
    )
    return State.FILE


async def _document_for_slot(
    context: BotContext, draft: Draft, document_id: int
) -> RequiredDocument | None:
    """The document if the draft's slot asks for it (the unit's, or the nominee's award's)."""
    async with context.rt.db.read() as session:
        campaign = await campaign_for_unit(
            session, draft.campaign_id, draft.unit_id, context.rt.now()
        )
        dossier = await dossier_status(session, campaign, draft.unit_id) if campaign else None
    statuses = _slot_documents(dossier, draft.nominee_id)[0] if dossier else ()
    return next((s.document for s in statuses if s.document.id == document_id), None)


@guard(Role.FOCAL)
async def file_received(update: Update, context: BotContext) -> int:
    """The file for the chosen document: checked, kept, and the list shown again."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    assert update.effective_message is not None and context.member is not None
    if draft is None:
        return await _lost(update, context)
    document = None
    if draft.document_id is not None:
        document = await _document_for_slot(context, draft, draft.document_id)
        if document is None:  # dropped from the campaign by a reloaded file meanwhile
            return await _lost(update, context)
    received = await receive(update.effective_message, context, context.member, document)
    if received is None:
        return State.FILE
    placed = await _place(context, received.upload.id, draft)
    if placed is None:
        return await _lost(update, context)
    await update.effective_message.reply_text(_placed_text(context, placed))
    return await _document_step(update, context)


async def _place(context: BotContext, upload_id: int, draft: Draft) -> Placed | None:
    async with context.rt.db.write() as session:
        campaign = await campaign_for_unit(
            session, draft.campaign_id, draft.unit_id, context.rt.now()
        )
        upload = await unplaced_upload(session, upload_id, draft.unit_id)
        if campaign is None or upload is None or not accepting(campaign, local_today(context)):
            return None
        return await place(
            session,
            upload,
            campaign_id=campaign.id,
            nominee_id=draft.nominee_id,
            document_id=draft.document_id,
            now=context.rt.now(),
        )


def _placed_text(context: BotContext, placed: Placed) -> str:
    return render(
        "dossier/received",
        name=placed.upload.original_name,
        version=placed.version,
        same_as=placed.same_as.uploaded_at.astimezone(context.rt.tz) if placed.same_as else None,
    )


@guard(Role.FOCAL)
async def photo_in_flow(update: Update, context: BotContext) -> int:
    """A picture sent as a photo: say how to send it as a file."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("dossier/send_as_file", accepted=ACCEPTED))
    return State.FILE


@guard(Role.FOCAL)
async def back_to_documents(update: Update, context: BotContext) -> int:
    """Text where a file is expected: remind, keep the step."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("dossier/expect_file", accepted=ACCEPTED))
    return State.FILE


@guard(Role.FOCAL)
async def finish(update: Update, context: BotContext) -> int:
    """Done: leave; /hoso shows the whole dossier."""
    await say_anew(update, render("dossier/finished"))
    return end_conversation(context, DRAFT_KEY)


@guard(Role.FOCAL)
async def cancel(update: Update, context: BotContext) -> int:
    """/huy: files already received stay received."""
    await say_anew(update, render("dossier/cancelled"))
    return end_conversation(context, DRAFT_KEY)


@guard(Role.FOCAL)
async def busy(update: Update, context: BotContext) -> None:
    """Another command mid-way."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("dossier/busy"))


# ---- files sent outside the flow -------------------------------------------------------------


@guard(Role.FOCAL)
async def stray_document(update: Update, context: BotContext) -> None:
    """A file sent outside /nophoso: keep it at once, then ask where it belongs."""
    assert update.effective_message is not None and context.member is not None
    received = await receive(update.effective_message, context, context.member)
    if received is None:
        return
    upload_id = received.upload.id
    async with context.rt.db.read() as session:
        campaigns = await _open_campaigns(session, context, context.member.unit_id)
    if not campaigns:
        await update.effective_message.reply_text(render("dossier/stray_kept_no_campaign"))
        return
    buttons = [button(c.title[:60], PLACE, "c", upload_id, c.id) for c in campaigns]
    await update.effective_message.reply_text(
        render("dossier/stray_where", name=received.upload.original_name),
        reply_markup=rows(buttons),
    )


@guard(Role.FOCAL)
async def stray_photo(update: Update, context: BotContext) -> None:
    """A photo outside any flow."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("dossier/send_as_file", accepted=ACCEPTED))


@guard(Role.FOCAL)
async def place_stray(update: Update, context: BotContext) -> None:
    """The placement buttons of a stray file: campaign → nominee → document, each re-checked."""
    query = update.callback_query
    assert query is not None and context.member is not None
    member = context.member
    parsed = unpack(query.data, PLACE)
    numbers = [int_arg(parsed[1], i) for i in range(len(parsed[1]))] if parsed else []
    if parsed is None or not numbers or None in numbers:
        await _refuse_press(update)
        return
    action, ids = parsed[0], [n for n in numbers if n is not None]
    async with context.rt.db.read() as session:
        upload = await unplaced_upload(session, ids[0], member.unit_id)
        campaign = (
            await campaign_for_unit(session, ids[1], member.unit_id, context.rt.now())
            if len(ids) > 1
            else None
        )
        dossier = await dossier_status(session, campaign, member.unit_id) if campaign else None
    if (
        upload is None
        or campaign is None
        or dossier is None
        or not accepting(campaign, local_today(context))
    ):
        await _refuse_press(update)
        return
    if action == "c" and len(ids) == 2:
        buttons = []
        if dossier.unit_documents:
            buttons.append(
                button(render_text("buttons/unit_documents"), PLACE, "n", ids[0], ids[1], 0)
            )
        buttons += [
            button(n.nominee.name[:50], PLACE, "n", ids[0], ids[1], n.nominee.id)
            for n in dossier.nominees
        ]
        await say_anew(
            update, render("dossier/stray_which_nominee", dossier=dossier), rows(buttons)
        )
    elif (action, len(ids)) in (("n", 3), ("d", 4)):
        statuses, _ = _slot_documents(dossier, ids[2] or None)
        if ids[2] and not any(n.nominee.id == ids[2] for n in dossier.nominees):
            await _refuse_press(update)
            return
        buttons = _document_buttons(statuses, PLACE, *ids[:3])
        buttons.append(button(render_text("buttons/other_document"), PLACE, "d", *ids[:3], 0))
        if action == "n":
            await say_anew(update, render("dossier/stray_which_document"), rows(buttons))
            return
        document = next((s.document for s in statuses if s.document.id == ids[3]), None)
        if ids[3] and document is None:
            await _refuse_press(update)
            return
        if document is not None and not accepts(document, upload.stored_file.kind):
            refused = render(
                "dossier/refused_format",
                document=document,
                kind=upload.stored_file.kind,
                name=upload.original_name,
                kept=True,
            )
            await say_anew(update, refused, rows(buttons))
            return
        draft = Draft(unit_id=member.unit_id, campaign_id=ids[1], nominee_id=ids[2] or None)
        draft.document_id = ids[3] or None
        placed = await _place(context, ids[0], draft)
        if placed is None:
            await _refuse_press(update)
            return
        await say_anew(update, _placed_text(context, placed))
    else:
        await _refuse_press(update)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The upload conversation (first), then the handlers for files sent outside it."""
    conversation = flow_handler(
        entry_points=[CommandHandler("nophoso", start)],
        states={
            State.CAMPAIGN: [route(PREFIX, "c", choose_campaign)],
            State.NOMINEE: [route(PREFIX, "n", choose_nominee), route(PREFIX, "add", ask_award)],
            State.AWARD: [
                route(PREFIX, "a", choose_award),
                MessageHandler(filters.TEXT & ~filters.COMMAND, press_a_button),
            ],
            State.TARGET: [
                route(PREFIX, "t", choose_target),
                MessageHandler(filters.TEXT & ~filters.COMMAND, press_a_button),
            ],
            State.NAME: [MessageHandler(filters.TEXT & ~filters.COMMAND, nominee_name)],
            State.DOCUMENT: [route(PREFIX, "d", choose_document), route(PREFIX, "done", finish)],
            State.FILE: [
                MessageHandler(filters.Document.ALL, file_received),
                MessageHandler(filters.PHOTO, photo_in_flow),
                MessageHandler(filters.TEXT & ~filters.COMMAND, back_to_documents),
            ],
        },
        fallbacks=[
            CommandHandler("huy", cancel),
            CommandHandler("nophoso", start),
            MessageHandler(filters.COMMAND, busy),
        ],
        name="nophoso",
        conversation_timeout=30 * 60,
        allow_reentry=True,
    )
    return [conversation]


def stray_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """Files and photos outside any flow, and the buttons that place them (after conversations)."""
    return [
        MessageHandler(filters.Document.ALL, stray_document),
        MessageHandler(filters.PHOTO, stray_photo),
        CallbackQueryHandler(place_stray, pattern=pattern(PLACE)),
    ]
