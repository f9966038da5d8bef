"""The Zalo bot's messages by webhook (`run --zalo-webhook URL`, PRODUCT §12): the platform
posts each message with the secret header; a request without it, or a body that is no
update, is refused before it costs; a message delivered twice is answered once."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.emulator.sandbox import Sandbox
from bot.emulator.zalo import ZaloEmulator
from scheduler.delivery.zalo import SECRET_HEADER
from storage.models import Role
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import issue_invite

SECRET = "zalo-webhook-secret-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def box(sqlite_url: str, tmp_path: Path, clock: Clock) -> AsyncIterator[Sandbox]:
    sandbox = Sandbox(
        database_url=sqlite_url, files_dir=tmp_path / "files", clock=clock, zalo=ZaloEmulator()
    )
    port = free_port()
    sandbox.zalo_webhook = (f"http://127.0.0.1:{port}/zalo/hook", "127.0.0.1", port)
    sandbox.zalo_secret = SECRET
    await sandbox.db.migrate()
    await load_files(sandbox.db, EXAMPLES / "units-lang-son.yaml")
    async with sandbox:
        yield sandbox


async def test_messages_come_by_webhook_with_the_secret(box: Sandbox) -> None:
    assert box.zalo is not None and box.zalo_webhook is not None
    assert box.zalo.webhook_url == box.zalo_webhook[0]  # setWebhook was called
    assert box.zalo.webhook_secret == SECRET
    user = box.zalo.user(name="Thảo")
    code = await issue_invite(box.db, "BTTP", Role.FOCAL, box.clock())
    assert "Bạn đã tham gia" in (await box.zalo_say(user, code))[0]
    assert box.zalo.webhook_statuses == [200]
    # Not a single getUpdates: the webhook replaces polling.
    assert not [r for r in box.zalo.requests if r.method == "getUpdates"]


async def test_forged_and_malformed_posts_are_refused(box: Sandbox) -> None:
    assert box.zalo_webhook is not None
    url = box.zalo_webhook[0]
    body = {"message": {"chat": {"id": "x"}, "from": {"id": "x"}, "text": "hoso"}}
    async with httpx.AsyncClient() as client:
        assert (await client.post(url, json=body)).status_code == 403
        wrong = {SECRET_HEADER: "not-the-secret"}
        assert (await client.post(url, json=body, headers=wrong)).status_code == 403
        right = {SECRET_HEADER: SECRET}
        assert (await client.post(url, json=[1, 2], headers=right)).status_code == 400
        assert (await client.post(url, content=b"{", headers=right)).status_code == 400
        other = url.replace("/zalo/hook", "/telegram")
        assert (await client.post(other, json=body, headers=right)).status_code == 404


async def test_a_message_delivered_twice_is_answered_once(box: Sandbox) -> None:
    assert box.zalo is not None and box.app is not None and box.app.bot_data.zalo is not None
    user = box.zalo.user("u1", "Minh")
    update = {
        "event_name": "message.text.received",
        "message": {
            "chat": {"id": user.id, "chat_type": "PRIVATE"},
            "from": {"id": user.id, "display_name": user.name},
            "text": "xin chào",
            "message_id": "same-id",
            "date": 1,
        },
    }
    assert box.zalo_webhook is not None
    zalo_bot = box.app.bot_data.zalo
    async with httpx.AsyncClient() as client:
        for _ in range(2):
            answer = await client.post(
                box.zalo_webhook[0], json=update, headers={SECRET_HEADER: SECRET}
            )
            assert answer.status_code == 200
    await zalo_bot.wait_answered(2)
    assert len(user.messages) == 1 and "mã mời" in user.messages[0]
