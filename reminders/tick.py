"""The scheduler tick: once a minute, queue the reminders due today (within sending hours).

APScheduler only keeps time; the database decides what is due and what was sent. A tick that
was missed (the bot was down at 09:00) is made up by the next one the same day; a second tick,
a restart or a second instance queues nothing twice, because every reminder has its key.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.catalog import Catalog
from reminders.planner import drop_resolved, plan, today
from reminders.sender import Clock, RealClock
from storage import updates
from storage.repositories import enqueue

log = logging.getLogger(__name__)
JOB_ID = "reminders-tick"


class Ticker:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        catalog: Catalog,
        wake: object = None,
        clock: Clock | None = None,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.catalog = catalog
        self.wake = wake
        self.clock = clock or RealClock()

    async def tick(self) -> int:
        """Queue today's due reminders; how many were planned (already queued ones included)."""
        day = today(self.catalog, self.clock.now())
        if day is None:
            return 0
        me = await self.bot.me()
        async with self.sessions() as session:
            messages = await plan(session, self.catalog, day, me.username or "")
            await enqueue(session, messages)
            await drop_resolved(session, self.catalog.campaign.year)
            await updates.prune(session)
            await session.commit()
        if messages and callable(self.wake):
            self.wake()
        return len(messages)

    def schedule(self) -> AsyncIOScheduler:
        """One job with a fixed id, every minute from now (an instance that starts, or takes
        over as leader, plans what is due at once); a run that overlaps the last is skipped."""
        zone = self.catalog.campaign.zone
        scheduler = AsyncIOScheduler(timezone=zone)
        scheduler.add_job(
            self._safe_tick,
            "interval",
            minutes=1,
            id=JOB_ID,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(zone),
        )
        return scheduler

    async def _safe_tick(self) -> None:
        try:
            await self.tick()
        except Exception:  # the next tick tries again; the database keeps what was queued
            log.exception("reminder tick failed")
