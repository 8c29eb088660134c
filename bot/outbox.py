"""Putting messages in the delivery queue from anywhere: on the update's own session when there
is one, else on a session of its own; then waking the sender."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import update_session
from storage.repositories import Outgoing, enqueue


class Outbox:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], wake: Callable[[], None] | None = None
    ) -> None:
        self.sessions = sessions
        self.wake = wake or (lambda: None)

    async def put(self, messages: Sequence[Outgoing]) -> None:
        session = update_session.get()
        if session is not None:
            await enqueue(session, messages)
            await session.commit()
        else:
            async with self.sessions() as own:
                await enqueue(own, messages)
                await own.commit()
        self.wake()
