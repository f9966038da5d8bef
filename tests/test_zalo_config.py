"""The Zalo settings as an operator meets them (PRODUCT §3, §12): each mistake is one
Vietnamese line naming the variable, before anything starts."""

from __future__ import annotations

import socket
from pathlib import Path

from bot.emulator import BotApiEmulator
from bot.emulator.zalo import ZaloEmulator
from tests.support.cli import thiduabot


def _telegram(emu: BotApiEmulator) -> dict[str, str]:
    return {
        "BOT_TOKEN": emu.token,
        "BOT_API_BASE_URL": emu.base_url,
        "BOT_API_FILE_URL": emu.file_url,
    }


async def test_malformed_zalo_settings_are_named(tmp_path: Path) -> None:
    code, _, err = await thiduabot(
        tmp_path, "run", BOT_TOKEN="123456:ABCDEFGHIJKL", ZALO_BOT_TOKEN="not a token"
    )
    assert code == 2 and err.strip().startswith("Lỗi cấu hình: ZALO_BOT_TOKEN không đúng dạng")
    code, _, err = await thiduabot(
        tmp_path, "run", BOT_TOKEN="123456:ABCDEFGHIJKL", ZALO_WEBHOOK_SECRET="short"
    )
    assert code == 2 and "ZALO_WEBHOOK_SECRET" in err and "từ 8 đến 256 ký tự" in err
    code, _, err = await thiduabot(
        tmp_path,
        "run",
        "--zalo-webhook",
        "https://host/zalo",
        BOT_TOKEN="123456:ABCDEFGHIJKL",
        ZALO_BOT_TOKEN="1234567890:zalo-token-x",
    )
    assert (
        code == 2 and err.strip() == "Lỗi cấu hình: ZALO_WEBHOOK_SECRET chưa được đặt (bắt buộc)."
    )
    assert not (tmp_path / "cli.db").exists()


async def test_a_rejected_or_unreachable_zalo_bot_is_one_line(tmp_path: Path) -> None:
    async with BotApiEmulator() as emu, ZaloEmulator() as zalo:
        code, _, err = await thiduabot(
            tmp_path,
            "run",
            ZALO_BOT_TOKEN="1234567890:another-zalo-token",
            ZALO_API_BASE_URL=zalo.base_url,
            **_telegram(emu),
        )
        assert code == 2 and err.strip().startswith("Zalo từ chối ZALO_BOT_TOKEN")
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]  # bound, never listening: refused
            code, _, err = await thiduabot(
                tmp_path,
                "run",
                ZALO_BOT_TOKEN=zalo.token,
                ZALO_API_BASE_URL=f"http://127.0.0.1:{port}/bot",
                **_telegram(emu),
            )
        assert code == 2 and err.strip().startswith("Không kết nối được Zalo Bot API")
        assert "Traceback" not in err
