"""The bot's commands per role; their menu descriptions are words in templates/commands.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from messages import words

# The bot's display name, as BotFather would have it (the emulator answers getMe with it).
BOT_NAME: str = words("commands")["bot_name"]

FOCAL, OFFICE, LEADER, COUNCIL = "focal", "office", "leader", "council"
ALL_ROLES = (FOCAL, OFFICE, LEADER, COUNCIL)
SEAT = "seat"  # not a role: anyone with a council seat (PRODUCT §11)


@dataclass(frozen=True, slots=True)
class Command:
    """A command, its menu description and who may use it."""

    name: str
    description: str
    roles: tuple[str, ...]


def _menu(section: str, roles: dict[str, tuple[str, ...]]) -> tuple[Command, ...]:
    """The commands in this order, each described by its line of `section` (KeyError if none)."""
    described: dict[str, str] = words("commands")[section]
    return tuple(Command(name, described[name], who) for name, who in roles.items())


COMMANDS: tuple[Command, ...] = _menu(
    "member_menu",
    {
        "dangky": (FOCAL,),
        "nophoso": (FOCAL,),
        "hoso": (FOCAL,),
        "duyet": (OFFICE,),
        "thongbao": (OFFICE,),
        "phatdong": (OFFICE,),
        "hoidong": (OFFICE,),
        "bophieu": (SEAT,),
        "ketqua": ALL_ROLES,
        "tracuu": ALL_ROLES,
        "nhiemvu": ALL_ROLES,
        "lich": ALL_ROLES,
        "tonghop": (OFFICE, LEADER),
        "donvi": (OFFICE, LEADER),
        "moi": (OFFICE,),
        "kenh": ALL_ROLES,
        "trogiup": ALL_ROLES,
        "huy": ALL_ROLES,
    },
)

# What someone who has not joined sees in the menu.
GUEST_COMMANDS: tuple[Command, ...] = _menu(
    "guest_menu", {"start": ALL_ROLES, "trogiup": ALL_ROLES}
)


def commands_for(role: str, seat: bool = False) -> list[Command]:
    """The commands this role may use (with a council seat: the ballot too), in menu order."""
    return [c for c in COMMANDS if role in c.roles or (seat and SEAT in c.roles)]
