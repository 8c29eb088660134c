"""Putting messages in the delivery queue from anywhere: on the update's own session when there
is one, else on a session of its own; then waking the sender."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import update_session
from storage.repositories import Outgoing, enqueue

# Messages put by the running task inside `Outbox.together`, queued at its end.
_held: ContextVar[list[Outgoing] | None] = ContextVar("held", default=None)


class Outbox:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], wake: Callable[[], None] | None = None
    ) -> None:
        self.sessions = sessions
        self.wake = wake or (lambda: None)

    async def put(self, messages: Sequence[Outgoing]) -> None:
        held = _held.get()
        if held is not None:
            held.extend(messages)
            return
        session = update_session.get()
        if session is not None:
            await enqueue(session, messages)
            await session.commit()
        else:
            async with self.sessions() as own:
                await enqueue(own, messages)
                await own.commit()
        self.wake()

    @asynccontextmanager
    async def together(self) -> AsyncIterator[None]:
        """What this task puts meanwhile goes into the queue at the end, in one statement and
        one commit (a few hundred approvals' notices), even if the task fails on the way."""
        held: list[Outgoing] = []
        token = _held.set(held)
        try:
            yield
        finally:
            _held.reset(token)
            if held:
                await self.put(held)
