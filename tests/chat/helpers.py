"""Driving a whole form through the chat, screen by screen, as a person would."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.storage.base import StorageKey

from bot.offline import BOT_USER, OfflineChat, texts
from domain.catalog import Catalog, Kind
from tests.chat.conftest import World


async def conversation(world: World, person: OfflineChat) -> dict[str, Any]:
    """The person's conversation state as stored."""
    key = StorageKey(bot_id=BOT_USER.id, chat_id=person.chat.id, user_id=person.user.id)
    return await world.dispatcher.storage.get_data(key)


async def screen(world: World, person: OfflineChat) -> dict[str, Any]:
    """Where the person is, as the conversation state stores it."""
    return (await conversation(world, person)).get("at") or {}


async def from_menu(person: OfflineChat, section: str, label: str) -> list[str]:
    """From the first pre-loaded screen through the menu to one field of a section."""
    for button in ("修改其中几项", "企业名称", "菜单", section):
        await person.press(button)
    return texts(await person.press(label))


def typed(catalog: Catalog, name: str, value: object) -> str:
    """A value as a person types it."""
    f = catalog.by_name[name]
    if f.kind is Kind.MULTI:
        return "、".join(value)  # type: ignore[arg-type]
    if f.kind is Kind.YES_NO:
        return "是" if value else "否"
    return str(value)


async def answer_current(
    world: World, person: OfflineChat, answers: dict[str, object]
) -> list[str]:
    """Answer the question on screen with its value from `answers`, the way the screen asks."""
    at = await screen(world, person)
    name = at["field"]
    f = world.catalog.by_name[name]
    value = answers.get(name)
    if value is None:
        return texts(await person.press("跳过"))
    if f.kind is Kind.CHOICE:
        return texts(await person.press(str(value)))
    if f.kind is Kind.YES_NO:
        return texts(await person.press("是" if value else "否"))
    if f.kind is Kind.MULTI:
        for option in value:  # type: ignore[attr-defined]
            await person.press(option)
        return texts(await person.press("完成"))
    return texts(await person.send(typed(world.catalog, name, value)))


async def sign(person: OfflineChat) -> list[str]:
    """From the summary: 签署, the review pages confirmed, the commitment agreed; what was said
    (the submission's notice last)."""
    said = texts(await person.press("签署承诺书并提交"))
    said += texts(await person.press("内容无误"))
    return said + texts(await person.press("我已阅读并同意"))


def _way_on(person: OfflineChat) -> str:
    """On a screen of problems or a conversion: the button that accepts it and goes on."""
    labels = [b.text for _, m in person.keyboards()[-1:] for row in m.inline_keyboard for b in row]
    return next(b for b in labels if any(w in b for w in ("数据无误", "换算正确", "继续")))


async def fill(
    world: World, person: OfflineChat, answers: dict[str, object], limit: int = 200
) -> list[str]:
    """Go through the form until the summary: check pre-loaded sections, answer, accept warnings."""
    said: list[str] = []
    for _ in range(limit):
        at = await screen(world, person)
        kind = at.get("kind")
        if kind == "summary":
            return said
        if kind == "preloaded":
            said += texts(await person.press("全部正确"))
        elif kind == "field":
            said += await answer_current(world, person, answers)
        elif kind in ("problems", "conversion"):
            said += texts(await person.press(_way_on(person)))
        else:
            raise AssertionError(f"unexpected screen {at}")
    raise AssertionError("the form did not reach the summary")
