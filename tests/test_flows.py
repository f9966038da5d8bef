"""The flow rules of PRODUCT §5 through the emulator: one flow per chat, read-only commands
mid-flow, a new flow ends the old one saying what was kept, /huy (or huy typed alone) in one
step, a view opens no flow, an unexpected message is answered with what the step expects,
and a stored flow of the first (pickled) format read back after an upgrade."""

from __future__ import annotations

import pickle

from sqlalchemy import func, select, update

from bot.emulator.sandbox import Person, Reply, Sandbox
from handlers.registration import Draft, State
from messages import render, render_text
from storage.conversations import StoredFlow, decode_flow
from storage.models import ConversationState, Role, Upload
from storage.people_lines import PersonLine as Line
from storage.people_lines import Title
from tests.support.people import join
from tests.support.registrations import saved
from tests.support.uploads import PDF

PEOPLE = "Nguyễn Văn An; Trưởng phòng; LĐTT\nTrần Thị Bình; Chuyên viên; LĐTT"


async def rows(box: Sandbox) -> int:
    async with box.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(ConversationState)) or 0)


async def placed_uploads(box: Sandbox) -> int:
    """Uploads filed as a required document (a file kept outside any flow is not yet)."""
    async with box.db.read() as session:
        query = select(func.count()).select_from(Upload).where(Upload.document_id.is_not(None))
        return int(await session.scalar(query) or 0)


async def at_document_step(person: Person) -> Reply:
    """/nophoso → the unit's own documents → the first document: the bot waits for its file."""
    step = await person.say("/nophoso")
    own = await person.press(step.last, next(t for t in step.last.button_texts() if "📁" in t))
    return await person.press(own.last, own.last.button_texts()[0])


async def test_a_new_flow_ends_the_old_one_and_a_later_file_is_not_filed_in_it(
    season: Sandbox,
) -> None:
    minh = await join(season, 7001, "Minh", "HCTP", Role.FOCAL)
    waiting = await at_document_step(minh)
    assert "tệp" in waiting.text

    switched = await minh.say("/dangky")
    assert switched.messages[0].text == render("dossier/left").strip()
    cancelled = await minh.say("/huy")
    assert cancelled.text == render("registration/cancelled").strip()
    assert await rows(season) == 0  # nothing in progress anywhere

    before = await placed_uploads(season)
    stray = await minh.send_document(PDF, "bien-ban.pdf")
    assert await placed_uploads(season) == before  # kept, not filed as the old document
    assert stray.last.button_texts()  # the bot asks where it belongs


async def test_read_only_commands_answer_mid_flow_and_leave_it_where_it_was(
    season: Sandbox,
) -> None:
    minh = await join(season, 7002, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    await minh.press(step.last, "Không đăng ký")
    for command, words in (("/hoso", "Hạn nộp hồ sơ"), ("/lich", ""), ("/nhiemvu", "Nhiệm vụ")):
        reply = await minh.say(command)
        assert reply.text and words in reply.text, (command, reply.text)
    summary = await minh.say(PEOPLE)  # the people step is still the one in progress
    done = await minh.press(summary.last, "✅ Xác nhận")
    assert done.alert is None
    registration = await saved(season, "HCTP")
    assert registration is not None and len(registration.individuals) == 2

    waiting = await at_document_step(minh)
    for command in ("/hoso", "/lich", "/nhiemvu"):
        assert (await minh.say(command)).text
    received = await minh.send_document(PDF, "bao-cao.pdf")
    assert await placed_uploads(season) == 1, (waiting.text, received.text)


async def test_huy_typed_alone_and_an_unexpected_message(season: Sandbox) -> None:
    minh = await join(season, 7003, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    wrong = await minh.send_photo(b"\xff\xd8\xff\xe0" + b"0" * 64)
    assert "Bước này cần bạn bấm một nút ở tin nhắn trên" in wrong.text  # what the step expects
    assert (await minh.say("Hủy")).text == render("registration/cancelled").strip()
    assert await rows(season) == 0
    assert "Không có thao tác" in (await minh.say("huy")).text
    late = await minh.press(step.last, "Không đăng ký")
    assert late.alert == render_text("alerts/stale_button")


async def test_the_current_registration_is_a_view_that_opens_no_flow(season: Sandbox) -> None:
    minh = await join(season, 7004, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    await minh.press(step.last, "Không đăng ký")
    summary = await minh.say(PEOPLE)
    await minh.press(summary.last, "✅ Xác nhận")

    current = await minh.say("/dangky")
    assert "📝 Đăng ký lại" in current.last.button_texts()
    assert await rows(season) == 0  # a screen, not a step
    # Outside any flow a stray message gets the general answer, not a step's.
    assert (await minh.say("xin chào")).text == render("common/not_understood").strip()
    again = await minh.press(current.last, "📝 Đăng ký lại")
    assert "danh hiệu thi đua tập thể" in again.text
    assert await rows(season) == 1


async def test_a_flow_stored_by_the_previous_version_is_read_once_and_converted(
    season: Sandbox,
) -> None:
    """A row in the first format (PTB's step numbers and pickled drafts in user_data)."""
    minh = await join(season, 7005, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    await minh.press(step.last, "Không đăng ký")
    summary = await minh.say(PEOPLE)
    async with season.db.read() as session:
        current = await session.scalar(select(ConversationState.data))
    assert current is not None
    stored = decode_flow(current)
    assert isinstance(stored, StoredFlow) and stored.draft is not None
    draft_data = stored.draft
    title = Title(**draft_data["people"][0]["title"])
    old = Draft(
        unit_id=draft_data["unit_id"],
        campaign_id=draft_data["campaign_id"],
        people=[Line(**{**p, "title": title}) for p in draft_data["people"]],
    )
    legacy = pickle.dumps({"states": {"dangky": int(State.CONFIRM)}, "user_data": {"dangky": old}})
    async with season.db.write() as session:
        await session.execute(update(ConversationState).values(data=legacy))
    await season.restart_bot()

    done = await minh.press(summary.last, "✅ Xác nhận")
    assert done.alert is None, done
    registration = await saved(season, "HCTP")
    assert registration is not None and len(registration.individuals) == 2
    assert await rows(season) == 0


async def test_a_draft_ended_by_another_flow_is_offered_again_by_dangky(season: Sandbox) -> None:
    minh = await join(season, 7006, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    await minh.press(step.last, "Không đăng ký")
    await minh.say(PEOPLE)  # at the summary, not confirmed
    switched = await minh.say("/nophoso")
    assert switched.messages[0].text == render("registration/left").strip()
    await minh.say("/huy")
    assert await saved(season, "HCTP") is None  # nothing was confirmed

    offer = await minh.say("/dangky")
    assert "bản nháp" in offer.text and "2 người" in offer.text
    summary = await minh.press(offer.last, "▶️ Tiếp tục bản nháp")
    done = await minh.press(summary.last, "✅ Xác nhận")
    assert done.alert is None
    registration = await saved(season, "HCTP")
    assert registration is not None and len(registration.individuals) == 2

    again = await minh.say("/dangky")  # offered once: now the saved registration is shown
    assert "📝 Đăng ký lại" in again.last.button_texts()
