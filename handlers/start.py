"""Before the form: binding a Telegram user to their enterprise.

An invitation deep link binds at once; a shared phone number that matches one enterprise's
pre-loaded contact mobile binds too; otherwise the user types the credit code, the company name
and the county, and the county bureau confirms the request.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove, User

from bot import keyboards, screens
from bot.filters import NOT_COMMAND, PRIVATE, TEXT, Magic
from bot.keyboards import Keys, Press
from bot.texts import phrase, render
from domain.catalog import Catalog
from domain.identifiers import IdentifierError, read_uscc
from domain.parsing import InputError, parse_value
from handlers import review
from handlers.form import Flow
from services import binding, officials
from services.admins import Admins
from services.notifier import Notifier
from services.people import TelegramUser
from storage.models import Contact
from storage.repositories import Store


class Binding(StatesGroup):
    name = State()
    region = State()


def _user(user: User) -> TelegramUser:
    return TelegramUser(user.id, user.full_name)


async def _welcome_bound(
    message: Message,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
    contact: Contact,
) -> None:
    enterprise = await store.enterprises.get(contact.enterprise_id)
    await store.release()
    await state.clear()
    assert message.from_user is not None
    flow = await Flow.open(
        bot, message.chat.id, message.from_user.id, state, store, catalog, notifier, contact
    )
    await message.answer(render("bound", enterprise=enterprise), reply_markup=ReplyKeyboardRemove())
    if flow.draft.editable:  # a form already submitted has its status, not how to fill it in
        await message.answer(
            render("bound_intro", total=len(catalog.fields)),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[keyboards.workbook_button()]]),
        )
        if notice := screens.window_notice(flow.draft):  # closed, not yet open, or extended
            await message.answer(notice)
    await flow.resume()


async def _refused(message: Message, result: binding.Binding) -> None:
    await message.answer(
        render("bind_refused", reason=result.refused, enterprise=result.enterprise)
    )


async def start_with_code(
    message: Message,
    command: CommandObject,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
    admins: Admins,
) -> None:
    """t.me/<bot>?start=<invitation>: a one-time code that binds at once."""
    assert message.from_user is not None
    code = command.args or ""
    if await binding.guessing(store, message.from_user.id):
        await message.answer(render("guessing", minutes=binding.GUESS_WINDOW.seconds // 60))
        return
    kind = await officials.invitation_kind(store, code)
    if not kind:
        await binding.unknown_code(store, message.from_user.id, code)
        await _refused(message, binding.Binding(refused="invalid"))
        return
    if kind == "official":
        await review.bind_official(message, command, store, catalog)
        return
    if kind in ("coordinator", "admin"):
        refused = await officials.bind_role(
            store,
            _user(message.from_user),
            command.args or "",
            kind,  # type: ignore[arg-type]
        )
        if refused:
            role = phrase("role", kind=kind)
            await message.answer(render("official_refused", reason=refused, role=role))
            return
        if kind == "admin":
            admins.forget()
        await message.answer(render(f"{kind}_bound"))
        return
    result = await binding.by_invitation(store, _user(message.from_user), command.args or "")
    if result.refused or result.contact is None:
        await _refused(message, result)
        return
    await _welcome_bound(message, bot, state, store, catalog, notifier, result.contact)


async def shared_phone(
    message: Message,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
) -> None:
    """The contact-request button: only the sender's own number counts."""
    assert message.from_user is not None and message.contact is not None
    if message.contact.user_id != message.from_user.id:
        await message.answer(
            render("input_problem", problem=phrase("own_phone_only")),
            reply_markup=keyboards.share_phone(),
        )
        return
    result = await binding.by_phone(store, _user(message.from_user), message.contact.phone_number)
    if result.refused or result.contact is None:
        await message.answer(
            render("bind_refused", reason=result.refused, enterprise=result.enterprise),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    if result.contact.status != "active":  # a request waiting, and a number of no enterprise
        await pending(message, store, result.contact)
        return
    await _welcome_bound(message, bot, state, store, catalog, notifier, result.contact)


async def pending(message: Message, store: Store, contact: Contact) -> None:
    enterprise = await store.enterprises.get(contact.enterprise_id)
    await message.answer(render("bind_pending", enterprise=enterprise))


async def welcome(message: Message, state: FSMContext, catalog: Catalog) -> None:
    await state.clear()
    await message.answer(
        render("welcome", campaign=catalog.campaign), reply_markup=keyboards.share_phone()
    )


async def typed_code(message: Message, state: FSMContext, catalog: Catalog) -> None:
    """An unbound user types something: a credit code starts a binding request."""
    try:
        code = read_uscc(message.text or "")
    except IdentifierError as exc:
        await message.answer(
            render("input_problem", problem=phrase("uscc_problem", problem=str(exc)))
            + "\n\n"
            + render("welcome", campaign=catalog.campaign),
            reply_markup=keyboards.share_phone(),
        )
        return
    await state.set_state(Binding.name)
    await state.set_data({"code": code})
    await message.answer(render("bind_ask_name", code=code), reply_markup=ReplyKeyboardRemove())


async def typed_name(message: Message, state: FSMContext, catalog: Catalog) -> None:
    name_field = catalog.by_name["enterprise_name"]
    try:
        parsed = parse_value(name_field, message.text, catalog)
    except InputError as exc:
        await message.answer(render("input_problem", problem=str(exc)))
        return
    if parsed is None:
        await message.answer(render("input_problem", problem=phrase("enterprise_name_missing")))
        return
    await state.set_state(Binding.region)
    await _ask_region(
        message.bot,
        message.chat.id,
        state,
        catalog,
        {**await state.get_data(), "name": parsed.value},
    )


async def _ask_region(
    bot: Bot | None, chat_id: int, state: FSMContext, catalog: Catalog, data: dict[str, object]
) -> None:
    assert bot is not None
    screen = int(data.get("screen", 0)) + 1  # type: ignore[call-overload]
    await state.set_data({**data, "screen": screen})
    keys = Keys(screen).regions(catalog.campaign.regions)
    await bot.send_message(
        chat_id, render("bind_ask_region", name=data["name"], city=""), reply_markup=keys.markup()
    )


async def typed_region(
    message: Message,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
) -> None:
    try:
        parsed = parse_value(catalog.by_name["region_code"], message.text, catalog)
    except InputError as exc:
        await message.answer(render("input_problem", problem=str(exc)))
        return
    if parsed is None:
        return
    assert message.from_user is not None
    await _request(
        message.from_user, bot, message.chat.id, state, store, catalog, notifier, str(parsed.value)
    )


async def pressed_region(
    query: CallbackQuery,
    callback_data: Press,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
) -> None:
    data = await state.get_data()
    regions = catalog.campaign.regions
    if callback_data.screen != data.get("screen") or query.message is None:
        await query.answer(phrase("stale"))
        return
    if callback_data.act == "county" and callback_data.arg in regions.counties:
        await query.answer()
        await _request(
            query.from_user,
            bot,
            query.message.chat.id,
            state,
            store,
            catalog,
            notifier,
            callback_data.arg,
        )
        return
    if callback_data.act == "city" and (
        not callback_data.arg or callback_data.arg in regions.cities_by_code
    ):
        await query.answer()
        keys = Keys(int(data["screen"])).regions(regions, callback_data.arg)
        await bot.edit_message_reply_markup(
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            reply_markup=keys.markup(),
        )
        return
    await query.answer(phrase("stale"))


async def _request(
    user: User,
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
    region: str,
) -> None:
    data = await state.get_data()
    result = await binding.by_request(
        store, _user(user), str(data["code"]), str(data["name"]), region, notifier
    )
    await state.clear()
    if result.contact is not None and result.contact.status == "active":
        await bot.send_message(
            chat_id, render("bind_refused", reason="other_enterprise", enterprise=result.enterprise)
        )
        return
    county = catalog.campaign.regions.counties[region].full_name
    await bot.send_message(  # what they typed: a stranger's request never shows a stored name
        chat_id, render("bind_requested", name=data["name"], code=data["code"], county=county)
    )


async def unbound(event: object, contact: Contact | None = None) -> bool:
    return contact is None or contact.status == "refused"


async def waiting(event: object, contact: Contact | None = None) -> bool:
    return contact is not None and contact.status == "pending"


def router() -> Router:
    r = Router(name="start")
    r.message.filter(PRIVATE)
    r.message.register(start_with_code, CommandStart(deep_link=True))
    r.message.register(shared_phone, Magic(F.contact))
    r.message.register(pending, waiting)
    r.message.register(welcome, CommandStart(), unbound)
    r.message.register(typed_name, StateFilter(Binding.name), TEXT, unbound)
    r.message.register(typed_region, StateFilter(Binding.region), TEXT, unbound)
    r.message.register(typed_code, TEXT, NOT_COMMAND, unbound)  # a command is no credit code
    r.message.register(welcome, unbound)
    r.callback_query.register(pressed_region, StateFilter(Binding.region), Press.filter(), unbound)
    return r
