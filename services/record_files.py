"""Reading enterprise records from the files people bring: JSON, CSV or XLSX.

Columns are the catalog's canonical keys or their Chinese labels. Values stay as typed; the
domain's readers interpret them. A file that cannot be read raises `RecordFileError`, whose
message names the file, the row and the column.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from domain.catalog import Catalog

SUFFIXES = (".json", ".csv", ".xlsx", ".xlsm")
_SCALARS = (str, int, float, Decimal, bool)


class RecordFileError(Exception):
    """The file cannot be read as records; the message says where and why, in Chinese."""


@dataclass(frozen=True, slots=True)
class Record:
    row: int  # the spreadsheet row (header = 1) or the position in a JSON array (from 1)
    answers: dict[str, object]  # by field name


@dataclass(slots=True)
class RecordFile:
    records: list[Record]
    ignored_columns: list[str] = field(default_factory=list)


def read_records(path: Path, catalog: Catalog) -> RecordFile:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise RecordFileError(f"{path.name}：不支持的文件类型，请使用 {'、'.join(SUFFIXES)}")
    try:
        if suffix == ".json":
            return _from_json(path, catalog)
        if suffix == ".csv":
            return _from_rows(path, _csv_rows(path), catalog)
        return _from_rows(path, _xlsx_rows(path), catalog)
    except OSError as exc:
        raise RecordFileError(f"{path.name}：无法读取（{exc.strerror or exc}）") from exc


def _from_json(path: Path, catalog: Catalog) -> RecordFile:
    def no_constants(name: str) -> object:
        raise ValueError(f"{name} 不是有效的数字")

    try:
        data = json.loads(path.read_bytes(), parse_float=Decimal, parse_constant=no_constants)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordFileError(f"{path.name}：不是有效的 JSON（{exc}）") from exc
    if not isinstance(data, list):
        raise RecordFileError(f"{path.name}：应为记录数组（[{{…}}, {{…}}]），每条记录一个对象")
    records, ignored = [], _Ignored()
    names: dict[str, str | None] = {}  # each key read once per file, not once per record
    for position, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise RecordFileError(f'{_where(path, position)}不是对象（应为 {{"字段": 值, …}}）')
        answers: dict[str, object] = {}
        for key, value in item.items():
            try:
                name = names[key]
            except KeyError:
                name = names[key] = _field_name(catalog, str(key), ignored)
            if name is None:
                continue
            if name in answers:
                raise RecordFileError(f"{_where(path, position)}：“{key}”与另一个键指向同一字段")
            if type(value) is not str:  # most values are text: one test, not three
                _check_value(path, position, key, value)
            answers[name] = value
        records.append(Record(position, answers))
    return RecordFile(records, ignored.columns)


def _where(path: Path, position: int) -> str:
    return f"{path.name}：第 {position} 条记录"


def _check_value(path: Path, position: int, key: str, value: object) -> None:
    if isinstance(value, list):
        if not all(isinstance(v, _SCALARS) for v in value):
            raise RecordFileError(f"{_where(path, position)}，“{key}”：列表中只能是文字或数字")
    elif value is not None and not isinstance(value, _SCALARS):
        raise RecordFileError(f"{_where(path, position)}，“{key}”：值应为文字、数字或列表")


def _csv_rows(path: Path) -> Iterator[list[object]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RecordFileError(f"{path.name}：无法识别文件编码，请另存为 UTF-8 的 CSV")
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise RecordFileError(f"{path.name}：CSV 格式有误（{exc}）") from exc


def _xlsx_rows(path: Path) -> Iterator[list[object]]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise RecordFileError(f"{path.name}：不是有效的 Excel 文件（{exc}）") from exc
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


def _from_rows(path: Path, rows: Iterable[list[object]], catalog: Catalog) -> RecordFile:
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        raise RecordFileError(f"{path.name}：文件为空，第 1 行应为表头")
    ignored = _Ignored()
    columns: list[tuple[int, str]] = []  # (column index, field name)
    seen: dict[str, int] = {}
    for index, title in enumerate(header):
        if title is None or not str(title).strip():
            continue
        name = _field_name(catalog, str(title), ignored)
        if name is None:
            continue
        if name in seen:
            raise RecordFileError(
                f"{path.name}：第 1 行，第 {seen[name] + 1} 列和第 {index + 1} 列是同一字段"
                f"（{catalog.by_name[name].label}）"
            )
        seen[name] = index
        columns.append((index, name))
    if not columns:
        raise RecordFileError(f"{path.name}：第 1 行没有可识别的表头（应为字段键名或中文名称）")
    records = []
    for number, row in enumerate(iterator, start=2):
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row):
            continue
        if len(row) > len(header) and any(c not in (None, "") for c in row[len(header) :]):
            raise RecordFileError(
                f"{path.name}：第 {number} 行的单元格多于表头（第 {len(header) + 1} 列起）"
            )
        records.append(
            Record(number, {name: row[i] if i < len(row) else None for i, name in columns})
        )
    return RecordFile(records, ignored.columns)


class _Ignored:
    """Column headers that name no field, reported once each."""

    def __init__(self) -> None:
        self.columns: list[str] = []

    def add(self, header: str) -> None:
        if header not in self.columns:
            self.columns.append(header)


def _field_name(catalog: Catalog, header: str, ignored: _Ignored) -> str | None:
    found = catalog.field_for_header(header)
    if found is None:
        ignored.add(header)
        return None
    return found.name
