"""Sở Tư pháp Lạng Sơn on 10/02/2026: the 2026 plan and campaign loaded, registration open
until 15/03/2026, dossiers due 30/11/2026."""

from __future__ import annotations

import pytest

from bot.emulator.sandbox import Sandbox
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES


async def open_season(box: Sandbox, clock: Clock) -> Sandbox:
    """Stand on 10/02/2026 09:00 with the 2026 plan and campaign loaded into `box`."""
    clock.set_local("2026-02-10 09:00")
    await load_files(
        box.db, EXAMPLES / "plan-2026-lang-son.yaml", EXAMPLES / "campaign-lang-son-2026.yaml"
    )
    return box


async def ngoai_vu_season(box: Sandbox, clock: Clock) -> Sandbox:
    """Sở Ngoại vụ on 20/10/2025 09:00: its units and 2025 campaign loaded (dossiers due
    30/10/2025; quotas 1 collective, 3 individuals)."""
    clock.set_local("2025-10-20 09:00")
    await load_files(
        box.db,
        EXAMPLES / "units-ngoai-vu-lang-son.yaml",
        EXAMPLES / "campaign-ngoai-vu-2025.yaml",
    )
    return box


@pytest.fixture
async def season(sandbox: Sandbox, clock: Clock) -> Sandbox:
    """10/02/2026: the 2026 plan and campaign loaded, registration open until 15/03/2026."""
    return await open_season(sandbox, clock)
