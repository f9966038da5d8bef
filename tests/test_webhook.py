"""The webhook listener (PRODUCT §9), spoken to over raw sockets as an attacker would: no
secret, a wrong one, a huge body, slow headers, a trickled body, and a good update.

The listener runs in this process with one-second timeouts; the last test runs the real
`thiduabot run --webhook` on SQLite against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, Update

from bot.cli_parser import parse
from bot.emulator import BotApiEmulator
from bot.emulator.sandbox import process_environment
from bot.webhook import WebhookLimits, WebhookServer
from tests.support.processes import track_child

SECRET = "bi-mat-webhook"
LIMITS = WebhookLimits(max_body_bytes=1024 * 1024, header_timeout=1.0, body_timeout=1.0)
WAIT = 15  # seconds: a bound on waiting for an event, never a measured duration


@pytest.fixture
async def server() -> AsyncIterator[tuple[WebhookServer, asyncio.Queue[Any]]]:
    """The listener on a free loopback port, putting updates on a queue of its own."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    listener = WebhookServer(
        path="/telegram", secret=SECRET, bot=Bot("123456:ABCDEFGHIJKL"), queue=queue, limits=LIMITS
    )
    await listener.start("127.0.0.1", 0)
    yield listener, queue
    await listener.stop()


def head(length: int | None, secret: str | None = SECRET, path: str = "/telegram") -> bytes:
    """A POST's request line and headers."""
    lines = [f"POST {path} HTTP/1.1", "Host: bot.example.org", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if secret is not None:
        lines.append(f"X-Telegram-Bot-Api-Secret-Token: {secret}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def read_all(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := await reader.read(65536):
            data += chunk
    return data


def an_update(update_id: int = 7001) -> bytes:
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "text": "/start",
                "chat": {"id": 5004, "type": "private", "first_name": "Lan"},
                "from": {"id": 5004, "is_bot": False, "first_name": "Lan"},
            },
        }
    ).encode()


async def test_a_95_mb_body_without_the_secret_is_refused_unread(
    server: tuple[WebhookServer, asyncio.Queue[Any]],
) -> None:
    """Headers announcing 95 MB, no secret, then the body pouring in: 403 and the connection
    closed. The body is never read into memory: this process's allocations stay flat."""
    listener, queue = server
    size = 95_000_000
    chunk = bytes(1024 * 1024)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
        writer.write(head(size, secret=None))
        sent = 0

        async def pour() -> None:
            nonlocal sent
            with contextlib.suppress(ConnectionError):
                while sent < size:
                    writer.write(chunk)
                    await writer.drain()
                    sent += len(chunk)

        pouring = asyncio.create_task(pour())
        answer = await asyncio.wait_for(read_all(reader), WAIT)
        await asyncio.wait_for(pouring, WAIT)  # the server closed: writing fails
        _, peak = tracemalloc.get_traced_memory()
        writer.close()
    finally:
        tracemalloc.stop()
    print(f"sent {sent} bytes, peak {peak - before} bytes")
    assert answer.startswith(b"HTTP/1.1 403 ")
    assert sent < size  # cut off long before the end
    assert peak - before < 16 * 1024 * 1024  # a few buffers, nowhere near 95 MB
    assert queue.empty()


@pytest.mark.parametrize(
    ("secret", "path", "status"),
    [(None, "/telegram", 403), ("sai-bi-mat", "/telegram", 403), (SECRET, "/khac", 404)],
)
async def test_a_request_without_the_right_secret_or_path_is_refused(
    server: tuple[WebhookServer, asyncio.Queue[Any]], secret: str | None, path: str, status: int
) -> None:
    listener, queue = server
    body = an_update()
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(head(len(body), secret=secret, path=path) + body)
    answer = await asyncio.wait_for(read_all(reader), WAIT)
    writer.close()
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer
    assert queue.empty()


async def test_slow_headers_are_cut_off(server: tuple[WebhookServer, asyncio.Queue[Any]]) -> None:
    """Half a request, then one header byte now and then: closed at the header timeout,
    unanswered."""
    listener, _ = server
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(b"POST /telegram HTTP/1.1\r\nHost: bot.example.org\r\n")

    async def trickle() -> None:
        with contextlib.suppress(ConnectionError):
            for byte in b"X-Telegram-Bot-Api-Secret-Token: " * 100:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.2)  # the attacker's pace, not a wait for the server

    trickling = asyncio.create_task(trickle())
    answer = await asyncio.wait_for(read_all(reader), WAIT)
    trickling.cancel()
    writer.close()
    assert answer == b""  # closed, nothing answered


async def test_an_idle_connection_is_closed(
    server: tuple[WebhookServer, asyncio.Queue[Any]],
) -> None:
    listener, _ = server
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    assert await asyncio.wait_for(read_all(reader), WAIT) == b""
    writer.close()


async def test_a_trickled_body_is_cut_off(
    server: tuple[WebhookServer, asyncio.Queue[Any]],
) -> None:
    """The right secret, then the body a byte every 0.2 s: closed at the body timeout, and
    no update is handled."""
    listener, queue = server
    body = an_update()
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(head(len(body)))

    async def trickle() -> None:
        with contextlib.suppress(ConnectionError):
            for byte in body:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.2)

    trickling = asyncio.create_task(trickle())
    answer = await asyncio.wait_for(read_all(reader), WAIT)
    trickling.cancel()
    writer.close()
    assert answer == b""
    assert queue.empty()


async def test_a_too_large_body_with_the_secret_is_refused_413(
    server: tuple[WebhookServer, asyncio.Queue[Any]],
) -> None:
    listener, queue = server
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(head(LIMITS.max_body_bytes + 1) + b"{")
    answer = await asyncio.wait_for(read_all(reader), WAIT)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert queue.empty()


async def test_a_chunked_body_that_grows_too_large_is_cut_off(
    server: tuple[WebhookServer, asyncio.Queue[Any]],
) -> None:
    listener, queue = server
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    lines = head(None).replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    writer.write(lines)
    piece = b"x" * 65536

    async def pour() -> None:
        with contextlib.suppress(ConnectionError):
            for _ in range(40):  # 2.5 MB in all
                writer.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                await writer.drain()

    pouring = asyncio.create_task(pour())
    answer = await asyncio.wait_for(read_all(reader), WAIT)
    await asyncio.wait_for(pouring, WAIT)
    writer.close()
    assert not answer.startswith(b"HTTP/1.1 200")
    assert queue.empty()


async def test_a_good_update_is_answered_200_and_queued(
    server: tuple[WebhookServer, asyncio.Queue[Any]],
) -> None:
    """Two updates on one kept-alive connection: each answered 200 and put on the queue."""
    listener, queue = server
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    for update_id in (7001, 7002):
        body = an_update(update_id)
        writer.write(head(len(body)) + body)
        status = await asyncio.wait_for(reader.readline(), WAIT)
        assert status.startswith(b"HTTP/1.1 200 "), status
        headers = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        length = int(headers.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        update = await asyncio.wait_for(queue.get(), WAIT)
        assert isinstance(update, Update) and update.update_id == update_id
        assert update.effective_message is not None
        assert update.effective_message.text == "/start"
    writer.close()


async def test_a_body_that_is_not_an_update_is_refused(
    server: tuple[WebhookServer, asyncio.Queue[Any]],
) -> None:
    listener, queue = server
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(head(9) + b"not json!")
    status = await asyncio.wait_for(reader.readline(), WAIT)
    writer.close()
    assert status.startswith(b"HTTP/1.1 400 ")
    assert queue.empty()


def test_the_listener_binds_loopback_by_default() -> None:
    """A reverse proxy faces the internet; the bot listens on this machine only."""
    assert parse(["run", "--webhook", "https://bot.example.org/telegram"]).listen == "127.0.0.1"


async def test_the_bot_on_webhooks_answers_on_sqlite(tmp_path: Path) -> None:
    """`thiduabot run --webhook` on SQLite: it registers its URL with the secret, answers a
    person whose update came through the listener, and stops cleanly on SIGTERM."""
    async with BotApiEmulator() as emu:
        url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
        env = process_environment(emu, url, tmp_path / "files", WEBHOOK_SECRET=SECRET)
        with socket.socket() as probe:  # a loopback port nobody listens on (for a moment)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        process = track_child(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "--webhook",
                f"http://127.0.0.1:{port}/telegram",
                "--port",
                str(port),
                cwd=tmp_path,
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        )
        assert process.stderr is not None
        logged = []
        while not any("webhook: listening on 127.0.0.1 port" in line for line in logged):
            line = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
            assert line, "the bot exited before it listened:\n" + "".join(logged)
            logged.append(line)
        emu.set_webhook_targets([f"http://127.0.0.1:{port}/telegram"], secret_token=SECRET)
        lan = emu.user(5004, "Lan")
        await lan.send("/start")
        await lan.wait_messages(1)
        assert lan.last.text
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), WAIT)
        assert process.returncode == 0, rest.decode()
