"""Every push of PRODUCT §7 as Zalo reads it (PRODUCT §12): plain text, every message within
2,000 UTF-16 units whatever the data, the next step in words that work on Zalo."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession

from messages import current_channel, on_channel, render
from messages.plain import ZALO_MAX_TEXT, plain_parts, plain_text, split_plain, units
from scheduler import push_text
from scheduler.due import Push, planned_pushes
from scheduler.push_text import render_push
from scheduler.snapshot import load_snapshot
from storage.db import Database
from storage.models import (
    Announcement,
    Audience,
    Award,
    Campaign,
    CampaignDeadline,
    CampaignKind,
    CampaignTitle,
    CouncilResult,
    DeadlineWho,
    DocumentScope,
    DueForm,
    Nominee,
    Organization,
    Plan,
    PlanTask,
    Repeat,
    RequiredDocument,
    ResultItem,
    Target,
    Unit,
    UnitKind,
)
from storage.reviews import AwaitingReview
from storage.text import name_key
from tests.support.clock import TZ
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES

ORG, CAMPAIGN, UNIT = "STP-Z", "TD-Z", "U001"
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
AT = datetime(2026, 3, 10, 8, 0)
# What a person typed, shown as typed: escaped by the template, unescaped once for Zalo.
TYPED = "<b>đậm</b> &amp; Co"
FILLER = " thi đua yêu nước 🌟 đổi mới sáng tạo, hoàn thành xuất sắc nhiệm vụ"
UNITS, TASKS, AWARDS = 500, 300, 200


def long(prefix: str, size: int) -> str:
    """`prefix` padded with words (an emoji among them) to `size` characters."""
    text = prefix
    while len(text) < size:
        text += FILLER
    return text[:size].rstrip()


# The longest announcement the office may write (Telegram's 4,096), in paragraphs.
ANNOUNCEMENT = "\n\n".join(long(f"Đoạn {i}: kính gửi các đơn vị {TYPED}.", 700) for i in range(7))
ANNOUNCEMENT = ANNOUNCEMENT[:4095] + "."


@dataclass(frozen=True, slots=True)
class Body:
    """The ids of the hostile body's rows that pushes point to."""

    plan: int
    result: int
    announcement: int
    document_only: int
    text_only: int


async def hostile_body(session: AsyncSession) -> Body:
    """A body whose every list is long and every name as long as its column allows."""
    org = Organization(code=ORG, name="Sở Tư pháp tỉnh Z", office=f"Văn phòng Sở {TYPED}")
    session.add(org)
    await session.flush()
    units = [
        Unit(
            organization_id=org.id,
            code=f"U{i:03}",
            name=long(f"Đơn vị số {i} {TYPED}", 300),
            kind=UnitKind.PHONG,
        )
        for i in range(1, UNITS + 1)
    ]
    session.add_all(units)
    campaign = Campaign(
        organization_id=org.id,
        code=CAMPAIGN,
        title=long(f"Phong trào thi đua {TYPED}", 500),
        theme=long("Chủ đề", 2000),
        kind=CampaignKind.THEO_DOT,
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        launch_at=datetime(2026, 1, 15, 1, 0, tzinfo=UTC),
        registration_deadline=date(2026, 3, 15),
        dossier_deadline=date(2026, 11, 30),
        reminders=[7, 1],
        review_within_working_days=3,
    )
    session.add(campaign)
    await session.flush()
    for target in (Target.TAP_THE, Target.CA_NHAN):
        session.add_all(
            CampaignTitle(
                campaign_id=campaign.id, target=target, name=long(f"Danh hiệu {i} {TYPED}", 300)
            )
            for i in range(30)
        )
    awards = [
        Award(
            campaign_id=campaign.id,
            code=f"A{i}",
            name=long(f"Hình thức {i} {TYPED}", 300),
            target=Target.CA_NHAN if i % 2 else Target.TAP_THE,
            quota=i + 1,
            quota_per_unit=i % 3 or None,
            quota_overrides={"1": 2},
            document_codes=[f"D{j}" for j in range(10)],
            decided_by=long(f"Chủ tịch {TYPED}", 300),
            position=i,
        )
        for i in range(AWARDS)
    ]
    session.add_all(awards)
    session.add_all(
        RequiredDocument(
            campaign_id=campaign.id,
            code=f"D{i}",
            name=long(f"Tài liệu {i} {TYPED}", 500),
            per=DocumentScope.NOMINEE if i % 2 else DocumentScope.UNIT,
            optional=i % 5 == 0,
            formats=["pdf", "docx"],
            note=long(f"Ghi chú {TYPED}", 500),
            position=i,
        )
        for i in range(40)
    )
    session.add_all(
        CampaignDeadline(
            campaign_id=campaign.id,
            code=f"S{i}",
            title=long(f"Mốc {i} {TYPED}", 500),
            due=date(2026, 4, 1) + timedelta(days=i),
            due_form=list(DueForm)[i % 3],
            who=DeadlineWho.OFFICE if i % 2 else DeadlineWho.UNITS,
            position=i,
        )
        for i in range(30)
    )
    plan = Plan(organization_id=org.id, code="KH-Z", year=2026, title=long("Kế hoạch", 500))
    session.add(plan)
    await session.flush()
    session.add_all(
        PlanTask(
            plan_id=plan.id,
            no=n,
            quarter=1,
            content=long(f"Nhiệm vụ {n} {TYPED}", 3000),
            due=None if n % 7 == 0 else date(2026, 3, 31),
            due_form=list(DueForm)[n % 3],
            repeat=Repeat.MONTHLY if n % 11 == 0 else None,
            repeat_day=0 if n % 11 == 0 else None,
        )
        for n in range(1, TASKS + 1)
    )
    nominee = long(f"Nguyễn Văn An {TYPED}", 200)
    session.add(
        Nominee(
            campaign_id=campaign.id,
            unit_id=units[0].id,
            name=nominee,
            name_key=name_key(nominee),
            target=Target.CA_NHAN,
            award_id=awards[1].id,
            created_by=1,
            created_at=NOW,
        )
    )
    result = CouncilResult(
        campaign_id=campaign.id,
        decision=f"123/QĐ-{TYPED}",
        decided_by=long(f"Chủ tịch UBND tỉnh {TYPED}", 300),
        publish_at=NOW,
    )
    session.add(result)
    await session.flush()
    session.add_all(
        ResultItem(
            result_id=result.id,
            unit_id=units[0].id,
            nominee=long(f"Người {i} {TYPED}", 200),
            award_id=awards[i].id,
            position=i,
        )
        for i in range(AWARDS)
    )
    announcements = [
        Announcement(
            organization_id=org.id,
            text=text,
            document_file_id=file_id,
            document_name=name,
            audience=Audience.ALL,
            send_at=NOW,
            created_by=1,
            created_at=NOW,
        )
        for text, file_id, name in (
            (ANNOUNCEMENT, "FILE-1", f"Kế hoạch {TYPED}.pdf"),
            ("", "FILE-2", None),
            (long(f"Họp giao ban {TYPED}", 300), None, None),
        )
    ]
    session.add_all(announcements)
    await session.flush()
    return Body(plan.id, result.id, *(a.id for a in announcements))


def pushes(body: Body) -> dict[str, Push]:
    """Every push of PRODUCT §7, by a name for the test's id."""
    every = tuple(f"U{i:03}" for i in range(1, UNITS + 1))
    tasks = tuple(str(n) for n in range(1, TASKS + 1))
    due = date(2026, 3, 15)

    def push(kind: str, unit: str | None, subject: str = CAMPAIGN, **more: Any) -> Push:
        return Push(AT, kind, unit, subject, f"{kind}:2026-Q1:{unit}", org=ORG, **more)

    return {
        "launch": push("launch", UNIT),
        "launch_office": push("launch", None),
        "quarterly_tasks": push("quarterly_tasks", UNIT, "KH-Z", ref=body.plan, items=tasks),
        **{
            f"reminder_{kind}": push(
                "reminder",
                UNIT,
                "KH-Z" if kind == "task" else CAMPAIGN,
                deadline_kind=kind,
                deadline=due,
                items=tasks if kind == "task" else (),
                ref=body.plan if kind == "task" else None,
                step="S1" if kind == "deadline" else None,
            )
            for kind in ("registration", "dossier", "deadline", "task")
        },
        **{
            f"overdue_{kind}": push(
                "overdue_digest",
                None,
                "KH-Z" if kind == "task" else CAMPAIGN,
                deadline_kind=kind,
                deadline=due,
                items=every,
                step="S1" if kind == "deadline" else None,
            )
            for kind in ("registration", "dossier", "deadline", "task")
        },
        "review_overdue": push(
            "overdue_digest", None, deadline_kind="review", deadline=due, items=every
        ),
        "results": push("results", UNIT, ref=body.result),
        "results_office": push("results", None, ref=body.result),
        "announcement": push("announcement", UNIT, str(body.announcement)),
        "announcement_document_only": push("announcement", UNIT, str(body.document_only)),
        "announcement_text_only": push("announcement", UNIT, str(body.text_only)),
    }


@dataclass(frozen=True, slots=True)
class Rendered:
    """The hostile body's pushes as rendered for Zalo (with their messages) and for Telegram."""

    zalo: dict[str, tuple[str, str | None]]
    parts: dict[str, list[str]]
    telegram: dict[str, tuple[str, str | None]]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rendered(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rendered]:
    """Every push of the hostile body, rendered once for the module (the body takes seconds)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('zalo')}/thidua.db")
    await database.migrate()
    async with database.write() as session:
        body = await hostile_body(session)
    waiting = [
        AwaitingReview(f"U{i:03}", long(f"Đơn vị số {i} {TYPED}", 300), long("Người", 200), NOW)
        for i in range(1, UNITS + 1)
    ]

    async def awaiting(session: AsyncSession, campaign: Campaign) -> list[AwaitingReview]:
        return waiting

    zalo, telegram = {}, {}
    # A complete dossier takes uploads of every document; the digest's words are the subject.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(push_text, "awaiting_review", awaiting)
        async with database.read() as session:
            for name, push in pushes(body).items():
                zalo[name] = await render_push(session, push, NOW, TZ, channel="zalo")
                if not name.startswith("overdue_"):
                    telegram[name] = await render_push(session, push, NOW, TZ)
    await database.dispose()
    yield Rendered(zalo, {n: plain_parts(text) for n, (text, _) in zalo.items()}, telegram)


# The next step each push says on Zalo, in the last message (the announcement's document:
# in the first, beside its heading).
NEXT_STEPS = {
    "launch": 'Gửi "lich" để xem các hạn sắp tới, "hoso" để xem hồ sơ; để đăng ký thi đua và nộp'
    " hồ sơ, vui lòng dùng các lệnh /dangky và /nophoso trên Telegram.",
    "quarterly_tasks": 'Gửi "nhiemvu" để xem nhiệm vụ; để đánh dấu hoàn thành, vui lòng dùng lệnh'
    " /nhiemvu trên Telegram.",
    "reminder_registration": "Để đăng ký, vui lòng dùng lệnh /dangky trên Telegram; gửi"
    ' "lich" để xem các hạn sắp tới.',
    "reminder_dossier": 'Gửi "hoso" để xem hồ sơ; để nộp hồ sơ, vui lòng dùng lệnh /nophoso'
    " trên Telegram.",
    "reminder_deadline": 'Gửi "lich" để xem các hạn sắp tới.',
    "overdue": "Để xem tổng hợp tiến độ và tệp Excel, vui lòng dùng lệnh /tonghop trên Telegram.",
    "review_overdue": "Để thẩm định hồ sơ, vui lòng dùng lệnh /duyet trên Telegram.",
    "results": 'Gửi "ketqua" để xem lại.',
}
NEXT_STEPS["reminder_task"] = NEXT_STEPS["quarterly_tasks"]
ON_TELEGRAM = ": vui lòng xem trên Telegram (tin nhắn Zalo không kèm được tệp)."
DOCUMENT_LINE = f'📎 Tệp đính kèm "Kế hoạch {TYPED}.pdf"{ON_TELEGRAM}'
# A command is said only as something to use on Telegram.
_ON_TELEGRAM = re.compile(r"lệnh /[a-z]+( và /[a-z]+)* trên Telegram")
_COMMAND = re.compile(r"(?<![\w/])/[a-z]+")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def next_step(name: str) -> str | None:
    """What the push of this name says to do next on Zalo (None: an announcement)."""
    for key, words in NEXT_STEPS.items():
        if name == key or name.startswith(f"{key}_"):
            return words
    return None


def assert_reads_on_zalo(text: str, document: str | None, parts: list[str]) -> None:
    """A push rendered for Zalo, and its messages: plain, every message within the limit, no
    command to type that Zalo does not know, no file."""
    assert document is None  # Zalo takes no files: the text names the document
    plain = plain_text(text)
    left = plain.replace(TYPED, "")
    assert not _TAG.search(left) and not _ENTITY.search(left), (_TAG.search(left), left[:300])
    assert "Gõ" not in plain and not _COMMAND.search(_ON_TELEGRAM.sub("", left))
    assert parts
    for part in parts:
        assert 0 < units(part) <= ZALO_MAX_TEXT
        assert part == part.strip() and "\n\n\n" not in part
        assert not re.search(r"\n[ \t]+\n", part)


def test_every_push_of_a_hostile_body_reads_on_zalo_in_messages_within_2000_units(
    rendered: Rendered,
) -> None:
    for name, (text, document) in rendered.zalo.items():
        parts = rendered.parts[name]
        assert_reads_on_zalo(text, document, parts)
        assert TYPED in plain_text(text), name  # what people typed, as they typed it
        words = next_step(name)
        if words is not None:
            assert parts[-1].endswith(words), (name, parts[-1][-300:])
        assert any(units(p) > len(p) for p in parts), name  # emoji counted as two units
    many = {name: len(parts) for name, parts in rendered.parts.items()}
    assert many["quarterly_tasks"] > 10 and many["overdue_task"] > 50 and many["results"] > 50


def test_an_announcement_on_zalo_names_its_document_in_one_line(rendered: Rendered) -> None:
    zalo, telegram = rendered.zalo, rendered.telegram
    parts = rendered.parts["announcement"]
    assert parts[0].split("\n")[1] == DOCUMENT_LINE and len(parts) == 3
    assert parts[-1].endswith(ANNOUNCEMENT[-200:])
    unnamed = plain_text(zalo["announcement_document_only"][0]).split("\n")
    assert unnamed[1] == f"📎 Tệp đính kèm{ON_TELEGRAM}"
    assert "📎" not in plain_text(zalo["announcement_text_only"][0])
    # On Telegram the document goes with the text, and the text does not name it.
    assert telegram["announcement"][1] == "FILE-1" and "📎" not in telegram["announcement"][0]


def test_telegram_keeps_its_own_words(rendered: Rendered) -> None:
    telegram = rendered.telegram
    assert all('Gửi "' not in text and "vui lòng dùng" not in text for text, _ in telegram.values())
    assert "Hạn đăng ký thi đua: <b>15/03/2026</b> (/dangky)" in telegram["launch"][0]
    assert telegram["quarterly_tasks"][0].endswith("Gõ /nhiemvu để đánh dấu khi hoàn thành.")
    assert telegram["reminder_registration"][0].endswith(". Gõ /dangky để đăng ký.")
    assert telegram["reminder_dossier"][0].endswith(". Gõ /hoso để xem, /nophoso để nộp.")
    assert telegram["results"][0].endswith("Gõ /ketqua để xem lại.")
    assert telegram["review_overdue"][0].endswith("Gõ /duyet để thẩm định.")


async def test_every_push_of_the_examples_reads_on_zalo(lite_db: Database) -> None:
    """Every push the example documents plan, as Zalo reads it: the same heading as on
    Telegram, the next step in words that work on Zalo."""
    files = [p for p in sorted(EXAMPLES.glob("*.yaml")) if p.name != "demo-registration.yaml"]
    await load_files(lite_db, *files)
    seen: set[tuple[object, ...]] = set()
    async with lite_db.read() as session:
        snapshot = await load_snapshot(session, TZ)
        for push in planned_pushes(snapshot, date(2020, 1, 1), date(2027, 12, 31)):
            kind = (push.kind, push.deadline_kind, push.subject, push.step, push.unit is None)
            if kind in seen:
                continue  # one of each kind of push of each document: their words differ
            seen.add(kind)
            text, document = await render_push(session, push, NOW, TZ, channel="zalo")
            parts = plain_parts(text)
            assert_reads_on_zalo(text, document, parts)
            telegram, _ = await render_push(session, push, NOW, TZ)
            assert parts[0].split("\n")[0] == plain_text(telegram).split("\n")[0]
            if push.kind != "overdue_digest":
                assert re.search(r'(Gửi|gửi) "[a-z]+" để xem', parts[-1]), text
        launch = Push(AT, "launch", "HCTP", "STP-LS-2026", "k", org="STP-LS")
        text, _ = await render_push(session, launch, NOW, TZ, channel="zalo")
    assert len(seen) > 30
    plain = plain_text(text)
    assert "Hạn đăng ký thi đua: 15/03/2026\n" in plain and "(/dangky)\n" not in plain
    assert plain.endswith(NEXT_STEPS["launch"])


RESULT: dict[str, Any] = {
    "campaign": {"title": "Thi đua"},
    "decision": "1/QĐ",
    "decided_by": None,
    "items": [],
}


def test_the_channel_is_telegram_unless_said_and_is_restored() -> None:
    assert current_channel() == "telegram"
    with on_channel("zalo"):
        assert current_channel() == "zalo"
        assert plain_text(render("push/results", **RESULT)).endswith(NEXT_STEPS["results"])
        with on_channel("telegram"):
            assert render("push/results", **RESULT).endswith("Gõ /ketqua để xem lại.")
        assert current_channel() == "zalo"
    with pytest.raises(ValueError), on_channel("sms"):
        pass
    assert current_channel() == "telegram"
    assert render("push/results", **RESULT, zalo=True).endswith(NEXT_STEPS["results"])


# Text as people and data files write it: Vietnamese, emoji (two UTF-16 units), blank lines,
# and the characters HTML must escape.
typed = st.lists(
    st.sampled_from([*"aăâđêôơưÀÁẠỹ0123456789 <>&;#\"'/", "\n", "\t", "🏅", "📂", "&amp;", "<b>"]),
    max_size=1500,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(typed, st.integers(2, 400))
def test_split_plain_keeps_every_character_in_order_within_the_limit(text: str, limit: int) -> None:
    parts = split_plain(text, limit)
    assert all(0 < units(p) <= limit and p.strip() for p in parts)
    assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", text)
    assert (parts == []) == (not text.strip())


@settings(max_examples=150, deadline=None)
@given(typed)
def test_text_escaped_by_a_template_comes_out_of_plain_text_as_typed(text: str) -> None:
    html = f"<b>{escape('Thông báo')}</b>\n<i>{escape(text)}</i>"
    expected = re.sub(r"\n{3,}", "\n\n", f"Thông báo\n{text}").strip()
    assert plain_text(html) == expected
    parts = plain_parts(html, 200)
    assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", expected)


def test_a_link_reads_as_its_text_and_its_address() -> None:
    html = '<a href="https://so.gov.vn/?a=1&amp;b=2">Cổng &amp; dịch vụ</a>'
    assert plain_text(html) == "Cổng & dịch vụ (https://so.gov.vn/?a=1&b=2)"
