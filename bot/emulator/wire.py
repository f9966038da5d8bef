"""The Bot API's wire format as the emulator reads and answers it: parameters and errors."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    content: bytes


class ApiError(Exception):
    """An error answer: {"ok": false, "error_code": status, "description": ...}."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def bad(description: str) -> ApiError:
    """A 400 with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {description}")


class Params:
    """Request parameters; form and multipart values arrive as strings, JSON ones typed."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self.values = values
        self.uploads = uploads

    def get(self, key: str) -> Any:
        """The raw value or None."""
        return self.values.get(key)

    def get_str(self, key: str) -> str | None:
        """The value as a string, or None when absent."""
        value = self.values.get(key)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def get_int(self, key: str, missing: str | None = None) -> int | None:
        """The value as an int; 400 `missing` when absent (if given), 400 when not a number."""
        value = self.values.get(key)
        if value is None or value == "":
            if missing:
                raise bad(missing)
            return None
        if isinstance(value, bool):
            raise bad(f"invalid {key} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad(f"invalid {key} specified") from None

    def get_bool(self, key: str) -> bool:
        """The value as a bool (JSON true, "true", "1")."""
        value = self.values.get(key)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)

    def get_json(self, key: str, error: str) -> Any:
        """A JSON-typed value that form encoding delivers as a JSON string."""
        value = self.values.get(key)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad(error) from None


def json_response(body: dict[str, Any], status: int) -> web.Response:
    """Serialize like Telegram (UTF-8, no ASCII escaping)."""
    return web.Response(
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type="application/json",
    )


async def serve(runner: web.AppRunner, host: str, port: int) -> int:
    """Start serving `runner` on loopback (port 0: one the system picks); the port taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    await web.SockSite(runner, sock).start()
    return int(sock.getsockname()[1])
