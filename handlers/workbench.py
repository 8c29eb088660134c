"""The officials' workbench: their welcome, the work list (/queue), approving the clean forms
together, the forms waiting on the enterprise, and the queue as a workbook.

The work list's buttons carry a filter code, a page and a form id, nothing else; every press is
checked again against who pressed (an official, in private or their own bureau's group).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.filters import PRIVATE, Command
from bot.keyboards import Number
from bot.notifier import local
from bot.texts import fitted, phrase, render
from domain.catalog import Catalog
from domain.review import LEVEL_NAMES
from handlers import review as review_handlers
from handlers.overview import send_workbook
from handlers.review import forms_may_show, send_form, strip_buttons
from services import officials, workbench
from services.notifier import Notifier
from services.workbench import Show
from storage.models import Contact, Official
from storage.repositories import Store

PAGE = 10


class QueuePress(CallbackData, prefix="q"):
    """A work-list button: the filter, the page, and a form to open (0: show the page)."""

    show: Show
    page: Number
    open: Number = 0


class WaitPress(CallbackData, prefix="e"):
    """The forms waiting on their enterprise: a page, and a form to remind the contacts of
    (催办; 0: show the page)."""

    page: Number
    nudge: Number = 0


class QueueSheet(CallbackData, prefix="qx"):
    """导出: the XLSX of the forms waiting at the presser's level in their jurisdiction."""


class BulkPress(CallbackData, prefix="b"):
    """通过全部无问题表单: ask (the preview), go (its confirmation) or cancel; the preview's
    number tells the current preview from an older one."""

    act: str
    preview: Number = 0


# ---- the welcome -----------------------------------------------------------------------------


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
            bureau=_bureau(catalog, official),
            level=LEVEL_NAMES[official.level],
            tally=await workbench.tally(store, official),
            Show=Show,
        )
    )


def _bureau(catalog: Catalog, official: Official) -> str:
    return officials.jurisdiction_name(
        catalog.campaign.regions, official.level, official.region_code
    )


# ---- the work list ---------------------------------------------------------------------------


async def _may_list(store: Store, user_id: int, chat_id: int, chat_type: str) -> Official | str:
    """The official, or the phrase that refuses them here."""
    official = await officials.of_user(store, user_id)
    if official is None:
        return "no_permission"
    if not await forms_may_show(store, official, chat_id, chat_type):
        return "forms_not_here"
    return official


async def _presser(query: CallbackQuery, store: Store) -> Official | None:
    """The official who pressed, if they may see forms here; else they are told why not."""
    if query.message is None:
        await query.answer(phrase("stale"))
        return None
    chat = query.message.chat
    official = await _may_list(store, query.from_user.id, chat.id, chat.type)
    if isinstance(official, str):
        await query.answer(phrase(official), show_alert=official != "no_permission")
        return None
    return official


async def cmd_queue(message: Message, store: Store, catalog: Catalog) -> None:
    assert message.from_user is not None
    official = await _may_list(store, message.from_user.id, message.chat.id, message.chat.type)
    if isinstance(official, str):
        await message.answer(
            render("no_permission") if official == "no_permission" else phrase(official)
        )
        return
    text, markup = await _work_list(store, catalog, official, Show.ALL, 0)
    await message.answer(text, reply_markup=markup)


async def on_queue(
    query: CallbackQuery, callback_data: QueuePress, bot: Bot, store: Store, catalog: Catalog
) -> None:
    official = await _presser(query, store)
    if official is None or query.message is None:
        return
    chat = query.message.chat
    await query.answer()
    if callback_data.open:
        submission = await store.submissions.get(callback_data.open)
        await send_form(bot, chat.id, store, catalog, official, submission)
        return
    text, markup = await _work_list(
        store, catalog, official, callback_data.show, callback_data.page
    )
    with suppress(TelegramBadRequest):  # the same page again: nothing to change
        await bot.edit_message_text(
            text, chat_id=chat.id, message_id=query.message.message_id, reply_markup=markup
        )


async def _work_list(
    store: Store, catalog: Catalog, official: Official, show: Show, number: int
) -> tuple[str, InlineKeyboardMarkup]:
    await workbench.reckon_missing(store, catalog, official)
    tally = await workbench.tally(store, official)
    pages = max(1, -(-tally[show] // PAGE))
    number = min(number, pages - 1)
    lines = await workbench.page(store, official, show, number, PAGE)
    await store.release()
    rows = [
        [
            _button(
                phrase("queue_item", number=number * PAGE + i + 1, enterprise=line.name),
                show,
                number,
                line.submission_id,
            )
        ]
        for i, line in enumerate(lines)
    ]
    turn = [_button(phrase("page_prev"), show, number - 1)] if number > 0 else []
    if number + 1 < pages:
        turn.append(_button(phrase("page_next"), show, number + 1))
    if turn:
        rows.append(turn)
    filters = [
        _button(phrase("queue_filter", show=s.value, count=tally[s], current=s is show), s, 0)
        for s in (Show.WARNED, Show.COPIED, Show.AGAIN, Show.CLEAN, Show.ALL)
    ]
    if tally[Show.ALL]:
        rows += [filters[:3], filters[3:]]
    if tally[Show.CLEAN]:
        rows.append([_bulk(phrase("approve_clean", count=tally[Show.CLEAN]), "ask")])
    rows.append([_wait(phrase("waiting_on_enterprise"), 0)])
    if tally[Show.ALL]:
        sheet = QueueSheet().pack()
        rows.append([InlineKeyboardButton(text=phrase("queue_sheet"), callback_data=sheet)])
    text = fitted(
        "queue",
        bureau=_bureau(catalog, official),
        tally=tally,
        show=show.value,
        Show=Show,
        page=number,
        pages=pages,
        size=PAGE,
        lines=[(line, local(catalog, line.arrived)) for line in lines],
    )
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def _button(text: str, show: Show, page: int, open_id: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=QueuePress(show=show, page=page, open=open_id).pack()
    )


def _bulk(text: str, act: str, preview: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=BulkPress(act=act, preview=preview).pack())


async def on_queue_sheet(query: CallbackQuery, bot: Bot, store: Store, catalog: Catalog) -> None:
    """The queue as the export's workbook: every waiting form with the export's columns."""
    official = await _presser(query, store)
    if official is None or query.message is None:
        return
    chat = query.message.chat
    await query.answer()
    scope = officials.jurisdiction(official)
    await send_workbook(bot, chat.id, store, catalog, scope, scope.level)


# ---- approving the clean forms together ------------------------------------------------------


async def on_bulk(
    query: CallbackQuery,
    callback_data: BulkPress,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
) -> None:
    official = await _presser(query, store)
    if official is None or query.message is None:
        return
    chat = query.message.chat
    if callback_data.act == "ask":
        await _preview(query, bot, state, store, catalog, official)
        return
    data = await state.get_data()
    previewed = data.get("bulk") or []
    if (
        callback_data.act not in ("go", "cancel")
        or callback_data.preview != data.get("bulk_preview")
        or not previewed
    ):
        await query.answer(phrase("stale"))
        return
    await state.update_data(bulk=[])  # a second press confirms nothing
    await query.answer()
    await strip_buttons(bot, chat.id, query.message.message_id)
    if callback_data.act == "cancel":
        await bot.send_message(chat.id, render("bulk_cancelled"))
        return
    cleared = await workbench.approve_clean(
        store, catalog, official, [workbench.Previewed(*p) for p in previewed], notifier
    )
    await bot.send_message(
        chat.id,
        fitted(
            "bulk_done",
            official=official,
            approved=cleared.approved,
            left_out=cleared.left_out,
            next_level=_above(catalog, official),
        ),
    )


async def _preview(
    query: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    official: Official,
) -> None:
    forms = await workbench.clean(store, official)
    await store.release()
    if not forms:
        await query.answer(phrase("nothing_clean"), show_alert=True)
        return
    await query.answer()
    preview = int((await state.get_data()).get("bulk_preview") or 0) + 1
    await state.update_data(
        bulk=[[f.submission_id, f.round, f.name] for f in forms], bulk_preview=preview
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _bulk(phrase("approve_clean_go", count=len(forms)), "go", preview),
                _bulk(phrase("cancel_return"), "cancel", preview),
            ]
        ]
    )
    await bot.send_message(
        query.message.chat.id,  # type: ignore[union-attr]
        fitted(
            "bulk_preview",
            bureau=_bureau(catalog, official),
            names=[f.name for f in forms],
            next_level=_above(catalog, official),
            below=official.level != "county",
        ),
        reply_markup=markup,
    )


def _above(catalog: Catalog, official: Official) -> str:
    """The bureau an approval sends the forms to ("" from the province: they are reported)."""
    regions = catalog.campaign.regions
    if official.level == "county":
        city = regions.counties[official.region_code].city_code
        return officials.jurisdiction_name(regions, "city", city)
    if official.level == "city":
        return officials.jurisdiction_name(regions, "province", regions.code)
    return ""


# ---- waiting on the enterprise ---------------------------------------------------------------


def _wait(text: str, page: int, nudge: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=WaitPress(page=page, nudge=nudge).pack())


async def on_wait(
    query: CallbackQuery,
    callback_data: WaitPress,
    bot: Bot,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
) -> None:
    official = await _presser(query, store)
    if official is None or query.message is None:
        return
    chat = query.message.chat
    today = review_handlers.today(catalog)
    if callback_data.nudge:
        done = await workbench.nudge(store, catalog, official, callback_data.nudge, today, notifier)
        await query.answer(phrase("nudged", outcome=done), show_alert=done != "done")
    else:
        await query.answer()
    items, total = await workbench.returned(store, official, callback_data.page, PAGE)
    await store.release()
    pages = max(1, -(-total // PAGE))
    number = callback_data.page
    zone = catalog.campaign.zone
    rows = [
        [
            _wait(
                phrase(
                    "nudge",
                    number=number * PAGE + i + 1,
                    enterprise=item.name,
                    done=item.nudged_on == today,
                ),
                number,
                item.submission_id,
            )
        ]
        for i, item in enumerate(items)
    ]
    turn = [_wait(phrase("page_prev"), number - 1)] if number > 0 else []
    if number + 1 < pages:
        turn.append(_wait(phrase("page_next"), number + 1))
    rows += [turn] if turn else []
    rows.append([_button(phrase("back_to_queue"), Show.ALL, 0)])
    text = fitted(
        "waiting",
        bureau=_bureau(catalog, official),
        total=total,
        page=number,
        pages=pages,
        size=PAGE,
        items=[
            {
                "name": item.name,
                "returned": local(catalog, item.returned_at),
                "days": workbench.waited(item.returned_at, today, zone),
                "nudged": item.nudged_on.strftime("%m月%d日") if item.nudged_on else "",
                "today": item.nudged_on == today,
            }
            for item in items
        ],
    )
    markup = InlineKeyboardMarkup(inline_keyboard=rows)
    with suppress(TelegramBadRequest):  # nothing changed on the page
        await bot.edit_message_text(
            text, chat_id=chat.id, message_id=query.message.message_id, reply_markup=markup
        )


def router() -> Router:
    r = Router(name="workbench")
    r.message.register(official_welcome, CommandStart(), PRIVATE, official_at_start)
    r.message.register(cmd_queue, Command("queue"))
    r.callback_query.register(on_queue, QueuePress.filter())
    r.callback_query.register(on_bulk, BulkPress.filter())
    r.callback_query.register(on_wait, WaitPress.filter())
    r.callback_query.register(on_queue_sheet, QueueSheet.filter())
    return r
