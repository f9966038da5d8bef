"""`/tracuu NAME` through the emulator (PRODUCT §11): titles and awards by year, published
results and earlier years, the office and leaders across their organisation, a focal point
only within its unit; names typed however; hostile input answered with an example; long
histories in pages within Telegram's limit; and the same word on Zalo."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.emulator.sandbox import Person, Sandbox
from handlers.zalo_text import MAX_PARTS, answer
from messages import render_text
from messages.long_text import MAX_TEXT
from messages.plain import ZALO_MAX_TEXT, units
from storage.history import PastAwardRow, store_past_awards
from storage.members import Membership, active_membership
from storage.models import Role, Target
from storage.organizations import organization_by_code
from storage.units import unit_by_code
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.pages import every_page
from tests.support.paths import EXAMPLES
from tests.support.people import join

LONG_LIFE = "Hoàng Thị Bốn Mươi"  # forty years of entries, two a year
CROWD = "Đặng Văn Đông"  # 35 people of one name's beginning: more than are listed


def _row(unit: int, name: str, year: int, award: str, decision: str | None = None) -> PastAwardRow:
    target = Target.TAP_THE if name.startswith("Phòng") else Target.CA_NHAN
    return PastAwardRow(
        unit, target, name, year, award, decision or f"{year % 100}/QĐ-SNgV", "Giám đốc Sở", "x:2"
    )


async def _units(box: Sandbox, org_code: str, *codes: str) -> tuple[int, list[int]]:
    async with box.db.read() as session:
        org = await organization_by_code(session, org_code)
        units = [await unit_by_code(session, code) for code in codes]
    assert org is not None and all(u is not None for u in units)
    return org.id, [u.id for u in units if u is not None]


@pytest.fixture
async def body(sandbox: Sandbox, clock: Clock) -> Sandbox:
    """Sở Ngoại vụ on 01/12/2025, its 2025 decision published (10/11), earlier years loaded;
    beside it Sở Tư pháp (the sandbox's units) with a namesake of its own."""
    clock.set_local("2025-12-01 09:00")
    await load_files(
        sandbox.db,
        EXAMPLES / "units-ngoai-vu-lang-son.yaml",
        EXAMPLES / "campaign-ngoai-vu-2025.yaml",
        EXAMPLES / "results-ngoai-vu-2025.yaml",
    )
    org, (htqt, qlbg) = await _units(sandbox, "SNGV-LS", "NV_HTQT", "NV_QLBG")
    other_org, (hctp,) = await _units(sandbox, "STP-LS", "HCTP")
    long_decision = "1234/QĐ-SNgV ngày 15 tháng 12 về việc tặng danh hiệu thi đua năm"
    rows = [
        _row(htqt, "Nguyễn Văn An", 2023, "Lao động tiên tiến"),
        _row(htqt, "Nguyễn Văn An", 2024, "Chiến sĩ thi đua cơ sở"),
        _row(htqt, "Phòng Hợp tác quốc tế", 2024, "Tập thể lao động tiên tiến"),
        _row(qlbg, "Trần Thị Bình", 2024, "Lao động tiên tiến"),
        *(
            _row(htqt, LONG_LIFE, year, award, long_decision)
            for year in range(1985, 2025)
            for award in ("Lao động tiên tiến", "Chiến sĩ thi đua cơ sở của Sở Ngoại vụ")
        ),
        *(_row(qlbg, f"{CROWD} {n:02d}", 2020, "Lao động tiên tiến") for n in range(35)),
    ]
    async with sandbox.db.write() as session:
        await store_past_awards(session, org, rows)
        await store_past_awards(
            session, other_org, [_row(hctp, "Nguyễn Văn An", 2022, "Giấy khen của Tư pháp")]
        )
    return sandbox


@pytest.fixture
async def lan(body: Sandbox) -> Person:
    """The office's member."""
    return await join(body, 6001, "Lan", "NV_VP", Role.OFFICE)


def _stale() -> str:
    return render_text("alerts/stale_button")


def _within_limit(texts: list[str]) -> None:
    assert all(0 < units(t) <= MAX_TEXT for t in texts), [units(t) for t in texts]


# ---- who finds what --------------------------------------------------------------------------


async def test_the_office_finds_a_person_across_years(body: Sandbox, lan: Person) -> None:
    reply = await lan.say("/tracuu Nguyễn Văn An")
    text = reply.text
    assert len(reply.messages) == 1 and not reply.last.button_texts()
    assert "👤 Nguyễn Văn An — Phòng Hợp tác quốc tế" in text
    assert text.index("Năm 2025") < text.index("Năm 2024") < text.index("Năm 2023")
    assert "Quyết định số 123/QĐ-SNgV" in text and "(kết quả đã công bố" in text
    assert "Chiến sĩ thi đua cơ sở — Quyết định số 24/QĐ-SNgV của Giám đốc Sở" in text
    assert "(theo hồ sơ các năm trước)" in text
    assert "Giấy khen của Tư pháp" not in text and "2022" not in text  # another body's namesake
    collective = (await lan.say("/tracuu phong hop tac")).text
    assert "🏢 Phòng Hợp tác quốc tế" in collective and "Tập thể lao động tiên tiến" in collective


async def test_a_focal_point_finds_its_own_unit_s_people_and_never_another_s(
    body: Sandbox,
) -> None:
    hoa = await join(body, 6002, "Hoa", "NV_HTQT", Role.FOCAL)
    own = (await hoa.say("/tracuu nguyen van an")).text
    assert "Nguyễn Văn An" in own and "Năm 2024" in own
    assert "trong Phòng Hợp tác quốc tế" in own
    other = (await hoa.say("/tracuu Trần Thị Bình")).text
    unknown = (await hoa.say("/tracuu Không Có Ai")).text
    assert "Lao động tiên tiến" not in other and "Phòng Quản lý biên giới" not in other
    # Another unit's person and a name nobody has: one answer.
    assert other.replace("tran thi binh", "?") == unknown.replace("khong co ai", "?")
    crowd = (await hoa.say(f"/tracuu {CROWD}")).text
    assert "Không tìm thấy" in crowd  # all of them are of another unit


async def test_a_leader_searches_the_whole_organisation(body: Sandbox) -> None:
    son = await join(body, 6003, "Sơn", "NV_LDS", Role.LEADER)
    text = (await son.say("/tracuu tran thi binh")).text
    assert "👤 Trần Thị Bình — Phòng Quản lý biên giới" in text
    assert "Năm 2025" in text and "Năm 2024" in text


async def test_the_command_alone_gets_the_usage_line_with_an_example(
    body: Sandbox, lan: Person
) -> None:
    for typed in ("/tracuu", "/tracuu    "):
        text = (await lan.say(typed)).text
        assert text.startswith("Cú pháp: /tracuu TÊN, ví dụ: /tracuu Nguyễn Văn An")


@pytest.mark.parametrize(
    "typed", ["nguyen van an", "NGUYEN VĂN", "  nguyễn   văn   an ", "VAN AN", "Nguyên Văn Ân"]
)
async def test_a_name_is_found_however_it_is_typed(lan: Person, typed: str) -> None:
    assert "👤 Nguyễn Văn An — Phòng Hợp tác quốc tế" in (await lan.say(f"/tracuu {typed}")).text


# ---- hostile input -------------------------------------------------------------------------

HOSTILE = {
    "x" * 10_000: "dài quá",
    "😀😀😀": "ít nhất 2 chữ",
    "<b>": "ít nhất 2 chữ",
    "a": "ít nhất 2 chữ",
    "<b>Nguyễn</b> &amp;": "Không tìm thấy",
    "😀 an 😀 " * 20: "dài quá",
    "\u200b\u200bzq": "Không tìm thấy",  # what nobody sees counts for nothing
}


async def _short_answer(person: Person, typed: str) -> str:
    reply = await person.say(f"/tracuu {typed}")
    assert len(reply.messages) == 1 and not reply.last.button_texts()
    text = reply.text
    _within_limit([text])
    assert "Có lỗi xảy ra" not in text
    assert "/tracuu Nguyễn Văn An" in text or "/tracuu Nguyen Van An" in text  # an example
    return text


async def test_hostile_input_gets_a_short_answer_with_an_example(
    body: Sandbox, lan: Person
) -> None:
    for typed, said in HOSTILE.items():
        text = await _short_answer(lan, typed)
        assert said in text and len(text) < 500, (typed[:20], text)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.text(min_size=1, max_size=300).filter(lambda t: t.strip() and "\x00" not in t))
async def test_any_text_after_the_command_is_answered_within_the_limit(
    lan: Person, typed: str
) -> None:
    reply = await lan.say(f"/tracuu {typed}")
    assert reply.messages and "Có lỗi xảy ra" not in reply.text
    _within_limit([m.text for m in reply.messages])


# ---- pages ---------------------------------------------------------------------------------


async def test_forty_years_come_in_pages_within_the_limit(body: Sandbox, lan: Person) -> None:
    first = (await lan.say("/tracuu bon muoi")).last
    assert "Sau ›" in first.button_texts()
    texts = await every_page(lan, first)
    assert len(texts) > 1
    _within_limit(texts)
    years = [int(line.split()[1]) for t in texts for line in t.splitlines() if line[:4] == "Năm "]
    assert years == list(range(2024, 1984, -1))  # each year once, the latest first
    assert all('Tra cứu "bon muoi"' in t for t in texts)
    assert all(f"👤 {LONG_LIFE} — Phòng Hợp tác quốc tế (tiếp theo)" in t for t in texts[1:])
    back = await lan.press(first, "‹ Trước")
    assert back.alert is None and first.text == texts[-2]


async def test_more_than_thirty_matches_list_the_first_thirty_and_ask_for_more(
    body: Sandbox, lan: Person
) -> None:
    texts = await every_page(lan, (await lan.say(f"/tracuu {CROWD}")).last)
    _within_limit(texts)
    names = {line for t in texts for line in t.splitlines() if line.startswith(f"👤 {CROWD}")}
    assert len(names) == 30
    assert all("Có 35 người, tập thể có tên khớp; trên đây là 30 đầu tiên" in t for t in texts)


async def test_forged_page_data_gets_the_stale_answer(body: Sandbox, lan: Person) -> None:
    shown = (await lan.say("/tracuu bon muoi")).last
    before = shown.text
    for data in (
        "pg:tc:1",  # no name
        "pg:tc:bon-muoi:x",  # no page
        "pg:tc:bon-muoi",  # the name taken for the page
        "pg:tc:_zz_:0",  # not an escape
        "pg:tc:_d800_:0",  # a lone surrogate
        "pg:tc:a:0",  # too short to search for
        "pg:tc:Bon-muoi:0",  # not as a button writes it
        "pg:tc:bon--muoi:0",  # two spaces: not a folded name
        "pg:tc:_62_on-muoi:0",  # "b" escaped: not as a button writes it
    ):
        pressed = await lan.press_data(shown, data)
        assert pressed.alert == _stale(), data
        assert shown.text == before
    await lan.press_data(shown, "pg:tc:bon-muoi:999")  # past the end: the last page
    assert "Năm 1985" in shown.text


async def test_a_focal_point_pressing_another_unit_s_name_finds_nothing(body: Sandbox) -> None:
    hoa = await join(body, 6002, "Hoa", "NV_HTQT", Role.FOCAL)
    shown = (await hoa.say("/tracuu bon muoi")).last
    assert "Sau ›" in shown.button_texts()
    pressed = await hoa.press_data(shown, "pg:tc:tran-thi-binh:0")
    assert pressed.alert is None
    assert "Không tìm thấy" in shown.text and "Phòng Quản lý biên giới" not in shown.text


# ---- Zalo ----------------------------------------------------------------------------------


async def _membership(box: Sandbox, person: Person) -> Membership:
    async with box.db.read() as session:
        member = await active_membership(session, person.id)
    assert member is not None
    return member


def _zalo_fits(messages: list[str]) -> str:
    assert 1 <= len(messages) <= MAX_PARTS
    assert all(m.strip() and units(m) <= ZALO_MAX_TEXT for m in messages)
    assert not any("<b>" in m or "&amp;" in m for m in messages)
    return "\n".join(messages)


async def test_the_zalo_word_answers_as_telegram_does_within_zalo_s_limit(
    body: Sandbox, lan: Person
) -> None:
    assert body.app is not None
    rt = body.app.bot_data.runtime
    assert rt is not None
    office = await _membership(body, lan)
    hoa = await _membership(body, await join(body, 6002, "Hoa", "NV_HTQT", Role.FOCAL))
    found = _zalo_fits(await answer(rt, office, "Tra cứu Nguyễn Văn An"))
    assert "👤 Nguyễn Văn An — Phòng Hợp tác quốc tế" in found and "Năm 2023" in found
    assert "Quyết định số 123/QĐ-SNgV" in found
    assert _zalo_fits(await answer(rt, office, "tracuu")).startswith(
        "Cú pháp: tracuu TÊN, ví dụ: tracuu Nguyễn Văn An"
    )
    assert "ít nhất 2 chữ" in _zalo_fits(await answer(rt, office, "tracuu 😀"))
    assert "dài quá" in _zalo_fits(await answer(rt, office, "tracuu " + "x" * 10_000))
    other = _zalo_fits(await answer(rt, hoa, "tracuu tran thi binh"))
    assert "Không tìm thấy" in other and "Lao động" not in other
    long_life = await answer(rt, office, "/tracuu bon muoi")
    text = _zalo_fits(long_life)
    assert len(long_life) == MAX_PARTS and "Năm 2024" in text
    assert long_life[-1].endswith(
        render_text("zalo/on_telegram", command="tracuu bon muoi", rest=True, mark=False)
    )
    assert "• tracuu — " in _zalo_fits(await answer(rt, hoa, "trogiup"))
