"""The officials' workbench: what waits at an official's level in their jurisdiction."""

from __future__ import annotations

from sqlalchemy import and_, func, select

from domain.review import WAITING
from services import officials
from storage.models import Enterprise, Official, Submission
from storage.repositories import Store


async def waiting(store: Store, official: Official) -> int:
    """How many forms wait at the official's level in their jurisdiction."""
    status = WAITING[officials.jurisdiction(official).level]
    query = (
        select(func.count())
        .select_from(Submission)
        .join(Enterprise, Enterprise.id == Submission.enterprise_id)
        .where(
            and_(Submission.status == status, officials.within(officials.jurisdiction(official)))
        )
    )
    return int(await store.session.scalar(query) or 0)
