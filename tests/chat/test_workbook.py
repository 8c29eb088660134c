"""The form in Excel: the contact's workbook out (/excel, the buttons), checked with openpyxl —
one row per field, dropdowns, number and date cells, protection, the hidden stamp."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import SendDocument, TelegramMethod
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.offline import OfflineChat, texts
from services.workbook import FILL, GENERATED, HEADER_ROW, KEY, SHEET, STAMP, read
from tests.chat.conftest import World
from tests.chat.test_journey import PRELOADED, bound
from tests.chat.test_review import bureaus


def sent_workbook(calls: list[TelegramMethod[Any]]) -> bytes:
    """The XLSX the bot sent in these calls."""
    documents = [c for c in calls if isinstance(c, SendDocument)]
    assert documents, "no document sent"
    return documents[-1].document.data  # type: ignore[union-attr]


async def download(person: OfflineChat) -> bytes:
    return sent_workbook(await person.send("/excel"))


def rows(sheet: Worksheet) -> dict[str, tuple[Any, ...]]:
    """The field rows by key."""
    return {
        row[KEY - 1]: row
        for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True)
        if row[KEY - 1]
    }


async def test_the_workbook_has_every_field_with_dropdowns_dates_numbers_and_protection(
    world: World,
) -> None:
    enterprise, person = await bound(world)
    said = texts(person.mine(person.session.calls))
    assert any("下载本企业的填报表格" in t for t in said)  # the welcome offers it
    data = sent_workbook(await person.press("用 Excel 填写"))
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == [SHEET, "选项", "填写说明", STAMP]
    assert book[STAMP].sheet_state == "veryHidden" and book["选项"].sheet_state == "hidden"
    assert book.security is not None and book.security.lockStructure
    sheet = book[SHEET]
    catalog = world.catalog
    by_key = rows(sheet)
    assert list(by_key) == [f.key for f in catalog.fields]  # the catalog's order
    rd = by_key["rd_expense_2025"]
    assert rd[:4] == ("创新投入", "2025年度研发费用", "万元", "是")
    assert rd[5] == 350 and rd[6] == "省平台带入，待核对" and rd[FILL - 1] is None
    assert by_key["registration_date"][5] == datetime(2018, 5, 20)  # a date cell
    assert by_key["contact_name"][6] == "未填" and by_key["tech_needs"][3] == "否"
    assert by_key["ranking_list_level"][3] == "有条件"
    assert "例如" in by_key["employees_2025"][4]
    # money fields all in 万元, numbers as numbers
    for f in catalog.fields:
        row = next(r for r in sheet.iter_rows(min_row=HEADER_ROW + 1) if r[KEY - 1].value == f.key)
        fill = row[FILL - 1]
        assert fill.protection.locked is False, f.key  # the fill column is open
        assert row[1].protection.locked and row[KEY - 1].protection.locked  # labels, keys
        if f.unit == "万元":
            assert fill.number_format == "#,##0.00##"
        if f.kind.value == "date":
            assert fill.number_format == "yyyy-mm-dd"
    assert sheet.protection.sheet
    assert sheet.column_dimensions["I"].hidden and sheet.column_dimensions["J"].hidden
    # dropdowns: choices and yes/no refuse anything else; multi-choice takes typed lists
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    where = {f.key: f"H{i}" for i, f in enumerate(catalog.fields, start=HEADER_ROW + 1)}
    status = validations[where["operating_status"]]
    assert status.type == "list" and status.showErrorMessage
    options = book["选项"]
    cells = options[status.formula1.split("!")[1].replace("$", "")]
    assert [row[0].value for row in cells] == list(catalog.by_name["operating_status"].choices)
    assert validations[where["is_private"]].type == "list"
    quals = validations[where["qualifications"]]
    assert quals.type == "list" and not quals.showErrorMessage
    assert validations[where["registration_date"]].type == "date"
    assert validations[where["rd_expense_2025"]].type == "decimal"
    assert validations[where["employees_2025"]].type == "whole"
    # the stamp: the enterprise and the draft's version
    stamp = {r[0]: r[1] for r in book[STAMP].iter_rows(values_only=True)}
    assert stamp["credit_code"] == enterprise.credit_code and len(stamp["version"]) == 64
    assert sheet.cell(HEADER_ROW + 1, GENERATED).value == '"大连海创智能装备有限公司"'
    assert "金额单位一律为万元" in "".join(str(c.value) for c in book["填写说明"]["A"] if c.value)


async def test_menu_and_summary_offer_the_workbook(world: World) -> None:
    _, person = await bound(world)
    await person.send("/menu")
    assert sent_workbook(await person.press("用 Excel 填写"))
    await person.press("提交前核对")
    assert sent_workbook(await person.press("用 Excel 填写"))


async def test_an_official_gets_a_read_only_copy_of_a_form_not_started(world: World) -> None:
    county, _, _, _ = await bureaus(world)
    enterprise = await world.enterprise({k: v for k, v in PRELOADED.items() if k != "contact_name"})
    calls = await county.send(f"/export {enterprise.credit_code}")
    book = load_workbook(io.BytesIO(sent_workbook(calls)))
    by_key = rows(book[SHEET])
    assert by_key["rd_expense_2025"][5] == 350
    assert by_key["rd_expense_2025"][6] == "省平台带入，待核对"
    stamp = {r[0]: r[1] for r in book[STAMP].iter_rows(values_only=True)}
    assert stamp["readonly"] == 1 and stamp["submission"] == 0


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
async def test_a_workbook_saved_again_by_libreoffice_reads_back_the_same(
    world: World, tmp_path: Path
) -> None:
    """Many clerks use LibreOffice or WPS: a file saved again keeps the stamp (veryHidden
    becomes hidden), the hidden columns, the dropdowns and the protection."""
    _, person = await bound(world)
    data = await download(person)
    original = tmp_path / "in.xlsx"
    original.write_bytes(data)
    converted = tmp_path / "out"
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(converted),
            str(original),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    again = (converted / "in.xlsx").read_bytes()
    assert read(again, world.catalog) == read(data, world.catalog)
    sheet = load_workbook(io.BytesIO(again))[SHEET]
    assert sheet.protection.sheet and len(sheet.data_validations.dataValidation) == 52
