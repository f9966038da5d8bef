"""The Zalo channel's client against the emulator's Zalo mode (issue 19, first step): what
the platform answers, and how each failure is classified for the outbox."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from bot.emulator.zalo import ZaloEmulator
from scheduler.delivery.zalo import (
    MAX_TEXT,
    SECRET_HEADER,
    Failure,
    ZaloClient,
    ZaloError,
    parse_update,
    text_length,
)


@pytest.fixture
async def zalo() -> ZaloEmulator:
    async with ZaloEmulator() as emulator:
        yield emulator  # type: ignore[misc]


def client(emulator: ZaloEmulator, token: str | None = None) -> ZaloClient:
    return ZaloClient(token or emulator.token, base_url=emulator.base_url)


async def test_a_message_is_sent_and_received(zalo: ZaloEmulator) -> None:
    bot = client(zalo)
    hoa = zalo.user(name="Hoa")
    sent = await bot.send_message(hoa.id, "Nhắc hạn nộp hồ sơ: còn 3 ngày.")
    assert sent.message_id and hoa.messages == ["Nhắc hạn nộp hồ sơ: còn 3 ngày."]
    assert (await bot.get_me())["account_name"]
    await bot.aclose()


async def test_updates_by_long_poll_one_at_a_time(zalo: ZaloEmulator) -> None:
    bot = client(zalo)
    hoa = zalo.user(name="Hoa")
    await hoa.send("hoso")
    await hoa.send("lich")
    first, second = await bot.get_updates(wait=1), await bot.get_updates(wait=1)
    assert first is not None and (first.chat_id, first.text, first.name) == (hoa.id, "hoso", "Hoa")
    assert second is not None and second.text == "lich"
    assert await bot.get_updates(wait=1) is None  # 408 "Request timeout": nothing came
    await bot.aclose()


async def test_failures_are_classified_for_the_outbox(zalo: ZaloEmulator) -> None:
    bot = client(zalo)
    gone = zalo.user(name="Bình")
    gone.left = True
    with pytest.raises(ZaloError) as left:
        await bot.send_message(gone.id, "Thông báo")
    assert left.value.failure is Failure.BLOCKED and left.value.code == 403
    with pytest.raises(ZaloError) as unknown:
        await bot.send_message("khong-co", "Thông báo")
    assert unknown.value.failure is Failure.REFUSED
    with pytest.raises(ZaloError) as too_long:
        await bot.send_message(zalo.user().id, "a" * (MAX_TEXT + 1))
    assert too_long.value.failure is Failure.REFUSED
    assert not any(
        r.method == "sendMessage" and len(r.params["text"]) > MAX_TEXT for r in zalo.requests
    )
    with pytest.raises(ZaloError) as bad_token:
        await client(zalo, "1:wrong").get_me()
    assert bad_token.value.failure is Failure.REFUSED and bad_token.value.code == 401
    await bot.aclose()


async def test_an_unreachable_platform_and_a_lost_answer() -> None:
    async with ZaloEmulator() as gone:
        url = gone.base_url
    with pytest.raises(ZaloError) as down:
        await ZaloClient("1:x", base_url=url).get_me()
    assert down.value.failure is Failure.UNREACHABLE

    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"ok": True, "result": {"message_id": "late"}})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", slow)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    bot = ZaloClient("1:x", base_url=f"http://127.0.0.1:{port}/bot", timeout=0.3)
    with pytest.raises(ZaloError) as lost:
        await bot.send_message("someone", "Thông báo")
    assert lost.value.failure is Failure.UNCERTAIN  # written, never answered
    await bot.aclose()
    await runner.cleanup()


async def test_a_webhook_carries_the_secret(zalo: ZaloEmulator) -> None:
    seen: list[tuple[str | None, dict[str, object]]] = []

    async def hook(request: web.Request) -> web.Response:
        seen.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/zalo", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    bot = client(zalo)
    with pytest.raises(ZaloError):
        await bot.set_webhook(f"http://127.0.0.1:{port}/zalo", "short")  # 8 to 256 characters
    await bot.set_webhook(f"http://127.0.0.1:{port}/zalo", "a-secret-of-ours")
    await zalo.user(name="Hoa").send("trogiup")
    assert seen and seen[0][0] == "a-secret-of-ours"
    incoming = parse_update(seen[0][1])
    assert incoming is not None and incoming.text == "trogiup"
    await bot.delete_webhook()
    await bot.aclose()
    await runner.cleanup()


@given(st.text(max_size=3000))
def test_the_limit_is_never_undercounted(text: str) -> None:
    assert text_length(text) >= len(text)


def test_updates_of_other_shapes_are_ignored() -> None:
    assert parse_update(None) is None
    assert parse_update({"event_name": "message.sticker.received"}) is None
    assert parse_update({"message": {"chat": {"id": 5}}}) is None
    sticker = parse_update({"message": {"chat": {"id": "a"}, "from": {"id": "a"}, "sticker": "x"}})
    assert sticker is not None and sticker.text is None


async def test_the_client_can_share_an_http_client(zalo: ZaloEmulator) -> None:
    async with httpx.AsyncClient() as shared:
        bot = ZaloClient(zalo.token, base_url=zalo.base_url, client=shared)
        await bot.send_message(zalo.user().id, "x")
        await bot.aclose()  # not ours: still open
        assert not shared.is_closed
