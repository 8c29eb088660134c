"""Every CSV the project writes keeps a formula-like text as text: a company that registers as
`=HYPERLINK(…)` is a name in the links file and in the import report, not a link."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from aiogram.methods import SendDocument

from services.binding import invite_enterprises, links_csv
from services.cells import csv_bytes
from storage.repositories import Store
from tests.chat.conftest import World, official
from tests.chat.test_binding import request
from tests.chat.test_import import csv_bytes as upload
from tests.factories import numbered_code

FORMULA = '=HYPERLINK("http://x","y")'


def read(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def test_a_company_named_like_a_formula_is_text_in_every_csv(world: World) -> None:
    county = await official(world, "county", "210211", 501, "王科长")
    code = numbered_code(7, "FX")
    await request(world, code, FORMULA)  # a company the platform does not know, registered
    await county.press("确认")
    async with world.sessions() as session:
        links = await invite_enterprises(Store(session), None, timedelta(days=14), False)
        await session.commit()
    [row] = read(links_csv(links, world.catalog, lambda token: f"https://t.me/bot?start={token}"))
    assert row["企业名称"] == "'" + FORMULA and row["已绑定联系人"] == "1"
    # the platform's list has it too, with a figure the import leaves out: a row in the report
    world.restart(admins=frozenset({42_000}))
    admin = world.person(42_000, "管理员")
    calls = await admin.send_document(
        "名单.csv", upload([[code, FORMULA, "210211", "三百五十", ""]]), caption="/import"
    )
    [report] = [c for c in calls if isinstance(c, SendDocument)]
    [row] = read(report.document.data)  # type: ignore[union-attr]
    assert row["企业名称"] == "'" + FORMULA and row["结果"] == "更新"


def test_a_number_stays_a_number_and_anything_else_formula_like_becomes_text() -> None:
    cells = ["-5", "+3.2", "-1,200.5", "12%", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "+86 138", "甲"]
    [written] = csv.reader(io.StringIO(csv_bytes([cells]).decode("utf-8-sig"), newline=""))
    assert written == [
        "-5", "+3.2", "-1,200.5", "12%", "'-2+3", "'@SUM(A1)", "'\t=1", "'\r=1", "'+86 138", "甲"
    ]  # fmt: skip
