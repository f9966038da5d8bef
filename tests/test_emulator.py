"""Tests for the built-in Telegram Bot API emulator (bot/emulator/)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import warnings
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.emulator import BotApiEmulator, HtmlParseError, parse_html

pytestmark = [
    pytest.mark.asyncio,
    # PTB warns about RetryAfter.retry_after becoming a timedelta; irrelevant here.
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]

TOKEN = "123456:TEST-TOKEN"


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    """A running emulator without flood control (tests of it make their own)."""
    async with BotApiEmulator(TOKEN, flood_control=False, max_download_bytes=1000) as emulator:
        yield emulator


@pytest_asyncio.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    """A real PTB Bot pointed at the emulator."""
    async with Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.file_url) as tg_bot:
        yield tg_bot


def _keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """Inline keyboard from rows of (text, callback_data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def _seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after is an int (deprecated) or a timedelta depending on PTB settings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_get_me_and_http_errors(emu: BotApiEmulator, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "thidua_demo_bot"
    assert me.is_bot
    async with httpx.AsyncClient() as client:
        wrong = await client.post(f"{emu.base_url}999:WRONG/getMe")
        assert wrong.status_code == 401
        assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        unknown = await client.post(f"{emu.base_url}{TOKEN}/noSuchMethod")
        assert unknown.status_code == 404
        assert unknown.json()["description"] == "Not Found"
        # Method names are case-insensitive, as on Telegram.
        lower = await client.get(f"{emu.base_url}{TOKEN}/getme")
        assert lower.json()["result"]["id"] == 123456


async def test_updates_text_command_and_offset(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan", username="lan_hr")
    assert emu.user(1001) is lan
    first = await lan.send("xin chào")
    second = await lan.send("/start@thidua_demo_bot ABC")
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first, second] == [1, 2]
    assert updates[0].message.text == "xin chào"
    assert updates[0].message.from_user.username == "lan_hr"
    assert updates[0].message.chat.type == "private"
    command = updates[1].message
    assert command.entities[0].type == "bot_command"
    assert command.entities[0].offset == 0
    assert command.entities[0].length == len("/start@thidua_demo_bot")
    await emu.wait_fetched(second, timeout=1)
    # Offset acknowledges everything before it.
    assert [u.update_id for u in await bot.get_updates(offset=second, timeout=0)] == [second]
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()


async def test_long_polling_returns_new_update(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan")

    async def later() -> int:
        await asyncio.sleep(0.2)
        return await lan.send("hi")

    task = asyncio.create_task(later())
    updates = await bot.get_updates(timeout=5, read_timeout=10)
    assert [u.message.text for u in updates] == ["hi"]
    await task


async def test_send_message_valid_html(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan")
    text = '<b>Thi đua</b> <a href="https://example.com/?a=1&b=2">link</a> &amp;lt; &#x41;&#66;'
    sent = await bot.send_message(lan.chat_id, text, parse_mode="HTML")
    assert sent.text == "Thi đua link &lt; AB"
    assert [e.type for e in sent.entities] == ["bold", "text_link"]
    assert sent.entities[1].url == "https://example.com/?a=1&b=2"
    assert lan.last.text == "Thi đua link &lt; AB"
    assert lan.last.html == text
    assert lan.last.parse_mode == "HTML"


@pytest.mark.parametrize("bad", ["<b>x", "a < b", "Tom & Jerry", "<script>x</script>", "x</b>"])
async def test_send_message_invalid_html(emu: BotApiEmulator, bot: Bot, bad: str) -> None:
    lan = emu.user(1001, "Lan")
    with pytest.raises(BadRequest, match=r"(?i)parse entities"):
        await bot.send_message(lan.chat_id, bad, parse_mode="HTML")
    # Without parse_mode the same text is fine.
    assert (await bot.send_message(lan.chat_id, bad)).text == bad


async def test_parse_html_details() -> None:
    assert parse_html("<B>x</B>")[0] == "x"
    with pytest.raises(HtmlParseError, match='Unsupported start tag "script" at byte offset 3'):
        parse_html("Ấ<script>")  # "Ấ" is 3 UTF-8 bytes: offsets are in bytes
    with pytest.raises(HtmlParseError, match='Unsupported start tag "" at byte offset 2'):
        parse_html("a < b")
    with pytest.raises(HtmlParseError, match='Can\'t find end tag corresponding to start tag "b"'):
        parse_html("<b>x")
    with pytest.raises(HtmlParseError, match="Unmatched end tag"):
        parse_html("<b><i>x</b></i>")
    with pytest.raises(HtmlParseError, match='must have class "tg-spoiler"'):
        parse_html("<span>x</span>")
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        '<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote>'
    )
    assert text == "x = 1sq"
    assert {e["type"] for e in entities} == {"pre", "spoiler", "expandable_blockquote"}
    assert next(e for e in entities if e["type"] == "pre")["language"] == "python"
    # Offsets are UTF-16 code units (the emoji takes two).
    assert parse_html("😀<b>x</b>")[1] == [{"type": "bold", "offset": 2, "length": 1}]


async def test_text_length_limit(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(lan.chat_id, "x" * 4097)
    assert len((await bot.send_message(lan.chat_id, "x" * 4096)).text) == 4096
    # The limit applies to the text after entity parsing.
    await bot.send_message(lan.chat_id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(lan.chat_id, "<b></b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "who?")


async def test_callback_data_limit_is_in_bytes(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan")
    ok_data = "đ" * 32  # 32 characters, 64 UTF-8 bytes
    too_long = "đ" * 32 + "x"  # 33 characters, 65 bytes
    assert len(ok_data.encode()) == 64
    sent = await bot.send_message(lan.chat_id, "ok", reply_markup=_keyboard([("A", ok_data)]))
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == ok_data
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(lan.chat_id, "no", reply_markup=_keyboard([("A", too_long)]))


async def test_press_and_answer_callback(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan")
    await bot.send_message(
        lan.chat_id, "Chọn:", reply_markup=_keyboard([("Xác nhận", "ok:1"), ("Hủy", "no:1")])
    )
    message = lan.last
    assert message.button_texts() == ["Xác nhận", "Hủy"]
    with pytest.raises(LookupError, match="Xác nhận"):
        await lan.press(message, "Không có")
    update_id = await lan.press(message, "Xác nhận")
    (update,) = await bot.get_updates(offset=update_id, timeout=0)
    query = update.callback_query
    assert query.data == "ok:1"
    assert query.from_user.id == lan.id
    assert query.message.message_id == message.message_id
    assert query.message.reply_markup.inline_keyboard[0][1].text == "Hủy"
    assert await bot.answer_callback_query(query.id, text="Đã ghi nhận")
    assert emu.callback_answers[query.id] == "Đã ghi nhận"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    forged = await lan.press_data(message, "admin:delete_all")
    (update,) = await bot.get_updates(offset=forged, timeout=0)
    assert update.callback_query.data == "admin:delete_all"


async def test_edit_message_text(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan")
    markup = _keyboard([("A", "a")])
    sent = await bot.send_message(lan.chat_id, "v1", reply_markup=markup)
    await bot.edit_message_text(
        "<i>v2</i>", lan.chat_id, sent.message_id, parse_mode="HTML", reply_markup=markup
    )
    stored = lan.last
    assert (stored.text, stored.edits, stored.button_texts()) == ("v2", 1, ["A"])
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<i>v2</i>", lan.chat_id, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    await bot.edit_message_reply_markup(lan.chat_id, sent.message_id, reply_markup=None)
    assert stored.buttons == [] and stored.edits == 2
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", lan.chat_id, 9999)
    assert await bot.delete_message(lan.chat_id, sent.message_id)
    assert stored.deleted


async def test_user_document_roundtrip(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan")
    content = bytes(range(256)) * 3  # 768 bytes, under the 1000-byte limit of the fixture
    update_id = await lan.send_document(content, "danh_sach.xlsx", caption="file")
    (update,) = await bot.get_updates(offset=update_id, timeout=0)
    document = update.message.document
    assert document.file_name == "danh_sach.xlsx"
    assert document.file_size == len(content)
    tg_file = await bot.get_file(document.file_id)
    assert bytes(await tg_file.download_as_bytearray()) == content
    # The bot can send the file back by file_id, and upload new bytes.
    await bot.send_document(lan.chat_id, document.file_id, caption="<b>lại</b>", parse_mode="HTML")
    assert lan.last.document["content"] == content and lan.last.text == "lại"
    sent = await bot.send_document(lan.chat_id, b"export-bytes", filename="export.xlsx")
    assert lan.last.document["file_name"] == "export.xlsx"
    assert lan.last.document["content"] == b"export-bytes"
    again = await bot.send_document(lan.chat_id, sent.document.file_id)
    assert again.document.file_id == sent.document.file_id
    assert "[bot → Lan] 📎 export.xlsx (12 bytes)" in emu.transcript()


async def test_user_photo(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan")
    update_id = await lan.send_photo(b"\xff\xd8fake-jpeg", caption="ảnh")
    (update,) = await bot.get_updates(offset=update_id, timeout=0)
    assert len(update.message.photo) == 2 and update.message.caption == "ảnh"
    tg_file = await bot.get_file(update.message.photo[-1].file_id)
    assert bytes(await tg_file.download_as_bytearray()) == b"\xff\xd8fake-jpeg"


async def test_file_too_big(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan")
    update_id = await lan.send_document(b"x" * 1001, "big.pdf")
    (update,) = await bot.get_updates(offset=update_id, timeout=0)
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(update.message.document.file_id)
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_blocked_user(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan")
    lan.block()
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(lan.chat_id, "hello")
    with pytest.raises(Forbidden):
        await bot.send_document(lan.chat_id, b"x", filename="a.txt")
    lan.unblock()
    await bot.send_message(lan.chat_id, "hello")
    errors = [r for r in emu.requests if r.method == "sendMessage" and r.error]
    assert [(r.status, r.chat_id) for r in errors] == [(403, 1001)]


async def test_fail_next(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan")
    emu.fail_next("sendMessage", status=429, retry_after=1)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(lan.chat_id, "x")
    assert _seconds(caught.value) == 1
    emu.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError):
        await bot.send_message(lan.chat_id, "x")
    emu.fail_next("*", status=0)
    with pytest.raises(NetworkError):
        await bot.send_message(lan.chat_id, "x")
    assert lan.messages == []  # faults are answered before anything happens
    # A delayed success: the client times out but the message was sent anyway.
    emu.fail_next("sendMessage", status=200, delay=0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(lan.chat_id, "late", read_timeout=0.1)
    assert [m.text for m in lan.messages] == ["late"]
    assert [r.status for r in emu.requests if r.method == "sendMessage"][:3] == [429, 502, 0]
    await bot.send_message(lan.chat_id, "normal")


async def test_flood_control() -> None:
    async with BotApiEmulator(TOKEN, chat_burst=3, chat_rate=1.0) as emu:
        lan = emu.user(1001, "Lan")
        async with Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.file_url) as bot:
            for i in range(3):
                await bot.send_message(lan.chat_id, f"m{i}")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(lan.chat_id, "m3")
            assert _seconds(caught.value) == 1
            assert emu.flood_count == 1
            # Another chat has its own bucket.
            await bot.send_message(emu.user(1002, "Minh").chat_id, "other chat")
            await asyncio.sleep(1.05)
            await bot.send_message(lan.chat_id, "m3 again")
        sends = [r for r in emu.requests if r.method == "sendMessage" and r.chat_id == 1001]
        assert [r.status for r in sends] == [200, 200, 200, 429, 200]
        assert sends[4].time - sends[3].time >= 1.0


async def test_global_flood_control() -> None:
    async with (
        BotApiEmulator(TOKEN, global_burst=2, global_rate=2.0) as emu,
        httpx.AsyncClient() as client,
    ):
        statuses = []
        for uid in (1, 2, 3):
            emu.user(uid)
            response = await client.post(
                f"{emu.base_url}{TOKEN}/sendMessage", json={"chat_id": uid, "text": "x"}
            )
            statuses.append(response.status_code)
        assert statuses == [200, 200, 429]
        assert response.json()["parameters"] == {"retry_after": 1}
        assert response.json()["description"] == "Too Many Requests: retry after 1"


async def test_raw_form_and_json_encodings(emu: BotApiEmulator) -> None:
    lan = emu.user(1001, "Lan")
    markup = {"inline_keyboard": [[{"text": "Go", "url": "https://t.me"}]]}
    async with httpx.AsyncClient() as client:
        url = f"{emu.base_url}{TOKEN}/sendMessage"
        as_form = await client.post(
            url, data={"chat_id": "1001", "text": "form", "reply_markup": json.dumps(markup)}
        )
        as_json = await client.post(
            url, json={"chat_id": 1001, "text": "json", "reply_markup": markup}
        )
        bad = await client.post(url, json={"chat_id": 1001, "text": ""})
    assert as_form.json()["result"]["reply_markup"] == markup
    assert as_json.json()["result"]["from"]["is_bot"] is True
    assert bad.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }
    assert lan.messages[0].buttons == [[("Go", "https://t.me")]]
    with pytest.raises(LookupError, match=r"(?i)not a callback button"):
        await lan.press(lan.messages[0], "Go")


async def test_commands(emu: BotApiEmulator, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Bắt đầu"), ("help", "Trợ giúp")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert await bot.get_my_commands(language_code="en") == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Bad-Name", "x")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_webhook_delivery(emu: BotApiEmulator, bot: Bot) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls == 1:  # the first attempt fails: the emulator must retry
            return web.Response(status=500)
        received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        lan = emu.user(1001, "Lan")
        update_id = await lan.send("qua webhook")
        await emu.wait_fetched(update_id, timeout=5)
        assert calls == 2
        ((payload, secret),) = received
        assert secret == "s3cret"
        assert payload["update_id"] == update_id
        assert payload["message"]["text"] == "qua webhook"
        with pytest.raises(Exception, match="Conflict"):
            await bot.get_updates(timeout=0)
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        assert await bot.delete_webhook()
        later = await lan.send("polling again")
        assert [u.update_id for u in await bot.get_updates(timeout=0)] == [later]
    finally:
        await runner.cleanup()


async def test_webhook_targets_round_robin(emu: BotApiEmulator) -> None:
    hits: dict[str, list[int]] = {"a": [], "b": []}
    runners = []
    urls = []
    for name in ("a", "b"):

        async def handler(request: web.Request, name: str = name) -> web.Response:
            hits[name].append((await request.json())["update_id"])
            return web.Response()

        app = web.Application()
        app.router.add_post("/", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/")  # type: ignore[union-attr]
    try:
        emu.set_webhook_targets(urls)
        lan = emu.user(1001, "Lan")
        ids = [await lan.send(f"m{i}") for i in range(4)]
        await emu.wait_fetched(ids[-1], timeout=5)
        assert sorted(hits["a"] + hits["b"]) == ids
        assert len(hits["a"]) == len(hits["b"]) == 2
    finally:
        emu.set_webhook_targets([])
        for runner in runners:
            await runner.cleanup()


async def test_transcript(emu: BotApiEmulator, bot: Bot) -> None:
    lan = emu.user(1001, "Lan")
    await lan.send("/start ABC")
    await bot.send_message(
        lan.chat_id,
        "Chào <b>Lan</b>!\nChọn một mục:",
        parse_mode="HTML",
        reply_markup=_keyboard([("Xác nhận", "ok"), ("Hủy", "no")], [("Trợ giúp", "help")]),
    )
    await lan.press(lan.last, "Xác nhận")
    await lan.send_document(b"%PDF", "file.pdf")
    lines = emu.transcript()
    assert lines[0] == "[Lan] /start ABC"
    assert lines[1] == "[bot → Lan] Chào Lan!"
    assert lines[2].strip() == "Chọn một mục:"
    assert lines[3] == "   [ Xác nhận ] [ Hủy ]"
    assert lines[4] == "   [ Trợ giúp ]"
    assert lines[5] == "[Lan] ⏺ presses “Xác nhận”"
    assert lines[6] == "[Lan] 📎 file.pdf"
    with pytest.raises(LookupError):
        _ = emu.user(1002, "Minh").last


async def test_real_application_polling() -> None:
    """The full PTB Application (polling) runs a command and a button against the emulator."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = " ".join(context.args or [])
        await update.effective_message.reply_html(
            f"Chào <b>{update.effective_user.first_name}</b> ({args})",
            reply_markup=_keyboard([("Xác nhận", "confirm")]),
        )

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer("OK")
        await query.edit_message_text("Đã xác nhận")

    async with BotApiEmulator(TOKEN) as emu:
        app = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(emu.base_url)
            .base_file_url(emu.file_url)
            .build()
        )
        app.add_handler(CommandHandler("start", start))
        app.add_handler(CallbackQueryHandler(button))
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)
            lan = emu.user(1001, "Lan")
            await lan.send("/start ABC")
            (reply,) = await lan.wait_messages(1, timeout=5)
            assert reply.text == "Chào Lan (ABC)"
            await lan.press(reply, "Xác nhận")
            await emu.wait_until(lambda: reply.edits == 1, timeout=5)
            assert reply.text == "Đã xác nhận" and reply.buttons == []
            assert list(emu.callback_answers.values()) == ["OK"]
            await app.updater.stop()
            await app.stop()
