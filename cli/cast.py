"""Who `python main.py chat` lets you be. With `--demo`: the first demo enterprise's contact,
the reviewers of its county, city and province (each also in their bureau's group chat), an
admin and a coordinator — bound once in the demo database, so a newcomer can follow one form
from the contact through every level of the review. Without it: only the contact."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import clock
from domain.catalog import Catalog
from services import broadcasts, officials
from services.enterprises import preload
from services.people import TelegramUser
from storage.models import Admin, ReviewChat
from storage.repositories import Store

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo_enterprises.json"
PHONE = "13800000001"  # what #0 shares without the demo


def demo_day(catalog: Catalog) -> date:
    """The demo walks the whole form whatever the date: outside the collection window (the real
    date's or CXJF_TODAY's) its calendar starts on the window's first day."""
    c = catalog.campaign
    window = c.stage("collection")
    day = clock.today(c.zone)
    if not window.start <= day <= (window.end or window.start):
        clock.pin(window.start, c.zone)
        day = window.start
    return day


@dataclass(frozen=True, slots=True)
class Role:
    key: str  # contact, county, city, province, admin, coordinator (for --as)
    alias: str  # 企业, 区县, 市, 省, 管理员, 协调人 (for :as)
    title: str  # 企业联系人, 区县审核员, …
    user_id: int
    name: str
    phone: str  # what the phone-sharing button shares
    where: str = ""  # the enterprise, or the bureau
    level: str = ""  # an official's
    code: str = ""
    group: int | None = None  # the chat id of the bureau's group

    @property
    def chats(self) -> tuple[int, ...]:
        """Where the bot talks to them: their private chat, and an official's bureau group."""
        return (self.user_id, self.group) if self.group else (self.user_id,)

    @property
    def group_title(self) -> str:
        return f"{self.where}审核群"


# key, alias, title, user id, name; the contact's user id is --user.
_PEOPLE = (
    ("contact", "企业", "企业联系人", 0, "张伟"),
    ("county", "区县", "区县审核员", 20001, "王科长"),
    ("city", "市", "市级审核员", 20002, "李处长"),
    ("province", "省", "省级审核员", 20003, "赵处长"),
    ("admin", "管理员", "管理员", 20004, "吴工"),
    ("coordinator", "协调人", "协调人", 20005, "孙老师"),
)
NAMES = tuple(name for key, alias, *_ in _PEOPLE for name in (key, alias))


def find(cast: dict[str, Role], name: str) -> Role | None:
    """A role by its key or its Chinese name."""
    return next((r for r in cast.values() if name.strip() in (r.key, r.alias)), None)


def contact_only(user_id: int) -> dict[str, Role]:
    key, alias, title, _, name = _PEOPLE[0]
    return {key: Role(key, alias, title, user_id, name, PHONE)}


async def demo_cast(
    sessions: async_sessionmaker[AsyncSession], catalog: Catalog, user_id: int, path: Path = DEMO
) -> dict[str, Role]:
    """Load the demo enterprises and bind everyone else around the first of them."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    regions = catalog.campaign.regions
    first = rows[0]
    county = str(first["region_code"])
    places = {
        "county": county,
        "city": regions.counties[county].city_code,
        "province": regions.code,
    }
    cast = {}
    for number, (key, alias, title, uid, name) in enumerate(_PEOPLE, start=1):
        if key == "contact":
            where, phone = str(first["enterprise_name"]), str(first["contact_mobile"])
            role = Role(key, alias, title, user_id, name, phone, where)
        elif key in places:
            bureau = officials.jurisdiction_name(regions, key, places[key])
            role = Role(
                key, alias, title, uid, name, f"1390000000{number}", bureau, key, places[key], -uid
            )
        else:
            role = Role(key, alias, title, uid, name, f"1390000000{number}")
        cast[key] = role
    async with sessions() as session:
        store = Store(session)
        for row in rows:
            await preload(store, catalog, {catalog.by_key[k].name: v for k, v in row.items()})
        await store.commit()
        for role in cast.values():
            await _enlist(store, catalog, role)
    return cast


async def is_bound(sessions: async_sessionmaker[AsyncSession], user_id: int) -> bool:
    """Whether the contact has bound an enterprise already (a chat resumed)."""
    async with sessions() as session:
        return await Store(session).contacts.by_user(user_id) is not None


async def _enlist(store: Store, catalog: Catalog, role: Role) -> None:
    """Bind the role the way its invitation would, unless it is bound already."""
    regions, user = catalog.campaign.regions, TelegramUser(role.user_id, role.name)
    week = timedelta(days=7)
    if role.level:
        official = await officials.of_user(store, role.user_id)
        if official is None or (official.level, official.region_code) != (role.level, role.code):
            token = await officials.invite(store, regions, "official", role.level, role.code, week)
            await officials.bind_official(store, user, token)
        bound = await store.session.scalar(
            select(ReviewChat).where(ReviewChat.chat_id == role.group)
        )
        if role.group and (bound is None or bound.region_code != role.code):
            token = await officials.invite(store, regions, "group", role.level, role.code, week)
            await officials.bind_group(store, role.user_id, role.group, token)
    elif role.key in ("admin", "coordinator"):
        kind: Literal["admin", "coordinator"] = role.key  # type: ignore[assignment]
        if not await _has_role(store, kind, role.user_id):
            token = await officials.invite(store, regions, kind, "province", "", week)
            await officials.bind_role(store, user, token, kind)


async def _has_role(store: Store, kind: Literal["admin", "coordinator"], user_id: int) -> bool:
    if kind == "coordinator":
        return await broadcasts.is_coordinator(store, user_id)
    found = await store.session.scalar(select(Admin.id).where(Admin.telegram_user_id == user_id))
    return found is not None
