"""The ballot cannot be unmasked from the database (PRODUCT §11): the same session run twice,
two members swapping their votes, leaves every table of the database the same, row for row;
and nothing of a vote reaches the log.

If any table, column or row tied a member to a choice, the two databases would differ there."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from storage.models import Base, CouncilProposal, Role
from tests.support.clock import Clock
from tests.support.council import approve_proposals, council_campaign, vote
from tests.support.databases import fresh_database_url, load_files
from tests.support.paths import EXAMPLES
from tests.support.people import join

# Columns that hold a fresh random value on every run, whatever the votes: the invite codes.
RANDOM = {("invites", "code")}
STARTED = datetime.now(UTC)


def _same_run(value: object) -> object:
    """A value as both runs compare it: the wall-clock time at which the loader wrote a row (the
    sandbox's clock stands in 2025) is the same "now" in both."""
    if isinstance(value, datetime) and value.tzinfo is not None and value >= STARTED:
        return "now"
    return value


async def _session(
    backend: str, folder: Path, campaign: Path, first: list[bool], second: list[bool]
) -> dict[str, list[tuple[object, ...]]]:
    """A council of three votes (the first two members as given, the third always yes), on a
    fresh database at the same instant; every table's rows afterwards, sorted."""
    clock = Clock()
    clock.set_local("2025-11-05 09:00")
    url = await fresh_database_url(backend, folder)
    box = Sandbox(database_url=url, files_dir=folder / "files", clock=clock)
    await box.db.migrate()
    await load_files(box.db, EXAMPLES / "units-ngoai-vu-lang-son.yaml", campaign)
    await approve_proposals(box, clock)
    async with box:
        office = await join(box, 7201, "Thảo", "NV_VP", Role.OFFICE)
        members = [
            await join(box, 7202 + i, name, "NV_VP", Role.COUNCIL)
            for i, name in enumerate(("Hùng", "Lan", "Minh"))
        ]
        screen = (await office.say("/hoidong")).last
        await office.press(screen, "🗳 Mở phiên bỏ phiếu")
        await box.deliver()
        for member, choices in zip(members, (first, second, [True] * 3), strict=True):
            assert await vote(member, choices) == ["Đã ghi nhận phiếu."] * 3
        await box.deliver()
        dump: dict[str, list[tuple[object, ...]]] = {}
        async with box.db.read() as session:
            for table in Base.metadata.sorted_tables:
                columns = [c for c in table.columns if (table.name, c.name) not in RANDOM]
                rows = (await session.execute(select(*columns))).all()
                dump[table.name] = sorted((tuple(_same_run(v) for v in r) for r in rows), key=repr)
            counts = (await session.execute(select(CouncilProposal.yes, CouncilProposal.no))).all()
    assert sorted(counts) == [(2, 1)] * 3  # the votes were counted: one "no" on each
    return dump


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    """A folder for each run."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    return tmp_path / "a", tmp_path / "b"


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_swapped_votes_leave_the_same_database(
    backend: str, tmp_path: Path, runs: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the bot's level (bot.cli pins the chatty libraries there)
    campaign = council_campaign(tmp_path)
    hung_yes = await _session(backend, runs[0], campaign, [True, False, True], [False, True, False])
    hung_no = await _session(backend, runs[1], campaign, [False, True, False], [True, False, True])
    assert hung_yes.keys() == hung_no.keys()
    assert {"council_receipts", "council_proposals", "council_seats"} <= hung_yes.keys()
    for table in hung_yes:
        assert hung_yes[table] == hung_no[table], table
    # Nothing of a pressed vote is logged: not its button's data, not the choice's words.
    assert caplog.records
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "bp:ok" not in logged and "bp:v" not in logged
    assert "Đồng ý" not in logged and "Không đồng ý" not in logged
