"""The officials' side: binding, group chats, cards (通过 / 退回 / 详情), returns with comments,
/form and self-registrations (the work list is handlers/workbench.py).

Anyone in a group can press a card's button; only an official of the card's level whose
jurisdiction covers the enterprise gets anything done ("无权限" for everyone else, nothing
changes). Button data is a card id and an action; the card's round tells a stale press.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date, timedelta

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User

from bot import screens
from bot.filters import GROUP, PRIVATE, TEXT, Command
from bot.keyboards import Keys, Press
from bot.notifier import CardPress, bureau, card_markup, card_text, local, return_details
from bot.texts import fitted, paged, phrase, render
from domain import clock
from domain.catalog import SECTIONS, Catalog
from domain.review import LEVELS, may_return
from domain.text import visible
from services import officials, review
from services.notifier import Notifier
from services.people import TelegramUser
from storage.models import Contact, Official, ReviewCard, Submission
from storage.repositories import Store


class Returning(StatesGroup):
    pick = State()
    comment = State()
    confirm = State()


class Refusing(StatesGroup):
    reason = State()


def today(catalog: Catalog) -> date:
    return clock.today(catalog.campaign.zone)


# ---- binding ---------------------------------------------------------------------------------


async def bind_official(
    message: Message, command: CommandObject, store: Store, catalog: Catalog
) -> None:
    assert message.from_user is not None
    result = await officials.bind_official(
        store, TelegramUser(message.from_user.id, message.from_user.full_name), command.args or ""
    )
    if result.official is None:
        await message.answer(render("official_refused", reason=result.refused))
        return
    name = officials.jurisdiction_name(
        catalog.campaign.regions, result.official.level, result.official.region_code
    )
    await message.answer(render("official_bound", bureau=name))


async def bind_group_here(message: Message) -> None:
    """/bindgroup in a private chat: never read as a credit code or an answer."""
    await message.answer(phrase("bindgroup_in_group"))


async def bind_group(
    message: Message, command: CommandObject, store: Store, catalog: Catalog
) -> None:
    assert message.from_user is not None
    result = await officials.bind_group(
        store, message.from_user.id, message.chat.id, (command.args or "").strip()
    )
    if isinstance(result, str):
        await message.answer(render("group_refused", reason=result))
        return
    name = officials.jurisdiction_name(catalog.campaign.regions, result.level, result.region_code)
    await message.answer(render("group_bound", bureau=name))


INVITATION_DAYS = 14


async def cmd_invite(
    message: Message,
    command: CommandObject,
    bot: Bot,
    store: Store,
    catalog: Catalog,
    is_admin: bool,
) -> None:
    """/invite official|group <level> <code>, /invite coordinator or /invite admin: admins only."""
    if not is_admin:
        await message.answer(render("no_permission"))
        return
    parts = (command.args or "").split()
    if parts in (["coordinator"], ["admin"]):
        parts += ["province", ""]
    if len(parts) == 2 and parts[1] == "province":
        parts.append(catalog.campaign.regions.code)
    if len(parts) != 3 or parts[0] not in ("official", "group", "coordinator", "admin"):
        await message.answer(render("input_problem", problem=phrase("invite_usage")))
        return
    kind, level, code = parts
    try:
        token = await officials.invite(
            store,
            catalog.campaign.regions,
            kind,  # type: ignore[arg-type]
            level,
            code,
            timedelta(days=INVITATION_DAYS),
        )
    except officials.UnknownJurisdiction as exc:
        await message.answer(render("input_problem", problem=f"{exc}。{phrase('invite_usage')}"))
        return
    await store.commit()
    me = await bot.me()
    await message.answer(
        render(
            "invited",
            kind=kind,
            token=token,
            days=INVITATION_DAYS,
            link=f"https://t.me/{me.username}?start={token}",
            bureau=officials.jurisdiction_name(catalog.campaign.regions, level, code),
        )
    )


# ---- cards -----------------------------------------------------------------------------------


async def _official(store: Store, user: User | None) -> Official | None:
    return await officials.of_user(store, user.id) if user else None


async def _refusal(
    query: CallbackQuery, catalog: Catalog, decision: review.Decision, registration: bool = False
) -> bool:
    """Tell the presser why nothing happened; False when the decision went through."""
    if decision.outcome == "done":
        return False
    if decision.outcome == "forbidden":
        text = phrase("no_permission")
    elif decision.outcome == "moved":
        when = local(catalog, decision.moved_at)
        text = phrase(
            "registration_moved" if registration else "moved", who=decision.moved_by, when=when
        )
    elif decision.outcome == "not_now":
        text = phrase("not_now")
    else:
        text = phrase("gone")
    await query.answer(text, show_alert=decision.outcome != "forbidden")
    return True


async def on_card(
    query: CallbackQuery,
    callback_data: CardPress,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
) -> None:
    official = await _official(store, query.from_user)
    act, card_id = callback_data.act, callback_data.card
    if act in ("yes", "no"):
        await _registration(
            query, card_id, act == "yes", bot, state, store, catalog, notifier, official
        )
        return
    if act == "ok":
        decision = await review.approve(store, catalog, official, card_id, notifier)
        if await _refusal(query, catalog, decision):
            return
        await query.answer()
        assert official and decision.submission and decision.enterprise and decision.card
        await _close_card(query, bot)
        above = LEVELS[LEVELS.index(decision.card.level) + 1 :]  # type: ignore[arg-type]
        region = decision.enterprise.region_code or ""
        await bot.send_message(
            query.message.chat.id,
            render(  # type: ignore[union-attr]
                "card_decided",
                approved=True,
                official=official.display_name,
                enterprise=decision.enterprise,
                next_level=bureau(catalog, above[0], region) if above else "",
            ),
        )
        return
    decision = await review.may_act(store, official, card_id)
    if await _refusal(query, catalog, decision):
        return
    assert decision.submission is not None and decision.card is not None
    if act == "back" and not may_return(
        decision.submission.status,
        decision.card.level,  # type: ignore[arg-type]
        catalog.campaign,
        today(catalog),
    ):
        await query.answer(phrase("not_now"), show_alert=True)
        return
    await query.answer()
    if act == "info":
        view = await review.card_view(store, catalog, decision.card, "opened")
        await store.release()
        details = screens.form_pages(catalog, view.values, view.answered, view.confirmed)
        changes, notes = return_details(catalog, view)
        if notes:
            details += paged("card_details", changes=changes, notes=notes)
        *pages, last = details
        for page in pages:
            await bot.send_message(query.message.chat.id, page)  # type: ignore[union-attr]
        await bot.send_message(
            query.message.chat.id,  # type: ignore[union-attr]
            last,
            reply_markup=card_markup(card_id, details=False),
        )
    elif act == "back":
        await state.set_state(Returning.pick)
        await state.set_data(
            {
                "card": card_id,
                "picked": [],
                "screen": 0,
                "section": "",
                "card_message": query.message.message_id if query.message else 0,
            }
        )
        await _show_picker(bot, query.message.chat.id, state, catalog, decision)  # type: ignore[union-attr]


async def _close_card(query: CallbackQuery, bot: Bot) -> None:
    """The decided card loses its buttons, so nobody presses them again."""
    if query.message is not None:
        await strip_buttons(bot, query.message.chat.id, query.message.message_id)


async def strip_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    # An old message may no longer be editable; the card's round protects it anyway.
    with suppress(TelegramAPIError):
        await bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=message_id, reply_markup=None
        )


# ---- returning a form ------------------------------------------------------------------------


async def _show_picker(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    catalog: Catalog,
    decision: review.Decision,
    edit_message: int = 0,
) -> None:
    data = await state.get_data()
    screen = int(data["screen"]) + (0 if edit_message else 1)
    await state.update_data(screen=screen)
    picked = list(data["picked"])
    section = data.get("section", "")
    keys = Keys(screen)
    if section:
        for f in catalog.in_section(section):
            keys.row(
                keys.button(
                    phrase("picked" if f.name in picked else "unpicked", label=f.label),
                    "tog",
                    f.name,
                )
            )
        keys.row(keys.button(phrase("sections"), "sec", ""))
    else:
        keys.grid([keys.button(s.title, "sec", s.key) for s in SECTIONS], width=2)
        keys.row(
            keys.button(
                phrase("picked" if "" in picked else "unpicked", label=phrase("whole_form")),
                "tog",
                "-",
            )
        )
    if picked:
        keys.row(keys.button(phrase("pick_done"), "done"))
    keys.row(keys.button(phrase("cancel_return"), "cancel"))
    labels = [catalog.by_name[p].label if p else phrase("whole_form") for p in picked]
    text = render(
        "return_pick",
        enterprise=decision.enterprise,
        picked=labels,
        section=catalog.section(section).title if section else "",
    )
    if edit_message:
        await bot.edit_message_text(
            text, chat_id=chat_id, message_id=edit_message, reply_markup=keys.markup()
        )
    else:
        await bot.send_message(chat_id, text, reply_markup=keys.markup())


async def on_return_press(
    query: CallbackQuery,
    callback_data: Press,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
) -> None:
    data = await state.get_data()
    if callback_data.screen != data.get("screen") or query.message is None:
        await query.answer(phrase("stale"))
        return
    official = await _official(store, query.from_user)
    decision = await review.may_act(store, official, int(data["card"]))
    if await _refusal(query, catalog, decision):
        await state.clear()
        return
    chat_id = query.message.chat.id
    act, arg = callback_data.act, callback_data.arg
    picked: list[str] = list(data["picked"])
    if act == "cancel":
        await state.clear()
        await query.answer()
        await bot.send_message(chat_id, render("input_problem", problem=phrase("return_cancelled")))
        return
    if act == "sec" and (arg == "" or arg in {s.key for s in SECTIONS}):
        await state.update_data(section=arg)
    elif act == "tog" and (arg == "-" or arg in catalog.by_name):
        name = "" if arg == "-" else arg
        picked = [p for p in picked if p != name] if name in picked else [*picked, name]
        await state.update_data(picked=picked)
    elif act == "done" and picked:
        await state.set_state(Returning.comment)
        await state.update_data(notes=[])
        await query.answer()
        await _ask_comment(bot, chat_id, state, catalog)
        return
    elif act == "same" and data.get("notes"):
        await query.answer()
        await _add_comment(bot, chat_id, state, catalog, data["notes"][-1][1], decision)
        return
    elif act == "all":
        await state.update_data(all=True)
        await query.answer(phrase("one_for_all_set"))
        return
    elif act == "confirm":
        await query.answer()
        await _confirm_return(bot, chat_id, state, store, catalog, notifier, official, decision)
        return
    else:
        await query.answer(phrase("stale"))
        return
    await query.answer()
    await _show_picker(
        bot, chat_id, state, catalog, decision, edit_message=query.message.message_id
    )


async def _ask_comment(bot: Bot, chat_id: int, state: FSMContext, catalog: Catalog) -> None:
    data = await state.get_data()
    picked, notes = list(data["picked"]), list(data.get("notes") or [])
    name = picked[len(notes)]
    screen = int(data["screen"]) + 1
    await state.update_data(screen=screen)
    keys = Keys(screen)
    if notes:
        keys.row(keys.button(phrase("same_comment"), "same"))
    elif len(picked) > 1:
        keys.row(keys.button(phrase("one_for_all"), "all"))
    keys.row(keys.button(phrase("cancel_return"), "cancel"))
    label = catalog.by_name[name].label if name else phrase("whole_form")
    await bot.send_message(
        chat_id,
        render("return_comment", label=label, number=len(notes) + 1, total=len(picked)),
        reply_markup=keys.markup(),
    )


async def _add_comment(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    catalog: Catalog,
    comment: str,
    decision: review.Decision,
) -> None:
    data = await state.get_data()
    picked, notes = list(data["picked"]), list(data.get("notes") or [])
    count = len(picked) - len(notes) if data.get("all") else 1
    notes += [[picked[len(notes) + i], comment] for i in range(count)]
    await state.update_data(notes=notes)
    if len(notes) < len(picked):
        await _ask_comment(bot, chat_id, state, catalog)
        return
    await state.set_state(Returning.confirm)
    screen = int(data["screen"]) + 1
    await state.update_data(screen=screen)
    keys = Keys(screen)
    keys.row(
        keys.button(phrase("confirm_return"), "confirm"),
        keys.button(phrase("cancel_return"), "cancel"),
    )
    rows = [(catalog.by_name[n].label if n else phrase("whole_form"), c) for n, c in notes]
    await bot.send_message(
        chat_id,
        fitted("return_confirm", enterprise=decision.enterprise, notes=rows),
        reply_markup=keys.markup(),
    )


async def typed_comment(
    message: Message, bot: Bot, state: FSMContext, store: Store, catalog: Catalog
) -> None:
    official = await _official(store, message.from_user)
    data = await state.get_data()
    decision = await review.may_act(store, official, int(data["card"]))
    if decision.outcome != "done":
        await state.clear()
        await message.answer(render("input_problem", problem=phrase("decided_return_cancelled")))
        return
    comment = visible(message.text or "").strip()
    if not comment or len(comment) > 500:
        await message.answer(render("input_problem", problem=phrase("comment_length")))
        return
    await _add_comment(bot, message.chat.id, state, catalog, comment, decision)


async def _confirm_return(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
    official: Official | None,
    decision: review.Decision,
) -> None:
    data = await state.get_data()
    notes = [(str(n), str(c)) for n, c in data.get("notes") or []]
    result = await review.return_form(
        store, catalog, official, int(data["card"]), notes, today(catalog), notifier
    )
    await state.clear()
    if result.outcome != "done":
        await bot.send_message(
            chat_id, render("input_problem", problem=phrase("decided_return_void"))
        )
        return
    assert official is not None
    if data.get("card_message"):
        await strip_buttons(bot, chat_id, int(data["card_message"]))
    await bot.send_message(
        chat_id,
        render(
            "card_decided",
            approved=False,
            official=official.display_name,
            enterprise=result.enterprise,
            count=len(notes),
        ),
    )


# ---- registrations ---------------------------------------------------------------------------


async def _registration(
    query: CallbackQuery,
    card_id: int,
    accept: bool,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
    official: Official | None,
) -> None:
    if accept:
        decision = await review.decide_registration(store, official, card_id, True, "", notifier)
        if await _refusal(query, catalog, decision, registration=True):
            return
        await query.answer()
        await _close_card(query, bot)
        await _registration_done(bot, query.message.chat.id, store, card_id, official, True, "")  # type: ignore[union-attr]
        return
    card = await store.session.get(ReviewCard, card_id)
    contact = (
        await store.session.get(Contact, card.contact_id) if card and card.contact_id else None
    )
    enterprise = await store.enterprises.get(contact.enterprise_id) if contact else None
    if enterprise is None:
        await query.answer(phrase("gone"))
        return
    if (
        official is None
        or official.level != "county"
        or not officials.jurisdiction(official).covers(enterprise.region_code)
    ):
        await query.answer(phrase("no_permission"))
        return
    await query.answer()
    await state.set_state(Refusing.reason)
    await state.set_data({"card": card_id})
    await bot.send_message(
        query.message.chat.id,
        render(  # type: ignore[union-attr]
            "input_problem", problem=phrase("refusal_reason")
        ),
    )


async def typed_reason(
    message: Message,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
) -> None:
    data = await state.get_data()
    await state.clear()
    official = await _official(store, message.from_user)
    reason = visible(message.text or "").strip()[:300]
    decision = await review.decide_registration(
        store, official, int(data["card"]), False, reason, notifier
    )
    if decision.outcome != "done":
        await message.answer(render("input_problem", problem=phrase("request_decided")))
        return
    await _registration_done(
        bot, message.chat.id, store, int(data["card"]), official, False, reason
    )


async def _registration_done(
    bot: Bot,
    chat_id: int,
    store: Store,
    card_id: int,
    official: Official | None,
    accepted: bool,
    reason: str,
) -> None:
    card = await store.session.get(ReviewCard, card_id)
    contact = (
        await store.session.get(Contact, card.contact_id) if card and card.contact_id else None
    )
    enterprise = await store.enterprises.get(contact.enterprise_id) if contact else None
    await bot.send_message(
        chat_id,
        render(
            "registration_done",
            accepted=accepted,
            official=official.display_name if official else "",
            contact=contact or {"display_name": ""},
            enterprise=enterprise or {"name": ""},
            reason=reason,
        ),
    )


# ---- look-ups ----------------------------------------------------------------------------


async def forms_may_show(store: Store, official: Official, chat_id: int, chat_type: str) -> bool:
    """Forms are listed and opened in private or in the official's own bureau group, never in
    a group of others (one never bound, or another bureau's)."""
    return chat_type == "private" or await officials.is_bureau_group(store, official, chat_id)


async def cmd_form(
    message: Message, command: CommandObject, bot: Bot, store: Store, catalog: Catalog
) -> None:
    official = await _official(store, message.from_user)
    if official is None:
        await message.answer(render("no_permission"))
        return
    if not await forms_may_show(store, official, message.chat.id, message.chat.type):
        await message.answer(phrase("forms_not_here"))
        return
    code = (command.args or "").strip().upper()
    submission = await review.find(store, official, code, catalog.campaign.year) if code else None
    if submission is None:
        await message.answer(render("form_not_found", code=code or "（空）"))
        return
    await send_form(bot, message.chat.id, store, catalog, official, submission)


async def send_form(
    bot: Bot,
    chat_id: int,
    store: Store,
    catalog: Catalog,
    official: Official,
    submission: Submission | None,
) -> None:
    """The form's card if it waits at the official's level; otherwise its status and history."""
    enterprise = await store.enterprises.get(submission.enterprise_id) if submission else None
    if (
        submission is None
        or enterprise is None
        or not officials.jurisdiction(official).covers(enterprise.region_code)
    ):
        await bot.send_message(chat_id, render("no_permission"))
        return
    card = await review.current_card(store, submission, official.level)
    if card is not None and card.level == official.level:
        await store.commit()
        view = await review.card_view(store, catalog, card, "opened")
        await bot.send_message(chat_id, card_text(catalog, view), reply_markup=card_markup(card.id))
        return
    lines = screens.history_lines(catalog, await review.history(store, submission.id))
    for page in paged(
        "form_status",
        enterprise=enterprise,
        history=lines,
        status_name=screens.STATUS_NAMES.get(submission.status, submission.status),
    ):
        await bot.send_message(chat_id, page)


def router() -> Router:
    r = Router(name="review")
    r.message.register(bind_group, Command("bindgroup"), GROUP)
    r.message.register(bind_group_here, Command("bindgroup"), PRIVATE)
    r.message.register(cmd_invite, Command("invite"))
    r.message.register(cmd_form, Command("form"))
    r.message.register(typed_comment, StateFilter(Returning.comment), TEXT)
    r.message.register(typed_reason, StateFilter(Refusing.reason), TEXT)
    r.callback_query.register(on_card, CardPress.filter())
    r.callback_query.register(
        on_return_press,
        # the state first: every press in the form is a Press, read (validated) for nothing here
        StateFilter(Returning.pick, Returning.comment, Returning.confirm),
        Press.filter(),
    )
    return r
