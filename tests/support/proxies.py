"""Proxies on loopback for the bot's Bot API traffic (PRODUCT §9, BOT_PROXY): an HTTP proxy
(absolute-URI forwarding, and CONNECT tunnels) and a SOCKS5 proxy (no authentication, or a
user and a password). Each reads the HTTP/1.1 requests that cross it, also inside a tunnel,
and counts them, so that a test can compare what the proxy carried with what the emulator
received. `hosts` maps names to addresses only the proxy knows: a bot given such a name can
reach it through the proxy alone, so a request that bypassed the proxy would fail."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import ssl
import struct
from dataclasses import dataclass, field
from types import TracebackType

HEAD_LIMIT = 64 * 1024


@dataclass(slots=True)
class Carried:
    """What a proxy carried."""

    connections: int = 0  # client connections accepted and let through
    refused: int = 0  # connections refused (bad credentials, a mode not allowed)
    targets: list[str] = field(default_factory=list)  # "host:port" as the client asked
    requests: list[str] = field(default_factory=list)  # request lines, in origin form


class _Proxy:
    """What both proxies share: the listening socket, name resolution, the counting relay."""

    def __init__(self, *, hosts: dict[str, str] | None = None) -> None:
        self.hosts = dict(hosts or {})
        self.carried = Carried()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> _Proxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def requests(self) -> list[str]:
        """The request lines carried so far."""
        return self.carried.requests

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            # Cancelled by __aexit__ only: ending quietly keeps asyncio's server callback,
            # which asks the task for its exception, from logging the cancellation.
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _open(
        self, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the target, by the proxy's own names first."""
        self.carried.targets.append(f"{host}:{port}")
        reader, writer = await asyncio.open_connection(self.hosts.get(host, host), port)
        self._writers.add(writer)
        return reader, writer

    async def _relay(
        self,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        first: bytes | None = None,
        *,
        origin_form: bool = False,
    ) -> None:
        """Carry requests client → upstream one by one (counted; in origin form if asked) and
        the answers back as bytes, until either side closes."""
        back = asyncio.create_task(_pipe(upstream[0], client[1]))
        try:
            head = first
            while True:
                if head is None:
                    head = await _read_head(client[0])
                    if head is None:
                        break
                line, _, rest = head.partition(b"\r\n")
                if origin_form:
                    line = _origin_form(line)
                self.carried.requests.append(line.decode("latin-1"))
                upstream[1].write(line + b"\r\n" + rest)
                await _copy_body(head, client[0], upstream[1])
                head = None
        finally:
            with contextlib.suppress(Exception):
                upstream[1].write_eof()
            await back
            upstream[1].close()
            self._writers.discard(upstream[1])


class HttpProxy(_Proxy):
    """An HTTP proxy: plain http:// targets forwarded from absolute-URI requests, others
    through CONNECT. `connect_only` refuses forwarding (405), to prove a client used CONNECT;
    `tls` (a server context) makes it end the TLS of each tunnel itself, as an inspecting
    proxy does, and carry the requests inside on to the target in plain HTTP; `credentials`
    (user, password) asks for Basic Proxy-Authorization."""

    def __init__(
        self,
        *,
        hosts: dict[str, str] | None = None,
        connect_only: bool = False,
        tls: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(hosts=hosts)
        self.connect_only = connect_only
        self.tls = tls
        self.credentials = credentials
        self.tunnels = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await _read_head(reader)
        if head is None:
            return
        method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        if not self._authorized(head):
            self.carried.refused += 1
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n")
            writer.write(b'Proxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n')
            await writer.drain()
            return
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = await self._open(host, int(port))
            self.carried.connections += 1
            self.tunnels += 1
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            if self.tls is not None:
                await writer.start_tls(self.tls)
            await self._relay((reader, writer), upstream)
            return
        if self.connect_only or not target.startswith("http://"):
            self.carried.refused += 1
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        authority = target[len("http://") :].split("/", 1)[0]
        host, _, port = authority.partition(":")
        upstream = await self._open(host, int(port or 80))
        self.carried.connections += 1
        await self._relay((reader, writer), upstream, head, origin_form=True)

    def _authorized(self, head: bytes) -> bool:
        if self.credentials is None:
            return True
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return f"basic {expected}".lower() in _header(head, b"proxy-authorization").lower()


class Socks5Proxy(_Proxy):
    """A SOCKS5 proxy (RFC 1928, CONNECT only): no authentication, or with `credentials`
    the user/password method of RFC 1929 and nothing else."""

    def __init__(
        self, *, hosts: dict[str, str] | None = None, credentials: tuple[str, str] | None = None
    ) -> None:
        super().__init__(hosts=hosts)
        self.credentials = credentials

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        wanted = 0x02 if self.credentials is not None else 0x00
        if version != 5 or wanted not in methods:
            self.carried.refused += 1
            writer.write(b"\x05\xff")
            await writer.drain()
            return
        writer.write(bytes([5, wanted]))
        if self.credentials is not None:
            _, length = await reader.readexactly(2)
            user = (await reader.readexactly(length)).decode()
            (length,) = await reader.readexactly(1)
            password = (await reader.readexactly(length)).decode()
            if (user, password) != self.credentials:
                self.carried.refused += 1
                writer.write(b"\x01\x01")
                await writer.drain()
                return
            writer.write(b"\x01\x00")
        _, command, _, kind = await reader.readexactly(4)
        if kind == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif kind == 3:
            (length,) = await reader.readexactly(1)
            host = (await reader.readexactly(length)).decode()
        else:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        (port,) = struct.unpack(">H", await reader.readexactly(2))
        if command != 1:
            writer.write(b"\x05\x07\x00\x01" + bytes(6))  # command not supported
            await writer.drain()
            return
        try:
            upstream = await self._open(host, port)
        except OSError:
            writer.write(b"\x05\x05\x00\x01" + bytes(6))  # connection refused
            await writer.drain()
            return
        self.carried.connections += 1
        writer.write(b"\x05\x00\x00\x01" + bytes(6))
        await writer.drain()
        await self._relay((reader, writer), upstream)


# ---------------------------------------------------------------------- HTTP/1.1 framing


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """A request's line and headers, up to the blank line; None at a clean end of stream."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise
        return None


def _header(head: bytes, name: bytes) -> str:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return ""


async def _copy_body(
    head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """The body of the request whose head this is, by its length or its chunks."""
    if "chunked" in _header(head, b"transfer-encoding").lower():
        while True:
            size_line = await reader.readuntil(b"\r\n")
            writer.write(size_line)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                    writer.write(trailer)
                writer.write(b"\r\n")
                break
            writer.write(await reader.readexactly(size + 2))
    else:
        remaining = int(_header(head, b"content-length") or 0)
        while remaining:
            chunk = await reader.read(min(remaining, 1 << 16))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", remaining)
            writer.write(chunk)
            remaining -= len(chunk)
            await writer.drain()
    await writer.drain()


def _origin_form(line: bytes) -> bytes:
    """`GET http://host:port/path HTTP/1.1` as the origin server reads it: `GET /path …`."""
    method, target, version = line.split(b" ", 2)
    path = b"/" + target.split(b"://", 1)[1].partition(b"/")[2]
    return b" ".join((method, path, version))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Bytes one way until the end of the stream."""
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while chunk := await reader.read(1 << 16):
            writer.write(chunk)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.write_eof()
