"""Wiring: the Dispatcher with its storage, middlewares and routers, and the Bot."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
from contextlib import suppress
from dataclasses import dataclass

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramMigrateToChat
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from aiogram.types import BotCommand, ErrorEvent
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.filters import NotAnAnswer
from bot.middlewares import LetGo, RedisBuckets, Services, Throttle, Unchanged, WaitBriefly
from bot.notifier import TelegramNotifier
from bot.outbox import Outbox
from bot.texts import render
from domain.catalog import Catalog
from handlers import (
    admin,
    broadcast,
    chats,
    excel,
    fallback,
    form,
    overview,
    redelivered,
    review,
    start,
    workbench,
)
from reminders.progress import ProgressReporter
from reminders.sender import Clock, Limits, Sender
from reminders.tick import Ticker
from services.admins import Admins
from services.notifier import Notifier
from storage.fsm import SqlStorage
from storage.leader import Leader
from storage.shared_fsm import HeldRedisIsolation, HeldRedisStorage

log = logging.getLogger(__name__)
TOKEN = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,}")


class TokenError(ValueError):
    """BOT_TOKEN is missing or is not a token from @BotFather."""


def dispatcher(
    sessions: async_sessionmaker[AsyncSession],
    catalog: Catalog,
    notifier: Notifier,
    storage: BaseStorage | None = None,
    admins: frozenset[int] = frozenset(),
    isolation: BaseEventIsolation | None = None,
    throttle: Throttle | None = None,
) -> Dispatcher:
    """The routers over the database; conversation state in the database (one instance) or in
    `storage` (Redis, shared by several instances, with `isolation` across them)."""
    engine = sessions.kw["bind"]
    dp = Dispatcher(storage=storage or SqlStorage(engine), events_isolation=isolation)
    if throttle is not None:  # before the database: a flood never opens a session
        dp.update.outer_middleware(throttle)
    dp.update.outer_middleware(Services(sessions, catalog, notifier, Admins(admins)))
    before_form = Router(name="before_form")
    before_form.message.filter(NotAnAnswer())
    before_form.callback_query.filter(NotAnAnswer())
    before_form.include_routers(
        review.router(),
        workbench.router(),
        overview.router(),
        admin.router(),
        broadcast.router(),
        start.router(),
        excel.router(),  # before the form's: a file is a workbook sent back
    )
    dp.include_routers(
        form.answers(),  # the usual update, applied for the first time: at once
        redelivered.router(),
        before_form,
        form.router(),
        chats.router(),  # after the form's: a contact's message never waits for its filters
        fallback.router(),
    )
    dp.errors.register(_on_error)
    return dp


@dataclass
class Running:
    """A bot's parts: the Dispatcher, the sender that delivers what is queued, the reminders, and
    the lock that lets one instance of several run the last two."""

    dispatcher: Dispatcher
    sender: Sender
    ticker: Ticker
    leader: Leader

    async def background(self, stop: asyncio.Event) -> None:
        """The reminder tick and the delivery queue's sender, while this instance leads, until
        `stop`; an instance that does not lead waits to take over."""
        while await self.leader.wait(stop):
            lost = asyncio.Event()
            scheduler = self.ticker.schedule()
            scheduler.start()
            sending = asyncio.create_task(self.sender.run(lost, alone=not self.leader.shared))
            try:
                while not stop.is_set() and await self.leader.holding():
                    with suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.leader.retry)
            finally:
                lost.set()
                self.sender.wake()  # from its idle wait, to see that it stops
                await sending
                scheduler.shutdown(wait=False)
            if stop.is_set():
                break
        await self.leader.release()


def settle() -> None:
    """Once the bot is up: what exists now lives as long as the process, so the garbage collector
    stops going through it. A full collection of a running bot's ~360,000 objects took ~270 ms,
    every update arriving meanwhile waiting (in `bench.answers` the p99 at 300 updates/s went
    from ~14 ms to ~260 ms)."""
    gc.collect()
    gc.freeze()


def assemble(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    catalog: Catalog,
    *,
    private_alerts: bool = True,
    admins: frozenset[int] = frozenset(),
    limits: Limits | None = None,
    redis_url: str | None = None,
    clock: Clock | None = None,
) -> Running:
    """Everything `python main.py run` (and `chat`) needs around one Bot. With `redis_url`,
    several instances share the conversations: state in Redis, one update per user at a time
    across all of them. `clock` tells the reminder tick what day it is (a benchmark's)."""
    storage, isolation = shared_state(redis_url) if redis_url else (None, None)
    sender = Sender(bot, sessions, limits, on_progress=ProgressReporter(bot, sessions))
    notifier = TelegramNotifier(Outbox(sessions, sender.wake), catalog, private_alerts)
    ticker = Ticker(bot, sessions, catalog, sender.wake, clock)
    return Running(
        dispatcher(
            sessions,
            catalog,
            notifier,
            storage,
            admins=admins,
            isolation=isolation,
            throttle=Throttle(RedisBuckets(storage.redis) if storage else None),
        ),
        sender,
        ticker,
        Leader(sessions.kw["bind"]),
    )


def shared_state(redis_url: str) -> tuple[RedisStorage, RedisEventIsolation]:
    """aiogram's Redis storage (keys per bot, chat, user and thread, like the database's) and
    its lock, so two instances never handle one user's updates at once; while an update holds
    the lock, its conversation's state and data are read in one round trip
    (`storage.shared_fsm`)."""
    redis = Redis.from_url(redis_url)
    storage = HeldRedisStorage(
        redis, key_builder=DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
    )
    return storage, HeldRedisIsolation(storage)


async def _on_error(event: ErrorEvent, bot: Bot) -> bool:
    """Log it; tell the person their last step may not have been saved. Never a traceback.

    When it was Telegram that failed (blocked, limited, down, slow), another message would fail
    the same way, or say something untrue: what was stored stays stored, and the form tells
    the person at their next message (`handlers.form.Flow.missed`). A press on a message from
    before the group became a supergroup fails at the first word the bot says back into the old
    group: they are told in the supergroup how to go on."""
    update, exception = event.update, event.exception
    chat = (update.message and update.message.chat) or (
        update.callback_query
        and update.callback_query.message
        and update.callback_query.message.chat
    )
    if isinstance(exception, TelegramMigrateToChat):
        log.warning("update %s: chat %s is a supergroup now", update.update_id, chat and chat.id)
        target, text = exception.migrate_to_chat_id, render("group_upgraded")
    else:
        log.exception("update %s failed", update.update_id, exc_info=exception)
        if isinstance(exception, TelegramAPIError) and not isinstance(
            exception, TelegramBadRequest
        ):
            return True
        target, text = (chat.id if chat else None), render("error")
    if target is not None:
        try:
            await bot.send_message(target, text)
        except Exception:  # the network may be what failed; the log has it
            log.warning("could not tell chat %s about the failure", target)
    return True


def bot(token: str | None, api_base: str | None = None) -> Bot:
    """The real Bot; a missing or malformed token is a clear error, not a traceback later."""
    if not token:
        raise TokenError("BOT_TOKEN 未设置：请在环境变量或 .env 中设置 @BotFather 给出的令牌。")
    if not TOKEN.fullmatch(token):
        raise TokenError("BOT_TOKEN 格式不对：应形如 123456789:AAE…（@BotFather 给出的令牌）。")
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else None
    bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    bot.session.middleware(LetGo())
    bot.session.middleware(Unchanged())
    bot.session.middleware(WaitBriefly())
    return bot


COMMANDS = [
    BotCommand(command="start", description="开始或继续填报"),
    BotCommand(command="menu", description="菜单：跳到任意部分或项目"),
    BotCommand(command="status", description="填报状态"),
    BotCommand(command="excel", description="用 Excel 填写：下载表格，填好发回"),
    BotCommand(command="help", description="使用说明"),
]
