"""What waits for the end of a session's transaction: run once it is committed, or once it ends
without being committed. A session's own transactions end with its events; on PostgreSQL an
update's statements may be transactions of their own, outside the session's (`storage.hot`),
which settle what waits themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction


def after_commit(session: AsyncSession, then: Callable[[], None]) -> None:
    """`then()` once the session's transaction is committed; forgotten if it is not."""
    session.sync_session.info.setdefault("after_commit", []).append(then)


def unless_committed(session: AsyncSession, then: Callable[[], None]) -> None:
    """`then()` if the session's transaction ends without being committed: rolled back, or
    closed after its commit failed (as late as the COMMIT itself)."""
    session.sync_session.info.setdefault("unless_committed", []).append(then)


@event.listens_for(Session, "after_commit")
def committed(session: Session) -> None:
    """What the session did is committed."""
    session.info.pop("unless_committed", None)
    for then in session.info.pop("after_commit", ()):
        then()


def not_committed(session: Session) -> None:
    """What the session did since it last committed is not, and will not be."""
    session.info.pop("after_commit", None)
    for then in session.info.pop("unless_committed", ()):
        then()


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction, not a savepoint in it
        not_committed(session)
