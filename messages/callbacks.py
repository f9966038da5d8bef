"""Callback data: short prefixed strings built and parsed here, always under 64 bytes.

The data only says what was pressed; whoever handles it re-checks it against the
presser's rights, because a client can send any data it likes.
"""

from __future__ import annotations

import re

MAX_BYTES = 64
_PART = re.compile(r"^[A-Za-z0-9_-]{1,20}$")


def pack(prefix: str, action: str, *args: int | str) -> str:
    """`pack("dk", "t", 5)` → "dk:t:5"."""
    parts = [prefix, action, *(str(a) for a in args)]
    if not all(_PART.match(p) for p in parts):
        raise ValueError(f"callback part out of shape: {parts!r}")
    data = ":".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def pattern(prefix: str, action: str | None = None) -> re.Pattern[str]:
    """A regex for CallbackQueryHandler matching one prefix (and action)."""
    return re.compile(
        rf"^{re.escape(prefix)}:{re.escape(action) if action else '[A-Za-z0-9_-]+'}(:|$)"
    )


def unpack(data: str | None, prefix: str) -> tuple[str, list[str]] | None:
    """("t", ["5"]) for "dk:t:5" with prefix "dk"; None for anything else."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) < 2 or parts[0] != prefix or not all(_PART.match(p) for p in parts):
        return None
    return parts[1], parts[2:]


def int_arg(args: list[str], index: int = 0) -> int | None:
    """The index-th argument as a non-negative int, or None."""
    if index >= len(args) or not args[index].isdigit() or len(args[index]) > 12:
        return None
    return int(args[index])
