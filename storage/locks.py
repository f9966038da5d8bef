"""PostgreSQL advisory lock keys, in one place so that no two uses ever share one.

One-key locks (a bigint) and two-key locks (two int4) are separate spaces in PostgreSQL, so a
one-key number may equal a two-key class without the two ever meeting.
"""

from __future__ import annotations

MIGRATION = 7_283_401  # one-key: every instance migrating the schema, one at a time
DUE = 7_283_402  # one-key: the instance that computes what is due
CHAT_CLASS = 7_283_402  # two-key (class, chat): one chat's updates, one at a time
QUOTA_CLASS = 7_283_403  # two-key (class, award × unit): proposals against a unit's quota


def int4(number: int) -> int:
    """A number folded into PostgreSQL's signed 32-bit range (a collision only makes two
    holders wait for each other now and then)."""
    folded = number & 0xFFFF_FFFF
    return folded - (1 << 32) if folded >= 1 << 31 else folded


def quota_key(award_id: int, unit_id: int) -> int:
    """The second key of a unit's lock on proposals for one award."""
    return int4(award_id * 1_000_003 + unit_id)
