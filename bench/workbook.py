"""The form in Excel, the bot's time: /excel answered with the contact's workbook, and a filled
workbook sent back applied and reported.

    python -m bench.workbook [--contacts 20]

Each contact, bound to an enterprise with its pre-loaded values, sends /excel (the draft read,
the workbook built in a worker thread, sent), fills every empty cell as a finance colleague
would (万, 亿, 元 written out, 是/否, a date cell, "无误" beside the pre-loaded values) and sends
it back (downloaded, read within bounds, every cell parsed and checked, applied in one
transaction with its audit entries, the report and the next screen sent); then a file where
every cell is wrong (each refused with its reason, the report shortened to one message). Each
is one update through the real Dispatcher on a SQLite file, replies to the recording Bot API;
wall time and the process's CPU time (all threads) per update. Target of the issue: each under
1 s of the bot's time.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiogram.methods import SendDocument
from openpyxl import load_workbook

from bench.answers import percentiles
from bench.databases import invited
from bot import app
from bot.notifier import TelegramNotifier
from bot.offline import OfflineChat, offline_bot, texts
from bot.outbox import Outbox
from domain.catalog import Catalog, Kind
from services.workbook import FILL, HEADER_ROW, KEY, SHEET
from settings import Settings
from storage.db import create_engine, session_factory
from tests.conftest import CLEAN


def as_typed(catalog: Catalog, name: str, value: object) -> object:
    """A value as a person puts it in a cell."""
    f = catalog.by_name[name]
    if f.prefill:
        return "无误"
    if isinstance(value, Decimal):
        return f"{value * 10000}元" if name == "financing_amount" else f"{value}万"
    if f.kind is Kind.MULTI:
        return "、".join(value)  # type: ignore[arg-type]
    if f.kind is Kind.YES_NO:
        return "是" if value else "否"
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value


def filled(data: bytes, cells: dict[str, object]) -> bytes:
    book = load_workbook(io.BytesIO(data))
    sheet = book[SHEET]
    for row in range(HEADER_ROW + 1, sheet.max_row + 1):
        key = sheet.cell(row, KEY).value
        if key in cells:
            sheet.cell(row, FILL).value = cells[key]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def timed(update: Any) -> tuple[float, float, list[Any]]:
    """(wall s, CPU s, calls) of one update."""
    wall, cpu = time.perf_counter(), time.process_time()
    calls = await update
    return time.perf_counter() - wall, time.process_time() - cpu, calls


def row(what: str, walls: list[float], cpus: list[float]) -> str:
    p50, p99, longest = percentiles(walls)
    c50, c99, _ = percentiles(cpus)
    return (
        f"| {what} | {p50:.0f} ms | {p99:.0f} ms | {longest:.0f} ms | {c50:.0f} ms | {c99:.0f} ms |"
    )


async def main(contacts: int) -> None:
    catalog = Settings().catalog()
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    tokens = await invited(url, contacts)
    engine = create_engine(url)
    sessions = session_factory(engine)
    dispatcher = app.dispatcher(sessions, catalog, TelegramNotifier(Outbox(sessions), catalog))
    cells = {catalog.by_name[n].key: as_typed(catalog, n, v) for n, v in CLEAN.items()}
    wrong = {f.key: "见财务报表第三页" for f in catalog.fields}
    timings: dict[str, tuple[list[float], list[float]]] = {
        k: ([], []) for k in ("build", "apply", "wrong")
    }
    sizes = []
    for i, token in enumerate(tokens):
        person = OfflineChat(dispatcher, offline_bot(), 10_000 + i)
        await person.send(f"/start {token}")
        wall, cpu, calls = await timed(person.send("/excel"))
        data = next(c for c in calls if isinstance(c, SendDocument)).document.data  # type: ignore[union-attr]
        sizes.append(len(data))
        timings["build"][0].append(wall)
        timings["build"][1].append(cpu)
        wall, cpu, calls = await timed(person.send_document("填好的.xlsx", filled(data, cells)))
        assert "采用 <b>" in texts(calls)[0], texts(calls)[0]
        timings["apply"][0].append(wall)
        timings["apply"][1].append(cpu)
        wall, cpu, calls = await timed(person.send_document("乱填.xlsx", filled(data, wrong)))
        assert "未采用" in texts(calls)[0]
        timings["wrong"][0].append(wall)
        timings["wrong"][1].append(cpu)
        person.session.calls.clear()
    await engine.dispose()
    print(
        f"{contacts} contacts, one update each; workbook {sum(sizes) / len(sizes) / 1024:.0f} KiB\n"
    )
    print("| update | wall p50 | wall p99 | longest | CPU p50 | CPU p99 |")
    print("|---|---|---|---|---|---|")
    print(row("/excel: the workbook built and sent", *timings["build"]))
    print(row("a filled workbook applied, reported, next screen", *timings["apply"]))
    print(row("a workbook wrong in every cell, refused cell by cell", *timings["wrong"]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=20)
    asyncio.run(main(parser.parse_args().contacts))
