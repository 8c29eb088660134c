"""Coordinators' broadcasts: who an audience is, queueing one message per recipient, progress."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from domain.catalog import Catalog
from domain.review import LEVEL_NAMES
from services.notifier import Notifier
from storage.models import (
    Broadcast,
    Contact,
    Coordinator,
    Delivery,
    Enterprise,
    Official,
    Submission,
    now,
)
from storage.repositories import Store

AUDIENCES = ("all", "city", "county", "not_submitted", "returned", "officials")


def describe(catalog: Catalog, audience: dict[str, Any]) -> str:
    """The audience in Chinese: 大连市的企业联系人, 未提交的企业联系人 …"""
    regions = catalog.campaign.regions
    kind = audience.get("kind")
    if kind == "city":
        return f"{regions.cities_by_code[audience['code']].name}的企业联系人"
    if kind == "county":
        return f"{regions.counties[audience['code']].full_name}的企业联系人"
    if kind == "officials":
        return f"{LEVEL_NAMES[audience['level']]}级审核人员"
    return {
        "all": "全部企业联系人",
        "not_submitted": "尚未提交的企业联系人",
        "returned": "被退回待修改的企业联系人",
    }[str(kind)]


def valid(catalog: Catalog, audience: dict[str, Any]) -> bool:
    regions = catalog.campaign.regions
    kind = audience.get("kind")
    if kind == "city":
        return audience.get("code") in regions.cities_by_code
    if kind == "county":
        return audience.get("code") in regions.counties
    if kind == "officials":
        return audience.get("level") in LEVEL_NAMES
    return kind in AUDIENCES


async def recipients(store: Store, catalog: Catalog, audience: dict[str, Any]) -> list[int]:
    """The chats an audience reaches, each once."""
    kind = audience["kind"]
    if kind == "officials":
        rows = await store.session.scalars(
            select(Official.telegram_user_id).where(Official.level == audience["level"])
        )
        return list(dict.fromkeys(rows.all()))
    query = (
        select(Contact.telegram_user_id)
        .join(Enterprise, Enterprise.id == Contact.enterprise_id)
        .outerjoin(
            Submission,
            and_(
                Submission.enterprise_id == Enterprise.id,
                Submission.campaign == catalog.campaign.year,
            ),
        )
        .where(Contact.status == "active")
    )
    if kind == "city":
        query = query.where(Enterprise.region_code.like(f"{audience['code'][:4]}%"))
    elif kind == "county":
        query = query.where(Enterprise.region_code == audience["code"])
    elif kind == "not_submitted":
        query = query.where(or_(Submission.id.is_(None), Submission.status == "draft"))
    elif kind == "returned":
        query = query.where(Submission.status == "returned")
    return list(dict.fromkeys((await store.session.scalars(query.order_by(Contact.id))).all()))


async def open_broadcast(
    store: Store,
    draft: str,
    created_by: int,
    audience: dict[str, Any],
    name: str,
    text: str,
    total: int,
) -> Broadcast | None:
    """The broadcast of one confirmed preview; None when that preview was already sent (a
    second press of 确认发送). Flushed, not committed: `send` commits it with its messages."""
    broadcast = Broadcast(
        draft=draft,
        created_by=created_by,
        audience=audience,
        audience_name=name,
        text=text,
        status="running",
        total=total,
        created_at=now(),
    )
    store.session.add(broadcast)
    try:
        await store.session.flush()
    except IntegrityError:
        await store.session.rollback()
        return None
    return broadcast


async def send(store: Store, notifier: Notifier, broadcast: Broadcast, chats: list[int]) -> None:
    """Queue one message per recipient (keyed by broadcast and chat: a retry adds none)."""
    await store.audit.record(
        "broadcast.started",
        broadcast.created_by,
        broadcast=broadcast.id,
        audience=broadcast.audience,
        recipients=len(chats),
    )
    await notifier.broadcast(broadcast.id, chats, broadcast.text)


@dataclass(slots=True)
class Progress:
    total: int
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def finished(self) -> bool:
        return self.waiting == 0


async def progress(store: Store, broadcast_id: int) -> Progress:
    broadcast = await store.session.get(Broadcast, broadcast_id)
    assert broadcast is not None
    rows = await store.session.execute(
        select(Delivery.status, Delivery.reason, func.count())
        .where(Delivery.broadcast_id == broadcast_id)
        .group_by(Delivery.status, Delivery.reason)
    )
    result = Progress(broadcast.total)
    for status, reason, count in rows.all():
        if status == "sent":
            result.sent += count
        elif status in ("failed", "skipped"):
            result.failed += count
            result.reasons[reason or status] += count
        else:
            result.waiting += count
    return result


UNFINISHED = ("pending", "claimed", "sending")


async def unfinished(store: Store, broadcast_id: int) -> bool:
    """Whether any of its messages is still to be sent (one index look-up)."""
    found = await store.session.scalar(
        select(Delivery.id)
        .where(Delivery.broadcast_id == broadcast_id, Delivery.status.in_(UNFINISHED))
        .limit(1)
    )
    return found is not None


async def recent(store: Store, limit: int = 10) -> list[Broadcast]:
    return list(
        (
            await store.session.scalars(
                select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)
            )
        ).all()
    )


async def is_coordinator(store: Store, user_id: int) -> bool:
    found = await store.session.scalar(
        select(Coordinator.id).where(Coordinator.telegram_user_id == user_id)
    )
    return found is not None
