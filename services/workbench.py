"""The officials' workbench: the forms waiting at an official's level in their jurisdiction as a
work list — what needs a look first, filtered, a page at a time — counted and listed in SQL so
a bureau with thousands waiting gets its page at once; the clean ones approved together; the
forms waiting on their enterprise, and 催办."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true, update

from domain.catalog import Catalog
from domain.review import RETURNED, WAITING, waiting_level
from services import officials, review
from services.notifier import Notifier
from storage.models import Contact, Enterprise, Official, Submission
from storage.repositories import Store


class Show(StrEnum):
    """The work list's filters (their codes travel in button data)."""

    ALL = "a"
    WARNED = "w"  # 有预警: weak rules the enterprise confirmed
    COPIED = "s"  # 数据雷同: copy-paste flags
    AGAIN = "r"  # 重新提交: back after this level returned it
    CLEAN = "c"  # 无问题: none of those


_CLEAN = and_(
    Submission.warnings == 0, func.coalesce(Submission.copies, 0) == 0, Submission.changed.is_(None)
)


def _is_clean(submission: Submission) -> bool:
    """The Python twin of _CLEAN, for a form read again before it is approved."""
    return (submission.warnings, submission.copies or 0, submission.changed) == (0, 0, None)


_CONDITIONS: dict[Show, ColumnElement[bool]] = {
    Show.ALL: true(),
    Show.WARNED: Submission.warnings > 0,
    Show.COPIED: Submission.copies > 0,
    Show.AGAIN: Submission.changed.is_not(None),
    Show.CLEAN: _CLEAN,
}
# What needs a look first: warnings or copies (or not yet reckoned), then resubmissions.
_LOOK_FIRST = case(
    ((Submission.warnings > 0) | (Submission.copies > 0) | Submission.warnings.is_(None), 0),
    (Submission.changed.is_not(None), 1),
    else_=2,
)


@dataclass(frozen=True, slots=True)
class Tally:
    """How many forms wait, under each filter."""

    counts: dict[Show, int]

    def __getitem__(self, show: Show) -> int:
        return self.counts[show]


@dataclass(frozen=True, slots=True)
class Line:
    """A form in the work list, with why it needs a look."""

    submission_id: int
    name: str
    warnings: int
    copies: int
    changed: int | None
    arrived: datetime | None


def _waiting(official: Official) -> ColumnElement[bool]:
    scope = officials.jurisdiction(official)
    return and_(Submission.status == WAITING[scope.level], officials.within(scope))


async def reckon_missing(store: Store, catalog: Catalog, official: Official) -> None:
    """Forms submitted before the workbench existed get what it sorts by, once."""
    unmarked = (
        await store.session.scalars(
            select(Submission)
            .join(Enterprise, Enterprise.id == Submission.enterprise_id)
            .where(_waiting(official), Submission.warnings.is_(None))
        )
    ).all()
    if not unmarked:
        return
    for view in await review.form_views(store, catalog, unmarked, official.level, "opened"):
        review.reckon(view)
    await store.commit()


async def tally(store: Store, official: Official) -> Tally:
    query = (
        select(*(func.coalesce(func.sum(case((c, 1), else_=0)), 0) for c in _CONDITIONS.values()))
        .select_from(Submission)
        .join(Enterprise, Enterprise.id == Submission.enterprise_id)
        .where(_waiting(official))
    )
    row = (await store.session.execute(query)).one()
    return Tally({show: int(n) for show, n in zip(_CONDITIONS, row, strict=True)})


async def page(store: Store, official: Official, show: Show, number: int, size: int) -> list[Line]:
    """One page of the work list: what needs a look first, then the longest waiting."""
    query: Any = (
        select(
            Submission.id,
            Enterprise.name,
            Submission.warnings,
            Submission.copies,
            Submission.changed,
            Submission.status_at,
        )
        .join(Enterprise, Enterprise.id == Submission.enterprise_id)
        .where(_waiting(official), _CONDITIONS[show])
        .order_by(_LOOK_FIRST, Submission.status_at, Submission.id)
        .offset(number * size)
        .limit(size)
    )
    return [
        Line(i, name, warnings or 0, copies or 0, changed, at)
        for i, name, warnings, copies, changed, at in (await store.session.execute(query)).all()
    ]


# ---- approving the clean forms together ------------------------------------------------------


BATCH = 200  # forms approved in one transaction


@dataclass(frozen=True, slots=True)
class Previewed:
    """A clean form as the preview showed it: its round tells whether it changed since."""

    submission_id: int
    round: int
    name: str


async def clean(store: Store, official: Official) -> list[Previewed]:
    """Every form at the official's level and jurisdiction with no fired weak rule, no
    copy-paste flag and no change since the level below approved it: the longest waiting first."""
    rows = await store.session.execute(
        select(Submission.id, Submission.round, Enterprise.name)
        .join(Enterprise, Enterprise.id == Submission.enterprise_id)
        .where(_waiting(official), _CLEAN)
        .order_by(Submission.status_at, Submission.id)
    )
    return [Previewed(i, r, name) for i, r, name in rows.all()]


@dataclass(slots=True)
class Cleared:
    approved: list[str]  # the enterprises' names
    left_out: list[str]  # changed between the preview and the confirmation


async def approve_clean(
    store: Store,
    catalog: Catalog,
    official: Official,
    previewed: Sequence[Previewed],
    notifier: Notifier,
) -> Cleared:
    """Each form of the preview approved on its own as a single 通过 is (audit entry, the next
    level's card, the contacts' notice), unless it changed since the preview: another round,
    another level, no longer clean, or no longer the official's. A few hundred at a time, each
    batch a transaction of its own."""
    cleared = Cleared([], [])
    scope = officials.jurisdiction(official)
    for start in range(0, len(previewed), BATCH):
        batch = previewed[start : start + BATCH]
        rows = await store.session.execute(
            select(Submission, Enterprise)
            .join(Enterprise, Enterprise.id == Submission.enterprise_id)
            .where(Submission.id.in_([f.submission_id for f in batch]))
            .execution_options(populate_existing=True)
        )
        found = {s.id: (s, e) for s, e in rows.all()}
        ready = {
            f.submission_id: review.Decision("done", None, *found[f.submission_id])
            for f in batch
            if f.submission_id in found
            and found[f.submission_id][0].round == f.round
            and waiting_level(found[f.submission_id][0].status) == official.level
            and _is_clean(found[f.submission_id][0])
            and scope.covers(found[f.submission_id][1].region_code)
        }
        done = await review.approve_many(store, catalog, official, list(ready.values()), notifier)
        approved = {d.submission.id for d in done if d.submission}
        for f in batch:
            (cleared.approved if f.submission_id in approved else cleared.left_out).append(f.name)
    return cleared


# ---- waiting on the enterprise ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Returned:
    """A form the official's level returned, not yet resubmitted."""

    submission_id: int
    name: str
    returned_at: datetime | None
    nudged_on: date | None


def _returned_by(official: Official) -> ColumnElement[bool]:
    return and_(
        Submission.status == RETURNED,
        Submission.returned_level == official.level,
        officials.within(officials.jurisdiction(official)),
    )


async def returned(
    store: Store, official: Official, number: int, size: int
) -> tuple[list[Returned], int]:
    """A page of the forms waiting on their enterprise, the longest waiting first; the total."""
    base = (
        select(Submission.id, Enterprise.name, Submission.status_at, Submission.nudged_on)
        .join(Enterprise, Enterprise.id == Submission.enterprise_id)
        .where(_returned_by(official))
    )
    total = await store.session.scalar(select(func.count()).select_from(base.subquery()))
    rows = await store.session.execute(
        base.order_by(Submission.status_at, Submission.id).offset(number * size).limit(size)
    )
    return [Returned(*row) for row in rows.all()], int(total or 0)


Nudge = Literal["done", "already", "gone"]


async def nudge(
    store: Store,
    catalog: Catalog,
    official: Official,
    submission_id: int,
    today: date,
    notifier: Notifier,
) -> Nudge:
    """催办: the contacts reminded of the return and its comments, at most once a day per form
    whoever presses and on whichever instance (the day is set only where it is not today's)."""
    row = (
        await store.session.execute(
            select(Submission, Enterprise)
            .join(Enterprise, Enterprise.id == Submission.enterprise_id)
            .where(Submission.id == submission_id, _returned_by(official))
        )
    ).first()
    if row is None:
        return "gone"
    submission, enterprise = row
    claimed = await store.session.execute(
        update(Submission)
        .where(
            Submission.id == submission.id,
            Submission.round == submission.round,
            or_(Submission.nudged_on.is_(None), Submission.nudged_on < today),
        )
        .values(nudged_on=today)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await store.rollback()
        return "already"
    await store.audit.record(
        "review.nudged",
        official.telegram_user_id,
        enterprise_id=enterprise.id,
        submission_id=submission.id,
        level=official.level,
        by_name=official.display_name,
    )
    await store.commit()
    contacts = list(
        (
            await store.session.scalars(
                select(Contact.telegram_user_id).where(
                    Contact.enterprise_id == enterprise.id, Contact.status == "active"
                )
            )
        ).all()
    )
    notes = await review.last_notes(store, submission)
    await store.release()
    days = waited(submission.status_at, today, catalog.campaign.zone)
    await notifier.form_returned(contacts, enterprise, official.level, notes, waited=days)
    return "done"


def waited(since: datetime | None, today: date, zone: tzinfo) -> int:
    """Whole days from a moment to today, by the campaign's calendar."""
    return (today - since.astimezone(zone).date()).days if since else 0
