"""The emulator's HTTP server: its lifecycle on loopback, the routes of the Bot API and of
file downloads, and the dispatch of each call (token, faults, flood control, the method)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from bot.emulator.faults import FaultInjection
from bot.emulator.flood import FLOOD_METHODS, FloodControl
from bot.emulator.methods_bot import BotMethods
from bot.emulator.methods_files import FileMethods
from bot.emulator.records import ApiRequest
from bot.emulator.updates import UpdateQueue
from bot.emulator.users import EmulatedUser
from bot.emulator.wire import ApiError, Params, Upload, json_response, serve

# Bot API method -> the emulator's coroutine answering it; Telegram matches method names
# case-insensitively, so the table is looked up by the lower-cased name.
_METHODS = {
    name.lower(): (name, attribute)
    for name, attribute in (
        ("getMe", "_api_get_me"),
        ("logOut", "_api_true"),
        ("close", "_api_true"),
        ("getUpdates", "_api_get_updates"),
        ("setWebhook", "_api_set_webhook"),
        ("deleteWebhook", "_api_delete_webhook"),
        ("getWebhookInfo", "_api_get_webhook_info"),
        ("sendMessage", "_api_send_message"),
        ("editMessageText", "_api_edit_message_text"),
        ("editMessageReplyMarkup", "_api_edit_message_reply_markup"),
        ("editMessageCaption", "_api_edit_message_caption"),
        ("deleteMessage", "_api_delete_message"),
        ("answerCallbackQuery", "_api_answer_callback_query"),
        ("sendDocument", "_api_send_document"),
        ("sendPhoto", "_api_send_photo"),
        ("sendChatAction", "_api_send_chat_action"),
        ("getFile", "_api_get_file"),
        ("getChat", "_api_get_chat"),
        ("setMyCommands", "_api_set_my_commands"),
        ("getMyCommands", "_api_get_my_commands"),
        ("deleteMyCommands", "_api_delete_my_commands"),
        ("setChatMenuButton", "_api_true"),
        ("getChatMenuButton", "_api_get_chat_menu_button"),
        ("setMyDescription", "_api_true"),
        ("setMyShortDescription", "_api_true"),
        ("setMyName", "_api_true"),
        ("setMyDefaultAdministratorRights", "_api_true"),
    )
}


class BotApiEmulator(FloodControl, FaultInjection, UpdateQueue, FileMethods, BotMethods):
    """A fake Telegram Bot API server (aiohttp on loopback) plus user-side controls."""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind the HTTP server (port=0 picks a free port) and start webhook delivery."""
        self._closing = False
        # Uploads up to Telegram's 50 MB bot limit (2000 MB locally) fit in one request body.
        app = web.Application(client_max_size=(2010 if self.local else 60) * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        self.port = await serve(self._runner, self.host, self.port)
        self._session = aiohttp.ClientSession()
        self._webhook_task = asyncio.create_task(self._webhook_loop())

    async def stop(self) -> None:
        """Stop serving; long polls in progress return empty."""
        self._closing = True
        self._signal()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._drop_local_files()

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Value for ApplicationBuilder.base_url (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def file_url(self) -> str:
        """Value for ApplicationBuilder.base_file_url (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/file/bot"

    # ------------------------------------------------------------------ test-side API

    def user(
        self,
        user_id: int,
        first_name: str = "User",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "vi",
    ) -> EmulatedUser:
        """The user with this id (created on first call; the same object afterwards)."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        created = EmulatedUser(self, user_id, first_name, last_name, username, language_code)
        self._users[user_id] = created
        return created

    # ------------------------------------------------------------------ HTTP

    async def _read_params(self, request: web.Request) -> Params:
        """Collect parameters from the query string and a JSON, form or multipart body."""
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    values.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        content = value.file.read()
                        uploads[key] = Upload(value.filename, value.content_type, content)
                    else:
                        values[key] = value
        return Params(values, uploads)

    @staticmethod
    def _sanitized(params: Params) -> dict[str, Any]:
        """Parameters for the request log, with uploads summarized instead of their bytes."""
        logged = dict(params.values)
        for key, upload in params.uploads.items():
            logged[key] = f"<file {upload.filename!r}, {len(upload.content)} bytes>"
        return logged

    def _error_response(self, record: ApiRequest, error: ApiError) -> web.Response:
        """Record and build an error answer."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": error.status,
            "description": error.description,
        }
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        record.status = error.status
        record.error = True
        record.description = error.description
        record.retry_after = error.retry_after
        self._signal()
        return json_response(body, error.status)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """Entry point for POST/GET {base_url}{token}/{method}."""
        arrived = time.monotonic()
        method_raw = request.match_info["method"]
        known = _METHODS.get(method_raw.lower())
        method = known[0] if known else method_raw
        try:
            params = await self._read_params(request)
        except (ValueError, aiohttp.ClientError):
            params = Params({}, {})
        chat_id: int | None = None
        with contextlib.suppress(TypeError, ValueError):
            raw_chat = params.get("chat_id")
            chat_id = int(raw_chat) if raw_chat is not None else None
        record = ApiRequest(arrived, method, self._sanitized(params), chat_id=chat_id)
        self.requests.append(record)

        if request.match_info["token"] != self.token:
            return self._error_response(record, ApiError(401, "Unauthorized"))
        fault = self._take_fault(method)
        if fault is not None and fault.status != 200:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == 0:
                record.error = True
                record.description = "connection dropped"
                if request.transport is not None:
                    request.transport.close()
                # The transport is gone; aiohttp discards whatever we return here.
                return web.Response(status=500)
            return self._error_response(record, fault.error())
        if known is None:
            return self._error_response(record, ApiError(404, "Not Found"))
        try:
            if self.flood_control and method in FLOOD_METHODS:
                self._check_flood(params)
            result = await getattr(self, known[1])(params)
        except ApiError as error:
            response = self._error_response(record, error)
        else:
            body: dict[str, Any] = {"ok": True, "result": result}
            if isinstance(result, tuple):
                # (result, description): Telegram adds e.g. "Webhook was set" to some answers.
                body["result"], body["description"] = result
            record.status = 200
            response = json_response(body, 200)
            self._signal()
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        return response

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """GET {file_url}{token}/{file_path}: the stored bytes."""
        stored = self._served_file(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        self.downloads.append(stored.file_path)
        self._signal()
        if self.downloads_held is not None:  # a slow network, as long as a test wants
            await self.downloads_held.wait()
        if self.download_seconds:  # a slow network, for a benchmark
            await asyncio.sleep(self.download_seconds)
        return web.Response(body=stored.content, content_type="application/octet-stream")

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        """Anything else (e.g. a malformed token path) is 404 like Telegram."""
        body = {"ok": False, "error_code": 404, "description": "Not Found"}
        return json_response(body, 404)
