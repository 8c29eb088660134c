"""Per update: a unit of work on a fresh database session, the campaign's catalog, the notifier,
and who the sender is (their contact record, if they are bound; whether they are an admin)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.catalog import Catalog
from services.admins import Admins
from services.notifier import Notifier
from storage.db import update_session
from storage.repositories import Store


class Services(BaseMiddleware):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalog: Catalog,
        notifier: Notifier,
        admins: Admins,
    ) -> None:
        self.sessions = sessions
        self.catalog = catalog
        self.notifier = notifier
        self.admins = admins

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.sessions() as session:
            store = Store(session)
            user: User | None = data.get("event_from_user")
            data["store"] = store
            data["catalog"] = self.catalog
            data["notifier"] = self.notifier
            data["admins"] = self.admins
            data["is_admin"] = user is not None and await self.admins.has(store, user.id)
            data["contact"] = await store.contacts.by_user(user.id) if user else None
            token = update_session.set(session)
            try:
                return await handler(event, data)
            finally:
                update_session.reset(token)
