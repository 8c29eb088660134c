"""Admins' and officials' views of the campaign: /status (counts per city or county) and /find.

An admin sees the province, an official their own jurisdiction; asking about a place outside it
answers "无权限". A contact's /status is their own form's (handlers/form.py): /status reaches
this router only from admins and officials.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.texts import phrase, render
from domain.catalog import Catalog
from domain.review import Jurisdiction
from services import officials, overview
from storage.models import now
from storage.repositories import Store


async def viewer(
    message: Message, store: Store, catalog: Catalog, is_admin: bool
) -> dict[str, Any] | bool:
    """Filter: the sender is an admin or an official; gives the handler their `scope`."""
    if is_admin:
        return {"scope": Jurisdiction("province", catalog.campaign.regions.code)}
    official = await officials.of_user(store, message.from_user.id) if message.from_user else None
    return {"scope": officials.jurisdiction(official)} if official else False


async def cmd_status(
    message: Message, command: CommandObject, scope: Jurisdiction, store: Store, catalog: Catalog
) -> None:
    regions = catalog.campaign.regions
    if command.args:
        places = overview.find_places(regions, command.args)
        if len(places) != 1:
            names = [overview.place_name(regions, p) for p in places]
            await message.answer(render("place_unknown", text=command.args.strip(), names=names))
            return
        if not scope.covers(places[0].code):
            await message.answer(render("no_permission"))
            return
        scope = places[0]
    result = await overview.tally(
        store, regions, catalog.campaign.year, scope, overview.default_grouping(scope)
    )
    await message.answer(
        render(
            "overview",
            view=result,
            buckets=overview.BUCKETS,
            year=catalog.campaign.year,
            at=now().astimezone(catalog.campaign.zone),
        )
    )


async def cmd_find(
    message: Message, command: CommandObject, store: Store, catalog: Catalog, is_admin: bool
) -> None:
    seen = await viewer(message, store, catalog, is_admin)
    if not isinstance(seen, dict):
        await message.answer(phrase("staff_only"))
        return
    text = (command.args or "").strip()
    if len(text) < 2 or len(text) > 100:
        await message.answer(render("find_usage"))
        return
    found, matched = await overview.find(store, catalog.campaign.year, seen["scope"], text)
    counties = catalog.campaign.regions.counties
    await message.answer(
        render(
            "found",
            text=text,
            found=found,
            matched=matched,
            buckets=overview.BUCKETS,
            region=lambda code: counties[code].full_name if code in counties else "未知地区",
        )
    )


def router() -> Router:
    r = Router(name="overview")
    r.message.filter(F.chat.type == "private")
    r.message.register(cmd_status, Command("status"), viewer)
    r.message.register(cmd_find, Command("find"))
    return r
