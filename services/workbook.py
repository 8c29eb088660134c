"""The form as the contact's own workbook: one row per field to fill in Excel, read back.

The finance colleague who has the figures is often not the one holding the Telegram account, so
the whole form goes out as one sheet (labels, units, help, the current values, an empty column
to fill, dropdowns for choices) and comes back filled. A hidden sheet stamps the enterprise and
the draft's version, and a hidden column the value each field had when the file was made: a
file is never applied to another enterprise's form, nor over what changed in chat since,
without saying so. Reading is bounded: the file's size, then its zip directory, before openpyxl.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from domain.catalog import Catalog, Field, Kind
from services.exports import cell_value
from storage.codec import decode
from storage.models import Enterprise, Submission
from storage.repositories import StoredAnswer

SHEET, GUIDE, OPTIONS, STAMP = "填报表", "填写说明", "选项", "版本"
HEADERS = ("部分", "项目", "单位", "必填", "填写说明与示例", "当前值", "状态", "在此填写")
WIDTHS = (12, 30, 7, 6, 44, 22, 16, 26)
FILL = len(HEADERS)  # the column the contact fills
KEY = FILL + 1  # hidden: the field's key
GENERATED = FILL + 2  # hidden: the value as stored when the file was made (JSON)
HEADER_ROW = 3
FORMAT = 1  # the stamp's layout; a later layout reads older files or refuses them by number

MAX_FILE = 2 * 2**20  # bytes: a filled form is ~20 KiB; a larger file is not one of ours
MAX_MEMBERS = 64  # files in the zip (ours has ~12; Excel and WPS add a few)
MAX_UNZIPPED = 16 * 2**20  # bytes, all members together: a zip bomb stops here
_STATUS_COLOURS = {"待核对": "FFF2CC", "未填": "FCE4D6", "退回": "FCE4D6"}
_YELLOW = PatternFill("solid", fgColor="FFF9C4")
_GREY = PatternFill("solid", fgColor="EDEDED")
_HEAD = PatternFill("solid", fgColor="DDEBF7")
_THIN = Side(style="thin", color="BFBFBF")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")


class WorkbookError(Exception):
    """The file is not a workbook this bot can read. `reason` names why (for the message's
    template): too_big, xls, not_xlsx, broken, bomb, not_ours, old_format."""

    def __init__(self, reason: str, size: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.size = reason, size


@dataclass(frozen=True, slots=True)
class Stamp:
    """Whose form a file is and which version of it: written hidden, read back first."""

    credit_code: str
    campaign: int
    submission: int
    round: int
    version: str  # services.form.data_hash of the answers when the file was made
    generated_at: str
    readonly: bool = False  # a reviewer's copy: never applied


@dataclass(frozen=True, slots=True)
class Filled:
    """A workbook sent back: its stamp, what was filled (by field), what each field held when
    the file was made (as stored)."""

    stamp: Stamp
    cells: dict[str, object]
    generated: dict[str, object]


def status_of(answer: StoredAnswer | None, changeable: Collection[str] | None, name: str) -> str:
    """The state of a field in words, for the 状态 column."""
    if changeable is not None:
        return "退回，可修改" if name in changeable else "已锁定（未退回）"
    if answer is None:
        return "未填"
    if answer.source == "preloaded":
        return "省平台带入，已核对" if answer.confirmed else "省平台带入，待核对"
    return "已跳过" if answer.source == "skipped" else "已填写"


def build(
    catalog: Catalog,
    enterprise: Enterprise,
    submission: Submission | None,
    answers: Mapping[str, StoredAnswer],
    version: str,
    *,
    changeable: Collection[str] | None = None,
    notes: Mapping[str, str] | None = None,
    readonly: bool = False,
    when: datetime,
    guide: str,
) -> bytes:
    """The XLSX of one form (`submission` None: not started, a reviewer's copy of the
    pre-loaded values). `changeable`: a returned form's reopened fields (None: all);
    `notes`: the reviewers' comments by field; `readonly`: a reviewer's copy, no fill column;
    `guide`: the instructions sheet's text, a line per row."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    stamp = Stamp(
        enterprise.credit_code,
        catalog.campaign.year,
        submission.id if submission else 0,
        submission.round if submission else 0,
        version,
        when.isoformat(timespec="seconds"),
        readonly,
    )
    generated = when.astimezone(catalog.campaign.zone).strftime("%Y-%m-%d %H:%M")
    _title(sheet, catalog, enterprise, generated, readonly)
    lists = _options(book, catalog)
    for row, f in enumerate(catalog.fields, start=HEADER_ROW + 1):
        open_ = not readonly and (changeable is None or f.name in changeable)
        status = status_of(answers.get(f.name), changeable, f.name)
        _row(sheet, row, catalog, f, answers.get(f.name), status, (notes or {}).get(f.name))
        fill = sheet.cell(row, FILL)
        if open_:
            fill.fill = _YELLOW
            fill.protection = Protection(locked=False)
            _validate(sheet, fill.coordinate, f, catalog, lists)
        else:
            fill.fill = _GREY
    _columns(sheet, readonly)
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # widths and heights may change, not the content
    sheet.protection.formatRows = False
    _guide(book, guide)
    _stamp(book, stamp)
    book.active = 0
    book.security = WorkbookProtection(lockStructure=True)  # hidden sheets stay hidden
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row(
    sheet: Worksheet,
    row: int,
    catalog: Catalog,
    f: Field,
    answer: StoredAnswer | None,
    status: str,
    note: str | None,
) -> None:
    """One field's row: what it asks, its current value and state, and (hidden) its key and its
    value as stored now, which the file is later reconciled against."""
    help_text = f.help if f.example in f.help else f"{f.help}；例如 {f.example}".lstrip("；")
    if note:
        help_text = f"审核意见：{note}\n{help_text}"
    value = decode(f, answer.value) if answer is not None else None
    cells = (
        catalog.section(f.section).title,
        f.label,
        f.unit,
        "有条件" if f.required_with else ("是" if f.required else "否"),
        help_text,
        cell_value(catalog, f, value),
        status,
        None,
        f.key,
        json.dumps(answer.value if answer else None, ensure_ascii=False),
    )
    for column, content in enumerate(cells, start=1):
        cell = sheet.cell(row, column)
        _put(cell, content)
        cell.alignment = _WRAP
        cell.border = _BOX
    _formats(sheet, row, f)
    sheet.row_dimensions[row].height = _height(cells[: len(WIDTHS)], WIDTHS)
    colour = next((c for word, c in _STATUS_COLOURS.items() if word in status), None)
    if colour:
        sheet.cell(row, 7).fill = PatternFill("solid", fgColor=colour)


LINE = 15  # points: one line of the default 11-point font


def _height(cells: tuple[object, ...], widths: tuple[int, ...]) -> float:
    """A row tall enough for its wrapped texts: Excel and LibreOffice do not size rows of a
    file on opening, so without it the help text would overlap the next row."""
    lines = 1
    for text, width in zip(cells, widths, strict=True):
        if isinstance(text, str):
            room = max(width - 1, 1)
            lines = max(lines, sum(-(-_units(part) // room) or 1 for part in text.split("\n")))
    return lines * LINE


def _units(text: str) -> int:
    """Column-width units: a Chinese character is about two."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _put(cell: Cell, value: object) -> None:
    """Text stays text: a value starting with "=" is not a formula; characters Excel refuses
    are dropped."""
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value


def _title(
    sheet: Worksheet, catalog: Catalog, enterprise: Enterprise, generated: str, readonly: bool
) -> None:
    sheet.cell(1, 1, f"{catalog.campaign.year}年创新积分制企业信息征集 · {enterprise.name}")
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    said = f"统一社会信用代码 {enterprise.credit_code} · 生成于 {generated} · " + (
        "审核用只读副本"
        if readonly
        else "只在黄色的“在此填写”列填写，不改的项目留空；填好后把文件发回给机器人"
    )
    _put(sheet.cell(2, 1), said)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=FILL)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=FILL)
    for column, header in enumerate((*HEADERS, "字段键", "生成时的值"), start=1):
        cell = sheet.cell(HEADER_ROW, column, header)
        cell.font = Font(bold=True)
        cell.fill = _HEAD
        cell.border = _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center")
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 3)


def _columns(sheet: Worksheet, readonly: bool) -> None:
    for column, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    for column in (KEY, GENERATED, *((FILL,) if readonly else ())):
        sheet.column_dimensions[get_column_letter(column)].hidden = True
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


_NUMBER_FORMATS = {
    Kind.MONEY: "#,##0.00##",
    Kind.COUNT: "0",
    Kind.RANK: "0",
    Kind.DATE: "yyyy-mm-dd",
}


def _formats(sheet: Worksheet, row: int, f: Field) -> None:
    """Numbers as numbers, dates as dates; what is typed as text (codes, phones) as text."""
    number_format = _NUMBER_FORMATS.get(f.kind, "@")
    for column in (6, FILL):
        sheet.cell(row, column).number_format = number_format


def _options(book: Workbook, catalog: Catalog) -> dict[str, str]:
    """A hidden sheet with each choice field's options in a column; the dropdowns' sources."""
    sheet = book.create_sheet(OPTIONS)
    sheet.sheet_state = "hidden"
    lists: dict[str, str] = {}
    column = 0
    for f in catalog.fields:
        options = ("是", "否") if f.kind is Kind.YES_NO else f.choices
        if f.kind not in (Kind.CHOICE, Kind.MULTI, Kind.YES_NO) or not options:
            continue
        column += 1
        letter = get_column_letter(column)
        sheet.cell(1, column, f.key)
        for i, option in enumerate(options, start=2):
            _put(sheet.cell(i, column), option)
        lists[f.name] = f"{quote_sheetname(OPTIONS)}!${letter}$2:${letter}${len(options) + 1}"
    return lists


def _validate(
    sheet: Worksheet, where: str, f: Field, catalog: Catalog, lists: dict[str, str]
) -> None:
    """The fill cell's dropdown or range, and its help shown when the cell is selected."""
    prompt = (f.help or f"例如 {f.example}")[:250]
    checks = catalog.campaign.checks
    if f.name in lists:
        multi = f.kind is Kind.MULTI
        rule = DataValidation(
            type="list",
            formula1=lists[f.name],
            showErrorMessage=not multi,  # several options are typed, separated by “、”
            errorTitle="请从下拉列表中选择",
            error="请点单元格右侧的箭头，从列表中选择。",
        )
        if multi:
            prompt = f"可多选：从列表选一项，或输入多项并用“、”分隔。{prompt}"[:250]
    elif f.kind is Kind.MONEY:
        low = -checks.ceiling_money if f.negative else 0
        rule = DataValidation(
            type="decimal",
            operator="between",
            formula1=str(low),
            formula2=str(checks.ceiling_money),
        )
    elif f.kind in (Kind.COUNT, Kind.RANK):
        least = 1 if f.kind is Kind.RANK else 0
        rule = DataValidation(
            type="whole",
            operator="between",
            formula1=str(least),
            formula2=str(checks.ceiling_count),
        )
    elif f.kind is Kind.DATE:
        rule = DataValidation(type="date", operator="greaterThan", formula1="1")
    else:
        rule = DataValidation()
    if f.kind in (Kind.MONEY, Kind.COUNT, Kind.RANK, Kind.DATE):
        rule.errorStyle = "warning"  # “3500万”“35000000元”“2018年5月20日” are read too
        rule.errorTitle = "请核对"
        rule.error = "这里应填数字或日期；文字写法（如 35000000元）也能识别，请确认。"
    rule.promptTitle = f.label[:32]
    rule.prompt = prompt
    rule.showInputMessage = True
    rule.allow_blank = True
    rule.add(where)
    sheet.add_data_validation(rule)


def _guide(book: Workbook, text: str) -> None:
    sheet = book.create_sheet(GUIDE)
    width = 76  # fits a portrait A4 page as it is
    sheet.column_dimensions["A"].width = width
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    for row, line in enumerate(text.splitlines(), start=1):
        cell = sheet.cell(row, 1)
        _put(cell, line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[row].height = _height((line,), (width,)) + 4
        if row == 1:
            cell.font = Font(bold=True, size=14)
    sheet.protection.sheet = True


def _stamp(book: Workbook, stamp: Stamp) -> None:
    sheet = book.create_sheet(STAMP)
    sheet.sheet_state = "veryHidden"  # not listed by Excel's 取消隐藏 either
    rows: list[tuple[str, Any]] = [
        ("format", FORMAT),
        ("credit_code", stamp.credit_code),
        ("campaign", stamp.campaign),
        ("submission", stamp.submission),
        ("round", stamp.round),
        ("version", stamp.version),
        ("generated_at", stamp.generated_at),
        ("readonly", int(stamp.readonly)),
    ]
    for row, (key, value) in enumerate(rows, start=1):
        sheet.cell(row, 1, key)
        _put(sheet.cell(row, 2), value)
    sheet.protection.sheet = True


# ---- reading it back -------------------------------------------------------------------------


def read(content: bytes, catalog: Catalog) -> Filled:
    """A workbook sent back, read within bounds; `WorkbookError` if it cannot be ours."""
    if len(content) > MAX_FILE:
        raise WorkbookError("too_big", len(content))
    _check_zip(content)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            if SHEET not in book.sheetnames or STAMP not in book.sheetnames:
                raise WorkbookError("not_ours")
            stamp = _read_stamp(book[STAMP])
            cells, generated = _read_rows(book[SHEET], catalog)
        finally:
            book.close()
    except WorkbookError:
        raise
    except Exception as exc:  # a hostile file breaks openpyxl and lxml in many ways
        raise WorkbookError("broken") from exc
    return Filled(stamp, cells, generated)


def _check_zip(content: bytes) -> None:
    """An XLSX is a zip: refuse anything else (a renamed CSV, an old .xls) and a zip that would
    unpack to more than any filled form could, before openpyxl inflates anything."""
    if not zipfile.is_zipfile(io.BytesIO(content)):
        old = content.startswith(b"\xd0\xcf\x11\xe0")  # the old binary .xls
        raise WorkbookError("xls" if old else "not_xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise WorkbookError("broken") from exc
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED:
        raise WorkbookError("bomb")


def _read_stamp(sheet: Any) -> Stamp:
    found: dict[str, object] = {}
    for row in sheet.iter_rows(min_row=1, max_row=20, max_col=2, values_only=True):
        if row and isinstance(row[0], str):
            found[row[0]] = row[1] if len(row) > 1 else None
    try:
        if int(str(found["format"])) != FORMAT:
            raise WorkbookError("old_format")
        return Stamp(
            credit_code=str(found["credit_code"]),
            campaign=int(str(found["campaign"])),
            submission=int(str(found["submission"])),
            round=int(str(found["round"])),
            version=str(found["version"]),
            generated_at=str(found["generated_at"]),
            readonly=bool(int(str(found.get("readonly") or 0))),
        )
    except (KeyError, ValueError) as exc:
        raise WorkbookError("not_ours") from exc


def _read_rows(sheet: Any, catalog: Catalog) -> tuple[dict[str, object], dict[str, object]]:
    """What was filled per field, found by the hidden key (rows may have been sorted), and the
    value each field had when the file was made."""
    cells: dict[str, object] = {}
    generated: dict[str, object] = {}
    last = HEADER_ROW + 2 * len(catalog.fields) + 50  # room for rows a person inserted
    for row in sheet.iter_rows(
        min_row=HEADER_ROW + 1, max_row=last, max_col=GENERATED, values_only=True
    ):
        if len(row) < GENERATED or not isinstance(row[KEY - 1], str):
            continue
        f = catalog.by_key.get(row[KEY - 1])
        if f is None or f.name in generated:
            continue
        try:
            generated[f.name] = json.loads(str(row[GENERATED - 1]))
        except ValueError as exc:
            raise WorkbookError("not_ours") from exc
        value = row[FILL - 1]
        if isinstance(value, datetime) and f.kind is not Kind.DATE:
            value = value.date().isoformat()  # Excel turned “2018-5-20” typed elsewhere into a date
        if isinstance(value, str) and not value.strip():
            value = None
        if value is not None:
            cells[f.name] = value.date() if isinstance(value, datetime) else value
    if not generated:
        raise WorkbookError("not_ours")
    return cells, generated
