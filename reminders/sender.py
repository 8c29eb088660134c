"""The delivery queue's sender: every queued message goes out once, within Telegram's limits.

Limits are configuration: about 25 messages a second in all, one a second to a private chat,
20 a minute to a group. A 429 pauses the whole sender for its `retry_after`; 5xx answers and
timeouts are retried with capped exponential backoff; a chat that blocked the bot (403) is marked
inactive and skipped from then on. Officials' alerts (priority 0) are claimed before reminders
and broadcasts. The database is the record: rows are claimed in small batches and marked
`sending` just before each call, so a sender that dies leaves its unsent claims to be taken again
and at most the one message in flight unknown ("interrupted"), never resent.
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
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from pydantic import BaseModel, Field
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ChatState, Delivery, now

log = logging.getLogger(__name__)


class Limits(BaseModel):
    per_second: float = Field(25.0, gt=0)  # all chats together
    private_interval: float = Field(1.0, ge=0)  # seconds between two messages to one person
    group_per_minute: int = Field(20, gt=0)
    batch: int = Field(20, gt=0)  # rows claimed at a time: alerts wait at most one batch
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
        if chat_id > 0:
            last = self.private.get(chat_id)
            return (
                at
                if last is None
                else max(at, last + timedelta(seconds=self.limits.private_interval))
            )
        window = self.groups.get(chat_id)
        if not window:
            return at
        while window and window[0] <= at - timedelta(minutes=1):
            window.popleft()
        if len(window) < self.limits.group_per_minute:
            return at
        return window[0] + timedelta(minutes=1)

    def sent(self, chat_id: int, at: datetime) -> None:
        if chat_id > 0:
            self.private[chat_id] = at
            if len(self.private) > 10_000:  # forget people not written to within the interval
                horizon = at - timedelta(seconds=self.limits.private_interval)
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

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self.wakeup.set()

    async def recover(self) -> None:
        """After a crash: claims never attempted go back to the queue; the message that was in
        flight is marked interrupted (it may have been delivered; it is not sent again)."""
        horizon = self.clock.now() - timedelta(seconds=self.limits.stale_claim)
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
        """Claim one batch of due messages and send them. How many were handled."""
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
            for row in rows:
                await self._one(session, row, row.chat_id in inactive)
        return len(rows)

    async def _one(self, session: AsyncSession, row: Delivery, inactive: bool) -> None:
        at = self.clock.now()
        if inactive:
            await self._finish(session, row, "skipped", "chat_inactive")
            return
        ready = self.pace.ready_at(row.chat_id, at)
        if ready > at:  # this chat must wait; others need not wait behind it
            await self._set(session, row, status="pending", claimed_by=None, not_before=ready)
            return
        wait = (self.next_slot - at).total_seconds()
        if wait > 0:
            await self.clock.sleep(wait)
        at = self.clock.now()
        self.next_slot = max(self.next_slot, at) + timedelta(seconds=1 / self.limits.per_second)
        await self._set(session, row, status="sending", not_before=at)
        markup = InlineKeyboardMarkup.model_validate(row.markup) if row.markup else None
        try:
            await self.bot.send_message(row.chat_id, row.text, reply_markup=markup)
        except TelegramRetryAfter as exc:
            resume = self.clock.now() + timedelta(seconds=exc.retry_after)
            self.next_slot = max(self.next_slot, resume)  # the whole sender pauses
            log.warning("429: pausing %s s", exc.retry_after)
            await self._set(session, row, status="pending", claimed_by=None, not_before=resume)
            return
        except TelegramForbiddenError as exc:
            await self._block(session, row.chat_id, str(exc))
            await self._finish(session, row, "failed", "blocked")
            return
        except TelegramBadRequest as exc:
            await self._finish(session, row, "failed", f"bad_request: {exc.message}"[:40])
            return
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            attempts = row.attempts + 1
            if attempts >= self.limits.max_attempts:
                await self._finish(session, row, "failed", "server_error", attempts=attempts)
                return
            backoff = min(self.limits.retry_cap, self.limits.retry_base * 2 ** (attempts - 1))
            log.warning("retrying %s in %s s: %s", row.id, backoff, exc)
            await self._set(
                session,
                row,
                status="pending",
                claimed_by=None,
                attempts=attempts,
                not_before=self.clock.now() + timedelta(seconds=backoff),
            )
            return
        self.pace.sent(row.chat_id, self.clock.now())
        await self._finish(session, row, "sent", None, sent_at=self.clock.now())

    async def _set(self, session: AsyncSession, row: Delivery, **values: object) -> None:
        await session.execute(update(Delivery).where(Delivery.id == row.id).values(**values))
        await session.commit()

    async def _finish(
        self,
        session: AsyncSession,
        row: Delivery,
        status: str,
        reason: str | None,
        **values: object,
    ) -> None:
        await self._set(session, row, status=status, reason=reason, **values)
        if row.broadcast_id is not None and self.on_progress is not None:
            await self.on_progress(row.broadcast_id)

    async def _block(self, session: AsyncSession, chat_id: int, reason: str) -> None:
        state = await session.get(ChatState, chat_id)
        if state is None:
            session.add(
                ChatState(chat_id=chat_id, active=False, reason=reason[:200], updated_at=now())
            )
        else:
            state.active, state.reason, state.updated_at = False, reason[:200], now()
        await session.commit()

    async def drain(self) -> None:
        """Send everything queued, waiting (on the clock) for what the limits hold back."""
        while True:
            if await self.deliver():
                continue
            async with self.sessions() as session:
                earliest = await session.scalar(
                    select(func.min(Delivery.not_before)).where(Delivery.status == "pending")
                )
            if earliest is None:
                return
            await self.clock.sleep(max(0.0, (earliest - self.clock.now()).total_seconds()))

    async def run(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        """Until `stop`: deliver, and when nothing is due, wait for a wake-up or the next poll."""
        await self.recover()
        while not stop.is_set():
            try:
                handled = await self.deliver()
            except Exception:  # the database went away for a moment; try again shortly
                log.exception("delivery failed")
                handled = 0
            if handled:
                continue
            self.wakeup.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), timeout=poll)
