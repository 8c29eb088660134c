"""Each Telegram update is applied once.

Telegram delivers an update again when it had no answer: a webhook instance killed after it
stored an answer but before it said 200, polling restarted before it confirmed. The update's
first commit that writes anything also records the update (`handled_updates`), in the same
transaction, so its effects and the record are kept or lost together; an update found there
is not applied again. A commit that only ends a reading transaction records nothing: an update
that died before writing is applied when it comes again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from storage import hot
from storage.models import HandledUpdate, now

KEPT = timedelta(days=2)  # Telegram gives up on an update after 24 hours

# Asked and written on every update: built once (building costs more than SQLite's work).
_APPLIED = select(HandledUpdate.update_id).where(HandledUpdate.update_id == bindparam("id"))
_RECORD = hot.Statement(
    insert(HandledUpdate.__table__).values(**hot.named("update_id", "at")), later=True
)


async def applied(session: AsyncSession, update_id: int) -> bool:
    """The update's effects are stored already: it is a delivery again."""
    return (await session.execute(_APPLIED, {"id": update_id})).first() is not None


def applying(session: AsyncSession, update_id: int) -> None:
    """The session works for this update: its first commit that writes records it."""
    session.sync_session.info["update_id"] = update_id


@contextmanager
def aside(session: AsyncSession) -> Iterator[None]:
    """What is committed meanwhile is not the update's doing (a chat seen active again): it
    does not record the update as applied, which its own effects, still to come, will."""
    info = session.sync_session.info
    update_id = info.pop("update_id", None)
    try:
        yield
    finally:
        if update_id is not None:
            info["update_id"] = update_id


async def prune(session: AsyncSession) -> None:
    """Forget updates Telegram can no longer deliver again. Does not commit."""
    await session.execute(delete(HandledUpdate).where(HandledUpdate.at < now() - KEPT))


@event.listens_for(Session, "do_orm_execute")
def _statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _: UOWTransaction) -> None:
    session.info["wrote"] = True


async def recording(session: AsyncSession) -> None:
    """The update's record written now, with the write about to be made (on PostgreSQL in the
    same statement: `storage.hot`), rather than as the update commits."""
    values = _to_record(session.sync_session.info)
    if values is not None:
        await hot.run(session, _RECORD, values)


@event.listens_for(Session, "before_commit")
def _record(session: Session) -> None:
    if session.info.get("wrote") or session.new or session.dirty or session.deleted:
        values = _to_record(session.info)
        if values is not None:
            # A plain INSERT: the same update applied side by side on two instances makes the
            # second one's commit fail (and roll back) rather than apply it twice.
            hot.run_sync(session, _RECORD, values)


def _to_record(info: dict[str, Any]) -> dict[str, Any] | None:
    """The record's values, if the session works for an update not recorded yet in this
    transaction: then it is, from here on."""
    update_id = info.get("update_id")
    if update_id is None or info.get("recorded"):
        return None
    info["recorded"] = True
    return {"update_id": update_id, "at": now()}


@event.listens_for(Session, "after_commit")
def _kept(session: Session) -> None:
    session.info.pop("wrote", None)  # what the next transaction writes is its own


@event.listens_for(Session, "after_rollback")
def _undone(session: Session) -> None:
    session.info.pop("wrote", None)
    session.info.pop("recorded", None)
