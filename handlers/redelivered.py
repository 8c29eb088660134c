"""Updates Telegram delivered again after they were applied (`storage.updates`): nothing is
applied twice. A contact in the form is shown what was saved and where they are, since they
probably never got the reply; anyone else sees nothing new (a button still stops spinning).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject

from domain.catalog import Catalog
from handlers.form import Flow
from services.notifier import Notifier
from storage.models import Contact
from storage.repositories import Store


class Redelivered(Filter):
    async def __call__(self, event: TelegramObject, redelivered: bool = False) -> bool:
        return redelivered


async def again(
    event: Message | CallbackQuery,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
    contact: Contact | None = None,
    **_: Any,
) -> None:
    message = event if isinstance(event, Message) else event.message
    if isinstance(event, CallbackQuery):
        with suppress(TelegramAPIError):  # an old press may be too old to answer
            await event.answer()
    if (
        message is None
        or message.chat.type != "private"
        or contact is None
        or contact.status != "active"
    ):
        return
    flow = await Flow.open(
        bot, message.chat.id, message.chat.id, state, store, catalog, notifier, contact
    )
    await flow.missed("again")


def router() -> Router:
    r = Router(name="redelivered")
    r.message.register(again, Redelivered())
    r.callback_query.register(again, Redelivered())
    return r
