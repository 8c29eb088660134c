"""A broadcast's progress message, edited in place while it runs; its summary at the end."""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.texts import render
from reminders.sender import Clock, RealClock
from services import broadcasts
from storage.models import Broadcast, now
from storage.repositories import Store

log = logging.getLogger(__name__)
REASONS = {
    "blocked": "已屏蔽机器人",
    "chat_inactive": "已屏蔽机器人",
    "server_error": "Telegram 服务器多次出错",
    "interrupted": "发送中断（可能已送达，不再重发）",
    "bad_request": "Telegram 拒收",
}


class ProgressReporter:
    """Told by the sender after each message of a broadcast. Edits the coordinator's progress
    message at most every `interval` seconds; whichever sender finishes the last message marks
    the broadcast done, edits the message a last time and sends the summary."""

    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        interval: float = 2.0,
        clock: Clock | None = None,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.interval = interval
        self.clock = clock or RealClock()
        self._shown: dict[int, datetime] = {}  # broadcast → when its message was last edited

    async def __call__(self, broadcast_id: int) -> None:
        at = self.clock.now()
        shown = self._shown.get(broadcast_id)
        due = shown is None or (at - shown).total_seconds() >= self.interval
        async with self.sessions() as session:
            store = Store(session)
            if not due and await broadcasts.unfinished(store, broadcast_id):
                return
            state = await broadcasts.progress(store, broadcast_id)
            broadcast = await session.get(Broadcast, broadcast_id)
            assert broadcast is not None
            finishing = False
            if state.finished:
                self._shown.pop(broadcast_id, None)
                done = await session.execute(  # one sender wins; only it sends the summary
                    update(Broadcast)
                    .where(Broadcast.id == broadcast_id, Broadcast.status != "done")
                    .values(status="done", finished_at=now())
                )
                await session.commit()
                finishing = done.rowcount == 1  # type: ignore[attr-defined]
                if not finishing:
                    return
            else:
                self._shown[broadcast_id] = at
        if broadcast.progress_chat is None or broadcast.progress_message is None:
            return
        reasons = [(REASONS.get(r.split(":")[0], r), n) for r, n in state.reasons.most_common()]
        text = render("broadcast_progress", broadcast=broadcast, state=state, reasons=[])
        with suppress(TelegramAPIError):  # "message is not modified", a deleted message …
            await self.bot.edit_message_text(
                text, chat_id=broadcast.progress_chat, message_id=broadcast.progress_message
            )
        if finishing:
            summary = render(
                "broadcast_progress", broadcast=broadcast, state=state, reasons=reasons
            )
            try:
                await self.bot.send_message(broadcast.progress_chat, summary)
            except TelegramAPIError:
                log.warning("broadcast %s: could not send the summary", broadcast_id)
