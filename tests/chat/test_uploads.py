"""Hostile uploads to /import: every file gets a reason in Chinese, never "出了点问题", and what
the bot will read is bounded (rows, columns, characters in a cell, an XLSX's unpacked parts)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from aiogram.methods import SendDocument
from openpyxl import Workbook
from openpyxl.xml.constants import SHEET_MAIN_NS

from bot.offline import texts
from services.bounds import LIMITS
from storage.models import Enterprise
from tests.chat.conftest import World
from tests.chat.test_import import GOOD, HEADER, count, csv_bytes

ADMIN = 42_000


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewritten(data: bytes, change: Callable[[str, bytes], bytes], *added: str) -> bytes:
    """The workbook with each part, and the parts `added` (empty), passed through
    `change(name, content)`."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for part in source.infolist():
            target.writestr(part, change(part.filename, source.read(part)))
        for name in added:
            target.writestr(name, change(name, b""))
    return out.getvalue()


def sheet(change: Callable[[bytes], bytes]) -> bytes:
    good = workbook([HEADER, *GOOD])
    return rewritten(good, lambda n, b: change(b) if n == "xl/worksheets/sheet1.xml" else b)


def huge_strings() -> bytes:
    """Shared strings that unpack to 25 MiB from an upload of a few dozen KiB."""
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"

    def change(name: str, content: bytes) -> bytes:
        if name == "xl/sharedStrings.xml":
            return b'<sst xmlns="%s"><si><t>%s</t></si></sst>' % (
                SHEET_MAIN_NS.encode(),
                b"a" * (25 * 2**20),
            )
        if name == "[Content_Types].xml":
            part = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kind}"/>'
            return content.replace(b"</Types>", part.encode() + b"</Types>")
        return content

    return rewritten(workbook([HEADER, *GOOD]), change, "xl/sharedStrings.xml")


def far_cell(content: bytes) -> bytes:
    return content.replace(b"</row>", b'<c r="XFD1" t="inlineStr"><is><t>x</t></is></c></row>', 1)


def utf16() -> bytes:
    return b"\xff\xfe" + csv_bytes(GOOD).decode("utf-8").encode("utf-16-le")


HOSTILE = [
    ("cut XML", "名单.xlsx", sheet(lambda b: b[: len(b) // 2]), "名单.xlsx：不是有效的 Excel 文件"),
    ("not a zip", "名单.xlsx", b"PK\x03\x04 not a zip", "名单.xlsx：不是有效的 Excel 文件，请在"),
    ("a DTD", "名单.xlsx", sheet(lambda b: b"<!DOCTYPE worksheet>" + b), "不是有效的"),
    ("huge strings", "名单.xlsx", huge_strings(), "表格中的文字解压后 25 MB，超过 24 MB 上限"),
    (
        "2,000 parts",
        "名单.xlsx",
        rewritten(workbook([HEADER, *GOOD]), lambda n, b: b, *(f"x/{i}" for i in range(2000))),
        "名单.xlsx：不是有效的 Excel 文件，请在",
    ),
    ("a cell at XFD", "名单.xlsx", sheet(far_cell), "第 1 行有 16,384 列，最多 300 列"),
    ("broken UTF-16", "名单.csv", utf16()[:-1], "名单.csv：无法识别文件编码"),
    ("nested JSON", "名单.json", b"[" * 100_000 + b"]" * 100_000, "请发送 CSV 或 XLSX 文件"),
    (
        "too many rows",
        "名单.csv",
        "企业名称\n".encode() + b"x\n" * (LIMITS.rows + 1),
        "名单.csv：数据超过 100,000 行上限（到第 100,002 行）",
    ),
    (
        "too many columns",
        "名单.csv",
        csv_bytes(GOOD).replace(b"\r\n", b"," + b"x," * 300 + b"\r\n", 1),
        "名单.csv：第 1 行有 305 列，最多 300 列",
    ),
    (
        "a long cell",
        "名单.csv",
        csv_bytes([[GOOD[0][0], "长" * 2001, *GOOD[0][2:]]]),
        "名单.csv：第 2 行第 2 列（企业名称）有 2,001 字，每格最多 2,000 字",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "said"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE]
)
async def test_a_file_the_bot_cannot_read_gets_a_reason(
    world: World, name: str, data: bytes, said: str
) -> None:
    world.restart(admins=frozenset({ADMIN}))
    admin = world.person(ADMIN, "管理员")
    await admin.send("/import")
    answer = texts(await admin.send_document(name, data))
    assert len(answer) == 1 and said in answer[0], answer
    assert "zip" not in answer[0] and "出了点问题" not in answer[0]
    assert await count(world, Enterprise) == 0


@pytest.mark.parametrize(
    "sent",
    ["名" * 296 + ".csv", "名单\x00.csv", "../../名单\u202e.csv"],
    ids=["300 characters", "a NUL", "a path"],
)
async def test_any_file_name_imports_and_is_shown_within_reason(world: World, sent: str) -> None:
    world.restart(admins=frozenset({ADMIN}))
    admin = world.person(ADMIN, "管理员")
    calls = await admin.send_document(sent, csv_bytes([*GOOD, GOOD[0]]), caption="/import")
    said = texts(calls)
    assert "共 3 行：新建 2，更新 0，未变 0，拒绝 1" in said[-1]
    assert await count(world, Enterprise) == 2
    [report] = [c for c in calls if isinstance(c, SendDocument)]
    shown = report.document.filename  # type: ignore[union-attr]
    assert "\x00" not in said[-1] + shown and "/" not in shown and "\u202e" not in shown
    assert len(shown) <= 70 and shown.endswith(".csv")


async def test_a_utf16_csv_is_read(world: World) -> None:
    """Excel's "Unicode" CSV: UTF-16 with a byte-order mark."""
    world.restart(admins=frozenset({ADMIN}))
    admin = world.person(ADMIN, "管理员")
    said = texts(await admin.send_document("名单.csv", utf16(), caption="/import"))
    assert "共 2 行：新建 2" in said[-1]
