"""The form in Excel, for a bound contact in private: /excel and the 用 Excel 填写 button send the
contact's own workbook.
"""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot import screens, workbooks
from bot.filters import PRIVATE
from bot.keyboards import WorkbookPress
from bot.texts import render
from handlers.form import Flow, OpenFlow, bound
from storage.models import now


async def send_workbook(flow: Flow) -> None:
    """The contact's workbook as it stands (read-only once the form is submitted)."""
    draft = flow.draft
    data = await asyncio.to_thread(workbooks.contact_copy, draft)
    year = flow.catalog.campaign.year
    await flow.bot.send_document(
        flow.chat_id,
        BufferedInputFile(
            data, filename=workbooks.file_name(draft.enterprise.name, year, not draft.editable)
        ),
        caption=render(
            "workbook_caption",
            enterprise=draft.enterprise,
            readonly=not draft.editable,
            status=screens.STATUS_NAMES.get(draft.submission.status, ""),
            returned=len(draft.changeable or ()),
            when=screens.local_time(draft, now()),
        ),
    )


async def cmd_excel(message: Message, flow: Flow) -> None:
    await send_workbook(flow)


async def on_button(query: CallbackQuery, flow: Flow) -> None:
    await query.answer()
    await send_workbook(flow)


def router() -> Router:
    """Before the form's router."""
    r = Router(name="excel")
    r.message.filter(PRIVATE, bound)
    r.callback_query.filter(bound)
    r.message.register(cmd_excel, Command("excel"))
    r.callback_query.register(on_button, WorkbookPress.filter())
    r.message.middleware(OpenFlow())
    r.callback_query.middleware(OpenFlow())
    return r
