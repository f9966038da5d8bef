"""The Zalo bot's answers to a linked member's text (PRODUCT §12, handlers/zalo_text): the
Telegram screens' words in plain text, read-only, at most three messages of 2,000 UTF-16 units
and one line saying the rest is on Telegram; any other text gets one line, never an error; a
focal point sees only its own unit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from handlers import status
from handlers.runtime import Runtime
from handlers.zalo_text import MAX_PARTS, answer, command_of, words_for
from messages import ZALO, on_channel, render, render_text
from messages.plain import ZALO_MAX_TEXT, plain_text, units
from storage.campaigns import campaign_by_code
from storage.db import Database
from storage.invites import redeem_counting
from storage.members import Membership
from storage.models import Member, Role
from storage.nominees import active_awards, add_nominee
from storage.units import unit_by_code
from tests.support.clock import TZ, Clock
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import issue_invite

WORDS = ("hoso", "lich", "nhiemvu", "ketqua", "huy", "trogiup")
SECRET = "Phương Thảo Riêng Của Hành Chính"  # HCTP's nominees: never shown to another unit


@dataclass(frozen=True, slots=True)
class Body:
    """Sở Tư pháp Lạng Sơn on 10/02/2026, with a focal point of two units, the office and a
    leader linked."""

    rt: Runtime
    minh: Membership  # focal point, HCTP
    hoa: Membership  # focal point, BTTP
    lan: Membership  # office, VP
    boss: Membership  # leader, LDS


async def _member(db: Database, user_id: int, unit: str, role: Role, clock: Clock) -> Membership:
    code = await issue_invite(db, unit, role, clock())
    async with db.write() as session:
        joined = await redeem_counting(
            session,
            code,
            telegram_user_id=user_id,
            chat_id=user_id,
            full_name=f"Người {user_id}",
            username=None,
            now=clock(),
        )
    assert joined.membership is not None
    return joined.membership


@pytest.fixture
async def body(lite_db: Database, tmp_path: Path) -> Body:
    """The body, its plan and campaign loaded, four people linked."""
    clock = Clock()
    clock.set_local("2026-02-10 09:00")
    await load_files(
        lite_db,
        EXAMPLES / "units-lang-son.yaml",
        EXAMPLES / "plan-2026-lang-son.yaml",
        EXAMPLES / "campaign-lang-son-2026.yaml",
    )
    rt = Runtime(db=lite_db, tz=TZ, files_dir=tmp_path, max_file_bytes=1 << 20, clock=clock)
    return Body(
        rt,
        await _member(lite_db, 7001, "HCTP", Role.FOCAL, clock),
        await _member(lite_db, 7002, "BTTP", Role.FOCAL, clock),
        await _member(lite_db, 7003, "VP", Role.OFFICE, clock),
        await _member(lite_db, 7004, "LDS", Role.LEADER, clock),
    )


def _fits(messages: list[str]) -> str:
    """Messages Zalo takes: one to MAX_PARTS (the line saying the rest is on Telegram ends
    the last), none empty, each within 2,000 UTF-16 units, no markup. Their text, joined."""
    assert 1 <= len(messages) <= MAX_PARTS
    assert all(m.strip() and units(m) <= ZALO_MAX_TEXT for m in messages), [
        len(m) for m in messages
    ]
    assert not any("<b>" in m or "&amp;" in m for m in messages)
    return "\n".join(messages)


def _on_telegram(command: str, rest: bool, mark: bool = False) -> str:
    return render_text("zalo/on_telegram", command=command, rest=rest, mark=mark)


async def _propose(body: Body, member: Membership, count: int, name: str = SECRET) -> None:
    """`count` individuals proposed by the member's unit, straight into the database."""
    async with body.rt.db.write() as session:
        campaign = await campaign_by_code(session, "STP-LS-2026")
        unit = await unit_by_code(session, member.unit_code)
        by = await session.scalar(
            select(Member.id).where(Member.telegram_user_id == member.telegram_user_id)
        )
        assert campaign is not None and unit is not None and by is not None
        award = next(a for a in await active_awards(session, campaign.id) if a.code == "GK-CN")
        for n in range(count):
            await add_nominee(
                session,
                campaign_id=campaign.id,
                unit_id=unit.id,
                name=f"{name} Số {n:02d}",
                award=award,
                by=by,
                now=body.rt.now(),
            )


# ---- each word, for each role ---------------------------------------------------------------


async def test_each_word_answers_a_focal_point_with_the_telegram_screen_in_plain_text(
    body: Body,
) -> None:
    rt, minh = body.rt, body.minh
    with on_channel(ZALO):  # the Telegram screen in Zalo's words and length
        each = await status.dossier_screens(rt.db, rt.tz, rt.now(), minh, ZALO_MAX_TEXT)
        joined = status.together(each, ZALO_MAX_TEXT)
    assert joined is not None and "/nophoso trên Telegram" in joined
    assert await answer(rt, minh, "hoso") == [plain_text(joined)]

    calendar = _fits(await answer(rt, minh, "lich"))
    assert calendar.startswith("Lịch sắp tới — Phòng Hành chính tư pháp")
    assert "Hạn đăng ký thi đua" in calendar

    tasks = await answer(rt, minh, "nhiemvu")
    text = _fits(tasks)
    assert "Nhiệm vụ quý I/2026 — Phòng Hành chính tư pháp" in text and "NV 1 " in text
    assert "Bấm nút" not in text  # Zalo has no buttons: where to mark is on Telegram
    assert tasks[-1].endswith(_on_telegram("nhiemvu", rest=False, mark=True))

    results = await answer(rt, minh, "ketqua")
    assert results == [plain_text(render("results/list", lines=[], unit=minh.unit_name, tz=rt.tz))]
    assert await answer(rt, minh, "huy") == [plain_text(render("common/nothing_to_cancel"))]

    help_text = _fits(await answer(rt, minh, "trogiup"))
    assert "Phòng Hành chính tư pháp" in help_text and "Telegram" in help_text
    assert all(f"• {w} — " in help_text for w in (*WORDS, "kenh"))


async def test_the_office_and_a_leader_see_the_body_and_get_the_guard_s_line_for_hoso(
    body: Body,
) -> None:
    rt = body.rt
    forbidden = plain_text(render("common/forbidden", roles=["focal"]))
    for person in (body.lan, body.boss):
        assert await answer(rt, person, "hoso") == [forbidden]
        assert _fits(await answer(rt, person, "lich")).startswith("Lịch sắp tới — toàn Sở")
        tasks = await answer(rt, person, "nhiemvu")
        assert _fits(tasks).startswith("Tiến độ nhiệm vụ quý I/2026")
        assert not any("đánh dấu" in m for m in tasks)  # no buttons on Telegram either
        assert _fits(await answer(rt, person, "ketqua")) == plain_text(
            render("results/list", lines=[], unit=None, tz=rt.tz)
        )
        help_text = _fits(await answer(rt, person, "trogiup"))
        assert "• hoso" not in help_text and "• kenh — " in help_text
    office = ["lich", "nhiemvu", "ketqua", "tracuu", "kenh", "trogiup", "huy"]
    assert [w.name for w in words_for(Role.OFFICE)] == office
    assert [w.name for w in words_for(Role.LEADER)] == office
    assert [w.name for w in words_for(Role.FOCAL)] == ["hoso", *office]


async def test_a_quarter_can_be_asked_for_as_on_telegram(body: Body) -> None:
    rt, minh = body.rt, body.minh
    second = _fits(await answer(rt, minh, "Nhiệm vụ quý 2"))
    assert "Nhiệm vụ quý II/2026" in second and "NV 7 " in second
    assert second.endswith(_on_telegram("nhiemvu 2", rest=False, mark=True))
    assert await answer(rt, minh, "nhiemvu 9") == [plain_text(render("tasks/usage"))]


# ---- how a word may be typed ----------------------------------------------------------------

VARIANTS = {
    "hoso": ["hồ sơ", "HOSO", "/hoso", "  Hồ Sơ  ", "/HỒ SƠ", "ho so", "hoso."],
    "lich": ["lịch", "LỊCH", "/lich", " Lich "],
    "nhiemvu": ["nhiệm vụ", "/NHIEMVU", "Nhiem Vu"],
    "ketqua": ["kết quả", "/ketqua", "KET QUA"],
    "huy": ["hủy", "huỷ", "/HUY", "Huy"],
    "trogiup": ["trợ giúp", "/trogiup", "TRO GIUP", "/help"],
}


@pytest.mark.parametrize("word", sorted(VARIANTS))
async def test_a_word_is_the_same_in_any_case_with_or_without_diacritics(
    body: Body, word: str
) -> None:
    expected = await answer(body.rt, body.minh, word)
    for variant in VARIANTS[word]:
        assert command_of(variant) == (word, [])
        assert await answer(body.rt, body.minh, variant) == expected, variant
    assert command_of("kênh") == ("kenh", [])  # answered by the channel choice


@pytest.mark.parametrize(
    "text",
    ["dangky", "/nophoso", "xin chào", "🙂🎉🏅", "x" * 10_000, "", "   ", "hosox", "kênh", "<b>&"],
)
async def test_any_other_text_gets_one_line_of_the_words(body: Body, text: str) -> None:
    focal = await answer(body.rt, body.minh, text)
    office = await answer(body.rt, body.lan, text)
    for messages, role in ((focal, Role.FOCAL), (office, Role.OFFICE)):
        assert len(messages) == 1 and "\n" not in messages[0]
        assert messages[0] == render_text("zalo/unknown", words=[w.name for w in words_for(role)])
    assert "hoso" in focal[0] and "hoso" not in office[0]


# ---- hostile sizes ----------------------------------------------------------------------------


async def test_a_45_nominee_dossier_is_three_messages_and_the_rest_on_telegram(
    body: Body,
) -> None:
    await _propose(body, body.minh, 45)
    messages = await answer(body.rt, body.minh, "hoso")
    text = _fits(messages)
    assert all(m.startswith("📂 ") for m in messages[:MAX_PARTS])  # the campaign on every page
    assert f"{SECRET} Số 00 " in text
    assert text.endswith(_on_telegram("hoso", rest=True))
    assert f"{SECRET} Số 44 " not in text  # the rest: on Telegram


def _big_plan(tasks: int) -> str:
    lines = ["organization: STP-LS", "plan:", "  year: 2026", "  code: DAI-2026"]
    lines += ["  title: Kế hoạch dài", "  tasks:"]
    for no in range(1, tasks + 1):
        content = f"Nhiệm vụ số {no} " + "triển khai thực hiện phong trào thi đua " * 4
        lines += [f"    - no: {no}", "      quarter: 1", f"      content: {content.strip()}"]
        lines += [f"      due: 2026-03-{no % 20 + 10:02d}", "      units: [ALL]"]
    return "\n".join(lines) + "\n"


async def test_300_tasks_are_three_messages_and_a_line_for_every_role(
    body: Body, tmp_path: Path
) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(_big_plan(300), encoding="utf-8")
    await load_files(body.rt.db, path)
    for person in (body.minh, body.lan, body.boss):
        for word in ("nhiemvu", "lich"):
            messages = await answer(body.rt, person, word)
            text = _fits(messages)
            assert len(messages) == MAX_PARTS and "Nhiệm vụ số 1 " in text
            mark = word == "nhiemvu" and person.role is Role.FOCAL
            assert text.endswith(_on_telegram(word, rest=True, mark=mark)), (word, person.role)


def _decision(awards: int) -> str:
    codes = ["HCTP", "BTTP", "TGPL", "CC1", "DGTS", "PBGDPL"]
    items = "\n".join(
        f"    - {{unit: {codes[i % len(codes)]}, nominee: Trần Văn Người Thứ {i:02d} Của"
        f" {codes[i % len(codes)]}, award: GK-CN}}"
        for i in range(awards)
    )
    return (
        "organization: STP-LS\nresults:\n  campaign: STP-LS-2026\n"
        "  decision: 1234/QĐ-STP\n  decided_by: Giám đốc Sở Tư pháp tỉnh Lạng Sơn\n"
        f"  publish_at: 2026-02-09 08:00\n  items:\n{items}\n"
    )


async def test_60_results_fit_and_a_unit_sees_only_its_own(body: Body, tmp_path: Path) -> None:
    path = tmp_path / "results.yaml"
    path.write_text(_decision(60), encoding="utf-8")
    await load_files(body.rt.db, path)
    office = _fits(await answer(body.rt, body.lan, "ketqua"))
    assert "Quyết định số 1234/QĐ-STP" in office and "Người Thứ 00 Của HCTP" in office
    own = _fits(await answer(body.rt, body.minh, "ketqua"))
    assert "Người Thứ 00 Của HCTP" in own and "Người Thứ 54 Của HCTP" in own
    assert "Của BTTP" not in own and "Của TGPL" not in own


async def test_a_focal_point_never_sees_another_unit_s_data(body: Body) -> None:
    await _propose(body, body.minh, 3)
    assert SECRET in _fits(await answer(body.rt, body.minh, "hoso"))
    for word in WORDS:
        text = _fits(await answer(body.rt, body.hoa, word))
        assert SECRET not in text and "Hành chính" not in text, word
    assert "Phòng Bổ trợ tư pháp" in _fits(await answer(body.rt, body.hoa, "hoso"))


# ---- any text ---------------------------------------------------------------------------------

texts = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda w, a: f"{w} {a}", st.sampled_from([*WORDS, "hồ sơ", "nhiệm vụ", "kenh"]), st.text()
    ),
    st.sampled_from(["x" * 10_000, "🏅" * 3000, "/", "//hoso", "nhiemvu IV", "\u0000\ufeff"]),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=texts, who=st.sampled_from(["minh", "lan", "boss"]))
async def test_any_text_gets_messages_zalo_takes(body: Body, text: str, who: str) -> None:
    _fits(await answer(body.rt, getattr(body, who), text))
