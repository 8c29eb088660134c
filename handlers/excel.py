"""The form in Excel, for a bound contact in private: /excel and the 用 Excel 填写 button send the
contact's own workbook; the filled workbook sent back (any file name) is read, applied and
reported in one message, and the conversation goes on with only what is left.
"""

from __future__ import annotations

import asyncio
import io
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery, Document, Message

from bot import screens, workbooks
from bot.filters import PRIVATE, Command, Magic
from bot.keyboards import WorkbookPress
from bot.texts import fitted, render, shown
from domain.catalog import Catalog
from handlers.form import Flow, OpenFlow, bound
from services import form, workbook, workbook_answers
from services.exports import FormRecord
from services.overview import BUCKETS
from services.workbook import WorkbookError
from services.workbook_answers import Applied
from storage.codec import decode
from storage.models import now
from storage.repositories import Store


async def send_workbook(flow: Flow) -> None:
    """The contact's workbook as it stands (read-only once the form is submitted)."""
    draft = flow.draft
    await flow.store.release()  # the one SQLite connection is free while the workbook is made
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
            reviewer=False,
            returned=len(draft.changeable or ()),
            when=screens.local_time(draft, now()),
        ),
    )


async def send_reviewer_workbook(
    message: Message, store: Store, catalog: Catalog, record: FormRecord
) -> None:
    """/export <信用代码>: beside the HTML page, the same workbook the contact fills, read-only."""
    answers = await store.submissions.answers(record.submission.id) if record.submission else {}
    await store.release()
    data = await asyncio.to_thread(workbooks.reviewer_copy, catalog, record, answers)
    zone = catalog.campaign.zone
    await message.answer_document(
        BufferedInputFile(
            data, filename=workbooks.file_name(record.enterprise.name, catalog.campaign.year, True)
        ),
        caption=render(
            "workbook_caption",
            enterprise=record.enterprise,
            readonly=True,
            reviewer=True,
            status=BUCKETS[record.status],
            returned=0,
            when=now().astimezone(zone).strftime("%m月%d日 %H:%M"),
        ),
    )


async def cmd_excel(message: Message, flow: Flow) -> None:
    await send_workbook(flow)


async def on_button(query: CallbackQuery, flow: Flow) -> None:
    await query.answer()
    await send_workbook(flow)


async def on_document(message: Message, bot: Bot, flow: Flow) -> None:
    """A file sent back: read within bounds, applied whole or refused whole, then reported."""
    document: Document = message.document  # type: ignore[assignment]
    if (document.file_size or 0) > workbook.MAX_FILE:
        await _refused(flow, "too_big", size=document.file_size or 0)
        return
    buffer = io.BytesIO()
    await bot.download(document, destination=buffer)
    try:
        filled = await asyncio.to_thread(workbook.read, buffer.getvalue(), flow.catalog)
    except WorkbookError as exc:
        await _refused(flow, exc.reason, size=exc.size)
        return
    # read afresh: the download and the parsing gave other contacts of the enterprise time
    flow.draft = await form.open_draft(flow.store, flow.contact, flow.catalog)
    try:
        applied = await workbook_answers.apply(flow.store, flow.draft, filled, flow.user_id)
    except form.FormLocked as locked:
        await flow.moved(locked)
        return
    if applied.refusal:
        await _refused(flow, applied.refusal, other=applied.other)
        return
    generated = screens.local_time(flow.draft, _parsed_time(filled.stamp.generated_at))
    await message.answer(_report(flow, applied, document.file_name or "", generated))
    flow.data["units"] = applied.units  # asked before the summary (Flow.unit_question)
    flow.data["at"] = {}
    flow.data.pop("back_to", None)
    await flow.resume()


def _parsed_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


async def _refused(flow: Flow, reason: str, size: int = 0, other: str = "") -> None:
    draft = flow.draft
    await flow.bot.send_message(
        flow.chat_id,
        render(
            "workbook_refused",
            reason=reason,
            size=size,
            limit=workbook.MAX_FILE // 2**20,
            other=other,
            enterprise=draft.enterprise,
            status=screens.STATUS_NAMES.get(draft.submission.status, ""),
        ),
    )


def _report(flow: Flow, applied: Applied, file: str, generated: str) -> str:
    catalog = flow.catalog

    def label(name: str) -> str:
        return catalog.by_name[name].label

    def said(name: str, stored: object) -> str:
        f = catalog.by_name[name]
        return shown(catalog, f, decode(f, stored))

    return fitted(
        "workbook_report",
        file=file,
        generated=generated,
        kept=[(label(n), said(n, chat), said(n, typed)) for n, chat, typed in applied.kept],
        taken=len(applied.taken),
        checked=len(applied.checked),
        unchanged=len(applied.unchanged),
        skipped=len(applied.skipped),
        notes=[(label(n), note) for n, note in applied.notes],
        refused=[why for _, why in applied.refused],
        locked=[label(n) for n in applied.locked],
        findings=applied.findings,
        missing=len(applied.missing),
        unchecked=len(applied.unchecked),
        units=len(applied.units),
    )


def router() -> Router:
    """Before the form's router, whose catch-all would answer a file with “请用文字回答”."""
    r = Router(name="excel")
    r.message.filter(PRIVATE, bound)
    r.callback_query.filter(bound)
    r.message.register(cmd_excel, Command("excel"))
    r.message.register(on_document, Magic(F.document))
    r.callback_query.register(on_button, WorkbookPress.filter())
    r.message.middleware(OpenFlow())
    r.callback_query.middleware(OpenFlow())
    return r
