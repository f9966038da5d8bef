"""A council session's pieces for the tests (PRODUCT §11): the Sở Ngoại vụ campaign with
council rules, three approved proposals, a council invite, and a member voting through the
ballot's buttons."""

from __future__ import annotations

from pathlib import Path

from bot.emulator import BotMessage
from bot.emulator.sandbox import Person, Sandbox
from storage.campaigns import campaign_by_code
from storage.models import Nominee, ReviewState, Role
from storage.nominees import active_awards, add_nominee
from storage.units import unit_by_code
from tests.support.clock import Clock
from tests.support.paths import EXAMPLES
from tests.support.people import issue_invite

CAMPAIGN = "NV-DHXVIII-2025"
# The individuals' award needs 90% of the whole council: with three members, all three.
VOTE_90 = (
    '{code: GK-CN, name: "Giấy khen của Giám đốc Sở", target: ca_nhan, quota: 3,'
    ' vote: {threshold: "≥ 90%", of: members}}'
)
PROPOSALS = [
    ("NV_HTQT", "Phòng Hợp tác quốc tế", "GK-TT"),
    ("NV_HTQT", "Nguyễn Văn An", "GK-CN"),
    ("NV_QLBG", "Trần Thị Bình", "GK-CN"),
]


def council_campaign(tmp_path: Path) -> Path:
    """The Sở Ngoại vụ campaign with a quorum of 2/3 and the 90% vote for individuals."""
    text = (EXAMPLES / "campaign-ngoai-vu-2025.yaml").read_text(encoding="utf-8")
    line = '{code: GK-CN, name: "Giấy khen của Giám đốc Sở", target: ca_nhan, quota: 3}'
    assert line in text
    text = text.replace(line, VOTE_90).replace(
        "  documents:\n", '  council: {quorum: "≥ 2/3"}\n  documents:\n', 1
    )
    path = tmp_path / "campaign-council.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def approve_proposals(box: Sandbox, clock: Clock) -> None:
    """The three proposals, as the office's review left them: approved."""
    async with box.db.write() as session:
        campaign = await campaign_by_code(session, CAMPAIGN)
        assert campaign is not None
        awards = {a.code: a for a in await active_awards(session, campaign.id)}
        for unit_code, name, award in PROPOSALS:
            unit = await unit_by_code(session, unit_code)
            assert unit is not None
            nominee = await add_nominee(
                session,
                campaign_id=campaign.id,
                unit_id=unit.id,
                name=name,
                award=awards[award],
                by=1,
                now=clock(),
            )
            assert isinstance(nominee, Nominee)
            nominee.review_state = ReviewState.APPROVED


async def seat(box: Sandbox, person: Person) -> str:
    """A council invite for the Văn phòng, redeemed by someone who has joined already."""
    code = await issue_invite(box.db, "NV_VP", Role.COUNCIL, box.clock())
    return (await person.say(f"/start {code}")).text


async def vote(person: Person, choices: list[bool]) -> list[str | None]:
    """Open /bophieu and vote on each proposal in order, confirming each: the pop-ups."""
    screen = (await person.say("/bophieu")).last
    alerts: list[str | None] = []
    for number, agree in enumerate(choices, 1):
        word = "Đồng ý" if agree else "Không đồng ý"
        asked = await person.press(screen, f"{number} · {word}")
        screen = latest(person, screen)
        assert "Xác nhận phiếu" in screen.text and word in screen.text, screen.text
        confirmed = await person.press(screen, "✅ Xác nhận")
        alerts.append(confirmed.alert)
        screen = latest(person, screen)
        assert not asked.messages
    return alerts


def latest(person: Person, message: BotMessage) -> BotMessage:
    """The message as it is now (edited in place)."""
    return next(m for m in person.messages if m.message_id == message.message_id)
