"""Officials and their bureaus' group chats: invitations, binding, who hears about a form."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError

from domain.regions import RegionTable
from domain.review import LEVEL_NAMES, Jurisdiction, Level
from services.people import TelegramUser
from storage.models import Admin, Coordinator, Enterprise, Invitation, Official, ReviewChat, now
from storage.repositories import Store, token_hash

Refusal = Literal["invalid", "expired", "used", "other_jurisdiction", "not_official"]


class UnknownJurisdiction(ValueError):
    """The level and code do not name a county, a city or the province of the region table."""


def place_name(regions: RegionTable, scope: Jurisdiction) -> str:
    """大连市甘井子区, 大连市, 辽宁省."""
    if scope.level == "county":
        return regions.counties[scope.code].full_name
    if scope.level == "city":
        return regions.cities_by_code[scope.code].name
    return regions.name


def jurisdiction_name(regions: RegionTable, level: str, code: str) -> str:
    """The bureau: 大连市甘井子区科技局, 大连市科技局, 辽宁省科技厅."""
    place = place_name(regions, Jurisdiction(level, code))  # type: ignore[arg-type]
    return place + ("科技厅" if level == "province" else "科技局")


def jurisdiction_of(regions: RegionTable, code: str) -> Jurisdiction:
    """The jurisdiction a bare code names: a county, a city or the province."""
    for level in ("county", "city", "province"):
        try:
            return Jurisdiction(check_jurisdiction(regions, level, code), code)
        except UnknownJurisdiction:
            continue
    raise UnknownJurisdiction(f"没有代码为 {code} 的区县、市或省")


def within(j: Jurisdiction) -> ColumnElement[bool]:
    """Enterprises of the jurisdiction, as a WHERE clause (the SQL twin of Jurisdiction.covers)."""
    if j.level == "county":
        return Enterprise.region_code == j.code
    return Enterprise.region_code.like(f"{j.code[: 4 if j.level == 'city' else 2]}%")


def code_or_province(regions: RegionTable, level: str, code: str) -> str:
    """The jurisdiction's code; the province needs none, there being one."""
    return code or (regions.code if level == "province" else "")


def check_jurisdiction(regions: RegionTable, level: str, code: str) -> Level:
    known = {
        "county": code in regions.counties,
        "city": code in regions.cities_by_code,
        "province": code == regions.code,
    }
    if not known.get(level):
        raise UnknownJurisdiction(f"{LEVEL_NAMES.get(level, level)} 级没有代码 {code}")
    return level  # type: ignore[return-value]


async def invite(
    store: Store,
    regions: RegionTable,
    kind: Literal["official", "group", "coordinator", "admin"],
    level: str,
    code: str,
    valid_for: timedelta,
) -> str:
    """A one-time code: an official's, a coordinator's or an admin's deep link, or a group's
    /bindgroup code."""
    if kind in ("official", "group"):
        check_jurisdiction(regions, level, code)
    token = secrets.token_urlsafe(24)
    store.invitations.add(
        Invitation(
            token_sha256=token_hash(token),
            kind=kind,
            level=level,
            region_code=code,
            expires_at=now() + valid_for,
        )
    )
    return token


@dataclass(frozen=True, slots=True)
class OfficialBinding:
    official: Official | None = None
    refused: Refusal | None = None


async def _claim(store: Store, token: str, kind: str, user_id: int) -> Invitation | Refusal:
    invitation = await store.invitations.by_token(token) if len(token) <= 64 else None
    if invitation is None or invitation.kind != kind:
        return "invalid"
    if invitation.used_at is not None:
        return "used"
    if invitation.expires_at <= now():
        return "expired"
    if not await store.invitations.use(invitation, user_id):
        return "used"
    return invitation


async def bind_official(store: Store, user: TelegramUser, token: str) -> OfficialBinding:
    claimed = await _claim(store, token, "official", user.id)
    if isinstance(claimed, str):
        return OfficialBinding(refused=claimed)
    official = await of_user(store, user.id)
    if official is None:
        official = Official(
            telegram_user_id=user.id,
            display_name=user.display_name,
            level=claimed.level,
            region_code=claimed.region_code,
        )
        store.session.add(official)
    else:  # a new invitation moves the official to the new jurisdiction
        official.level, official.region_code = claimed.level or "", claimed.region_code or ""
    await store.audit.record(
        "official.bound", user.id, level=claimed.level, region_code=claimed.region_code
    )
    await store.commit()
    return OfficialBinding(official)


async def bind_role(
    store: Store, user: TelegramUser, token: str, kind: Literal["coordinator", "admin"]
) -> Refusal | None:
    """A coordinator's or an admin's one-time link: the person gets the role (None), or why not."""
    claimed = await _claim(store, token, kind, user.id)
    if isinstance(claimed, str):
        return claimed
    model: type[Coordinator | Admin] = Coordinator if kind == "coordinator" else Admin
    exists = await store.session.scalar(select(model.id).where(model.telegram_user_id == user.id))
    if exists is None:
        store.session.add(
            model(telegram_user_id=user.id, display_name=user.display_name, created_at=now())
        )
    await store.audit.record(f"{kind}.bound", user.id)
    await store.commit()
    return None


async def bind_group(store: Store, user_id: int, chat_id: int, token: str) -> Refusal | ReviewChat:
    """/bindgroup: an official binds their bureau's group with a code of their jurisdiction."""
    official = await of_user(store, user_id)
    if official is None:
        return "not_official"
    invitation = await store.invitations.by_token(token) if len(token) <= 64 else None
    if invitation is None or invitation.kind != "group":
        return "invalid"
    if (invitation.level, invitation.region_code) != (official.level, official.region_code):
        return "other_jurisdiction"
    claimed = await _claim(store, token, "group", user_id)
    if isinstance(claimed, str):
        return claimed
    chat = await store.session.scalar(select(ReviewChat).where(ReviewChat.chat_id == chat_id))
    if chat is None:
        chat = ReviewChat(
            chat_id=chat_id,
            bound_by=user_id,
            level=official.level,
            region_code=official.region_code,
        )
        store.session.add(chat)
    else:
        chat.level, chat.region_code, chat.bound_by = official.level, official.region_code, user_id
    await store.audit.record(
        "group.bound",
        user_id,
        chat_id=chat_id,
        level=official.level,
        region_code=official.region_code,
    )
    try:
        await store.commit()
    except IntegrityError:  # the same group bound a moment ago
        await store.rollback()
    return chat


async def invitation_kind(store: Store, token: str) -> str:
    """What a deep-link code is for ("" when it is no code of ours)."""
    invitation = await store.invitations.by_token(token) if 0 < len(token) <= 64 else None
    return invitation.kind if invitation else ""


async def of_user(store: Store, user_id: int) -> Official | None:
    return await store.session.scalar(select(Official).where(Official.telegram_user_id == user_id))


async def is_bureau_group(store: Store, official: Official, chat_id: int) -> bool:
    """The chat is a group bound to the official's own bureau (their level and jurisdiction)."""
    bound = await store.session.scalar(
        select(ReviewChat.id).where(
            ReviewChat.chat_id == chat_id,
            ReviewChat.level == official.level,
            ReviewChat.region_code == official.region_code,
        )
    )
    return bound is not None


def jurisdiction(official: Official) -> Jurisdiction:
    return Jurisdiction(official.level, official.region_code)  # type: ignore[arg-type]


async def alert_chats(store: Store, level: str, region_code: str, private: bool) -> list[int]:
    """Where a form waiting at `level` is announced: the bureau's groups, and its officials."""
    groups = (
        await store.session.scalars(select(ReviewChat).where(ReviewChat.level == level))
    ).all()
    chats = [g.chat_id for g in groups if Jurisdiction(level, g.region_code).covers(region_code)]  # type: ignore[arg-type]
    if private:
        officials = (
            await store.session.scalars(select(Official).where(Official.level == level))
        ).all()
        chats += [o.telegram_user_id for o in officials if jurisdiction(o).covers(region_code)]
    return list(dict.fromkeys(chats))
