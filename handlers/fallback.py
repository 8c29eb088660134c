"""What no other router took: a button from a conversation that is over (a finished broadcast,
a cancelled return …) gets "expired" rather than a spinner that never stops."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.texts import phrase


async def old_button(query: CallbackQuery) -> None:
    await query.answer(phrase("stale"))


def router() -> Router:
    r = Router(name="fallback")
    r.callback_query.register(old_button)
    return r
