"""What the command line checks before it starts, so that a mistake is one line naming what is
wrong (a path, a port, a database that is not there yet) instead of a library's traceback."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from pathlib import Path

from bot.config import Settings
from messages import render_text
from storage.db import Database


class CliError(Exception):
    """A failure the operator can fix; its message is the one line printed."""


def reason(exc: OSError) -> str:
    """The errno name of an OSError (ENOENT, EACCES, …), for the operator's words."""
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def check_out(path: Path) -> None:
    """An output file that can be written: not a folder, in a folder that exists or can be
    made, and may be written to. Nothing is created."""
    if path.is_dir():
        raise CliError(render_text("cli/os_error", path=path, reason="EISDIR"))
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise CliError(render_text("cli/os_error", path=path, reason="ENOTDIR"))
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise CliError(render_text("cli/os_error", path=path, reason="EACCES"))


def write_out(path: Path, data: bytes) -> None:
    """Write an output file, its folder made if missing; a failure is one line."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise CliError(render_text("cli/os_error", path=path, reason=reason(exc))) from None


def check_port(listen: str, port: int) -> None:
    """The webhook's address and port can be listened on (bound once, then let go)."""
    try:
        family = socket.getaddrinfo(listen, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((listen, port))
    except socket.gaierror:
        raise CliError(render_text("cli/listen_bad", listen=listen)) from None
    except OSError as exc:
        raise port_error(exc, listen, port) from None


def port_error(exc: OSError, listen: str, port: int) -> CliError:
    """The line for an address or port that cannot be listened on."""
    if exc.errno == errno.EADDRINUSE:
        return CliError(render_text("cli/port_busy", listen=listen, port=port))
    if exc.errno in (errno.EACCES, errno.EPERM):
        return CliError(render_text("cli/port_denied", port=port))
    return CliError(render_text("cli/listen_bad", listen=listen))


def check_archive(path: Path) -> None:
    """A backup to restore exists and is a file."""
    if path.is_dir():
        raise CliError(render_text("cli/archive_is_directory", path=path))
    if not path.exists():
        raise CliError(render_text("cli/archive_not_found", path=path))


async def read_only_database(
    settings: Settings, database: Path | None, behind: str | None = None
) -> Database | None:
    """The database for a command that only reads: None when its SQLite file does not exist
    (nothing is created); one whose schema is not the newest is refused (with `behind`, or
    cli/schema_behind), never migrated."""
    if database is not None and not await asyncio.to_thread(database.exists):
        return None
    db = Database(settings.database_url)
    try:
        current = await db.schema_is_current()
    except BaseException:
        await db.dispose()
        raise
    if not current:
        await db.dispose()
        raise CliError(behind or render_text("cli/schema_behind"))
    return db
