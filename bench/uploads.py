"""Resident memory while importing uploads as large as the bot takes, and hostile ones.

    python -m bench.uploads            # about 3 minutes

Each file is imported in a fresh process on a new SQLite file, twice: by `python main.py
import FILE` (whose table of the rows needing a look is drawn whole by rich: ~90 MiB for
20,000 rows), and as an admin's /import in chat (the bot's own Dispatcher, the file downloaded
from the offline Bot API, which holds it in memory).
Reported: the peak resident memory as the kernel counts it (nothing between two samples is
missed): of the whole command; of the bot from the moment the file is sent (its high-water mark
reset once it has started, so the migration run at start-up does not hide it), with its memory
at rest just before. The time is the whole process's, start-up included; then what was said.
Target: under 300 MiB.

The files, each under the Bot API's 20 MiB download limit:
- a CSV of real enterprises with every column of the form, as many rows as fit in 20 MiB;
- the issue's CSV: 20 MiB of one-character rows (today's reader built every row in memory);
- the issue's XLSX: shared strings that unpack to 2 GiB from a few MiB;
- an XLSX whose shared strings are as large as the reader accepts (24 MiB unpacked, 1.3 million
  two-character strings, the costliest kind) and 20,000 rows using them.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import io
import itertools
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

from settings import Settings
from tests.factories import as_row, numbered_code, typed_record

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 20 * 2**20  # the largest file a bot may download
ADMIN = 42_000
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRINGS_KIND = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def enterprises_csv(path: Path) -> int:
    """Real rows until the next would pass 20 MiB; the number of rows."""
    catalog, rng = Settings().catalog(), random.Random(2026)
    rows, size = 0, 0
    with path.open("wb") as file:
        while True:
            record = typed_record(rng, catalog) | {"credit_code": numbered_code(rows, "UP")}
            row = as_row(record, catalog)
            line = io.StringIO()
            writer = csv.DictWriter(line, fieldnames=list(row))
            if not rows:
                writer.writeheader()
            writer.writerow(row)
            data = line.getvalue().encode()
            if size + len(data) > LIMIT:
                return rows
            file.write(data)
            size, rows = size + len(data), rows + 1


def tiny_rows_csv(path: Path) -> None:
    header = "企业名称\n".encode()
    path.write_bytes(header + b"x\n" * ((LIMIT - len(header)) // 2 - 1))


def workbook(path: Path, strings: Iterable[bytes], rows: list[list[int]]) -> None:
    """A workbook of shared strings (<si> elements, written as they come) and rows of string
    indexes."""
    cells = "".join(
        f'<row r="{n}">' + "".join(f'<c t="s"><v>{i}</v></c>' for i in row) + "</row>"
        for n, row in enumerate(rows, start=1)
    )
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml'
            f'.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
            f'"{STRINGS_KIND}"/></Types>'
        ),
        "_rels/.rels": _rels("officeDocument", "xl/workbook.xml"),
        "xl/workbook.xml": (
            f'<workbook xmlns="{NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships"><sheets><sheet name="企业" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>"
        ),
        "xl/_rels/workbook.xml.rels": _rels("worksheet", "worksheets/sheet1.xml"),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{NS}"><sheetData>{cells}</sheetData>'
        "</worksheet>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, content in parts.items():
            z.writestr(name, content)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(f'<sst xmlns="{NS}">'.encode())
            for chunk in strings:
                part.write(chunk)
            part.write(b"</sst>")


def _rels(kind: str, target: str) -> str:
    return (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/{kind}" Target="{target}"/></Relationships>'
    )


def bomb_xlsx(path: Path) -> None:
    """The issue's hostile workbook: 2 GiB of shared strings in a few MiB."""
    huge = b"<si><t>" + "创新积分".encode() * (2**20 // 12) + b"</t></si>"
    workbook(path, itertools.repeat(huge, 2 * 2**30 // len(huge)), [[0]])


def strings_xlsx(path: Path) -> None:
    """Shared strings just within the reader's limit, of the costliest kind (two characters
    each) after a header's, and 20,000 rows of five cells using them."""
    header = ["统一社会信用代码", "企业名称", "所属区县", "联系人姓名", "联系人手机号"]
    count = (24 * 2**20 - 1000) // len(b"<si><t>ab</t></si>")
    strings = itertools.chain(
        (f"<si><t>{label}</t></si>".encode() for label in header),
        (b"<si><t>%02d</t></si>" % (i % 100) for i in range(count)),
    )
    rows = [[5 + (r * 5 + c) % count for c in range(5)] for r in range(20_000)]
    workbook(path, strings, [list(range(5)), *rows])


def measure(command: list[str], database: str) -> tuple[float, float, str]:
    """(peak resident MiB, seconds, the last line it printed) of a command run to its end."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=dict(os.environ, DATABASE_URL=database),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = process.stdout.read() if process.stdout else ""
    _, _, usage = os.wait4(process.pid, 0)
    said = [line for line in out.strip().splitlines() if line.strip()] or [""]
    return usage.ru_maxrss / 1024, time.perf_counter() - start, said[-1].strip()


async def chat(path: Path) -> None:
    """In the child: the admin sends the file with /import; print what the bot said last."""
    from bot import app
    from bot.notifier import TelegramNotifier
    from bot.offline import OfflineChat, offline_bot, texts
    from bot.outbox import Outbox
    from storage.db import create_engine, session_factory, upgrade

    catalog = Settings().catalog()
    url = os.environ["DATABASE_URL"]
    await asyncio.to_thread(upgrade, url)
    sessions = session_factory(create_engine(url))
    notifier = TelegramNotifier(Outbox(sessions), catalog)
    dispatcher = app.dispatcher(sessions, catalog, notifier, admins=frozenset({ADMIN}))
    admin = OfflineChat(dispatcher, offline_bot(), ADMIN, "管理员")
    await admin.send("/help")  # the bot's first update: it has started
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the peak so far (the migration's) forgotten
    resting = _status("VmRSS")
    said = texts(await admin.send_document(path.name, path.read_bytes(), caption="/import"))
    last = said[-1].splitlines()[-1] if said else ""
    print(f"{_status('VmHWM')} {resting} {last}")


def _status(key: str) -> float:
    """A figure of /proc/self/status, in MiB."""
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(key))
    return int(line.split()[1]) / 1024


def main() -> None:
    files = [
        ("enterprises.csv", enterprises_csv),
        ("tiny-rows.csv", tiny_rows_csv),
        ("bomb.xlsx", bomb_xlsx),
        ("strings.xlsx", strings_xlsx),
    ]
    print(
        "| file | size | how | bot at rest | peak resident memory | time | said |\n"
        "|---|---|---|---|---|---|---|",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        for name, make in files:
            path = Path(folder) / name
            made = make(path)
            size = f"{path.stat().st_size / 2**20:.1f} MiB" + (f", {made:,} rows" if made else "")
            ways = {
                "`main.py import`": [sys.executable, str(ROOT / "main.py"), "import", str(path)],
                "/import in chat": [sys.executable, "-m", "bench.uploads", "--chat", str(path)],
            }
            for how, command in ways.items():
                database = f"sqlite+aiosqlite:///{Path(folder) / (name + how[1:4] + '.db')}"
                peak, seconds, said = measure(command, database)
                resting = "—"
                if how.startswith("/"):  # the bot's own figures: its peak from the file on
                    top, rest, said = said.split(" ", 2)
                    peak, resting = float(top), f"{float(rest):.0f} MiB"
                print(
                    f"| {name} | {size} | {how} | {resting} | {peak:.0f} MiB | {seconds:.1f} s "
                    f"| {said[:100]} |",
                    flush=True,
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--chat", type=Path, help="(the child) import this file in chat")
    arguments = parser.parse_args()
    if arguments.chat:
        asyncio.run(chat(arguments.chat))
    else:
        # A reader that does not hold to its bounds stops at 4 GiB of address space (a
        # MemoryError in the table) instead of taking the machine.
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))
        main()
