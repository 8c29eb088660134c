"""Telegram telling the bot about its chats: a person blocked or unblocked it, a group removed or
added it back, a group was upgraded to a supergroup (`services.chats`)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import IS_MEMBER, IS_NOT_MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated, Message

from bot.filters import Magic
from services import chats
from storage.repositories import Store


async def removed(update: ChatMemberUpdated, store: Store) -> None:
    await chats.blocked(store, update.chat.id, update.new_chat_member.status)
    await store.commit()


async def added(update: ChatMemberUpdated, store: Store) -> None:
    await chats.back(store, update.chat.id)
    await store.commit()


async def upgraded(message: Message, store: Store) -> None:
    """Telegram's service message in the old group (`migrate_to_chat_id`) or in the new
    supergroup (`migrate_from_chat_id`); both may come, either is enough.

    A conversation under way in the old group (an official picking fields to return) stays
    behind, keyed to the old id: a press on its messages fails at the bot's first reply into the
    old group, and the person is told in the supergroup to open the form again with /queue
    (`bot.app._on_error`)."""
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    else:
        old, new = message.migrate_from_chat_id or 0, message.chat.id
    await chats.migrated(store, old, new)
    await store.commit()


def router() -> Router:
    r = Router(name="chats")
    r.my_chat_member.register(removed, ChatMemberUpdatedFilter(IS_NOT_MEMBER))
    r.my_chat_member.register(added, ChatMemberUpdatedFilter(IS_MEMBER))
    r.message.register(upgraded, Magic(F.migrate_to_chat_id | F.migrate_from_chat_id))
    return r
