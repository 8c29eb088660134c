"""A real database per test (a SQLite file; PostgreSQL when TEST_DATABASE_URL is set) and a real
Dispatcher on an offline Bot API."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import app
from bot.notifier import TelegramNotifier
from bot.offline import OfflineChat, offline_bot
from bot.outbox import Outbox
from domain.catalog import Catalog
from reminders.progress import ProgressReporter
from reminders.sender import Sender
from services.binding import issue_invitation
from services.enterprises import preload
from storage.db import create_engine, session_factory, upgrade
from storage.models import Delivery, Enterprise, now
from storage.repositories import Store

TABLES = (
    "deliveries",
    "chat_states",
    "broadcasts",
    "coordinators",
    "admins",
    "scores",
    "answers",
    "confirmations",
    "commitments",
    "invitations",
    "review_cards",
    "review_notes",
    "similarity_keys",
    "review_chats",
    "officials",
    "contacts",
    "submissions",
    "enterprises",
    "conversation_states",
    "deadline_extensions",
)


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a template SQLite file, or the PostgreSQL test database."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        asyncio.run(_empty(url))  # migrate from nothing, as a new deployment does
        upgrade(url)
        return url
    template = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{template}")
    return str(template)


async def _empty(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture
async def sessions(
    migrated: str, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if "://" in migrated:
        url = migrated
        engine = create_engine(url)
        async with engine.begin() as connection:
            # The audit log refuses deletes by design; TRUNCATE is how a test starts afresh.
            await connection.execute(
                text(f"TRUNCATE {', '.join(TABLES)}, audit_log RESTART IDENTITY CASCADE")
            )
    else:
        path = tmp_path / "test.db"
        shutil.copy(migrated, path)
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
    yield session_factory(engine)
    await engine.dispose()


class FakeClock:
    """Real time plus whatever was slept: waits cost nothing, time still only moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> datetime:
        return now() + timedelta(seconds=self.offset)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)  # what is ready to run now (a call just dispatched) runs now
        self.offset += max(0.0, seconds)


class DrainingChat(OfflineChat):
    """A person whose every update is followed by the delivery queue sending what it queued,
    as the running bot's sender would."""

    def __init__(self, world: World, *args: Any, **kwargs: Any) -> None:
        super().__init__(world.dispatcher, world.bot, *args, **kwargs)
        self.world = world

    async def _deliver(self, update: Update) -> list[TelegramMethod[Any]]:
        start = len(self.session.calls)
        await super()._deliver(update)
        await self.world.sender.drain()
        return self.mine(self.session.calls[start:])


class World:
    """The bot as deployed: a Dispatcher on the test database, people chatting to it, and the
    delivery queue's sender (on a fake clock) sending what the bot queues."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], catalog: Catalog) -> None:
        self.sessions, self.catalog = sessions, catalog
        self.bot = offline_bot()
        self.clock = FakeClock()
        self.reporter = ProgressReporter(self.bot, sessions, clock=self.clock)
        self.sender = Sender(self.bot, sessions, clock=self.clock, on_progress=self.reporter)
        self.notifier = TelegramNotifier(Outbox(sessions), catalog)
        self.admins: frozenset[int] = frozenset()
        self.failures_expected = False  # the test makes updates fail on purpose
        # Conversation state in the database, or in Redis when TEST_REDIS_URL says so (as in
        # production with several instances).
        redis_url = os.environ.get("TEST_REDIS_URL")
        self.shared = app.shared_state(redis_url) if redis_url else (None, None)
        self.restart()

    def restart(self, admins: frozenset[int] | None = None) -> None:
        """A new process: a new Dispatcher on the same database (the Bot API stays the same),
        with ADMIN_IDS as given (else as before)."""
        self.admins = self.admins if admins is None else admins
        storage, isolation = self.shared
        self.dispatcher = app.dispatcher(
            self.sessions,
            self.catalog,
            self.notifier,
            storage,
            admins=self.admins,
            isolation=isolation,
        )

    async def close(self) -> None:
        storage, isolation = self.shared
        if storage is not None and isolation is not None:
            await storage.redis.flushdb()  # the next test starts with no conversation
            await storage.close()

    def person(
        self, user_id: int = 1001, name: str = "张伟", group: int | None = None
    ) -> OfflineChat:
        return DrainingChat(self, user_id, name, group=group)

    async def enterprise(self, answers: dict[str, object]) -> Enterprise:
        async with self.sessions() as session:
            store = Store(session)
            enterprise = await preload(store, self.catalog, answers)
            await store.commit()
            return enterprise

    async def invitation(self, enterprise: Enterprise, days: int = 14) -> str:
        async with self.sessions() as session:
            store = Store(session)
            token = await issue_invitation(store, enterprise, timedelta(days=days))
            await store.commit()
            return token


class Failures(logging.Handler):
    """Updates that failed (the error reply a person got instead of a screen)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


@pytest.fixture
async def world(
    sessions: async_sessionmaker[AsyncSession], catalog: Catalog
) -> AsyncIterator[World]:
    """The bot as deployed. Under Telegram's rules: an update that failed, or a queued message
    Telegram refused, fails the test (unless it set `world.failures_expected`)."""
    world = World(sessions, catalog)
    storage, _ = world.shared
    if storage is not None:
        await storage.redis.flushdb()
    failures = Failures()
    logging.getLogger("bot.app").addHandler(failures)
    try:
        yield world
    finally:
        logging.getLogger("bot.app").removeHandler(failures)
    async with sessions() as session:
        refused = (
            await session.scalars(
                select(Delivery.reason).where(Delivery.reason.like("bad_request%"))
            )
        ).all()
    await world.close()
    if not world.failures_expected:
        assert not failures.seen, f"updates failed: {failures.seen}"
        assert not refused, f"Telegram refused queued messages: {refused}"


async def official(world: World, level: str, code: str, user_id: int, name: str) -> OfflineChat:
    """An official bound through their invitation link, chatting privately with the bot."""
    from services.officials import invite

    async with world.sessions() as session:
        store = Store(session)
        token = await invite(
            store, world.catalog.campaign.regions, "official", level, code, timedelta(days=7)
        )
        await store.commit()
    person = world.person(user_id, name)
    await person.send(f"/start {token}")
    return person


async def group_code(world: World, level: str, code: str) -> str:
    from services.officials import invite

    async with world.sessions() as session:
        store = Store(session)
        token = await invite(
            store, world.catalog.campaign.regions, "group", level, code, timedelta(days=7)
        )
        await store.commit()
    return token
