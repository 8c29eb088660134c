"""Where the campaign stands: counts by status per city or county, and finding enterprises.

Admins see the province; an official sees their jurisdiction only. An enterprise counts once, in
the bucket of its form's status; one whose contact has not touched the form yet (no form, or a
draft holding only unchecked pre-loaded values) is "not started".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Any, Literal

from sqlalchemy import Select, exists, func, or_, select

from domain.catalog import Catalog
from domain.regions import RegionTable
from domain.review import WAITING, Jurisdiction, Level
from domain.text import visible
from services import officials
from services.deadlines import Lateness
from storage.models import Answer, AuditEntry, Contact, Enterprise, Submission
from storage.repositories import Store

# The buckets in the order people read them, and their names.
BUCKETS: dict[str, str] = {
    "not_started": "未开始",
    "in_progress": "填报中",
    "submitted": "区县审核",
    "city_review": "市级审核",
    "province_review": "省级审核",
    "returned": "已退回",
    "reported": "已上报",
}
# Forms that have been submitted at least once (a returned one counts: it met the deadline).
SUBMITTED = ("submitted", "city_review", "province_review", "returned", "reported")

GroupBy = Literal["city", "county"]


@dataclass(slots=True)
class Tally:
    """The enterprises of one place (or of the whole scope: the total row)."""

    code: str
    name: str
    counts: Counter[str] = field(default_factory=Counter)
    oldest: int | None = None  # days the longest-waiting form has waited at its level
    overdue: int = 0  # forms waiting past their level's deadline (逾期)

    def waiting(self, level: Level) -> int:
        return self.counts[WAITING[level]]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def submitted(self) -> int:
        return sum(self.counts[b] for b in SUBMITTED)

    @property
    def rate(self) -> float:
        return self.submitted / self.total if self.total else 0.0


@dataclass(slots=True)
class Overview:
    scope: Jurisdiction
    scope_name: str
    by: GroupBy
    rows: list[Tally]
    total: Tally


def _grouping(scope: Jurisdiction) -> GroupBy:
    """The province by city; a city or a county by county."""
    return "city" if scope.level == "province" else "county"


def find_places(regions: RegionTable, text: str) -> list[Jurisdiction]:
    """The places a typed code or name means: 210200, 大连, 大连市, 甘井子区, 辽宁省."""
    text = text.strip()
    try:
        return [officials.jurisdiction_of(regions, text)]
    except officials.UnknownJurisdiction:
        pass
    if text in (regions.name, regions.name.removesuffix("省")):
        return [Jurisdiction("province", regions.code)]
    cities = [c for c in regions.cities if text in (c.name, c.name.removesuffix("市"))]
    if cities:
        return [Jurisdiction("city", c.code) for c in cities]
    return [Jurisdiction("county", c.code) for c in regions.find_counties(text)]


# A contact has answered or checked something: the form is in progress.
_STARTED = exists().where(Answer.submission_id == Submission.id, Answer.answered_by.is_not(None))
_STATUS = func.coalesce(Submission.status, "none")


def with_form(query: Select[Any], campaign: int) -> Select[Any]:
    """Each enterprise with its form of the campaign, if it has one."""
    return query.outerjoin(
        Submission, (Submission.enterprise_id == Enterprise.id) & (Submission.campaign == campaign)
    )


async def tally(
    store: Store,
    regions: RegionTable,
    campaign: int,
    scope: Jurisdiction,
    by: GroupBy | None = None,
) -> Overview:
    """The scope's enterprises by bucket, per place (`by`; by default one level down)."""
    by = by or _grouping(scope)
    forms = (
        with_form(
            select(
                Enterprise.region_code.label("region"),
                _STATUS.label("status"),
                _STARTED.label("started"),
            ),
            campaign,
        )
        .where(Enterprise.status == "active", officials.within(scope))
        .subquery()
    )
    rows = await store.session.execute(
        select(forms.c.region, forms.c.status, forms.c.started, func.count()).group_by(
            forms.c.region, forms.c.status, forms.c.started
        )
    )
    places = _places(regions, scope, by)
    total = Tally(scope.code, officials.place_name(regions, scope))
    for region_code, status, was_started, count in rows:
        name = bucket(status, bool(was_started))
        place = _place(places, region_code, by)
        place.counts[name] += count
        total.counts[name] += count
    await store.release()
    return Overview(scope, total.name, by, list(places.values()), total)


def _key(region_code: str | None, by: GroupBy) -> str:
    return (region_code or "")[: 6 if by == "county" else 4]


def _place(places: dict[str, Tally], region_code: str | None, by: GroupBy) -> Tally:
    key = _key(region_code, by)
    return places.get(key) or places.setdefault(key, Tally(region_code or "", "未知地区"))


async def board(
    store: Store, catalog: Catalog, scope: Jurisdiction, by: GroupBy | None = None
) -> Overview:
    """/status and `status`: the tally per place with the review columns, so a level that is
    behind shows at a glance."""
    campaign = catalog.campaign
    view = await tally(store, campaign.regions, campaign.year, scope, by)
    await _waits(store, view, campaign.year, await Lateness.read(store.session, catalog))
    return view


async def _waits(store: Store, view: Overview, campaign: int, lateness: Lateness) -> None:
    """Per place, the longest wait at a level and the forms past their level's deadline (what
    is waiting at each level is in the counts already)."""
    rows = await store.session.execute(
        select(
            Enterprise.region_code, Enterprise.credit_code, Submission.status, Submission.status_at
        )
        .join(Submission, Submission.enterprise_id == Enterprise.id)
        .where(
            Submission.campaign == campaign,
            Submission.status.in_(list(WAITING.values())),
            Enterprise.status == "active",
            officials.within(view.scope),
        )
    )
    places = {_key(t.code, view.by): t for t in view.rows}
    zone = lateness.campaign.zone
    for region, code, status, since in rows.all():
        days = (lateness.today - since.astimezone(zone).date()).days if since else 0
        late = lateness.late(status, region, code)
        for tally in (_place(places, region, view.by), view.total):
            tally.oldest = max(tally.oldest or 0, days)
            tally.overdue += late
    await store.release()


def _places(regions: RegionTable, scope: Jurisdiction, by: GroupBy) -> dict[str, Tally]:
    """Every place of the scope, in the region table's order, even those with no enterprise."""
    if by == "city":
        cities = [c for c in regions.cities if scope.covers(c.code)]
        return {_key(c.code, by): Tally(c.code, c.name) for c in cities}
    counties = [c for c in regions.counties.values() if scope.covers(c.code)]
    return {
        c.code: Tally(c.code, c.name if scope.level != "province" else c.full_name)
        for c in counties
    }


def bucket(status: str, started: bool) -> str:
    if status in ("none", "draft"):
        return "in_progress" if started else "not_started"
    return status if status in BUCKETS else "in_progress"


async def daily_submissions(
    store: Store, campaign: int, scope: Jurisdiction, zone: tzinfo
) -> dict[date, int]:
    """Forms submitted for the first time, per local day (resubmissions after a return are not
    counted again)."""
    first = (
        select(func.min(AuditEntry.at))
        .join(Submission, Submission.id == AuditEntry.submission_id)
        .join(Enterprise, Enterprise.id == Submission.enterprise_id)
        .where(
            AuditEntry.action == "submission.submitted",
            Submission.campaign == campaign,
            officials.within(scope),
        )
        .group_by(AuditEntry.submission_id)
    )
    days: Counter[date] = Counter()
    for (at,) in await store.session.execute(first):
        days[at.astimezone(zone).date()] += 1
    await store.release()
    return dict(sorted(days.items()))


@dataclass(slots=True)
class Found:
    enterprise: Enterprise
    status: str  # a bucket of BUCKETS
    contacts: list[Contact]


async def find(
    store: Store, campaign: int, scope: Jurisdiction, text: str, limit: int = 10
) -> tuple[list[Found], int]:
    """/find: enterprises of the scope whose credit code starts with, or whose name contains,
    the text; at most `limit` of them, and how many matched."""
    text = visible(text).strip()
    text = text.upper() if _looks_like_code(text) else text
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    where = (
        officials.within(scope),
        or_(
            Enterprise.credit_code.like(f"{pattern}%", escape="\\"),
            Enterprise.name.like(f"%{pattern}%", escape="\\"),
        ),
    )
    matched = int(
        await store.session.scalar(select(func.count()).select_from(Enterprise).where(*where)) or 0
    )
    rows = await store.session.execute(
        with_form(select(Enterprise, _STATUS, _STARTED), campaign)
        .where(*where)
        .order_by(Enterprise.region_code, Enterprise.name)
        .limit(limit)
    )
    found = []
    for enterprise, status, started in rows.all():
        contacts = (
            await store.session.scalars(
                select(Contact).where(Contact.enterprise_id == enterprise.id).order_by(Contact.id)
            )
        ).all()
        found.append(Found(enterprise, bucket(status, bool(started)), list(contacts)))
    await store.release()
    return found, matched


def _looks_like_code(text: str) -> bool:
    text = text.strip()
    return len(text) >= 4 and text.isascii() and text.isalnum()
