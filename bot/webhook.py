"""The webhook listener (PRODUCT §9): Telegram's updates over HTTP, refused before they cost.

A tornado server of our own rather than PTB's `run_webhook`, which reads a whole body before
it looks at the secret and has no header or body time limit. Tornado, not aiohttp, because
its HTTP/1 connection has both time limits built in (`idle_connection_timeout` bounds the
wait for the headers, `body_timeout` the whole body, so a trickled body is cut off however
slowly it drips), and a `stream_request_body` handler runs `prepare()` once the headers are
in, before one byte of the body is read. There the path, the method, the secret header and
the announced length are checked; a refusal is written on the bare connection, which is then
closed, so a 95 MB body without the secret is never read. An accepted update is put on the
application's update queue and answered 200 at once: handling it never holds Telegram's
request open.

`run_webhook` drives the application as PTB's own `run_webhook` does (initialize, post_init,
listen, setWebhook, start, run until a stop signal or `stop_running()`, then stop and shut
down), so the dedupe of redelivered updates and everything else stay as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, NoReturn

from telegram import Update
from telegram.ext import Application, ExtBot
from tornado import httputil, iostream, netutil
from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApplication
from tornado.web import HTTPError, RequestHandler, stream_request_body

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# How long a refused connection may still be drained (discarded) so that the client reads the
# answer before the connection is closed under its unsent body, and how much of it at most.
_LINGER_SECONDS = 0.5
_LINGER_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class WebhookLimits:
    """What a webhook request may cost. Telegram's updates are a few kilobytes and it waits
    about a minute for an answer; these leave a wide margin on both."""

    max_body_bytes: int = 1024 * 1024
    max_header_bytes: int = 16 * 1024
    header_timeout: float = 10.0  # also how long an idle kept-alive connection stays open
    body_timeout: float = 10.0  # the whole body, however it is split


class _Refusals:
    """Refused requests, logged once a minute per status (an attack must not flood the log)."""

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self._logged: dict[int, float] = {}

    def count(self, status: int) -> None:
        self._counts[status] = self._counts.get(status, 0) + 1
        now = time.monotonic()
        if now - self._logged.get(status, -60.0) >= 60.0:
            log.warning(
                "webhook: request refused with %s (%s so far)", status, self._counts[status]
            )
            self._logged[status] = now


@dataclass(slots=True)
class _Endpoint:
    path: str
    secret: str
    bot: Any
    queue: asyncio.Queue[object]
    limits: WebhookLimits
    refusals: _Refusals
    header: str = SECRET_HEADER
    # The body as what goes on the queue (None: not an update); None: a Telegram Update.
    parse: Callable[[Any], object | None] | None = None

    def refusal(self, request: httputil.HTTPServerRequest) -> int | None:
        """Why this request is refused before its body is read (None: read it)."""
        if request.path.rstrip("/") != self.path.rstrip("/"):
            return HTTPStatus.NOT_FOUND
        if request.method != "POST":
            return HTTPStatus.METHOD_NOT_ALLOWED
        given = request.headers.get(self.header, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return HTTPStatus.FORBIDDEN
        length = request.headers.get("Content-Length")
        if length is None:
            chunked = request.headers.get("Transfer-Encoding", "").lower() == "chunked"
            return None if chunked else HTTPStatus.LENGTH_REQUIRED
        if not length.strip().isdigit():
            return HTTPStatus.BAD_REQUEST
        if int(length) > self.limits.max_body_bytes:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        return None


@stream_request_body
class _UpdateHandler(RequestHandler):
    """One webhook request: checked in prepare(), its body gathered, the update queued."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS")

    def initialize(self, endpoint: _Endpoint) -> None:
        self.endpoint = endpoint
        self.chunks: list[bytes] = []
        self.size = 0

    async def prepare(self) -> None:
        status = self.endpoint.refusal(self.request)
        if status is not None:
            self.endpoint.refusals.count(status)
            await _refuse(self.detach(), status)

    def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.endpoint.limits.max_body_bytes:  # a chunked body that grew too big
            raise HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        self.chunks.append(chunk)

    async def post(self) -> None:
        parse = self.endpoint.parse
        try:
            body = json.loads(b"".join(self.chunks))
            update = Update.de_json(body, self.endpoint.bot) if parse is None else parse(body)
        except Exception:  # whatever the body is, it is not an update
            update = None
        if update is None:
            log.warning("webhook: a body of %s bytes that is not an update refused", self.size)
            self._answer(HTTPStatus.BAD_REQUEST)
            return
        if isinstance(self.endpoint.bot, ExtBot) and isinstance(update, Update):
            self.endpoint.bot.insert_callback_data(update)
        self.endpoint.queue.put_nowait(update)
        self._answer(HTTPStatus.OK)

    def _answer(self, status: int) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(b"{}" if status == HTTPStatus.OK else b"")

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # An HTTPError is an answer, not a fault; the rest is logged without the request.
        if not isinstance(value, HTTPError):
            log.error("webhook: unexpected error", exc_info=(typ, value, tb))


class _Quiet(TornadoApplication):
    def log_request(self, handler: RequestHandler) -> None:
        """No access log: the request line is all it would add, and nothing is needed."""


async def _refuse(stream: iostream.IOStream, status: int) -> None:
    """Answer on the bare connection and close it; the body is never read into memory (what
    arrives meanwhile is discarded, a little and briefly, so that the answer is read)."""
    phrase = HTTPStatus(status).phrase
    head = f"HTTP/1.1 {status} {phrase}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    try:
        await stream.write(head.encode("ascii"))
        with contextlib.suppress(OSError):
            stream.socket.shutdown(socket.SHUT_WR)
        deadline, drained = time.monotonic() + _LINGER_SECONDS, 0
        while drained < _LINGER_BYTES and (left := deadline - time.monotonic()) > 0:
            chunk = await asyncio.wait_for(stream.read_bytes(65536, partial=True), left)
            drained += len(chunk)
    except (iostream.StreamClosedError, TimeoutError, OSError):
        pass
    finally:
        stream.close()


class WebhookServer:
    """The listener: where Telegram posts updates, and what it puts on the update queue."""

    def __init__(
        self,
        *,
        path: str,
        secret: str,
        bot: Any,
        queue: asyncio.Queue[Any],
        limits: WebhookLimits | None = None,
        header: str = SECRET_HEADER,
        parse: Callable[[Any], object | None] | None = None,
    ) -> None:
        self.limits = limits or WebhookLimits()
        endpoint = _Endpoint(
            path, secret, bot, queue, self.limits, _Refusals(), header=header, parse=parse
        )
        self._server = HTTPServer(
            _Quiet([(r"/.*", _UpdateHandler, {"endpoint": endpoint})]),
            max_body_size=self.limits.max_body_bytes,
            max_header_size=self.limits.max_header_bytes,
            idle_connection_timeout=self.limits.header_timeout,
            body_timeout=self.limits.body_timeout,
            decompress_request=False,
        )
        self.port = 0

    async def start(self, listen: str, port: int) -> None:
        """Listen (an address or port that cannot be had raises OSError here)."""
        sockets = netutil.bind_sockets(port, address=listen)
        self._server.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        log.info("webhook: listening on %s port %s", listen, self.port)

    async def stop(self) -> None:
        """Stop listening and close every open connection."""
        self._server.stop()
        await self._server.close_all_connections()


def _stop(*_args: object) -> NoReturn:
    raise SystemExit


def run_webhook(
    app: Application[Any, Any, Any, Any, Any, Any],
    *,
    listen: str,
    port: int,
    url: str,
    secret: str,
    path: str = "/telegram",
    limits: WebhookLimits | None = None,
    stop_signals: Sequence[int] = (signal.SIGINT, signal.SIGTERM),
) -> None:
    """Run the bot on webhooks until a stop signal or `app.stop_running()`, as PTB's
    `Application.run_webhook` runs it, with our listener in place of PTB's."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    for sig in stop_signals:
        loop.add_signal_handler(sig, _stop)
    server = WebhookServer(
        path=path, secret=secret, bot=app.bot, queue=app.update_queue, limits=limits
    )
    try:
        loop.run_until_complete(app.initialize())
        if app.post_init:
            loop.run_until_complete(app.post_init(app))
        loop.run_until_complete(server.start(listen, port))
        loop.run_until_complete(app.bot.set_webhook(url, secret_token=secret))
        loop.run_until_complete(app.start())
        loop.run_forever()  # until a signal, or stop_running() stops the loop
    except (KeyboardInterrupt, SystemExit):
        log.debug("webhook: stop signal")
    finally:
        try:
            loop.run_until_complete(server.stop())
            if app.running:
                loop.run_until_complete(app.stop())
                if app.post_stop:
                    loop.run_until_complete(app.post_stop(app))
            loop.run_until_complete(app.shutdown())
            if app.post_shutdown:
                loop.run_until_complete(app.post_shutdown(app))
        finally:
            for sig in stop_signals:
                loop.remove_signal_handler(sig)
            loop.close()
