"""Admins' commands in chat: /import (a CSV or XLSX of the pre-loaded enterprises).

Every command here answers "无权限" to anyone who is not an admin and changes nothing.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, Document, Message

from bot.filters import NOT_COMMAND, PRIVATE, Command, Magic
from bot.texts import file_problem, phrase, render
from domain.catalog import Catalog
from domain.text import visible
from services.cells import csv_bytes
from services.imports import OUTCOMES, ImportReport, explain, import_records
from services.record_files import TABLES, RecordFileError, open_records
from storage.repositories import Store

MAX_FILE = 20 * 1024 * 1024  # the largest file the Bot API lets a bot download
SHOWN = 10  # problem rows listed in the message; all of them are in the attached report
NAME = 60  # characters of a file's name shown back


class Importing(StatesGroup):
    file = State()


async def cmd_import(
    message: Message,
    bot: Bot,
    state: FSMContext,
    store: Store,
    catalog: Catalog,
    is_admin: bool,
) -> None:
    """/import, a file sent with /import as its caption, or the file asked for after /import."""
    if not is_admin:
        await state.clear()
        await message.answer(phrase("admin_only"))
        return
    if message.document is not None:
        await state.clear()
        await _import(message, message.document, bot, store, catalog)
        return
    await state.set_state(Importing.file)
    await message.answer(render("import_ask", limit=MAX_FILE // 2**20))


async def not_a_file(message: Message) -> None:
    await message.answer(render("input_problem", problem=phrase("import_file_only")))


async def cmd_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(phrase("import_cancelled"))


async def _import(
    message: Message, document: Document, bot: Bot, store: Store, catalog: Catalog
) -> None:
    assert message.from_user is not None
    name = _shown_name(document.file_name or "")
    suffix = Path(name).suffix.lower()
    if suffix not in TABLES:
        await message.answer(render("input_problem", problem=phrase("import_file_only")))
        return
    if (document.file_size or 0) > MAX_FILE:
        problem = phrase("import_too_big", limit=MAX_FILE // 2**20)
        await message.answer(render("input_problem", problem=problem))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"  # never the sender's name: any length, any byte
        await bot.download(document, destination=path)
        try:
            records = await asyncio.to_thread(open_records, path, catalog)
        except RecordFileError as exc:
            await message.answer(render("input_problem", problem=file_problem(name, exc)))
            return
        await message.answer(render("import_started", rows=records.count))
        report = await import_records(store, catalog, records, message.from_user.id)
    report.ignored_columns = records.ignored_columns
    problems = [(r, said) for r in report.rows if (said := explain(r))]
    await message.answer(
        render(
            "import_report",
            file=name,
            total=len(report.rows),
            counts={label: report.counts.get(o, 0) for o, label in OUTCOMES.items()},
            problems=problems[:SHOWN],
            more=len(problems) - SHOWN,
            ignored=report.ignored_columns,
        )
    )
    if problems:
        await message.answer_document(
            BufferedInputFile(_problems_csv(report), filename=f"导入结果-{Path(name).stem}.csv")
        )


def _shown_name(sent: str) -> str:
    """The file's name as its sender sees it, within reason: what shows nothing removed, the
    folders dropped, the stem shortened (the suffix kept)."""
    name = Path(visible(sent).replace("\\", "/")).name or "file"
    stem, suffix = Path(name).stem, Path(name).suffix[:8]
    return (stem if len(stem) <= NAME else stem[: NAME - 1] + "…") + suffix


def _problems_csv(report: ImportReport) -> bytes:
    """The rows that need a look, as a CSV Excel opens."""
    header = ["行", "统一社会信用代码", "企业名称", "结果", "说明"]
    rows = (
        [r.row, r.credit_code, r.name, OUTCOMES[r.outcome], said]
        for r in report.rows
        if (said := explain(r))
    )
    return csv_bytes([header, *rows])


def router() -> Router:
    r = Router(name="admin")
    r.message.filter(PRIVATE)
    r.message.register(cmd_import, Command("import"))
    r.message.register(cmd_cancel, Command("cancel"), StateFilter(Importing.file))
    r.message.register(cmd_import, StateFilter(Importing.file), Magic(F.document))
    r.message.register(not_a_file, StateFilter(Importing.file), NOT_COMMAND)
    return r
