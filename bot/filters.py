"""Filters that aiogram checks in the event loop.

aiogram awaits a `Filter`, but runs any other callable filter (a magic filter such as `F.text`, a
`State`, a plain function) in a worker thread: a thread hop for a check of a microsecond, several
on every update. Routers use these instead, and states through `StateFilter`; and `Command`,
which turns a text that is no command away before parsing it.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, filters
from aiogram.filters import Filter
from aiogram.types import Message, TelegramObject
from magic_filter import MagicFilter


class Magic(Filter):
    """A magic filter (`F....`), checked in place."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.magic.resolve(event))


class Command(filters.Command):
    """aiogram's `Command`, refusing at once a text that is no command. aiogram parses the text
    and raises and catches an exception for each filter; a contact's answer passes some twenty
    of them on its way to the form."""

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, Any]:
        text = (message.text or message.caption or "") if isinstance(message, Message) else ""
        first = text.lstrip()[:1]  # aiogram's parse splits at whitespace first
        if not first or first not in self.prefix:
            return False
        return await super().__call__(message, bot)


PRIVATE = Magic(F.chat.type == "private")
GROUP = Magic(F.chat.type.in_({"group", "supergroup"}))
TEXT = Magic(F.text)
NOT_COMMAND = Magic(~F.text.startswith("/"))
