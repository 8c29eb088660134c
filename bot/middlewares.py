"""Per update: a unit of work on a fresh database session, the campaign's catalog, the notifier,
who the sender is (their contact record and its enterprise's form, if they are bound; whether
they are an admin), whether
the update was applied before (`redelivered`: Telegram delivered it again), an inactive chat
made active again;
in front of it, a per-person rate limit; and, on the bot, the point where an update that is
about to speak to Telegram lets the next one at the database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import (
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, TelegramObject, Update, User
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.texts import phrase
from domain.catalog import Catalog
from services import chats
from services.admins import Admins
from services.notifier import Notifier
from storage import hot, updates
from storage.db import connections, update_session
from storage.repositories import Sender, Store


class Turn:
    """An update's place in the queue for the database, given up once (see `LetGo`)."""

    def __init__(self, turns: asyncio.Semaphore) -> None:
        self.turns, self.held = turns, True

    def give_up(self) -> None:
        if self.held:
            self.held = False
            self.turns.release()


_turn: ContextVar[Turn | None] = ContextVar("turn", default=None)


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
        # Updates wait their turn here, first come first served, rather than in the connection
        # pool, whose waiters are not served in order (under a burst some would time out).
        # Two connections are left for the sender and the leader lock. An update holds its turn
        # until it first calls Telegram (LetGo), not while Telegram answers.
        self.turns = asyncio.Semaphore(max(1, connections(sessions.kw["bind"]) - 2))

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        session = self.sessions()
        try:
            await self.turns.acquire()
            turn = Turn(self.turns)
            tokens = _turn.set(turn), update_session.set(session)
            try:
                store = Store(session)
                user: User | None = data.get("event_from_user")
                update_id = event.update_id if isinstance(event, Update) else None
                chat: Chat | None = data.get("event_chat")
                contact, form, inactive, applied = await self._sender(
                    store, user, chat, update_id, self.catalog.campaign.year
                )
                if applied:
                    data["redelivered"] = True
                elif update_id is not None:
                    updates.applying(session, update_id)
                data["store"] = store
                data["catalog"] = self.catalog
                data["notifier"] = self.notifier
                data["admins"] = self.admins
                data["is_admin"] = user is not None and await self.admins.has(store, user.id)
                if inactive and chat and not (isinstance(event, Update) and event.my_chat_member):
                    with updates.aside(session):
                        await chats.back(store, chat.id)
                        await store.commit()
                data["contact"] = contact
                data["contact_form"] = form
                result = await handler(event, data)
                await hot.commit(session)  # what it did since it last spoke (`LetGo`)
                return result
            finally:
                turn.give_up()
                _turn.reset(tokens[0])
                update_session.reset(tokens[1])
        finally:
            await _close(session)

    @staticmethod
    async def _sender(
        store: Store, user: User | None, chat: Chat | None, update_id: int | None, campaign: int
    ) -> Sender:
        """The sender's contact record and its enterprise's form, whether their chat is marked
        inactive (it blocked or removed the bot: anything it sends makes it active again, but a
        `my_chat_member` update says for itself whether the bot is back, `handlers.chats`), and
        whether the update was applied before: one query."""
        if user is None:
            applied = update_id is not None and await updates.applied(store.session, update_id)
            return Sender(None, None, False, applied)
        chat_id = chat.id if chat else None
        return await store.contacts.of_update(user.id, chat_id, update_id, campaign)


async def _close(session: AsyncSession) -> None:
    """`async with session` closes it in a task of its own, shielded from a cancellation, which
    costs more than closing it does outside a transaction (the update committed, the usual
    end): then it is closed in place, with nothing to wait for on the way (not even a trip
    through SQLAlchemy's greenlet; a connection it still holds on SQLite, the update having
    failed, is rolled back and given back at once: `storage.hot.Waiting`)."""
    if session.in_transaction():
        async with session:
            pass
    else:  # what still waits for a commit is told it will not come (`storage.hot.Waiting`)
        session.sync_session.close()


class LetGo(BaseRequestMiddleware):
    """Before an update speaks to Telegram, what it did is committed (every time: the person
    is told only what is stored), and it gives up its turn at the database. (With several
    instances its conversation's state is written as it lets go of the conversation:
    `storage.shared_fsm`.)

    Telegram takes tens to hundreds of milliseconds to answer; with SQLite's one connection an
    update holding its turn meanwhile would let the bot serve ten updates a second. What an
    update says is then always stored, as the FSM state is (`storage.fsm`). An update that uses
    the database again afterwards goes to the connection pool directly.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        turn = _turn.get()
        if turn is not None:
            session = update_session.get()
            if session is not None:
                await hot.commit(session)
            turn.give_up()
        return await make_request(bot, method)


class Unchanged(BaseRequestMiddleware):
    """An edit that changes nothing (a city pressed twice, a page shown again) is no error:
    the person already sees what the edit meant. Telegram refuses it with "message is not
    modified"; aiogram would raise it into the handler and the person would read "出了点问题"."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as refused:
            if isinstance(method, _EDITS) and "message is not modified" in refused.message:
                return True
            raise


_EDITS = (EditMessageText, EditMessageReplyMarkup, EditMessageCaption)


class WaitBriefly(BaseRequestMiddleware):
    """A reply Telegram asks to send a few seconds later (429 with a short `retry_after`) is
    sent then, once: the person gets their confirmation instead of silence. Only inside an
    update; the delivery queue paces itself (`reminders.sender`)."""

    longest = 5  # seconds an update may wait; a longer flood wait fails as before

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as wait:
            if _turn.get() is None or wait.retry_after > self.longest:
                raise
            await asyncio.sleep(wait.retry_after)
            return await make_request(bot, method)


class Buckets:
    """Each person's token bucket in this process: at most `burst` updates at once, refilled
    at `rate` a second."""

    def __init__(self, rate: float = 2.0, burst: int = 20) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[int, tuple[float, float, bool]] = {}  # tokens, when, told

    async def take(self, user_id: int, at: float) -> tuple[bool, bool]:
        """(allowed, tell them now)."""
        tokens, since, told = self._buckets.get(user_id, (float(self.burst), at, False))
        tokens = min(float(self.burst), tokens + max(0.0, at - since) * self.rate)
        if tokens >= 1:
            self._buckets[user_id] = (tokens - 1, at, False)
            return True, False
        self._buckets[user_id] = (tokens, at, True)
        if len(self._buckets) > 50_000:  # forget people whose bucket has refilled
            full = self.burst / self.rate
            self._buckets = {u: b for u, b in self._buckets.items() if at - b[1] < full}
        return False, not told


_TAKE = """
local tokens, at, told = unpack(redis.call('HMGET', KEYS[1], 'tokens', 'at', 'told'))
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local since = math.max(0, now - (tonumber(at) or now))
tokens = math.min(burst, (tonumber(tokens) or burst) + since * rate)
local allowed, tell = 0, 0
if tokens >= 1 then
  tokens, told, allowed = tokens - 1, '0', 1
else
  if told ~= '1' then tell = 1 end
  told = '1'
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now), 'told', told)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {allowed, tell}
"""


class RedisBuckets(Buckets):
    """The same buckets in Redis, shared by every instance (one Lua call per update, atomic);
    `at` must then be the wall clock, the same on every machine."""

    def __init__(self, redis: Redis, rate: float = 2.0, burst: int = 20) -> None:
        super().__init__(rate, burst)
        self.script = redis.register_script(_TAKE)

    async def take(self, user_id: int, at: float) -> tuple[bool, bool]:
        allowed, tell = await self.script(
            keys=[f"cxjf:flood:{user_id}"], args=[self.rate, self.burst, at]
        )
        return bool(allowed), bool(tell)


class Throttle(BaseMiddleware):
    """A per-person flood limit in front of everything (see `Buckets`).

    Someone flooding the bot gets one polite reply, then silence until their bucket refills, and
    nothing they sent meanwhile reaches a handler or the database. A button press beyond the
    limit is still answered (Telegram's spinner would turn otherwise). With `RedisBuckets` the
    limit holds across all instances behind a load balancer.
    """

    def __init__(
        self, buckets: Buckets | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.buckets, self.clock = buckets or Buckets(), clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        allowed, tell = await self.buckets.take(user.id, self.clock())
        if allowed:
            return await handler(event, data)
        bot: Bot = data["bot"]
        if isinstance(event, Update) and event.callback_query is not None:
            await bot.answer_callback_query(event.callback_query.id, phrase("slow_down"))
        elif tell and isinstance(event, Update) and event.message is not None:
            await bot.send_message(event.message.chat.id, phrase("slow_down"))
        return None
