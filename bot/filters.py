"""Filters that aiogram checks in the event loop.

aiogram awaits a `Filter`, but runs any other callable filter (a magic filter such as `F.text`, a
`State`, a plain function) in a worker thread: a thread hop for a check of a microsecond, several
on every update. Routers use these instead, and states through `StateFilter`.
"""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter


class Magic(Filter):
    """A magic filter (`F....`), checked in place."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.magic.resolve(event))


PRIVATE = Magic(F.chat.type == "private")
GROUP = Magic(F.chat.type.in_({"group", "supergroup"}))
TEXT = Magic(F.text)
NOT_COMMAND = Magic(~F.text.startswith("/"))
