"""The province extends the submission deadline: for itself, a city, a county or one
enterprise; stored, audited, and the contacts concerned told through the delivery queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import and_, select

from domain import clock
from domain.catalog import Catalog
from domain.deadlines import Extension, Scope, extended_until, submission_window
from domain.regions import RegionTable
from domain.review import RETURNED
from services import overview
from services.deadlines import extensions
from services.notifier import Notifier
from services.officials import place_name
from storage.models import Contact, DeadlineExtension, Enterprise, Submission
from storage.repositories import Store

Refused = Literal["past", "early"]


@dataclass(frozen=True, slots=True)
class Target:
    """What an extension names: a place, or one enterprise."""

    scope: Scope
    code: str  # region code, or credit code
    name: str  # 大连市甘井子区, or the enterprise's name


@dataclass(frozen=True, slots=True)
class ExtensionNews:
    """An extension, for one enterprise's contacts."""

    key: str  # the delivery key's stem: told once per extension and contact
    chat_ids: list[int]
    enterprise: str
    place: str
    until: date
    returned: bool


@dataclass(frozen=True, slots=True)
class Extended:
    target: Target
    until: date
    enterprises: int  # forms not yet submitted whose deadline this sets, with a contact
    contacts: int  # … their contacts, told
    unbound: int  # … and those no one has bound to yet: nobody to tell


async def find_targets(store: Store, regions: RegionTable, text: str | None) -> list[Target]:
    """What the typed text names: nothing (the province), a place, or a credit code."""
    text = (text or "").strip()
    if not text:
        return [Target("province", regions.code, regions.name)]
    if len(text) == 18 and text.isalnum():
        enterprise = await store.enterprises.by_credit_code(text.upper())
        return [Target("enterprise", enterprise.credit_code, enterprise.name)] if enterprise else []
    return [
        Target(p.level, p.code, place_name(regions, p)) for p in overview.find_places(regions, text)
    ]


def refusal(catalog: Catalog, until: date) -> Refused | None:
    """An extension moves the deadline later than the campaign's, to a day still to come."""
    collection = catalog.campaign.stage("collection")
    if until < clock.today(catalog.campaign.zone):
        return "past"
    return "early" if until < (collection.end or collection.start) else None


async def extend(
    store: Store,
    catalog: Catalog,
    target: Target,
    until: date,
    actor: int | None,
    notifier: Notifier,
) -> Extended:
    """Grant the extension (check `refusal` first) and tell the contacts of the forms not yet
    submitted whose deadline it sets, in this transaction, which it commits."""
    campaign = catalog.campaign
    row = DeadlineExtension(
        campaign=campaign.year,
        scope=target.scope,
        code=target.code,
        until=until,
        granted_by=actor,
        granted_at=clock.now(),
    )
    store.session.add(row)
    await store.session.flush()
    await store.audit.record(
        "deadline.extended", actor, scope=target.scope, code=target.code, until=until.isoformat()
    )
    granted = Extension(target.scope, target.code, until)
    latest = await extensions(store.session, campaign.year)
    rows = await store.session.execute(
        select(Enterprise, Submission.status, Contact.telegram_user_id)
        .outerjoin(
            Submission,
            and_(Submission.enterprise_id == Enterprise.id, Submission.campaign == campaign.year),
        )
        .outerjoin(
            Contact, and_(Contact.enterprise_id == Enterprise.id, Contact.status == "active")
        )
    )
    news: dict[int, ExtensionNews] = {}
    unbound = 0
    for enterprise, status, user in rows.all():
        if status not in (None, "draft", RETURNED):
            continue
        if not granted.covers(enterprise.region_code, enterprise.credit_code):
            continue
        returned = status == RETURNED
        extension = extended_until(latest, enterprise.region_code, enterprise.credit_code)
        if submission_window(campaign, returned, extension).closes != until:
            continue  # a later extension, or a returned form's own longer window, holds
        if user is None:
            unbound += 1
            continue
        item = news.setdefault(
            enterprise.id,
            ExtensionNews(f"extension:{row.id}", [], enterprise.name, target.name, until, returned),
        )
        item.chat_ids.append(user)
    await notifier.deadline_extended(list(news.values()))  # queued and committed with the row
    await store.commit()
    told = sum(len(n.chat_ids) for n in news.values())
    return Extended(target, until, len(news), told, unbound)
