"""The deadlines as the province extended them: read back for a form's window, the reminders'
countdowns and 逾期 (services/extensions.py grants them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import clock
from domain.catalog import Catalog
from domain.deadlines import Extension, extended_until, overdue
from domain.review import waiting_level
from storage.db import kept
from storage.models import DeadlineExtension, Enterprise, Submission

# Read on every update of a contact's form: built once (building a statement takes SQLAlchemy
# longer than SQLite takes to run it), columns rather than ORM objects.
_EXTENSIONS = (
    select(DeadlineExtension.scope, DeadlineExtension.code, DeadlineExtension.until)
    .where(DeadlineExtension.campaign == bindparam("campaign"))
    .order_by(DeadlineExtension.id)
)


async def extensions(session: AsyncSession, campaign: int) -> list[Extension]:
    """Each place's and enterprise's latest extension (the newest word holds)."""
    rows = await session.execute(_EXTENSIONS, {"campaign": campaign})
    latest = {(scope, code): Extension(scope, code, until) for scope, code, until in rows}
    return list(latest.values())


async def extension_of(
    session: AsyncSession, campaign: int, enterprise: Enterprise, count: int
) -> date | None:
    """The latest extension covering the enterprise. Asked on every update of a contact's form:
    the campaign's extensions are kept and read again only when their `count` (read with the
    enterprise, `Submissions.with_enterprise`) changed; they are only ever added."""
    kept_here = kept(session, "extensions")
    known = kept_here.get(campaign)
    if known is None or known[0] != count:
        known = kept_here[campaign] = (count, await extensions(session, campaign))
    found = known[1]
    return extended_until(found, enterprise.region_code, enterprise.credit_code) if found else None


class Lateness:
    """Which forms wait past their level's deadline today (逾期), given the extensions read
    once: for the digests, the board and /queue's lines."""

    def __init__(self, catalog: Catalog, extensions: list[Extension]) -> None:
        self.campaign, self.extensions = catalog.campaign, extensions
        self.today = clock.today(catalog.campaign.zone)

    @classmethod
    async def read(cls, session: AsyncSession, catalog: Catalog) -> Lateness:
        return cls(catalog, await extensions(session, catalog.campaign.year))

    def late(self, status: str, region_code: str | None, credit_code: str) -> bool:
        level = waiting_level(status)
        if level is None:
            return False
        extension = extended_until(self.extensions, region_code, credit_code)
        return overdue(self.campaign, level, extension, self.today)


async def overdue_ids(
    session: AsyncSession, catalog: Catalog, forms: Iterable[tuple[Submission, Enterprise]]
) -> set[int]:
    """The submissions among `forms` waiting past their level's deadline today: what /queue
    marks 逾期."""
    lateness = await Lateness.read(session, catalog)
    return {s.id for s, e in forms if lateness.late(s.status, e.region_code, e.credit_code)}
