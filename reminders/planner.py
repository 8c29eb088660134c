"""What reminders are due today, and to whom: the calendar decides the kinds, the database the
recipients. Each reminder is keyed by (kind, day, chat), so planning a day twice — a restart, a
second tick, a second instance — queues it once."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts import render
from domain.calendar import days_left, due_days, due_on, local, sending_now
from domain.catalog import Catalog
from domain.deadlines import extended_until, submission_window
from domain.review import WAITING, Jurisdiction
from services import deadlines
from services.form import SUBMITTED
from services.officials import jurisdiction_name
from storage.models import Answer, Contact, Enterprise, Official, Submission
from storage.repositories import Outgoing, cancel_reminders

REMINDER = 1  # delivery priority: after officials' alerts


def _key(kind: str, day: date, chat_id: int) -> str:
    return f"reminder:{kind}:{day.isoformat()}:{chat_id}"


async def plan(
    session: AsyncSession, catalog: Catalog, day: date, bot_username: str
) -> list[Outgoing]:
    """Every reminder due on `day`."""
    messages: list[Outgoing] = []
    for kind in due_on(catalog.campaign, day) + await _extended_countdown(session, catalog, day):
        messages += await _BUILDERS[kind](session, catalog, day, kind, bot_username)
    return messages


async def _extended_countdown(session: AsyncSession, catalog: Catalog, day: date) -> list[str]:
    """The countdown on the days it is not due by the campaign's dates but may be due to the
    contacts of an extended deadline (the builder picks each contact's own days)."""
    campaign = catalog.campaign
    kind = campaign.reminders.kinds.get("countdown")
    if kind is None or not kind.enabled or "countdown" in due_on(campaign, day):
        return []
    latest = max(
        (e.until for e in await deadlines.extensions(session, campaign.year)), default=None
    )
    return ["countdown"] if latest and campaign.stage(kind.stage).start <= day <= latest else []


async def drop_resolved(session: AsyncSession, campaign: int) -> None:
    """Pending reminders to submit (the countdown, a returned form's) for contacts whose form is
    submitted by now. A submission cancels those already queued; this catches the ones a tick
    was planning meanwhile, from a draft it had read just before."""
    submitted = (
        select(Contact.telegram_user_id)
        .join(
            Submission,
            and_(
                Submission.enterprise_id == Contact.enterprise_id, Submission.campaign == campaign
            ),
        )
        .where(Submission.status.in_(SUBMITTED))
    )
    await cancel_reminders(session, submitted, kinds=("countdown", "returned"))


async def _contacts(
    session: AsyncSession, campaign: int, *where: object
) -> list[tuple[int, Enterprise, Submission | None]]:
    """(Telegram user, enterprise, submission) of active contacts, filtered by `where`."""
    query = (
        select(Contact.telegram_user_id, Enterprise, Submission)
        .join(Enterprise, Enterprise.id == Contact.enterprise_id)
        .outerjoin(
            Submission,
            and_(Submission.enterprise_id == Enterprise.id, Submission.campaign == campaign),
        )
        .where(Contact.status == "active", *where)  # type: ignore[arg-type]
    )
    return [(u, e, s) for u, e, s in (await session.execute(query)).all()]


def _deadline(catalog: Catalog, stage: str) -> str:
    last = catalog.campaign.stage(stage)
    end = last.end or last.start
    return f"{end.month}月{end.day}日"


async def _opening(
    session: AsyncSession, catalog: Catalog, day: date, kind: str, username: str
) -> list[Outgoing]:
    link = f"https://t.me/{username}?start=form" if username else "/start"
    return [
        Outgoing(
            _key(kind, day, user),
            user,
            render(
                "reminder_opening",
                campaign=catalog.campaign,
                enterprise=enterprise.name,
                deadline=_deadline(catalog, "collection"),
                link=link,
            ),
            REMINDER,
        )
        for user, enterprise, _ in await _contacts(session, catalog.campaign.year)
    ]


async def _countdown(
    session: AsyncSession, catalog: Catalog, day: date, kind: str, username: str
) -> list[Outgoing]:
    pending = await _contacts(
        session, catalog.campaign.year, or_(Submission.id.is_(None), Submission.status == "draft")
    )
    progress = await _progress(session, catalog, [s.id for _, _, s in pending if s])
    extensions = await deadlines.extensions(session, catalog.campaign.year)
    required = len(catalog.required_names)
    asked = sum(1 for f in catalog.fields if not f.follows)  # as the form counts, before 榜单
    messages = []
    for user, enterprise, submission in pending:
        end = submission_window(
            catalog.campaign,
            False,
            extended_until(extensions, enterprise.region_code, enterprise.credit_code),
        ).closes
        if day not in (due_days(catalog.campaign, kind, end) or ()):
            continue  # not one of the days before this contact's deadline
        done, answered_required = progress.get(submission.id if submission else 0, (0, 0))
        messages.append(
            Outgoing(
                _key(kind, day, user),
                user,
                render(
                    "reminder_countdown",
                    enterprise=enterprise.name,
                    days_left=days_left(catalog.campaign, "collection", day, end),
                    deadline=end,
                    percent=100 * done // asked,
                    missing=required - answered_required,
                ),
                REMINDER,
            )
        )
    return messages


async def _progress(
    session: AsyncSession, catalog: Catalog, submission_ids: list[int]
) -> dict[int, tuple[int, int]]:
    """Per submission: fields settled, required fields answered."""
    if not submission_ids:
        return {}
    settled = and_(Answer.confirmed, or_(Answer.value.is_not(None), Answer.source == "skipped"))
    required = Answer.field.in_(catalog.required_names)
    answered_required = case((and_(required, Answer.value.is_not(None)), 1), else_=0)
    rows = await session.execute(
        select(Answer.submission_id, func.count(), func.sum(answered_required))
        .where(Answer.submission_id.in_(submission_ids), settled)
        .group_by(Answer.submission_id)
    )
    return {s: (int(n), int(r or 0)) for s, n, r in rows.all()}


async def _returned(
    session: AsyncSession,
    catalog: Catalog,
    day: date,
    kind: str,
    username: str,
    by_province: bool = False,
) -> list[Outgoing]:
    where = [Submission.status == "returned"]
    if by_province:
        where.append(Submission.returned_level == "province")
    messages = []
    for user, enterprise, submission in await _contacts(session, catalog.campaign.year, *where):
        assert submission is not None
        labels = [
            catalog.by_name[n].label for n in submission.reopened or () if n in catalog.by_name
        ]
        messages.append(
            Outgoing(
                _key(kind, day, user),
                user,
                render(
                    "reminder_returned", enterprise=enterprise.name, fields=labels or ["见审核意见"]
                ),
                REMINDER,
            )
        )
    return messages


async def _recheck(
    session: AsyncSession, catalog: Catalog, day: date, kind: str, username: str
) -> list[Outgoing]:
    return await _returned(session, catalog, day, kind, username, by_province=True)


async def _digest(
    session: AsyncSession, catalog: Catalog, day: date, kind: str, username: str
) -> list[Outgoing]:
    """Officials with forms waiting at their level in their jurisdiction."""
    levels = ("county", "city") if kind.startswith("local") else ("province",)
    stage = "local_review" if kind.startswith("local") else "province_review"
    countdown = kind.endswith("countdown")
    waiting = (
        await session.execute(
            select(Submission.status, Enterprise.region_code, Enterprise.credit_code)
            .join(Enterprise, Enterprise.id == Submission.enterprise_id)
            .where(
                Submission.campaign == catalog.campaign.year,
                Submission.status.in_([WAITING[level] for level in levels]),
            )  # type: ignore[index]
        )
    ).all()
    lateness = await deadlines.Lateness.read(session, catalog)
    by_status: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for status, region, code in waiting:
        by_status[status].append((region or "", lateness.late(status, region, code)))
    officials = (await session.scalars(select(Official).where(Official.level.in_(levels)))).all()
    messages = []
    for official in officials:
        area = Jurisdiction(official.level, official.region_code)  # type: ignore[arg-type]
        mine = [late for r, late in by_status[WAITING[official.level]] if area.covers(r)]  # type: ignore[index]
        count = len(mine)
        if not count:
            continue
        messages.append(
            Outgoing(
                _key(kind, day, official.telegram_user_id),
                official.telegram_user_id,
                render(
                    "reminder_digest",
                    count=count,
                    overdue=sum(mine),
                    bureau=jurisdiction_name(
                        catalog.campaign.regions, official.level, official.region_code
                    ),
                    days_left=days_left(catalog.campaign, stage, day) if countdown else None,
                    deadline=_deadline(catalog, stage),
                ),
                REMINDER,
            )
        )
    return messages


async def _results(
    session: AsyncSession, catalog: Catalog, day: date, kind: str, username: str
) -> list[Outgoing]:
    text = render("reminder_results", campaign=catalog.campaign, day=f"{day.month}月{day.day}日")
    users = [u for u, _, _ in await _contacts(session, catalog.campaign.year)]
    users += list((await session.scalars(select(Official.telegram_user_id))).all())
    return [Outgoing(_key(kind, day, u), u, text, REMINDER) for u in dict.fromkeys(users)]


_BUILDERS = {
    "opening": _opening,
    "countdown": _countdown,
    "returned": _returned,
    "local_digest": _digest,
    "local_countdown": _digest,
    "province_digest": _digest,
    "province_countdown": _digest,
    "recheck": _recheck,
    "results": _results,
}


def today(catalog: Catalog, moment: datetime) -> date | None:
    """The local day whose reminders may go out at `moment`, or None outside sending hours."""
    if not sending_now(catalog.campaign, moment):
        return None
    return local(catalog.campaign, moment).date()
