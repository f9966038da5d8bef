"""Random input from bound and unbound users through the emulator (hypothesis): nothing
crashes, every action gets an answer, and no unit ever sees another unit's data (§8)."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.emulator.sandbox import Person, Sandbox
from messages.commands import COMMANDS, GUEST_COMMANDS
from storage.campaigns import active_titles, campaign_by_code
from storage.models import Role, Target
from storage.nominees import active_awards, add_nominee
from storage.registrations import RegisteredPerson as Registered
from storage.registrations import save_registration
from storage.units import unit_by_code
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import issue_invite

SECRET_NAME = "Zyxwv Bí Mật"  # the other unit's data: must never reach the first unit
SECRET_NOMINEE = "Qwerty Riêng Tư"
COMMAND_WORDS = sorted({f"/{c.name}" for c in (*COMMANDS, *GUEST_COMMANDS)} | {"/help", "/x"})
PREFIXES = ["dk", "np", "pl", "nv", "dy", "tb", "pd", "zz"]
ERROR_TEXT = "Có lỗi xảy ra"

texts = st.one_of(
    st.sampled_from(COMMAND_WORDS),
    st.builds(lambda c, a: f"{c} {a}", st.sampled_from(COMMAND_WORDS), st.text(max_size=30)),
    st.text(min_size=1, max_size=200).filter(lambda t: t.strip()),
    st.sampled_from(
        [
            "Nguyễn Văn An; Trưởng phòng; LĐTT",
            "1",
            "Không",
            "25/11/2026 08:00",
            "x" * 4000,
            "<b>",
            "&amp;",
            "K7M2QX9PTA",
        ]
    ),
)
callback_data = st.builds(
    lambda prefix, action, numbers: ":".join([prefix, action, *map(str, numbers)]),
    st.sampled_from(PREFIXES),
    st.sampled_from(["c", "t", "n", "d", "a", "o", "r", "z", "u", "now", "ok", "sum", "x", "add"]),
    st.lists(st.integers(0, 40), max_size=4),
)
documents = st.tuples(
    st.one_of(st.binary(max_size=300), st.just(b"%PDF-1.4\n%%EOF\n"), st.just(b"MZ\x90\x00")),
    st.sampled_from(["a.pdf", "b.docx", "c.xlsx", "d.exe", "hồ sơ.pdf"]),
)
actions = st.lists(
    st.tuples(
        st.sampled_from(["focal", "office", "stranger"]),
        st.one_of(
            st.tuples(st.just("text"), texts),
            st.tuples(st.just("press"), callback_data),
            st.tuples(st.just("document"), documents),
            st.tuples(st.just("photo"), st.binary(min_size=4, max_size=50)),
        ),
    ),
    min_size=5,
    max_size=25,
)


async def _scenario(steps: list[tuple[str, tuple[str, object]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock()
        clock.set_local("2026-02-10 09:00")
        box = Sandbox(
            database_url=f"sqlite+aiosqlite:///{tmp}/f.db", files_dir=Path(tmp), clock=clock
        )
        await box.db.migrate()
        await load_files(
            box.db,
            EXAMPLES / "units-lang-son.yaml",
            EXAMPLES / "plan-2026-lang-son.yaml",
            EXAMPLES / "campaign-lang-son-2026.yaml",
        )
        await _other_units_data(box)
        async with box:
            people: dict[str, Person] = {
                "focal": box.person(7001, "Minh"),
                "office": box.person(7002, "Lan"),
                "stranger": box.person(7003, "Lạ"),
            }
            await people["focal"].say(
                f"/start {await issue_invite(box.db, 'HCTP', Role.FOCAL, clock())}"
            )
            await people["office"].say(
                f"/start {await issue_invite(box.db, 'VP', Role.OFFICE, clock())}"
            )
            anchor = {who: p.messages[-1] for who, p in people.items() if p.messages}
            for who, (kind, payload) in steps:
                person = people[who]
                before = (
                    len(person.messages),
                    len(box.emulator.callback_answers),
                    sum(m.edits for m in person.messages),
                )
                if kind == "text":
                    await person.say(str(payload))
                elif kind == "press":
                    message = anchor.get(who) or (person.messages[-1] if person.messages else None)
                    if message is None:
                        continue
                    await person.press_data(message, str(payload))
                elif kind == "document":
                    content, name = payload  # type: ignore[misc]
                    await person.send_document(content, name)
                else:
                    await person.send_photo(bytes(payload))  # type: ignore[arg-type]
                after = (
                    len(person.messages),
                    len(box.emulator.callback_answers),
                    sum(m.edits for m in person.messages),
                )
                assert after != before, (who, kind, payload)  # every action is answered
            for who, person in people.items():
                for message in person.messages:
                    assert ERROR_TEXT not in message.text, (who, message.text)
                    if who == "focal":
                        assert SECRET_NAME not in message.text
                        assert SECRET_NOMINEE not in message.text


async def _other_units_data(box: Sandbox) -> None:
    """A registration and a nominee of another unit (TGPL)."""
    now = datetime(2026, 2, 9, 2, 0, tzinfo=UTC)
    async with box.db.write() as session:
        campaign = await campaign_by_code(session, "STP-LS-2026")
        unit = await unit_by_code(session, "TGPL")
        assert campaign is not None and unit is not None
        title = (await active_titles(session, campaign.id, Target.CA_NHAN))[0]
        await save_registration(
            session,
            campaign_id=campaign.id,
            unit_id=unit.id,
            collective_title_id=None,
            people=[Registered(SECRET_NAME, "Chuyên viên", title.id)],
            by=1,
            now=now,
        )
        award = (await active_awards(session, campaign.id))[-1]
        await add_nominee(
            session,
            campaign_id=campaign.id,
            unit_id=unit.id,
            name=SECRET_NOMINEE,
            award=award,
            by=1,
            now=now,
        )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(actions)
def test_random_input_never_crashes_and_never_leaks(
    steps: list[tuple[str, tuple[str, object]]],
) -> None:
    asyncio.run(_scenario(steps))
