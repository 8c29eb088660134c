"""Admins' and officials' views of the campaign: /status (counts per city or county), /chart,
/find, /export (the workbook of a place's forms, or one enterprise's form as a page) and /score
(the scoring run, and the ranking of a place).

An admin sees the province, an official their own jurisdiction; asking about a place outside it
answers "无权限". A contact's /status is their own form's (handlers/form.py): /status reaches
this router only from admins and officials.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message, User

from bot.documents import form_html
from bot.filters import PRIVATE, Command, Magic
from bot.notifier import ScoreSheet, score_summary
from bot.texts import fitted, phrase, render
from domain import deadlines
from domain.catalog import Catalog
from domain.review import Jurisdiction
from handlers.excel import send_reviewer_workbook
from services import exports, extensions, officials, overview, scores
from services.exports import Which
from services.notifier import Notifier
from storage.models import Contact, now
from storage.repositories import Store


async def scope_of(
    user: User | None, store: Store, catalog: Catalog, is_admin: bool
) -> Jurisdiction | None:
    """What the person may see: the province for an admin, an official's jurisdiction."""
    if is_admin:
        return Jurisdiction("province", catalog.campaign.regions.code)
    official = await officials.of_user(store, user.id) if user else None
    return officials.jurisdiction(official) if official else None


async def no_form(message: Message, contact: Contact | None = None) -> bool:
    return contact is None or contact.status != "active"


async def viewer(
    message: Message, store: Store, catalog: Catalog, is_admin: bool
) -> dict[str, Any] | bool:
    """Filter: the sender is an admin or an official; gives the handler their `scope`."""
    scope = await scope_of(message.from_user, store, catalog, is_admin)
    return {"scope": scope} if scope else False


async def narrowed(
    message: Message, scope: Jurisdiction, catalog: Catalog, text: str | None, command: str
) -> Jurisdiction | None:
    """The place the text names if it lies in the asker's scope (the scope itself if no text);
    otherwise None, having told them why."""
    if not text or not text.strip():
        return scope
    regions = catalog.campaign.regions
    places = overview.find_places(regions, text)
    if len(places) != 1:
        names = [officials.place_name(regions, p) for p in places]
        await message.answer(
            render("place_unknown", text=text.strip(), names=names, command=command)
        )
        return None
    if not scope.covers(places[0].code):
        await message.answer(render("no_permission"))
        return None
    return places[0]


async def cmd_status(
    message: Message, command: CommandObject, scope: Jurisdiction, store: Store, catalog: Catalog
) -> None:
    place = await narrowed(message, scope, catalog, command.args, "status")
    if place is None:
        return
    result = await overview.board(store, catalog, place)
    await message.answer(
        render(
            "overview",
            view=result,
            buckets=overview.BUCKETS,
            year=catalog.campaign.year,
            at=now().astimezone(catalog.campaign.zone),
        )
    )


async def cmd_chart(
    message: Message, command: CommandObject, scope: Jurisdiction, store: Store, catalog: Catalog
) -> None:
    """/chart [地区]: progress by place and daily submissions, as a photo."""
    place = await narrowed(message, scope, catalog, command.args, "chart")
    if place is None:
        return
    campaign = catalog.campaign
    view = await overview.tally(store, campaign.regions, campaign.year, place)
    daily = await overview.daily_submissions(store, campaign.year, place, campaign.zone)
    today = now().astimezone(campaign.zone).date()
    from bot import charts  # matplotlib, ~90 MiB, loaded by the first /chart, not by every bot

    png = await asyncio.to_thread(charts.progress_png, view, daily, campaign, today)
    await message.answer_photo(
        BufferedInputFile(png, filename="progress.png"),
        caption=render("chart_caption", view=view, today=today),
    )


async def cmd_score(
    message: Message,
    command: CommandObject,
    scope: Jurisdiction,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
    is_admin: bool,
) -> None:
    """/score run: the scoring run (admins, the province); /score [地区]: the stored ranking."""
    args = (command.args or "").strip()
    if args in ("run", "计算"):
        if not (is_admin or scope.level == "province"):
            await message.answer(phrase("score_run_only"))
            return
        user = message.from_user.id if message.from_user else None
        report = await scores.run(store, catalog, notifier, user)
        await message.answer(render("score_run", report=report, campaign=catalog.campaign))
        return
    place = await narrowed(message, scope, catalog, args, "score")
    if place is None:
        return
    ranked = await scores.ranking(store, catalog.campaign.year, place)
    if not ranked:
        name = officials.place_name(catalog.campaign.regions, place)
        may_run = is_admin or scope.level == "province"
        await message.answer(render("score_none", place=name, may_run=may_run))
        return
    text, markup = score_summary(catalog, place.level, place.code, ranked)
    await message.answer(text, reply_markup=markup)


async def cmd_extend(
    message: Message,
    command: CommandObject,
    scope: Jurisdiction,
    store: Store,
    catalog: Catalog,
    notifier: Notifier,
    is_admin: bool,
) -> None:
    """/extend [地区|信用代码] 日期: the province moves the submission deadline for itself, a
    city, a county or one enterprise (admins and province officials)."""
    if not (is_admin or scope.level == "province"):
        await message.answer(render("no_permission"))
        return
    *words, last = (command.args or "").split() or [""]
    until = deadlines.read_day(last, catalog.campaign.year)
    if until is None:
        await message.answer(render("extend_usage"))
        return
    refused = extensions.refusal(catalog, until)
    if refused:
        await message.answer(
            render("extend_refused", refused=refused, until=until, campaign=catalog.campaign)
        )
        return
    text = " ".join(words)
    targets = await extensions.find_targets(store, catalog.campaign.regions, text)
    if len(targets) != 1:
        names = [t.name for t in targets]
        await message.answer(render("place_unknown", text=text, names=names, command="extend"))
        return
    user = message.from_user.id if message.from_user else None
    done = await extensions.extend(store, catalog, targets[0], until, user, notifier)
    await message.answer(render("extend_done", done=done))


async def on_score_sheet(
    query: CallbackQuery,
    callback_data: ScoreSheet,
    bot: Bot,
    store: Store,
    catalog: Catalog,
    is_admin: bool,
) -> None:
    """下载排名表: the XLSX of the bureau's ranking, for whoever of that bureau pressed it."""
    scope = await scope_of(query.from_user, store, catalog, is_admin)
    regions = catalog.campaign.regions
    try:
        wanted = Jurisdiction(
            officials.check_jurisdiction(regions, callback_data.level, callback_data.code),
            callback_data.code,
        )
    except officials.UnknownJurisdiction:
        wanted = None
    if scope is None or wanted is None or not scope.covers(wanted.code) or query.message is None:
        await query.answer(phrase("staff_only"), show_alert=True)
        return
    await query.answer()
    ranked = await scores.ranking(store, catalog.campaign.year, wanted)
    name = officials.jurisdiction_name(regions, wanted.level, wanted.code)
    data = await asyncio.to_thread(exports.ranking_workbook, catalog, name, ranked)
    day = now().astimezone(catalog.campaign.zone)
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(data, filename=f"创新积分排名-{name}-{day:%Y%m%d}.xlsx"),
        caption=render("score_sheet_caption", bureau=name, count=len(ranked)),
    )


async def cmd_help(
    message: Message, scope: Jurisdiction, store: Store, catalog: Catalog, is_admin: bool
) -> None:
    official = await officials.of_user(store, message.from_user.id) if message.from_user else None
    await message.answer(
        render(
            "staff_help",
            admin=is_admin,
            official=official is not None,
            may_run=is_admin or scope.level == "province",
            scope_name=officials.place_name(catalog.campaign.regions, scope),
        )
    )


async def refuse(message: Message) -> None:
    await message.answer(phrase("staff_only"))


async def cmd_find(
    message: Message, command: CommandObject, scope: Jurisdiction, store: Store, catalog: Catalog
) -> None:
    text = (command.args or "").strip()
    if len(text) < 2 or len(text) > 100:
        await message.answer(render("find_usage"))
        return
    found, matched = await overview.find(store, catalog.campaign.year, scope, text)
    counties = catalog.campaign.regions.counties
    await message.answer(
        fitted(
            "found",
            text=text,
            found=found,
            matched=matched,
            buckets=overview.BUCKETS,
            region=lambda code: counties[code].full_name if code in counties else "未知地区",
        )
    )


EXPORT_WHICH: dict[str, Which] = {
    "全部": "all",
    "已提交": "submitted",
    "已上报": "reported",
    "all": "all",
    "submitted": "submitted",
    "reported": "reported",
}


async def cmd_export(
    message: Message,
    command: CommandObject,
    scope: Jurisdiction,
    bot: Bot,
    store: Store,
    catalog: Catalog,
) -> None:
    """/export [地区] [全部|已提交|已上报] → XLSX; /export <统一社会信用代码> → the form as HTML."""
    which: Which = "all"
    place: str | None = None
    for word in (command.args or "").split()[:3]:
        if word in EXPORT_WHICH:
            which = EXPORT_WHICH[word]
        elif len(word) == 18 and word.isascii() and word.isalnum():
            await _send_form_page(message, store, catalog, scope, word)
            return
        else:
            place = word
    chosen = await narrowed(message, scope, catalog, place, "export")
    if chosen is None:
        return
    await send_workbook(bot, message.chat.id, store, catalog, chosen, which)


async def send_workbook(
    bot: Bot, chat_id: int, store: Store, catalog: Catalog, scope: Jurisdiction, which: Which
) -> None:
    """The XLSX of the scope's forms (`which` of them), or why there is none."""
    records = await exports.forms(store, catalog, scope, which)
    name = officials.place_name(catalog.campaign.regions, scope)
    if not records:
        await bot.send_message(
            chat_id, render("export_empty", place=name, which=exports.WHICH_NAMES[which])
        )
        return
    trail = await exports.audit_trail(store, scope, which, catalog.campaign.year)
    names = await exports.people(store)
    data = await asyncio.to_thread(
        exports.workbook, catalog, records, trail, names, catalog.campaign.zone
    )
    today = now().astimezone(catalog.campaign.zone)
    await bot.send_document(
        chat_id,
        BufferedInputFile(data, filename=exports.export_name(name, which, today)),
        caption=render(
            "export_caption", place=name, which=exports.WHICH_NAMES[which], count=len(records)
        ),
    )


async def _send_form_page(
    message: Message, store: Store, catalog: Catalog, scope: Jurisdiction, credit_code: str
) -> None:
    record = await exports.one_form(store, catalog, scope, credit_code)
    if record is None:
        await message.answer(render("export_not_found", code=credit_code))
        return
    page = form_html(catalog, record, await exports.people(store))
    await message.answer_document(
        BufferedInputFile(page.encode(), filename=f"{record.enterprise.credit_code}-表单.html"),
        caption=render("form_page_caption", enterprise=record.enterprise),
    )
    await send_reviewer_workbook(message, store, catalog, record)


def router() -> Router:
    r = Router(name="overview")
    r.message.filter(PRIVATE)
    r.message.register(cmd_status, Command("status"), viewer)
    r.message.register(cmd_find, Command("find"), viewer)
    r.message.register(cmd_export, Command("export"), viewer)
    r.message.register(cmd_chart, Command("chart"), viewer)
    r.message.register(cmd_score, Command("score"), viewer)
    r.message.register(cmd_extend, Command("extend"), viewer)
    r.message.register(cmd_help, Command("help"), viewer)
    # an admin's bare /start: their commands, not the enterprise welcome (a contact: the form)
    r.message.register(cmd_help, Magic(F.text == "/start"), no_form, viewer)
    r.message.register(refuse, Command("find", "export", "chart", "score", "extend"))
    r.callback_query.register(on_score_sheet, ScoreSheet.filter())
    return r
