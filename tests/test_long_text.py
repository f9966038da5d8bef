"""The one way to send a long text (messages/long_text.py, bot/fitting.py), with generated
text of hostile sizes: every part is HTML Telegram parses, within its limit, and together the
parts say exactly what the whole said (PRODUCT §5)."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.ext import Defaults

from bot.emulator import BotApiEmulator
from bot.emulator.html import parse_html
from bot.fitting import FittingBot
from messages.long_text import page_ranges, pages, split_html, visible_length

TOKEN = "123456:TEST-TOKEN"

# Words as people and data files write them: Vietnamese, emoji (two UTF-16 units), and the
# characters HTML must escape.
words = st.text(
    alphabet=st.sampled_from(
        [*list("aăâbcdđeêghiklmnoôơpqrstuưvxyÀÁẠẢÃỳỹỷĐ0123456789<>&\"'"), "🏅", "📂", "✅"]
    ),
    min_size=1,
    max_size=40,
)
TAGS = ["b", "i", "u", "s", "code"]


@st.composite
def segment(draw: st.DrawFn) -> str:
    text = " ".join(
        html.escape(w, quote=False) for w in draw(st.lists(words, min_size=1, max_size=8))
    )
    tag = draw(st.sampled_from([None, *TAGS]))
    return f"<{tag}>{text}</{tag}>" if tag else text


lines = st.lists(segment(), min_size=1, max_size=5).map(" ".join)
blocks = st.lists(lines, min_size=1, max_size=12).map("\n".join)
documents = st.lists(blocks, min_size=1, max_size=40).map("\n\n".join)
# One enormous word, one enormous bold line: no space or line break to cut at.
giants = st.integers(50, 9000).map(lambda n: "<b>" + "Ư" * n + "</b>")


def _plain(text: str) -> str:
    return parse_html(text)[0]


def _squeezed(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(documents, giants), st.sampled_from([16, 100, 1024, 4096]))
def test_parts_parse_fit_and_lose_nothing(text: str, limit: int) -> None:
    parts = split_html(text, limit)
    assert parts
    for part in parts:
        plain = _plain(part)  # raises if a tag or an entity was cut
        assert plain.strip()
        assert visible_length(part) <= limit
    assert _squeezed("".join(_plain(p) for p in parts)) == _squeezed(_plain(text))


@given(
    st.lists(st.integers(0, 5000), max_size=600),
    st.integers(1, 4000),
    st.none() | st.integers(1, 50),
)
def test_page_ranges_cover_everything_in_order_within_the_room(
    widths: list[int], room: int, per_page: int | None
) -> None:
    ranges = page_ranges(widths, room, per_page)
    assert [i for r in ranges for i in r] == list(range(len(widths)))
    for r in ranges:
        assert len(r) == 1 or sum(widths[i] for i in r) <= room
        assert per_page is None or len(r) <= per_page


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(blocks, min_size=0, max_size=200), lines, lines)
def test_every_page_fits_with_its_heading_and_foot(items: list[str], head: str, foot: str) -> None:
    screens = pages(items, head=head, foot=foot)
    assert screens
    for screen in screens:
        _plain(screen)
        assert visible_length(screen) <= 4096
    joined = _squeezed("".join(_plain(s) for s in screens))
    assert all(_squeezed(_plain(b)) in joined for b in items[:50])


@pytest_asyncio.fixture
async def fitting_bot() -> AsyncIterator[tuple[BotApiEmulator, FittingBot]]:
    async with BotApiEmulator(TOKEN, flood_control=False) as emu:
        bot = FittingBot(
            TOKEN,
            base_url=emu.base_url,
            base_file_url=emu.file_url,
            defaults=Defaults(parse_mode=ParseMode.HTML),
        )
        async with bot:
            yield emu, bot


hostile = st.one_of(
    st.lists(documents, min_size=3, max_size=6).map("\n\n".join),
    giants,
    st.integers(4097, 30000).map(lambda n: "Người được đề nghị &amp; tập thể " * (n // 30)),
)


@pytest.mark.asyncio
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=hostile, buttons=st.integers(0, 100))
async def test_whatever_the_size_the_emulator_takes_every_message(
    fitting_bot: tuple[BotApiEmulator, FittingBot], text: str, buttons: int
) -> None:
    emu, bot = fitting_bot
    user = emu.user(777, "Đầu mối")
    before, asked = len(emu.messages(user.id)), len(emu.requests)
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"Nút {n}", callback_data=f"x:{n}")] for n in range(buttons)]
    )
    await bot.send_message(user.id, text, reply_markup=markup if buttons else None)
    got = emu.messages(user.id)[before:]
    assert got and all(len(m.text) <= 4096 for m in got)
    assert _squeezed("".join(m.text for m in got)) == _squeezed(_plain(text))
    assert all(not m.buttons for m in got[:-1])  # the keyboard on the last part only
    assert len(got[-1].buttons) == buttons

    sent = await bot.send_document(user.id, b"%PDF-1.4\n%%EOF\n", filename="a.pdf", caption=text)
    assert sent.document is not None
    refused = [r for r in emu.requests[asked:] if not r.ok]
    assert not refused, refused[:1]
