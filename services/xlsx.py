"""The first worksheet of an XLSX, row by row, within bounds.

openpyxl alone trusts the file: it inflates whatever the zip holds, and while it reads a part it
keeps every element it has read until the part ends, so a 3.5 MiB upload of huge shared strings
unfolds into gigabytes. Here the sizes the zip declares are checked before anything is inflated
(zipfile stops at the declared size, so a lying header gains nothing); the shared strings and the
worksheet pass a byte filter (no DTD, comment or CDATA, which Excel never writes, and no run of
text longer than Excel's longest cell) and are parsed element by element, each element dropped
once read. openpyxl still reads the workbook, the styles (which numbers are dates) and each
cell's value.
"""

from __future__ import annotations

import logging
import re
import zipfile
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, iterparse

from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

from services.bounds import Limits, RecordFileError

log = logging.getLogger(__name__)

_ROW, _CELL, _STRING, _TEXT = (f"{{{SHEET_MAIN_NS}}}{tag}" for tag in ("row", "c", "si", "t"))
_RUN = 32_767 * 8  # bytes between two tags: Excel's longest cell, escaped (&amp; …)
_LONG_RUN = re.compile(rb"[^<]{%d,}" % (_RUN + 1))
_END_SEARCH = 22 + 65_535  # the zip's end record, and the comment that may follow it
_DEPTH, _CHILDREN = 32, 1_000  # open elements; children an element keeps while open


def rows(path: Path, limits: Limits) -> Iterator[tuple[int, list[object]]]:
    """(row number, values up to the row's last cell) for each row the worksheet has."""
    _check_sizes(path, limits)
    try:
        reader = ExcelReader(str(path), read_only=True, data_only=True, keep_links=False)
        with reader.archive:
            reader.read_manifest()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            yield from _rows(reader, _strings(reader), limits)
    except RecordFileError:
        raise
    except Exception as exc:  # openpyxl meets a broken part with whatever its parser raises
        log.info("unreadable workbook: %r", exc)
        raise RecordFileError("not_excel") from exc


def _check_sizes(path: Path, limits: Limits) -> None:
    if _entries(path) > limits.parts:  # before zipfile builds an object per entry
        raise RecordFileError("not_excel")
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise RecordFileError("not_excel") from exc
    for part in parts:
        name = part.filename
        if name.lower().endswith("sharedstrings.xml"):
            limit, problem = limits.strings, "excel_strings"
        elif name.startswith("xl/worksheets/") or not name.endswith((".xml", ".rels")):
            limit, problem = limits.sheet, "excel_sheet"  # read as a stream, if at all
        else:
            limit, problem = limits.part, "excel_part"
        if part.file_size > limit:
            raise RecordFileError(problem, size=_mib(part.file_size), limit=_mib(limit))


def _entries(path: Path) -> int:
    """The entries the zip's end record counts (0 if there is none: zipfile will say why)."""
    with path.open("rb") as file:
        file.seek(max(0, file.seek(0, 2) - _END_SEARCH))
        tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    return int.from_bytes(tail[at + 10 : at + 12], "little") if at >= 0 else 0


def _mib(size: int) -> str:
    return f"{size / 2**20:,.0f}"


def _strings(reader: ExcelReader) -> _Strings:
    strings = _Strings()
    found = reader.package.find(SHARED_STRINGS)
    if found is not None:
        for event, element in _elements(reader.archive.open(found.PartName[1:]), {_STRING}):
            if event == "end":
                strings.append(_text(element).replace("x005F_", ""))  # as openpyxl reads it
    return strings


def _text(element: Element) -> str:
    """A shared string's text: its one <t>, or (rich text) openpyxl's reading of its runs."""
    if len(element) == 1 and element[0].tag == _TEXT:
        return element[0].text or ""
    return str(Text.from_tree(element).content)


class _Strings:
    """The shared strings as one UTF-8 buffer and where each ends: a million short strings
    take their bytes and 4 bytes each, not the ~60 of a Python string each."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.ends = array("I")  # the part is at most a few dozen MiB

    def append(self, text: str) -> None:
        self.data += text.encode()
        self.ends.append(len(self.data))

    def __getitem__(self, index: int) -> str:
        if index < 0:
            raise IndexError(index)
        start = self.ends[index - 1] if index else 0
        return self.data[start : self.ends[index]].decode()


def _rows(
    reader: ExcelReader, strings: _Strings, limits: Limits
) -> Iterator[tuple[int, list[object]]]:
    target = next(
        (
            rel.target
            for _, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        ),
        None,
    )
    if target is None:
        raise RecordFileError("not_excel")
    book = reader.wb
    cells = WorkSheetParser(
        None,
        strings,
        data_only=True,
        epoch=book.epoch,
        date_formats=book._date_formats,
        timedelta_formats=book._timedelta_formats,
    )
    values: list[object] = []
    for event, element in _elements(reader.archive.open(target), {_ROW, _CELL}):
        if element.tag == _ROW:
            if event == "start":
                row = element.get("r")
                cells.row_counter = int(row) if row else cells.row_counter + 1
                cells.col_counter, values = 0, []
            else:
                yield cells.row_counter, values
        elif event == "end":
            cell = cells.parse_cell(element)
            column, value = cell["column"], cell["value"]
            if value is None or value == "":
                continue
            if column > limits.columns:
                raise RecordFileError(
                    "too_many_columns", row=cells.row_counter, column=column, limit=limits.columns
                )
            values.extend([None] * (column - len(values)))
            values[column - 1] = value


def _elements(source: IO[bytes], wanted: set[str]) -> Iterator[tuple[str, Element]]:
    """("start" | "end", element) for the wanted tags. An element is dropped from its parent
    once it ends, unless it is inside a wanted one (a cell keeps its value until it ends), so
    the tree never holds more than the open elements and a wanted element's children."""
    open_: list[Element] = []
    inside = 0  # wanted elements among the open ones
    with source:
        for event, element in iterparse(_Filtered(source), events=("start", "end")):
            wants = element.tag in wanted
            if event == "start":
                if len(open_) >= _DEPTH or (open_ and len(open_[-1]) > _CHILDREN):
                    raise RecordFileError("not_excel")
                open_.append(element)
                inside += wants
                if wants:
                    yield event, element
                continue
            open_.pop()
            if wants:
                yield event, element
                inside -= 1
            if open_ and (wants or not inside):
                open_[-1].remove(element)


class _Filtered:
    """A part's bytes, refused at the first DTD, comment or CDATA (`<!`) or the first run of
    text between tags longer than Excel's longest cell: what the parser holds stays small."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.run = 0  # bytes since the last "<"
        self.last = b""

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        if b"<!" in self.last + data[:1] or b"<!" in data:
            raise RecordFileError("not_excel")
        first, last = data.find(b"<"), data.rfind(b"<")
        if first < 0:
            self.run += len(data)
        else:
            if self.run + first > _RUN or (len(data) > _RUN and _LONG_RUN.search(data, first)):
                raise RecordFileError("not_excel")
            self.run = len(data) - last - 1
        if self.run > _RUN:
            raise RecordFileError("not_excel")
        self.last = data[-1:] or self.last
        return data
