"""In-process fake of the Telegram Bot API server, for tests, the offline demo and bench.

The real python-telegram-bot ``Application`` talks to it over HTTP on loopback::

    async with BotApiEmulator() as emu:
        app = (ApplicationBuilder().token(emu.token)
               .base_url(emu.base_url).base_file_url(emu.file_url).build())
        lan = emu.user(1001, "Lan")
        await lan.send("/start")

Behaviour mirrors Telegram where it matters for a bot's correctness: error codes and
descriptions, strict HTML validation, the 4096-character limit, 64-byte callback data,
"message is not modified", blocked users, flood control (429 + retry_after), getUpdates
long polling and webhook delivery with a secret token.

The parts: html (the parse mode), wire (parameters and errors), records (what is kept),
state, users, updates (queue and webhooks), flood, faults, methods_* (the Bot API methods)
and server (HTTP, and the BotApiEmulator class that puts the parts together). The sandbox
beside them (bot.emulator.sandbox) runs the real bot against the emulator.
"""

from bot.emulator.html import HtmlParseError, parse_html
from bot.emulator.records import ApiRequest, BotMessage
from bot.emulator.server import BotApiEmulator
from bot.emulator.users import EmulatedUser

__all__ = [
    "ApiRequest",
    "BotApiEmulator",
    "BotMessage",
    "EmulatedUser",
    "HtmlParseError",
    "parse_html",
]
