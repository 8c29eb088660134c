"""The delivery queue's sender: every queued message goes out once, within Telegram's limits.

Limits are configuration: about 25 messages a second in all, one a second to a private chat,
20 a minute to a group. A 429 pauses the whole sender for its `retry_after`; 5xx answers and
timeouts are retried with capped exponential backoff; a chat that blocked the bot (403) is marked
inactive and skipped until it speaks again (`services.chats`); a group upgraded to a supergroup
takes its queued messages, the refused one included, to its new id. Officials' alerts
(priority 0) are claimed before reminders and broadcasts. Calls go out in their slots without
waiting for the previous answer (up to `in_flight` at once), so Telegram's latency does not bound
the rate. The database is the record: rows are claimed in small batches and marked `sending` just
before each call, so a sender that dies leaves its unsent claims to be taken again and only the
calls in flight unknown ("interrupted"), never resent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from pydantic import BaseModel, Field
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import chats
from storage.models import ChatState, Delivery, now
from storage.repositories import Store

log = logging.getLogger(__name__)


class Limits(BaseModel):
    per_second: float = Field(25.0, gt=0)  # all chats together
    private_interval: float = Field(1.0, ge=0)  # seconds between two messages to one person
    group_per_minute: int = Field(20, gt=0)
    margin: float = Field(0.1, ge=0)  # seconds added to a chat's wait: calls land with jitter
    batch: int = Field(20, gt=0)  # rows claimed at a time: alerts wait at most one batch
    in_flight: int = Field(16, gt=0)  # calls awaiting Telegram's answer at once
    retry_base: float = Field(2.0, gt=0)  # seconds; doubled at each failed attempt …
    retry_cap: float = Field(300.0, gt=0)  # … up to this
    max_attempts: int = Field(6, gt=0)
    stale_claim: float = Field(300.0, gt=0)  # seconds after which a dead sender's claims are free


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> datetime:
        return now()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _ChatPace:
    """When each chat may get its next message: bounded memory, whatever the recipient count."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.private: dict[int, datetime] = {}
        self.groups: dict[int, deque[datetime]] = {}

    def ready_at(self, chat_id: int, at: datetime) -> datetime:
        margin = self.limits.margin
        if chat_id > 0:
            last = self.private.get(chat_id)
            return (
                at
                if last is None
                else max(at, last + timedelta(seconds=self.limits.private_interval + margin))
            )
        window = self.groups.get(chat_id)
        if not window:
            return at
        while window and window[0] <= at - timedelta(minutes=1):
            window.popleft()
        if len(window) < self.limits.group_per_minute:
            return at
        return window[0] + timedelta(seconds=60 + margin)

    def landed(self, chat_id: int, at: datetime) -> None:
        """A call to a person was answered at `at`: Telegram took it no later, so their next
        message waits from here. (Counted from when the call was made only, a call held up on
        its way, by a busy event loop or a slow database write before it, lands closer to the
        next one than the interval, and Telegram refuses that one.)"""
        if chat_id > 0:
            self.private[chat_id] = max(at, self.private.get(chat_id, at))

    def sent(self, chat_id: int, at: datetime) -> None:
        if chat_id > 0:
            self.private[chat_id] = at
            if len(self.private) > 1_000:  # forget people not written to within the interval
                horizon = at - timedelta(seconds=self.limits.private_interval + self.limits.margin)
                self.private = {c: t for c, t in self.private.items() if t > horizon}
        else:
            self.groups.setdefault(chat_id, deque()).append(at)


class Sender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        limits: Limits | None = None,
        clock: Clock | None = None,
        on_progress: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.limits = limits or Limits()
        self.clock = clock or RealClock()
        self.on_progress = on_progress  # told the broadcast id after each of its messages
        self.name = uuid.uuid4().hex[:12]
        self.pace = _ChatPace(self.limits)
        self.next_slot = self.clock.now()
        self.wakeup = asyncio.Event()
        self.in_flight = asyncio.Semaphore(self.limits.in_flight)
        self.flying: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self.wakeup.set()

    async def recover(self, alone: bool = False) -> None:
        """After a crash: claims never attempted go back to the queue; the messages that were in
        flight are marked interrupted (they may have been delivered; they are not sent again).

        A sender `alone` on its database (SQLite: one bot process) takes every claim back at
        once; one of several instances only claims older than `stale_claim`, which no live
        sender can still hold."""
        horizon = self.clock.now()
        if not alone:
            horizon -= timedelta(seconds=self.limits.stale_claim)
        async with self.sessions() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.status == "claimed", Delivery.not_before <= horizon)
                .values(status="pending", claimed_by=None)
            )
            await session.execute(
                update(Delivery)
                .where(Delivery.status == "sending", Delivery.not_before <= horizon)
                .values(status="failed", reason="interrupted")
            )
            await session.commit()

    async def _claim(self, session: AsyncSession) -> list[Delivery]:
        at = self.clock.now()
        # A CTE, not `IN (subquery)`: PostgreSQL may run a SKIP LOCKED subquery once per row and
        # claim far more than a batch.
        due = (
            select(Delivery.id)
            .where(Delivery.status == "pending", Delivery.not_before <= at)
            .order_by(Delivery.priority, Delivery.id)
            .limit(self.limits.batch)
            .with_for_update(skip_locked=True)
            .cte("due")
        )
        result = await session.execute(
            update(Delivery)
            .where(Delivery.id == due.c.id, Delivery.status == "pending")
            .values(status="claimed", claimed_by=self.name, not_before=at)
            .returning(Delivery)
        )
        rows = sorted(result.scalars().all(), key=lambda d: (d.priority, d.id))
        await session.commit()
        return rows

    async def deliver(self) -> int:
        """Claim one batch of due messages and start sending them, each in its slot. How many
        were claimed; their calls may still be in flight (see `settle`)."""
        async with self.sessions() as session:
            rows = await self._claim(session)
            inactive = set()
            if rows:
                chats = {r.chat_id for r in rows}
                inactive = set(
                    (
                        await session.scalars(
                            select(ChatState.chat_id).where(
                                ChatState.chat_id.in_(chats), ChatState.active.is_(False)
                            )
                        )
                    ).all()
                )
                await session.commit()
        waiting: dict[int, tuple[datetime, list[int]]] = {}  # by chat: when it may, its rows
        try:
            for row in rows:
                await self._dispatch(row, row.chat_id in inactive, waiting)
        finally:
            await self._put_back(waiting)
        return len(rows)

    async def _put_back(self, waiting: dict[int, tuple[datetime, list[int]]]) -> None:
        """A chat that must wait gets its turn for all its queued messages at once, in one
        statement: the rows claimed and those still pending before then. Its line then keeps
        its order (a row is never due before an earlier one of the same chat), and a line of
        300 cards to one official costs a claim and a statement a second, not one per row."""
        if not waiting:
            return
        async with self.sessions() as session:
            for chat_id, (ready, ids) in waiting.items():
                await session.execute(
                    update(Delivery)
                    .where(
                        Delivery.chat_id == chat_id,
                        or_(
                            Delivery.id.in_(ids),
                            and_(Delivery.status == "pending", Delivery.not_before < ready),
                        ),
                    )
                    .values(status="pending", claimed_by=None, not_before=ready)
                )
            await session.commit()
        self.wake()  # the idle wait is shorter

    async def settle(self) -> None:
        """Wait for the calls in flight."""
        while self.flying:
            await asyncio.wait(set(self.flying))

    async def _dispatch(
        self, row: Delivery, inactive: bool, waiting: dict[int, tuple[datetime, list[int]]]
    ) -> None:
        """Wait for the message's slot, mark it sending, and make the call without waiting for
        the answer: Telegram's latency must not bound the rate. A row whose chat must wait
        joins `waiting`, to be put back (others need not wait behind it)."""
        if inactive:
            await self._finish(row, "skipped", "chat_inactive")
            return
        at = self.clock.now()
        ready = self.pace.ready_at(row.chat_id, at)
        if ready > at or row.chat_id in waiting:  # never ahead of an earlier row of its chat
            earliest, ids = waiting.get(row.chat_id, (ready, []))
            waiting[row.chat_id] = max(earliest, ready), [*ids, row.id]
            return
        await self.in_flight.acquire()
        while (wait := (self.next_slot - self.clock.now()).total_seconds()) > 0:
            await self.clock.sleep(wait)  # a 429 meanwhile pushes next_slot further
        at = self.clock.now()
        # Slots keep to their grid: a call made a little late does not delay every later one
        # (at most one slot is made up, so no burst beyond the limit).
        interval = timedelta(seconds=1 / self.limits.per_second)
        self.next_slot = max(self.next_slot, at - interval) + interval
        self.pace.sent(row.chat_id, at)  # the chat's slot is taken whatever the answer
        try:
            await self._set(row, status="sending", not_before=at)
        except BaseException:
            self.in_flight.release()
            raise
        task = asyncio.create_task(self._send(row))
        self.flying.add(task)
        task.add_done_callback(self._landed)

    def _landed(self, task: asyncio.Task[None]) -> None:
        self.flying.discard(task)
        self.in_flight.release()
        if not task.cancelled() and task.exception() is not None:
            # The row stays "sending": after a restart it counts as interrupted, never resent.
            log.error("delivery failed unexpectedly", exc_info=task.exception())

    async def _call(self, row: Delivery) -> None:
        markup = InlineKeyboardMarkup.model_validate(row.markup) if row.markup else None
        try:
            await self.bot.send_message(row.chat_id, row.text, reply_markup=markup)
        finally:
            self.pace.landed(row.chat_id, self.clock.now())

    async def _send(self, row: Delivery) -> None:
        try:
            await self._call(row)
        except TelegramRetryAfter as exc:
            resume = self.clock.now() + timedelta(seconds=exc.retry_after)
            self.next_slot = max(self.next_slot, resume)  # the whole sender pauses
            log.warning("429: pausing %s s", exc.retry_after)
            await self._set(row, status="pending", claimed_by=None, not_before=resume)
            return
        except TelegramForbiddenError as exc:
            reason = str(exc)
            await self._note(lambda store: chats.blocked(store, row.chat_id, reason))
            await self._finish(row, "failed", "blocked")
            return
        except TelegramMigrateToChat as exc:  # a 400, though not a TelegramBadRequest
            to = exc.migrate_to_chat_id
            await self._note(lambda store: chats.migrated(store, row.chat_id, to, row.id))
            self.wake()
            return
        except TelegramBadRequest as exc:
            await self._finish(row, "failed", f"bad_request: {exc.message}"[:40])
            return
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            attempts = row.attempts + 1
            if attempts >= self.limits.max_attempts:
                await self._finish(row, "failed", "server_error", attempts=attempts)
                return
            backoff = min(self.limits.retry_cap, self.limits.retry_base * 2 ** (attempts - 1))
            log.warning("retrying %s in %s s: %s", row.id, backoff, exc)
            await self._set(
                row,
                status="pending",
                claimed_by=None,
                attempts=attempts,
                not_before=self.clock.now() + timedelta(seconds=backoff),
            )
            return
        await self._finish(row, "sent", None, sent_at=self.clock.now())

    async def _set(self, row: Delivery, **values: object) -> None:
        async with self.sessions() as session:
            await session.execute(update(Delivery).where(Delivery.id == row.id).values(**values))
            await session.commit()
        if values.get("status") == "pending":  # put back for later: the idle wait is shorter
            self.wake()

    async def _finish(
        self, row: Delivery, status: str, reason: str | None, **values: object
    ) -> None:
        await self._set(row, status=status, reason=reason, **values)
        if row.broadcast_id is not None and self.on_progress is not None:
            await self.on_progress(row.broadcast_id)

    async def _note(self, change: Callable[[Store], Awaitable[None]]) -> None:
        """What Telegram said about a chat, kept."""
        async with self.sessions() as session:
            await change(Store(session))
            await session.commit()

    async def _due_in(self) -> float | None:
        """Seconds until the earliest pending message is due; None when nothing is pending."""
        async with self.sessions() as session:
            earliest = await session.scalar(
                select(func.min(Delivery.not_before)).where(Delivery.status == "pending")
            )
        return None if earliest is None else (earliest - self.clock.now()).total_seconds()

    async def drain(self) -> None:
        """Send everything queued, waiting (on the clock) for what the limits hold back."""
        while True:
            if await self.deliver():
                continue
            if self.flying:  # their answers may put messages back in the queue
                await self.settle()
                continue
            due_in = await self._due_in()
            if due_in is None:
                return
            await self.clock.sleep(max(0.0, due_in))

    async def run(self, stop: asyncio.Event, poll: float = 1.0, alone: bool = False) -> None:
        """Until `stop`: deliver; when nothing is due, wait for a wake-up, for the earliest
        message held back, or for the next poll (another process may have queued something).
        `alone`: see `recover`."""
        await self.recover(alone)
        while not stop.is_set():
            try:
                if await self.deliver():
                    continue
                due_in = await self._due_in()
            except Exception:  # the database went away for a moment; try again shortly
                log.exception("delivery failed")
                due_in = None
            self.wakeup.clear()
            wait = poll if due_in is None else min(poll, max(0.01, due_in))
            with suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), timeout=wait)
        await self.settle()  # let the calls in flight land rather than leave them unknown
