"""Coordinators' broadcasts: /broadcast (audience by buttons → text → preview with the count →
send or cancel) and /broadcasts (the recent ones).

Coordinators (bound by an admin's invitation) and admins may broadcast. Each screen's buttons carry
its number, so a press on an older screen changes nothing; each preview carries a one-time draft
code, so pressing 确认发送 twice sends once.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.filters import NOT_COMMAND, PRIVATE, Command
from bot.keyboards import Keys, Press
from bot.notifier import local
from bot.texts import phrase, render
from domain.catalog import Catalog
from domain.review import LEVEL_NAMES, LEVELS
from domain.text import visible
from services import broadcasts
from services.notifier import Notifier
from storage.repositories import Store

MAX_TEXT = 2000  # characters a coordinator may send (Telegram allows 4096 after markup)
PICKS = {"city": "市", "county": "市，再选区县", "officials": "审核级别"}  # kinds with a 2nd step


class Broadcasting(StatesGroup):
    audience = State()
    text = State()
    confirm = State()


async def _may_broadcast(store: Store, user_id: int, is_admin: bool) -> bool:
    allowed = is_admin or await broadcasts.is_coordinator(store, user_id)
    await store.release()
    return allowed


async def _next_screen(state: FSMContext) -> int:
    screen = int((await state.get_data()).get("screen", 0)) + 1
    await state.update_data(screen=screen)
    return screen


def _audience_keys(screen: int, catalog: Catalog, kind: str = "", city: str = "") -> Keys:
    """The first screen's kinds, or the second step of a city, a county or a level."""
    keys = Keys(screen)
    regions = catalog.campaign.regions
    if not kind:
        keys.grid([keys.button(phrase("audience", kind=k), "aud", k) for k in broadcasts.AUDIENCES])
    else:
        if kind == "city":
            keys.regions(regions)
        elif kind == "county":
            keys.regions(regions, city)
        else:
            levels = [
                keys.button(phrase("level", level_name=LEVEL_NAMES[lv]), "level", lv)
                for lv in LEVELS
            ]
            keys.row(*levels)
        keys.row(keys.button(phrase("other_audience"), "aud", ""))
    return keys.row(keys.button(phrase("cancel_broadcast"), "cancel"))


async def cmd_broadcast(
    message: Message, state: FSMContext, store: Store, catalog: Catalog, is_admin: bool
) -> None:
    assert message.from_user is not None
    if not await _may_broadcast(store, message.from_user.id, is_admin):
        await message.answer(phrase("broadcast_forbidden"))
        return
    await state.set_state(Broadcasting.audience)
    await state.set_data({"screen": int((await state.get_data()).get("screen", 0))})
    screen = await _next_screen(state)
    await message.answer(
        render("broadcast_audience"), reply_markup=_audience_keys(screen, catalog).markup()
    )


async def on_press(
    query: CallbackQuery,
    callback_data: Press,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
    is_admin: bool,
) -> None:
    data = await state.get_data()
    if callback_data.screen != data.get("screen") or query.message is None:
        await query.answer(phrase("stale"))
        return
    if not await _may_broadcast(store, query.from_user.id, is_admin):
        await state.clear()
        await query.answer(phrase("broadcast_forbidden"), show_alert=True)
        return
    act, arg = callback_data.act, callback_data.arg
    chat_id, message_id = query.message.chat.id, query.message.message_id
    regions = catalog.campaign.regions
    if act == "cancel":
        await state.clear()
        await query.answer()
        await bot.edit_message_text(phrase("cancelled"), chat_id=chat_id, message_id=message_id)
        return
    if act == "send" and await state.get_state() == Broadcasting.confirm:
        await query.answer()
        await _send(bot, chat_id, query.from_user.id, state, store, catalog, notifier, data)
        return
    if act == "rewrite" and await state.get_state() == Broadcasting.confirm:
        await query.answer()
        await _ask_text(bot, chat_id, state, catalog, data["audience"], int(data["count"]))
        return
    kind, city = str(data.get("kind", "")), ""
    audience: dict[str, Any] | None = None
    if act == "aud" and arg in PICKS:
        kind = arg
    elif act == "aud" and arg in broadcasts.AUDIENCES:
        audience = {"kind": arg}
    elif act == "aud" and arg == "":
        kind = ""
    elif act == "city" and kind == "city" and arg in regions.cities_by_code:
        audience = {"kind": "city", "code": arg}
    elif act == "city" and kind == "county" and (arg == "" or arg in regions.cities_by_code):
        city = arg
    elif act == "county" and arg in regions.counties:
        audience = {"kind": "county", "code": arg}
    elif act == "level" and arg in LEVEL_NAMES:
        audience = {"kind": "officials", "level": arg}
    else:
        await query.answer(phrase("stale"))
        return
    if audience is not None:
        await _chose(query, bot, state, store, catalog, audience)
        return
    await query.answer()
    await state.update_data(kind=kind)
    keys = _audience_keys(int(data["screen"]), catalog, kind, city)
    what = "区县" if city else PICKS.get(kind, "")
    text = render("broadcast_pick", what=what) if kind else render("broadcast_audience")
    await bot.edit_message_text(
        text, chat_id=chat_id, message_id=message_id, reply_markup=keys.markup()
    )


async def _chose(
    query: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    audience: dict[str, Any],
) -> None:
    count = len(await broadcasts.recipients(store, catalog, audience))
    await store.release()
    if not count:
        await query.answer(phrase("empty_audience"), show_alert=True)
        return
    await query.answer()
    assert query.message is not None
    await _ask_text(bot, query.message.chat.id, state, catalog, audience, count)


async def _ask_text(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    catalog: Catalog,
    audience: dict[str, Any],
    count: int,
) -> None:
    await state.set_state(Broadcasting.text)
    await state.update_data(audience=audience, count=count)
    keys = Keys(await _next_screen(state))
    keys.row(keys.button(phrase("cancel_broadcast"), "cancel"))
    await bot.send_message(
        chat_id,
        render(
            "broadcast_text",
            audience=broadcasts.describe(catalog, audience),
            count=count,
            limit=MAX_TEXT,
        ),
        reply_markup=keys.markup(),
    )


async def typed_text(message: Message, state: FSMContext, catalog: Catalog) -> None:
    """The notice itself; its formatting (bold, links) is kept, anything else is shown as typed
    without the characters that show nothing (removed from the HTML, so the tags stay whole)."""
    if not message.text or not visible(message.text).strip():
        await message.answer(render("input_problem", problem=phrase("broadcast_text_only")))
        return
    if len(message.text) > MAX_TEXT:
        problem = phrase("broadcast_too_long", limit=MAX_TEXT, length=len(message.text))
        await message.answer(render("input_problem", problem=problem))
        return
    data = await state.get_data()
    text = visible(message.html_text)
    await state.set_state(Broadcasting.confirm)
    await state.update_data(text=text, draft=secrets.token_hex(16))
    keys = Keys(await _next_screen(state))
    keys.row(keys.button(phrase("send_now"), "send"), keys.button(phrase("rewrite"), "rewrite"))
    keys.row(keys.button(phrase("cancel_broadcast"), "cancel"))
    await message.answer(
        render(
            "broadcast_preview",
            audience=broadcasts.describe(catalog, data["audience"]),
            count=data["count"],
            text=text,
        ),
        reply_markup=keys.markup(),
    )


async def _send(
    bot: Bot,
    chat_id: int,
    user_id: int,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
    data: dict[str, Any],
) -> None:
    """The recipients as they are now (the count may have moved since the preview)."""
    audience = data["audience"]
    chats = await broadcasts.recipients(store, catalog, audience)
    if not chats:
        await store.release()
        await bot.send_message(chat_id, render("input_problem", problem=phrase("empty_audience")))
        return
    name = broadcasts.describe(catalog, audience)
    broadcast = await broadcasts.open_broadcast(
        store, data["draft"], user_id, audience, name, data["text"], len(chats)
    )
    await state.clear()
    if broadcast is None:
        await bot.send_message(chat_id, render("input_problem", problem=phrase("already_sent")))
        return
    progress = await bot.send_message(
        chat_id,
        render(
            "broadcast_progress",
            broadcast=broadcast,
            state=broadcasts.Progress(len(chats), waiting=len(chats)),
            reasons=[],
        ),
    )
    broadcast.progress_chat, broadcast.progress_message = chat_id, progress.message_id
    await broadcasts.send(store, notifier, broadcast, chats)


async def cmd_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(phrase("cancelled"))


STATUS = {"running": "进行中", "done": "已完成"}


async def cmd_broadcasts(message: Message, store: Store, catalog: Catalog, is_admin: bool) -> None:
    assert message.from_user is not None
    if not await _may_broadcast(store, message.from_user.id, is_admin):
        await message.answer(phrase("broadcast_forbidden"))
        return
    rows = []
    for b in await broadcasts.recent(store):
        state = await broadcasts.progress(store, b.id)
        rows.append(
            {
                "when": local(catalog, b.created_at),
                "audience": b.audience_name,
                "status": STATUS.get(b.status, b.status),
                "sent": state.sent,
                "failed": state.failed,
                "total": b.total,
            }
        )
    await store.release()
    await message.answer(render("broadcasts", rows=rows))


def router() -> Router:
    r = Router(name="broadcast")
    r.message.filter(PRIVATE)
    r.message.register(cmd_broadcast, Command("broadcast"))
    r.message.register(cmd_broadcasts, Command("broadcasts"))
    r.message.register(cmd_cancel, Command("cancel"), StateFilter(Broadcasting))
    r.message.register(typed_text, StateFilter(Broadcasting.text), NOT_COMMAND)
    r.callback_query.register(
        on_press,
        # the state first: every press in the form is a Press, read (validated) for nothing here
        StateFilter(Broadcasting.audience, Broadcasting.text, Broadcasting.confirm),
        Press.filter(),
    )
    return r
