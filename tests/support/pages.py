"""Reading a list a person browses: every page, by pressing "Sau ›" until there is none."""

from __future__ import annotations

from bot.emulator import BotMessage
from bot.emulator.sandbox import Person

NEXT = "Sau ›"


async def every_page(person: Person, message: BotMessage) -> list[str]:
    """The texts of every page of `message`, first to last (the message is edited in place);
    each page checked to have a page row when there are several."""
    texts = [message.text]
    while NEXT in message.button_texts():
        await person.press(message, NEXT)
        texts.append(message.text)
        assert len(texts) < 1000, "the pages never end"
    return texts
