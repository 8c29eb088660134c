"""Filters that aiogram checks in the event loop.

aiogram awaits a `Filter`, but runs any other callable filter (a magic filter such as `F.text`, a
`State`, a plain function) in a worker thread: a thread hop for a check of a microsecond, several
on every update. Routers use these instead, and states through `StateFilter`; and `Command`,
which turns a text that is no command away before parsing it; and `NotAnAnswer`, which lets a
contact's answer to the form pass by the routers that never take one.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, filters
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject
from magic_filter import MagicFilter

from bot.keyboards import Press
from storage.models import Contact


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


class NotAnAnswer(Filter):
    """Anything but a bound contact's plain answer to the form: a text that is no command in
    their private chat, or a press of a form button (`Press`), while no conversation state is
    set (an official's, an admin's, a binding's keeps it on its way). The routers of the
    officials, the admins and binding, none of which takes such an answer, sit behind it: an
    answer passes them by in one check instead of some twenty filters."""

    PRESS = f"{Press.__prefix__}{Press.__separator__}"

    async def __call__(
        self, event: TelegramObject, contact: Contact | None = None, raw_state: str | None = None
    ) -> bool:
        if raw_state is not None or contact is None or contact.status != "active":
            return True
        if isinstance(event, Message):
            text = event.text
            return event.chat.type != "private" or not text or text.lstrip()[:1] == "/"
        if isinstance(event, CallbackQuery):
            return not (event.data or "").startswith(self.PRESS)
        return True


class Answer(NotAnAnswer):
    """A bound contact's answer to the form or press of one of its buttons, applied for the
    first time: the usual update, routed first (`handlers.form.answers`), past the filters of
    every other router."""

    async def __call__(  # type: ignore[override]
        self,
        event: TelegramObject,
        contact: Contact | None = None,
        raw_state: str | None = None,
        redelivered: bool = False,
    ) -> bool:
        return not redelivered and not await super().__call__(event, contact, raw_state)


class PlainText(Filter):
    """A text that is no command: checked first, an answer to the form passes no command's
    filter on its way."""

    async def __call__(self, message: Message) -> bool:
        text = message.text
        return bool(text) and text.lstrip()[:1] != "/"  # type: ignore[union-attr]


PRIVATE = Magic(F.chat.type == "private")
GROUP = Magic(F.chat.type.in_({"group", "supergroup"}))
TEXT = Magic(F.text)
NOT_COMMAND = Magic(~F.text.startswith("/"))
PLAIN_TEXT = PlainText()
ANSWER = Answer()
