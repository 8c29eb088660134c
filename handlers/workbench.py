"""The officials' workbench: their welcome, the work list, approving the clean forms together,
the forms waiting on the enterprise, and the queue as a workbook."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import CommandStart
from aiogram.types import Message

from bot.filters import PRIVATE
from bot.texts import render
from domain.catalog import Catalog
from domain.review import LEVEL_NAMES
from services import officials, workbench
from storage.models import Contact, Official
from storage.repositories import Store


async def official_at_start(
    message: Message, store: Store, contact: Contact | None = None
) -> dict[str, Any] | bool:
    """Filter: a bare /start from an official who fills in no form (an enterprise's contact
    gets their form)."""
    if (message.text or "").split()[1:] or message.from_user is None:
        return False
    if contact is not None and contact.status != "refused":
        return False
    official = await officials.of_user(store, message.from_user.id)
    return {"official": official} if official else False


async def official_welcome(
    message: Message, store: Store, catalog: Catalog, official: Official
) -> None:
    await message.answer(
        render(
            "official_welcome",
            official=official,
            bureau=officials.jurisdiction_name(
                catalog.campaign.regions, official.level, official.region_code
            ),
            level=LEVEL_NAMES[official.level],
            waiting=await workbench.waiting(store, official),
        )
    )


def router() -> Router:
    r = Router(name="workbench")
    r.message.register(official_welcome, CommandStart(), PRIVATE, official_at_start)
    return r
